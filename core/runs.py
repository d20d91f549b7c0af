"""A run is a folder: config.yaml, metrics.jsonl (append-only), status.json, checkpoints, the final model.

Everything that shows a run (the live chart, the Runs tab, `finetune-studio runs`, the model card) reads it from
here and from core/metrics.py (its metrics.jsonl), so a run can always be reopened from its folder, even one started
by another process, and every view of it agrees.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from finetune_studio.core.config import ADAPTER_METHODS
from finetune_studio.core.errors import FinetuneError, write_cause
from finetune_studio.core.events import FOLDER_STATES, RunState
from finetune_studio.core.fileio import atomic_write_json, read_json
from finetune_studio.core.metrics import (  # noqa: F401 - MetricsLog: re-exported
    METRICS_FILE,
    MetricsLog,
    MetricsTally,
    count_text,
    log_identity,
    log_restarted,
    read_metrics,
    read_metrics_chunks,
)
from finetune_studio.core.metrics import integer as _int  # the one reading of a logged count
from finetune_studio.core.metrics import number as _float  # the one reading of a logged figure

CONFIG_FILE = "config.yaml"
STATUS_FILE = "status.json"
MODEL_DIR = "model"
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")

STATES = FOLDER_STATES  # what status.json may say (core.events.RunState declares every state once)
# What Resume continues (core.session.RESUMABLE_STATES) when a checkpoint can be loaded.
_RESUMABLE = (RunState.STOPPED.value, RunState.INTERRUPTED.value, RunState.FAILED.value)


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


NAME_PART_CHARS = 24  # each of the model and dataset parts of a generated run name is cut to this
_DATA_SUFFIXES = (".csv", ".json", ".jsonl", ".parquet", ".txt", ".gz", ".zst", ".bz2", ".xz")


def _name_part(source: str | None) -> str:
    """The short, filesystem- and Hub-safe name of a model or dataset: `Qwen/Qwen3-0.6B` -> `Qwen3-0.6B`,
    `~/data/horoscopes.csv` -> `horoscopes`, `builtin:sample` -> `sample`; '' when nothing usable is left."""
    text = str(source or "").strip().replace("\\", "/").rstrip("/")
    text = text.removeprefix("builtin:").rsplit("/", 1)[-1]
    while text.lower().endswith(_DATA_SUFFIXES):  # a file's stem: data.jsonl.gz -> data
        text = text[: text.rfind(".")]
    text = re.sub(r"[^A-Za-z0-9._]+", "-", text)
    text = re.sub(r"([-.])[-.]+", r"\1", text).strip("-._")  # no "--" or ".." (the Hub refuses them)
    return text[:NAME_PART_CHARS].rstrip("-._")


def generate_run_name(model: str, dataset: str | None = None) -> str:
    """A default run name that says what was trained on what, and when: `<model>-<dataset>-<yymmdd-HHMM>`, e.g.
    `Qwen3-0.6B-horoscopes-261128-1005`. Safe as a folder name and as a Hub repo name (it becomes the default
    push target), and short enough to read in the Runs tab; the caller adds -2, -3 … when it is taken."""
    parts = [part for part in (_name_part(model), _name_part(dataset)) if part]
    if len(parts) == 2 and parts[0].lower() == parts[1].lower():
        parts = parts[:1]
    return "-".join([*(parts or ["run"]), datetime.now().strftime("%y%m%d-%H%M")])


@dataclass
class RunFolder:
    path: Path

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def status_path(self) -> Path:
        return self.path / STATUS_FILE

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_DIR

    def exists(self) -> bool:
        return self.config_path.is_file()

    def has_saved_model(self) -> bool:
        """A model folder holding any file: what a finished run left (an adapter or a whole model)."""
        try:
            return self.model_dir.is_dir() and any(path.is_file() for path in self.model_dir.iterdir())
        except OSError:
            return False

    def read_status(self) -> dict[str, Any]:
        try:
            status = read_json(self.status_path)
        except (OSError, ValueError):  # missing, unreadable, not UTF-8 or not JSON
            status = None
        if not isinstance(status, dict):
            return _live_without_status(self.path) or {"state": RunState.UNKNOWN.value,
                                                        "message": "No status recorded."}
        return _with_liveness(status, self.path)

    def trained_as_chat(self) -> bool | None:
        """Whether the run trained its rows as chats (a chat template, labels on the replies) or as plain text, as
        it decided when it read its data (status.json's "chat", written as training begins); None for a run that
        never got that far, or one from before the app recorded it. The Try tab, `generate` and export ask it: a
        decision made again from the data reads the dataset (~0.2 s on the GUI thread), cannot be made for a Hub
        dataset or data moved since, and a text run's tokenizer may carry its base's chat template all the same."""
        try:
            status = read_json(self.status_path)
        except (OSError, ValueError):
            return None
        chat = status.get("chat") if isinstance(status, dict) else None
        return chat if isinstance(chat, bool) else None

    def write_status(self, state: str, message: str = "", **extra: Any) -> dict[str, Any]:
        try:
            previous = read_json(self.status_path)
        except (FileNotFoundError, ValueError):  # damaged (not JSON, not UTF-8): this write replaces it
            previous = {}
        if not isinstance(previous, dict):
            previous = {}
        status = {**previous, **extra, "state": state, "message": message, "updated": now_iso(), "pid": os.getpid()}
        status.setdefault("created", status["updated"])
        atomic_write_json(self.status_path, status)
        return status

    def read_metrics(self) -> list[dict[str, Any]]:
        return read_metrics(self.metrics_path)[0]

    def checkpoints(self, output_dir: Path | None = None) -> list[Path]:
        """Complete checkpoints, oldest first. Trainer writes trainer_state.json last (and not atomically), so a
        folder without a readable one is a checkpoint cut off while being written and is skipped."""
        return [path for path in self._checkpoint_folders(output_dir) if _complete_checkpoint(path)]

    def _checkpoint_folders(self, output_dir: Path | None = None) -> list[Path]:
        """Every checkpoint-N folder, complete or not, oldest first (by N)."""
        folder = output_dir or self.path
        found = []
        if folder.is_dir():
            for child in folder.iterdir():
                match = CHECKPOINT_RE.match(child.name)
                if match and child.is_dir():
                    found.append((int(match.group(1)), child))
        return [path for _, path in sorted(found)]

    def latest_checkpoint(self, output_dir: Path | None = None) -> Path | None:
        """The latest complete save, whether or not Resume can load it (resumable_checkpoint is what Resume
        continues from): for what reads a save's own files, its trainer_state.json or the weights it may hold."""
        found = self.checkpoints(output_dir)
        return found[-1] if found else None

    def resume_point(self, output_dir: Path | None = None) -> ResumePoint:
        """Where Resume continues this run from: the latest complete checkpoint whose weights load
        (checkpoint_problem), and the later complete ones it passes over, each with why. The one rule for every
        place that offers Resume, tells the user to resume, or resumes. Reads from the latest checkpoint back and
        stops at the first one that loads: a long run's hundred older checkpoints are not read."""
        unloadable: list[tuple[Path, str]] = []
        for candidate in reversed(self._checkpoint_folders(output_dir)):
            if not _complete_checkpoint(candidate):
                continue  # cut off while being written: no save at all (checkpoints), so nothing passed over
            problem = _weights_problem(candidate)
            if problem is None:
                return ResumePoint(candidate, tuple(unloadable))
            unloadable.append((candidate, problem))
        return ResumePoint(None, tuple(unloadable))

    def resumable_checkpoint(self, output_dir: Path | None = None) -> Path | None:
        """The checkpoint Resume continues from (resume_point): the latest complete one that can be loaded."""
        return self.resume_point(output_dir).checkpoint


START_AGAIN_FIX = "start it again with its settings (in the app: Runs tab, Use its settings, then Start)"
UNLOADABLE_FIX = f"put the missing or damaged files back from a copy of the run, or {START_AGAIN_FIX}"


def resume_fix(run_dir: Path) -> str:
    """How to resume the run in `run_dir`, in the app and on the command line, as a fix says it."""
    import shlex

    return f"resume it (open it, then Resume; or finetune-studio resume {shlex.quote(str(run_dir))})"


@dataclass(frozen=True)
class ResumePoint:
    """RunFolder.resume_point: `checkpoint`, the latest complete checkpoint Resume can load (None: none), and
    `unloadable`, the complete checkpoints after it that cannot be loaded, latest first, each with
    checkpoint_problem's words (all of the run's complete checkpoints when `checkpoint` is None)."""

    checkpoint: Path | None
    unloadable: tuple[tuple[Path, str], ...] = ()

    @property
    def latest(self) -> Path | None:
        """The latest complete checkpoint, loadable or not (RunFolder.latest_checkpoint)."""
        return self.unloadable[0][0] if self.unloadable else self.checkpoint

    def why_not(self) -> str | None:
        """Why Resume has nothing to continue from although checkpoints were saved, in words that follow "it
        cannot resume: " ("its only checkpoint, checkpoint-4, cannot be loaded: it holds no weights …"); None when
        one can be loaded, or when none was saved (each caller has its own words for that: start again)."""
        if self.checkpoint is not None or not self.unloadable:
            return None
        if len(self.unloadable) == 1:
            path, problem = self.unloadable[0]
            return f"its only checkpoint, {path.name}, cannot be loaded: {problem}"
        return f"none of its {len(self.unloadable)} checkpoints can be loaded ({self.damaged()})"

    def damaged(self) -> str:
        """The unloadable checkpoints with why, latest first: "checkpoint-4: it holds no weights …; …"."""
        return "; ".join(f"{path.name}: {problem}" for path, problem in self.unloadable)


def _complete_checkpoint(folder: Path) -> bool:
    try:
        state = read_json(folder / "trainer_state.json")
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and "global_step" in state


# ---------------------------------------------------------------------------------------------- saved models
#
# One reading of "can this saved model load" for every place that picks one: Resume (checkpoint_problem), the Try
# tab and `generate` (core.generate), export and push (core.export, core.hub).

ADAPTER_FILE = "adapter_config.json"
FSDP_MODEL_NAME = "pytorch_model_fsdp"  # transformers' name for FSDP's own weights layout (a file or folders)
OPTIMIZER_FILE, SCHEDULER_FILE, RNG_FILE = "optimizer.pt", "scheduler.pt", "rng_state.pth"
#: The weights files of a saved model, as glob patterns: an adapter's (peft), a whole model's (transformers: one file
#: or its shards) and the shards' indexes. damage() looks for the first two; core.export.model_fix names all three.
WEIGHT_PATTERNS = {"adapter": ("adapter_model.safetensors", "adapter_model.bin"),
                   "model": ("model*.safetensors", "pytorch_model*.bin"),
                   "index": ("model.safetensors.index.json", "pytorch_model.bin.index.json")}


def damage(folder: Path) -> str | None:
    """Why a saved model folder (a final model, a checkpoint, an adapter) cannot load, found without loading it,
    or None. A checkpoint complete as a save (core.runs: trainer_state.json written last) can still be damaged
    since: weights cut short by a full disk or a copy, deleted to save space, a config.json edited by hand. Cheap:
    file names, the JSON files, and each safetensors file's header against its size (a truncated file is shorter
    than its header's tensors end)."""
    folder = Path(folder)
    adapter = (folder / ADAPTER_FILE).is_file()
    meta = ADAPTER_FILE if adapter else "config.json"
    try:
        data = read_json(folder / meta)
    except (OSError, ValueError) as exc:
        return f"its {meta} cannot be read ({_first_line(exc)})"
    if not isinstance(data, dict):
        return f"its {meta} is not a JSON object"
    patterns = WEIGHT_PATTERNS["adapter" if adapter else "model"]
    weights = sorted({path for pattern in patterns for path in folder.glob(pattern) if path.is_file()})
    index = folder / "model.safetensors.index.json"
    if not adapter and index.is_file():
        try:
            shards = set(read_json(index).get("weight_map", {}).values())
        except (OSError, ValueError, AttributeError) as exc:
            return f"its model.safetensors.index.json cannot be read ({_first_line(exc)})"
        missing = sorted(name for name in shards if not (folder / name).is_file())
        if missing:
            return f"its weights file {missing[0]} is missing"
    if not weights:
        return f"it holds no weights ({patterns[0]})"
    for path in weights:
        if path.suffix == ".safetensors":
            problem = _safetensors_damage(path)
            if problem:
                return f"its {path.name} {problem}"
    return None


def _safetensors_damage(path: Path) -> str | None:
    """What is wrong with a safetensors file's frame (8-byte header length, JSON header, data as long as the
    header's offsets say), or None; the tensors themselves are not read."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            length = int.from_bytes(head, "little") if len(head) == 8 else -1
            if length < 2 or 8 + length > size:
                return "is cut short or not a safetensors file"
            header = json.loads(handle.read(length))
    except OSError as exc:
        return f"cannot be read ({_first_line(exc)})"
    except ValueError:
        return "has a damaged header"
    ends = [entry["data_offsets"][1] for name, entry in header.items()
            if name != "__metadata__" and isinstance(entry, dict) and len(entry.get("data_offsets") or ()) == 2]
    if 8 + length + max(ends, default=0) > size:
        return "is cut short (smaller than its tensors)"
    return None


def checkpoint_problem(folder: Path) -> str | None:
    """Why Resume cannot continue from the checkpoint `folder`, in words ("its model.safetensors is missing" …), or
    None. A checkpoint must be complete as a save (trainer_state.json, which the Trainer writes last) and still hold
    whole weights (damage: the rule the Try tab and export use): model.safetensors, pytorch_model.bin, a sharded
    index with all its shards, or adapter_model.safetensors/.bin for an adapter run. FSDP's own layout
    (pytorch_model_fsdp*), which transformers resumes from and damage does not read, counts as weights."""
    folder = Path(folder)
    if not _complete_checkpoint(folder):
        return "its trainer_state.json is missing or unreadable (the save was cut off)"
    return _weights_problem(folder)


def _weights_problem(folder: Path) -> str | None:
    """checkpoint_problem for a checkpoint known to be complete as a save: whether its weights load."""
    try:
        if any(child.name.startswith(FSDP_MODEL_NAME) for child in folder.iterdir()):
            return None
    except OSError as exc:
        return f"it cannot be read ({_first_line(exc)})"
    return damage(folder)


def checkpoint_lacks(folder: Path) -> list[str]:
    """The training state a resumable checkpoint lacks beside its weights, by file name, in this order:
    optimizer.pt, scheduler.pt, rng_state.pth; [] when it holds all of it. Deleted to save space, say: the Trainer
    then resumes without a word from the weights alone, and without either of the first two it loads neither (a
    fresh optimizer, and a learning rate that starts its schedule over). Without rng_state*.pth only the random
    state (dropout, sampling) starts afresh. What transformers accepts for each is accepted here: optimizer.bin
    or an optimizer* folder (FSDP), rng_state_N.pth (one per process)."""
    folder = Path(folder)
    try:
        names = {child.name: child.is_dir() for child in folder.iterdir()}
    except OSError:
        names = {}
    optimizer = (names.get(OPTIMIZER_FILE) is False or names.get("optimizer.bin") is False
                 or any(is_dir and "optimizer" in name for name, is_dir in names.items()))
    scheduler = names.get(SCHEDULER_FILE) is False
    rng = any(not is_dir and name.startswith("rng_state") and name.endswith(".pth") for name, is_dir in names.items())
    return [name for name, present in ((OPTIMIZER_FILE, optimizer), (SCHEDULER_FILE, scheduler), (RNG_FILE, rng))
            if not present]


def resume_state_warning(checkpoint: Path) -> str | None:
    """What a resume from `checkpoint` must say when it lacks training state (checkpoint_lacks), or None."""
    lacks = checkpoint_lacks(checkpoint)
    if not lacks:
        return None
    name = Path(checkpoint).name
    files = " and ".join(lacks) if len(lacks) < 3 else f"{lacks[0]}, {lacks[1]} and {lacks[2]}"
    if OPTIMIZER_FILE in lacks or SCHEDULER_FILE in lacks:
        return (f"{name} has no {files} (deleted since it was saved?), so training continues from its weights with "
                "a fresh optimizer and a learning-rate schedule that starts over: losses from here will differ "
                "from an uninterrupted run's. To fix: stop, put those files back from a copy of the run, then "
                "resume.")
    return (f"{name} has no {files}, so training continues with fresh random state (dropout, sampling): "
            "it will not repeat an uninterrupted run exactly.")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__


def _live_without_status(folder: Path) -> dict[str, Any] | None:
    """A run whose status.json is missing or damaged while a live process holds its run lock is training: the lock
    says so whatever the status file does. Read as "unknown" or "broken", the Runs tab offered to delete it and
    delete_run removed the folder under the trainer."""
    record = read_lock(folder)
    if record is None or not lock_alive(record):
        return None
    return {"state": "running", "pid": record.get("pid"),
            "message": "Training (its status.json could not be read; the process holding the run lock is alive)."}


def _with_liveness(status: dict[str, Any], folder: Path | None = None, offer: bool = True) -> dict[str, Any]:
    """A status that says running but whose process is gone is really an interrupted run.

    With the run's lock record (see RunLock) "gone" survives pid reuse: the pid must belong to the same process
    (same start time) that took the lock. Runs from before the lock existed fall back to the pid alone. `offer`:
    say what Resume would do (resume_offer); summarize leaves it out for a run whose config.yaml cannot be read,
    which says so with its own fix ("Resume continues from checkpoint-6" stood beside "cannot be resumed")."""
    if status.get("state") != "running":
        return status
    record = read_lock(folder) if folder is not None else None
    alive = lock_alive(record) if record is not None else _pid_alive(status.get("pid"))
    if not alive:
        said = resume_offer(RunFolder(folder).resume_point()) if folder is not None and offer else ""
        status = {**status, "state": "interrupted",
                  "message": "The process running this run ended without finishing it." + said}
    return status


# core.training.resume_advice's words too, for a run whose steps took its name (never_trained: false).
NO_CHECKPOINT_TEXT = ("No checkpoint was saved, so it cannot resume. To fix: start it again under another name, with "
                      "its settings: finetune-studio train RUN/config.yaml --name NEW_NAME (RUN being this run's "
                      "folder, which keeps its name; in the window: the Runs tab, Use its settings, then Start)")
# How resume_offer's two other sentences begin (core.advice quotes a status message up to its next step by them).
RESUME_FROM_TEXT = "Resume continues from "
CANNOT_RESUME_TEXT = "It cannot resume: "
# core.training.resume_advice's opening for a run that trained no step (it can start again under the same name).
NOTHING_LOST_TEXT = "Nothing was trained, so nothing is lost"


def resume_offer(point: ResumePoint, same: str = "") -> str:
    """What an unfinished run can do next, from where Resume would continue (resume_point), as a sentence that
    follows its message: resume from the checkpoint that loads, or why it cannot (none loads, none was saved) and
    what to do. "Resume to continue" was said whatever the run held, and the resume then refused."""
    why = point.why_not()
    if why:
        return f" {CANNOT_RESUME_TEXT}{why}. To fix: {UNLOADABLE_FIX}."
    if point.checkpoint is None:
        return f" {NO_CHECKPOINT_TEXT}."
    return f" {RESUME_FROM_TEXT}{point.checkpoint.name}{same}."


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------------------------------------- the run lock
#
# One process trains a run folder at a time. The process that trains holds `run.lock`: an exclusive flock (the
# kernel drops it when the process dies, however it dies) and, inside the file, a record of who holds it: pid,
# the process's start time, host and a heartbeat refreshed every HEARTBEAT_S. Readers (the Runs tab, `runs`,
# delete) never take the flock; they trust the record: a run is live while its pid runs *the same process* (same
# start time, so a pid the system has handed to another program does not count), or, seen from another computer
# sharing the folder, while its heartbeat is fresh. The file is never deleted: unlinking a lock file lets a
# waiter lock the old inode while a newcomer locks a new one.

LOCK_FILE = "run.lock"
HEARTBEAT_S = 5.0
STALE_S = 60.0  # a heartbeat older than this, from another computer: that run is gone
_LOCK_SIZE = 512  # the record is rewritten in place at a fixed size, so a reader never sees a shorter tail


class RunBusy(FinetuneError):
    """Another process (or this one) is training the run folder right now."""


class RunFolderUnusable(FinetuneError):
    """The folder given as a run's cannot be used as it stands: it is missing, a file, holds no run, or cannot be
    written. Nothing failed and nothing was changed: the user must give another folder or fix this one, so the
    command line exits 2 (bad input), not 1 (a failed run). `kind` (MISSING, NOT_A_FOLDER, NO_RUN, NO_CONFIG,
    UNWRITABLE) is for code that must tell them apart (the window's Resume of a run moved since it was shown), so
    no caller reads the sentence."""

    def __init__(self, message: str, kind: str = ""):
        super().__init__(message)
        self.kind = kind


# RunFolderUnusable.kind values.
MISSING, NOT_A_FOLDER, NO_RUN, NO_CONFIG, UNWRITABLE = "missing", "not_a_folder", "no_run", "no_config", "unwritable"
# What to do about a run whose config.yaml is gone (its settings with it): run_folder_problem and summarize say it.
NO_CONFIG_FIX = f"put its {CONFIG_FILE} back (from a copy of the run), or train it again"
_GIVE_A_RUN = "To fix: give a run's folder (the one holding its config.yaml); `finetune-studio runs` lists the runs."


def no_model_text(folder: RunFolder, doing: str) -> str:
    """Why a run has no saved model to `doing` (export, push), and what to do: one wording for both. A finished run
    whose model folder is gone is said as such; "only a finished run has one, finish it first" told a finished run
    to finish; a run training right now (its lock alive) was told to resume it, which its lock refuses."""
    state = folder.read_status().get("state", "unknown")
    if training_now(folder, state):  # it saves its model at the end
        return (f"The run {folder.path.name} is still training, so it has no saved model to {doing} yet: a run "
                "saves its model when it finishes. To fix: wait for it to finish (the Runs tab, or `finetune-studio "
                f"runs`, shows how far it is), then {doing} it.")
    if state == "finished":
        return (f"The run {folder.path.name} finished, but its model folder {folder.model_dir} is missing or empty "
                f"(moved or deleted since), so there is no model to {doing}. To fix: put the model folder back from "
                "a copy, or train the run again under a new name.")
    said = (f"The run {folder.path.name} has no saved model to {doing} (its state is {state}): a run saves its model "
            "when it finishes.")
    point = folder.resume_point(configured_output_dir(folder))
    if point.checkpoint is None:  # nothing Resume can load: why, and what to do instead (resume_offer)
        return said + resume_offer(point)
    return said + " To fix: resume it to the end first."


def training_now(folder: RunFolder, state: str | None = None) -> bool:
    """Whether the run trains now (its status says so while its lock is alive), so that its missing model is a
    wait, not something the user gave wrong: export and push exit 1 for it and 2 for a run that has none to give
    (no_model_text words both)."""
    state = folder.read_status().get("state", "unknown") if state is None else state
    return state == RunState.RUNNING.value or run_busy(folder.path) is not None


def configured_output_dir(folder: RunFolder) -> Path:
    """Where the run's config puts its checkpoints (training.output_dir), or its folder."""
    from finetune_studio.core.config import load_config

    try:
        return Path(load_config(folder.config_path)[0].training.get("output_dir") or folder.path)
    except (FinetuneError, OSError):
        return folder.path


def run_folder_problem(path: Path | str) -> RunFolderUnusable | None:
    """What is wrong with `path` as a run's folder, as the error to raise or show; None when it holds a run.

    The one wording of "not a run folder" for every place that takes one (the command line's resume, export, push
    and supervise, core.export, core.hub, the window's Open run folder and Resume), so a typo reads the same
    everywhere and says what to give instead: a missing path, a file, a folder holding no run (the runs folder
    itself is named as such, with one of its runs), or a run whose config.yaml is gone (its settings with it)."""
    folder = Path(path)
    if not folder.exists():
        return RunFolderUnusable(f"No run folder at {folder}. {_GIVE_A_RUN}", MISSING)
    run = enclosing_run(folder)  # its config.yaml, a checkpoint-N/ or model/: the run folder is the one to give
    inside = f"To fix: give the folder of the run it is in: {shlex.quote(str(run))}." if run is not None else ""
    if not folder.is_dir():
        return RunFolderUnusable(f"{folder} is a file, not a run folder. {inside or _GIVE_A_RUN}", NOT_A_FOLDER)
    if RunFolder(folder).exists():
        return None
    found = [name for name in (STATUS_FILE, METRICS_FILE) if (folder / name).is_file()]
    if found:
        return RunFolderUnusable(
            f"{folder} holds a run whose {CONFIG_FILE} is missing ({' and '.join(found)} are there), so its "
            f"settings are lost and it cannot be resumed, exported or pushed. To fix: {NO_CONFIG_FIX}.", NO_CONFIG)
    if run is not None:
        return RunFolderUnusable(f"{folder} is a folder inside the run {run.name}, not a run folder. {inside}",
                                 NO_RUN)
    runs = run_folders(folder)
    if runs:
        # The newest run, as the Runs tab lists it first, quoted for a shell (shlex.quote: core.cli.shell_word's
        # quoting, which core does not import): the one likely meant, and a path with a space pastes as one word.
        example = max(runs, key=lambda run: (_started_time(run), run.name))
        return RunFolderUnusable(
            f"{folder} is not a run folder: it holds runs ({len(runs)}, e.g. {example.name}). To fix: give one "
            f"run's folder, e.g. {shlex.quote(str(example))}; `finetune-studio runs --runs-dir "
            f"{shlex.quote(str(folder))}` lists them.", NO_RUN)
    return RunFolderUnusable(f"{folder} is not a run folder (it has no {CONFIG_FILE}). {_GIVE_A_RUN}", NO_RUN)


def _started_time(run: Path) -> float:
    """When the run in folder `run` started, cheaply (no metrics read): status.json's created time, else its run
    files' earliest modification, as summarize falls back to; 0.0 when none can be read."""
    try:
        status = read_json(run / STATUS_FILE)
    except (OSError, ValueError):
        status = None
    created = _created_time(status) if isinstance(status, dict) else None
    if created is not None:
        return created
    times = []
    for name in RUN_FILES:
        try:
            times.append((run / name).stat().st_mtime)
        except OSError:
            continue
    return min(times, default=0.0)


def enclosing_run(path: Path | str) -> Path | None:
    """The run folder that `path` is in, one or two levels down (its config.yaml or status.json, a checkpoint-N/ or
    model/, a file in those), or None: what to name when a path inside a run is given where the run's own folder
    is wanted (run_folder_problem; generate --answers says the same)."""
    return next((parent for parent in list(Path(path).parents)[:2] if RunFolder(parent).exists()), None)


def require_run_folder(path: Path | str) -> Path:
    """`path` as a run's folder, or raises run_folder_problem's RunFolderUnusable. One check for every command
    that takes a run folder (resume, export, push, supervise), before anything is loaded, locked or written."""
    problem = run_folder_problem(path)
    if problem is not None:
        raise problem
    # Absolute (symlinks kept as typed): a resume from `runs/s1` wrote that relative path into status.json's
    # model_dir and the run_start event, which the window and another shell read from their own folders.
    return Path(os.path.abspath(os.path.expanduser(str(path))))


# The errnos of a folder that cannot be written at all (not a full disk or a vanished file), worded by
# core.errors.write_cause as every failed write of the app is (an export's destination, a run's answers file).
UNWRITABLE_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def unwritable(folder: Path, exc: OSError) -> RunFolderUnusable | None:
    """A run folder that cannot be written, as a sentence: training writes checkpoints, metrics and status there,
    so nothing can run in it; a copy somewhere writable can (resume keeps every checkpoint it holds). None for an
    OSError of another kind (a full disk, a vanished folder), which says its own."""
    if exc.errno not in UNWRITABLE_ERRNOS:
        return None
    copy = "copy the run folder somewhere writable and resume the copy (finetune-studio resume NEW_FOLDER)"
    fix = copy if exc.errno == errno.EROFS else f"give yourself write permission on the folder, or {copy}"
    return RunFolderUnusable(f"The run folder {folder} cannot be written ({write_cause(exc)}), so the run "
                             f"cannot train there; nothing in it was changed. To fix: {fix}.", UNWRITABLE)


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (Unix time), or None if there is no such process or it cannot be told."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    try:  # Linux: field 22 of /proc/PID/stat, in clock ticks since boot
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else _psutil_start_time(pid)
    except (OSError, ValueError, IndexError, StopIteration):
        return _psutil_start_time(pid)


def _psutil_start_time(pid: int) -> float | None:
    try:
        import psutil

        return psutil.Process(pid).create_time()
    except Exception:  # noqa: BLE001 - no psutil, no such process, or no access: cannot tell
        return None


def _host() -> str:
    import socket

    return socket.gethostname()


def read_lock(folder: Path) -> dict[str, Any] | None:
    """The lock record of a run folder, or None when it has none (or an unreadable one)."""
    try:
        text = (Path(folder) / LOCK_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        record = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def lock_alive(record: dict[str, Any]) -> bool:
    """Whether the process that wrote this lock record is still training."""
    if record.get("state") != "held":
        return False
    if record.get("host") != _host():
        heartbeat = _float(record.get("heartbeat"))
        return heartbeat is not None and time.time() - heartbeat < STALE_S
    pid, started = _int(record.get("pid")), _float(record.get("process_started"))
    if pid is None:
        return False
    now_started = process_start_time(pid)
    if now_started is None or started is None:
        return now_started is not None and _pid_alive(pid)  # cannot compare start times: the pid decides
    return abs(now_started - started) < 1.0


def describe_holder(record: dict[str, Any] | None, name: str, new_run: bool = False) -> str:
    """Who trains the run, and why this start stops: a resume (the usual case: Resume, --apply-fix, the Runs tab)
    or, with `new_run`, a new run that claimed the folder of a run another start had just made (two windows
    starting the same name at once; core.training.new_run_folder refuses it by name in all other cases)."""
    pid = (record or {}).get("pid")
    where = f"process {pid}" if pid else "another process"
    host = (record or {}).get("host")
    if host and host != _host():
        where += f" on {host}"
    since = _float((record or {}).get("since"))
    if since:
        where += f", since {datetime.fromtimestamp(since).strftime('%Y-%m-%d %H:%M')}"
    if new_run:
        return (f"A run named {name} started training in this folder just now ({where}). A second trainer on the "
                "same folder would mix their checkpoints and metrics, so this run was not started. To fix: give "
                "this run another name and start it again.")
    return (f"The run {name} is still training ({where}). A second trainer on the same folder would mix their "
            "checkpoints and metrics, so it was not resumed. To fix: Stop it first (Stop in its window, or Ctrl-C in "
            "its terminal) or wait until it ends, then resume.")


def run_busy(folder: Path) -> str | None:
    """Why the run in `folder` cannot be resumed now (it is training), in words; None when it can."""
    record = read_lock(folder)
    if record is not None and lock_alive(record):
        return describe_holder(record, Path(folder).name)
    return None


class RunLock:
    """Held by the process that trains a run folder, from before it changes anything there until it is done."""

    def __init__(self, folder: Path, fd: int):
        self.path = Path(folder) / LOCK_FILE
        self._fd: int | None = fd
        self._since = time.time()
        self._stopped = threading.Event()
        self._beat: threading.Thread | None = None
        self._write_lock = threading.Lock()

    @classmethod
    def acquire(cls, folder: Path, new_run: bool = False) -> "RunLock":
        """Take the lock, or raise RunBusy with a message that says who holds it (and, for a `new_run`, to pick
        another name rather than to resume), or RunFolderUnusable when the folder cannot be written (a read-only
        file system, no permission)."""
        folder = Path(folder)
        try:
            fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # the lock is the first thing a run writes: a read-only folder is told here
            said = unwritable(folder, exc)
            if said is not None:
                raise said from None
            raise
        try:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # not POSIX: the record alone decides
                pass
            except BlockingIOError:
                raise RunBusy(describe_holder(read_lock(folder), folder.name, new_run)) from None
            except OSError:  # a file system without flock (some network mounts): the record alone decides
                pass
            record = read_lock(folder)
            if record is not None and lock_alive(record) and record.get("pid") != os.getpid():
                raise RunBusy(describe_holder(record, folder.name, new_run))
        except BaseException:
            os.close(fd)
            raise
        lock = cls(folder, fd)
        lock._write("held")
        lock._beat = threading.Thread(target=lock._heartbeat, name="run-lock-heartbeat", daemon=True)
        lock._beat.start()
        return lock

    def _write(self, state: str) -> None:
        record = {"state": state, "pid": os.getpid(), "process_started": process_start_time(os.getpid()),
                  "host": _host(), "since": self._since, "heartbeat": round(time.time(), 3)}
        data = json.dumps(record).encode("utf-8").ljust(_LOCK_SIZE)
        with self._write_lock:
            if self._fd is None:
                return
            os.pwrite(self._fd, data, 0)
            os.ftruncate(self._fd, len(data))

    def _heartbeat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_S):
            try:
                self._write("held")
            except OSError:
                pass  # a full or vanished disk: the run itself reports that

    def release(self) -> None:
        self._stopped.set()
        if self._beat is not None:
            self._beat.join()
        try:
            self._write("released")
        except OSError:
            pass
        with self._write_lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # drops the flock

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def wait_for_file(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return path.exists()


# ---------------------------------------------------------------------------------------------- run history
#
# The history panel and `finetune-studio runs` list every run of a runs folder. Listing must stay cheap enough to
# poll once a second and must never fail on a folder some crash, disk or person left half written: such a run
# lists as "broken" with the reason, so the user can still see it, open its folder or delete it.

BROKEN = RunState.BROKEN
RUN_FILES = (CONFIG_FILE, STATUS_FILE, METRICS_FILE)


@dataclass
class RunSummary:
    """One row of the run history: what a user needs to tell runs apart, read from the run's files."""

    path: Path
    state: str  # a RunState value: one of STATES (a dead "running" reads "interrupted"), or "broken"
    message: str = ""
    model: str = ""
    dataset: str = ""
    method: str = "full"  # how it trained: full, lora, qlora or dora (core.config.ADAPTER_METHODS)
    step: int = 0
    max_steps: int = 0
    train_loss: float | None = None
    # What train_loss is where it is not the loss at a resumed run's last step (the last one logged, steps before
    # the end; the Trainer's mean over the steps after the resume alone), as the model card says it; "" where it is,
    # and for a run that was never resumed (summarize).
    train_loss_note: str = ""
    eval_loss: float | None = None
    duration_s: float | None = None
    started: float | None = None  # Unix time of the first start
    pid: int | None = None
    problems: tuple[str, ...] = ()  # why a run is broken (or what is odd about it), in words
    tally: MetricsTally = field(default_factory=MetricsTally, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def live(self) -> bool:
        """Training right now in some process (this app, or a CLI run in the same folder)."""
        return self.state == "running"


def is_run_folder(path: Path) -> bool:
    """A folder holding any of a run's own files; a run missing some of them still lists (as broken). One that
    cannot be looked into (no permission) is none: on Python 3.11 is_file raises PermissionError, which failed the
    whole listing of the Runs tab and the Try tab."""
    try:
        return path.is_dir() and any((path / name).is_file() for name in RUN_FILES)
    except OSError:
        return False


def holds_a_run(folder: Path) -> bool:
    """Whether `folder` is a run's own folder by what only a run writes, its status.json or metrics.jsonl: the test
    for a folder given as a runs folder (--runs-dir, FINETUNE_STUDIO_RUNS, a config's runs_dir), where a config.yaml
    alone is what a folder of configs beside the runs may hold (is_run_folder counts it)."""
    try:
        return any((folder / name).is_file() for name in (STATUS_FILE, METRICS_FILE))
    except OSError:
        return False


# The folders a run writes inside its own (its checkpoints, its model, a multi-process run's ranks/): a runs folder
# given inside one of them is a run's folder picked one level too deep, as a run's own folder is one level too deep.
_RUN_SUBFOLDERS = (MODEL_DIR, "ranks")


def run_holding(folder: Path) -> tuple[Path, str] | None:
    """(the run, "") when `folder` is a run's own folder; (the run, "checkpoint-5") when it lies in one of the
    folders the run writes (a checkpoint, model/, ranks/); else None. Only those: a runs folder kept somewhere below
    an unrelated folder that happens to hold a status.json is not refused."""
    folder = Path(folder).absolute()
    if holds_a_run(folder):
        return folder, ""
    for inner, run in zip((folder, *folder.parents), folder.parents):
        if (inner.name in _RUN_SUBFOLDERS or CHECKPOINT_RE.match(inner.name)) and holds_a_run(run):
            return run, inner.name
    return None


def runs_folder_above(folder: Path, run: Path) -> Path:
    """The folder that holds `run` (run_holding's answer for `folder`), written as `folder` was: a relative
    runs/r3/checkpoint-5 gives runs, as the user would type it; a path with nothing above it (`.`), absolute."""
    written = Path(folder)
    for _ in range(len(Path(folder).absolute().parts) - len(run.parts)):
        written = written.parent
    return written.parent if written.name and written.parent != written else run.parent


def run_as_runs_dir_words(run_name: str, inside: str = "") -> str:
    """The middle of the refusal of a run's own folder (or, `inside`, one of the folders it writes: run_holding)
    given as a runs folder, up to its "To fix:": the same words whether --runs-dir (core.cli), FINETUNE_STUDIO_RUNS
    or a config's runs_dir (core.validation) named it. A checkpoint-5 given as the runs folder was accepted, and
    the new run made inside that checkpoint, where no runs list shows it."""
    what = f"inside the {inside} folder of the run {run_name}" if inside else f"the folder of the run {run_name}"
    return f"is {what}, not a runs folder: a new run would be made inside it, where no runs list shows it. To fix:"


def _sentence(parts: list[str]) -> str:
    return "; ".join(parts) + "."  # not capitalized: each part starts with a file name


FIX_LEAD = "To fix: "


def _split_fix(text: str) -> tuple[str, str]:
    """(what is wrong, what to do) of a message that says its fix after "To fix: " (the app's messages end so), each
    without its closing full stop; (text, "") for one with no fix."""
    what, lead, fix = text.partition(FIX_LEAD)
    return what.strip().rstrip("."), fix.replace(FIX_LEAD, "").strip().rstrip(".")


def _one_fix(what: str, texts: list[str]) -> str:
    """`what` followed by the fixes `texts` give (most useful first), after one "To fix:": a run whose config.yaml
    and status.json were both damaged, or a failed run's message beside an unreadable config.yaml, said
    "To fix: … To fix: …" in one Runs tab tooltip."""
    fixes = [fix for fix in (_split_fix(text)[1] for text in texts) if fix]
    return f"{what} {FIX_LEAD}{'; then '.join(fixes)}." if fixes else what


def _created_time(status: dict[str, Any]) -> float | None:
    for key in ("created", "updated"):
        value = status.get(key)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value).timestamp()
            except ValueError:
                continue
    return None


_CONFIG_READS: dict[str, tuple[tuple[int, int], Any, str | None]] = {}  # path -> (mtime and size, data, problem)
_CONFIG_READS_KEPT = 1024


def _read_config(path: Path) -> tuple[Any, str | None]:
    """(config.yaml's data, why it cannot be read as settings) for summarize's columns and its note: one read by
    core.config.yaml_load (the reading a resume makes, so what it refuses is what is said here), kept until the file
    changes. Read afresh at every summary it cost 3.7 ms of a run's 4.8 ms (PyYAML's pure-Python loader), at every
    listing of the Runs tab and every poll of a running run."""
    import shlex

    import yaml

    from finetune_studio.core.config import yaml_load

    copy = "or put it back from a copy of the run"  # each fix names the file: summarize may say it apart from it
    try:
        info = path.stat()
    except OSError as exc:
        return None, f"config.yaml cannot be read ({exc.strerror or exc}), so the run cannot be resumed. To fix: " \
                     f"make config.yaml readable, {copy}"
    stamp = (info.st_mtime_ns, info.st_size)
    kept = _CONFIG_READS.get(str(path))
    if kept is not None and kept[0] == stamp:
        return kept[1], kept[2]
    data: Any = None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        what = f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start})"
        fix = f"save config.yaml as UTF-8, {copy}"
    except OSError as exc:
        what, fix = f"cannot be read ({exc.strerror or exc})", f"make config.yaml readable, {copy}"
    else:
        try:
            data = yaml_load(text, config_file=True)
        except (yaml.YAMLError, ValueError) as exc:
            mark = getattr(exc, "problem_mark", None)
            what = "is not valid YAML" + (f" at line {mark.line + 1}, column {mark.column + 1}" if mark else "")
            fix = f"correct config.yaml (finetune-studio validate {shlex.quote(str(path))} says how), {copy}"
        else:
            what = "is empty" if data is None else "holds no settings (key: value lines)"
            fix = "put config.yaml back from a copy of the run"
    problem = None if isinstance(data, dict) else f"config.yaml {what}, so the run cannot be resumed. To fix: {fix}"
    if len(_CONFIG_READS) >= _CONFIG_READS_KEPT:
        _CONFIG_READS.clear()
    _CONFIG_READS[str(path)] = (stamp, data, problem)
    return data, problem


STATUS_QUOTED_CHARS = 40  # how much of a damaged status.json a message quotes


def _read_status_file(path: Path) -> tuple[dict[str, Any], str | None]:
    """(status.json's data, None) when it holds a run state, else ({}, what is wrong with the file as written, in
    words that quote its start): a write cut short by a crash or a full disk leaves '{"state": "runn', and
    Python's "Expecting value: line 1 column 1 (char 0)" told a user nothing. A state this version does not know
    is quoted itself (UNKNOWN_STATE_TEXT), wherever it stands in the file: a newer version's run read "has no valid
    state (it reads '{"name": "template", "model": "builtin:d…')"."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, f"{STATUS_FILE} is missing"
    except OSError as exc:
        return {}, f"{STATUS_FILE} cannot be read ({exc.strerror or exc})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {}, f"{STATUS_FILE} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start})"
    if not text.strip():
        return {}, f"{STATUS_FILE} is empty (a write cut short leaves it so)"
    head = " ".join(text.split())
    quoted = head if len(head) <= STATUS_QUOTED_CHARS else head[:STATUS_QUOTED_CHARS] + "…"
    try:
        raw = json.loads(text)
    except ValueError:
        return {}, f"{STATUS_FILE} is cut off or not JSON (it reads '{quoted}'; a write cut short leaves it so)"
    if isinstance(raw, dict) and raw.get("state") in STATES:
        return raw, None
    state = raw.get("state") if isinstance(raw, dict) else None
    if isinstance(state, str) and state.strip():
        shown = " ".join(state.split())
        shown = shown if len(shown) <= STATUS_QUOTED_CHARS else shown[:STATUS_QUOTED_CHARS] + "…"
        return {}, UNKNOWN_STATE_TEXT.format(shown)
    return {}, f"{STATUS_FILE} has no valid state (it reads '{quoted}')"


def unknown_state(run_dir: Path) -> str | None:
    """Why the run in `run_dir` must not be resumed or rewritten by this version (its status.json holds a state this
    version does not know: UNKNOWN_STATE_TEXT with its fix), or None. For core.session.can_resume to ask: a resume
    writes a status.json of its own over the newer version's."""
    wrong = _read_status_file(RunFolder(Path(run_dir)).status_path)[1]
    if wrong and wrong.startswith(UNKNOWN_STATE_TEXT[:30]):
        return f"{wrong}. To fix: {UNKNOWN_STATE_FIX}."
    return None


# What summarize says of a status.json whose state this version does not know, and what to do: a newer version's
# run (or a hand edit) is not to be resumed or deleted on that account (a resume writes a status.json over it).
UNKNOWN_STATE_TEXT = (f"{STATUS_FILE} says its state is '{{}}', which this version of Finetune Studio does not know "
                      "(a newer version wrote it, or it was edited by hand)")
UNKNOWN_STATE_FIX = ("open it with the Finetune Studio that wrote it (pip install -U finetune-studio updates this "
                     f"one), or set its state in {STATUS_FILE} to one of " + ", ".join(STATES))
# A metrics.jsonl that lost lines or all of them, for a run whose status says it trained: said beside its state.
METRICS_FIX = f"put {METRICS_FILE} back from a copy of the run if there is one (its model and checkpoints do not " \
              "need it)"


def _config_fields(path: Path) -> dict[str, str]:
    """Model, dataset and method from config.yaml, for runs whose status.json lacks them (older or broken runs)."""
    data, _ = _read_config(path)
    if not isinstance(data, dict):
        return {}
    from finetune_studio.core.config import as_written

    def shown(section: Any, key: str) -> str:  # a list kept as written reads [a, b] in the columns, not ['a', 'b']
        value = section.get(key, "") if isinstance(section, dict) else ""
        return value if isinstance(value, str) else "" if value is None else as_written(value)

    model, dataset, adapter = data.get("model"), data.get("dataset"), data.get("adapter")
    return {"model": shown(model, "name_or_path"), "dataset": shown(dataset, "source"),
            "method": shown(adapter, "method")}


def adapter_config_method(adapter: Any) -> str | None:
    """How a run trained, as an adapter_config.json (read as a dict) says: 'dora' when use_dora, 'lora' for any other
    peft LORA adapter (a QLoRA adapter's config is a LoRA one: the 4-bit base is not recorded in it), None for
    anything else. The one reading for a run whose status.json and config.yaml do not record its method: the Runs
    tab's Method column (summarize), core.adapters.method_of_run and the export dialog's header."""
    if not isinstance(adapter, dict) or str(adapter.get("peft_type") or "").upper() != "LORA":
        return None
    return "dora" if adapter.get("use_dora") is True else "lora"


def saved_adapter_method(run_dir: Path | str) -> str | None:
    """adapter_config_method of the adapter the run saved: its model folder's, else its latest checkpoint's (a run
    stopped before the end); None when it saved no adapter (a full fine-tune, or nothing saved yet)."""
    from finetune_studio.core.adapters import read_adapter_config

    folder = RunFolder(Path(run_dir))
    for place in (folder.model_dir, *folder._checkpoint_folders()[-1:]):
        method = adapter_config_method(read_adapter_config(place))
        if method is not None:
            return method
    return None


def config_problem(path: Path) -> str | None:
    """Why the run's config.yaml, which is there, cannot be read as settings, in summarize's words for a missing one
    (what is wrong, then "To fix: ..."); None when it reads. Resume loads this file, so it cannot resume either."""
    return _read_config(path)[1]


def _unreadable_metrics(exc: OSError) -> str:
    """A metrics.jsonl that cannot be read (no permission, a folder by that name), with what to do: it said the
    error alone."""
    return (f"{METRICS_FILE} cannot be read ({exc.strerror or exc}), so the run shows no loss curve. To fix: make "
            f"{METRICS_FILE} a file you can read, or {METRICS_FIX}")


def _metrics_damage(status: dict[str, Any], size: int | None, tally: MetricsTally) -> str | None:
    """What is wrong with the metrics.jsonl of a run that is not training, in words with their fix, or None: gone,
    empty, or stopping at an earlier step than status.json says the run reached (lines lost: a write or a copy cut
    short, often mid-line). Each listed as plain finished before: no curve, Time '—', or Steps 8 / 12 beside
    'Finished 12 steps' with nothing to say why. A live run's log trails its status, and an interrupted one's may
    (killed between the two writes): neither is told."""
    if status.get("state") in (RunState.RUNNING.value, RunState.INTERRUPTED.value):
        return None
    reached = _int(status.get("step")) or 0
    if reached <= 0:
        return None
    if size is None or size == 0:
        return (f"{METRICS_FILE} is {'missing' if size is None else 'empty'}, so the run has no loss curve and its "
                f"training time is unknown. To fix: {METRICS_FIX}")
    logged = tally.step or 0
    if logged >= reached:
        return None
    torn = size - tally.offset
    cut = f", and ends in a cut-off line of {torn} byte{'' if torn == 1 else 's'}" if torn > 0 else ""
    stops = f"stops at step {count_text(logged)}" if tally.step is not None else "holds no step"
    return (f"{METRICS_FILE} {stops} though {STATUS_FILE} says the run reached step "
            f"{count_text(reached)}{cut}: lines were lost, as a write or a copy cut short loses them, so its curve "
            f"and figures stop there. To fix: {METRICS_FIX}")


READ_AT_ONCE = 1 << 20  # bytes of metrics.jsonl summarize reads in one go; more in pieces (see there)


def summarize(run_folder: Path, previous: RunSummary | None = None) -> RunSummary:
    """The summary of one run folder. Never raises for what is inside the folder: missing, torn or garbled files
    make a "broken" summary whose message says what is wrong.

    previous: an earlier summary of the same folder; its metrics are continued from where they were read, so a
    poller pays only for the lines appended since.
    """
    folder = RunFolder(Path(run_folder))
    problems: list[str] = []

    tally = MetricsTally()
    if previous is not None and previous.path == folder.path:
        tally = previous.tally.copy()
    try:
        size = folder.metrics_path.stat().st_size
    except FileNotFoundError:
        size = None
    except OSError as exc:
        size = None
        problems.append(_unreadable_metrics(exc))
    if size is not None:
        if tally.offset and log_restarted(folder.metrics_path, tally.offset, tally.identity):
            tally = MetricsTally()  # replaced (started again from scratch, a copy put over it): read it again
        if not tally.offset:
            tally.identity = log_identity(folder.metrics_path)
        try:
            if size - tally.offset <= READ_AT_ONCE:
                events, tally.offset = read_metrics(folder.metrics_path, tally.offset)
                for event in events:
                    tally.add(event)
            else:  # in pieces, giving the GIL up after each (the Runs tab summarizes in a worker thread): one read,
                # decode and fold of a 200k-line log held it for a second at a time, and the window stalled with it
                for events, tally.offset in read_metrics_chunks(folder.metrics_path, tally.offset):
                    for event in events:
                        tally.add(event)
                    time.sleep(0)
        except OSError as exc:
            problems.append(_unreadable_metrics(exc))

    config_ok = folder.config_path.is_file()
    config_said = None if config_ok else \
        f"{CONFIG_FILE} is missing, so the run cannot be resumed. To fix: {NO_CONFIG_FIX}"
    if config_ok:
        config_said = config_problem(folder.config_path)
        config_ok = config_said is None
    status: dict[str, Any] = {}
    raw, status_wrong = _read_status_file(folder.status_path)
    if status_wrong:
        problems.insert(0, status_wrong)
    else:
        status = _with_liveness(raw, folder.path, offer=config_ok)
    if not status:
        status = _live_without_status(folder.path) or {}
    if config_said:
        problems.append(config_said)
    metrics_said = None if any(p.startswith(f"{METRICS_FILE} cannot be read") for p in problems) else \
        _metrics_damage(status, size, tally)  # one that cannot be read is said so, not also as lost lines
    if metrics_said:
        problems.append(metrics_said)

    if status:
        state = str(status["state"])
        message = status.get("message") if isinstance(status.get("message"), str) else ""  # a list read "['a']"
    else:
        state = BROKEN.value  # a plain str, like every other state read from status.json
        said = ""
        if tally.end_state:
            said = f" Its metrics log says it {tally.end_state} at step {tally.step or 0}."
        elif tally.events:
            said = f" Its metrics log stops at step {tally.step or 0}."
        point = folder.resume_point()
        why = point.why_not() if config_ok else None
        then, fix = "", ""
        if status_wrong and status_wrong.startswith(UNKNOWN_STATE_TEXT[:30]):
            fix = UNKNOWN_STATE_FIX  # not resumed over, nor deleted: the version that wrote it reads it
        elif point.checkpoint is not None:  # what rewrites status.json: a resume (core.session.can_resume offers it)
            # With config.yaml unreadable the resume comes after its fix (its own, said first: nothing resumes before)
            then = f" Its config and {point.checkpoint.name} are intact." if config_ok else ""
            fix = (f"{resume_fix(folder.path)}: it continues from {point.checkpoint.name} and writes a new "
                   f"{STATUS_FILE}")
        elif why:  # Resume is not offered (core.session reads the same rule): said, with why
            then, fix = f" Its config is intact, but it cannot resume: {why}.", f"{UNLOADABLE_FIX}, or delete it"
        elif config_ok:  # nothing to resume from, so nothing writes a new status.json: its settings start it again
            then = f" It has no checkpoint to resume from, so nothing writes a new {STATUS_FILE} for it."
            fix = f"{START_AGAIN_FIX}, or delete it"
        elif not config_said:
            then = " Open its folder to check, or delete it."
        message = _one_fix(_sentence([what for what, _ in map(_split_fix, problems)]) + said + then,
                           [*problems, f"To fix: {fix}" if fix else ""])
    if state in _RESUMABLE and config_ok:
        why = folder.resume_point().why_not()  # a stopped run whose checkpoints cannot load: not offered Resume
        if why and why not in message:  # said once: an interrupted run's message (resume_offer) says it already
            problems.append(f"it cannot resume: {why}. To fix: {UNLOADABLE_FIX}")
    if state != BROKEN and problems:
        # The run's own message (what ended it, and its fix) first, then what is wrong with its files; the fixes
        # of both after one "To fix:", the files' first: with config.yaml unreadable nothing else can be done.
        own, own_fix = _split_fix(message)
        listed = "; ".join(what for what, _ in map(_split_fix, problems))
        fixes = [*problems, f"To fix: {own_fix}" if own_fix else ""]
        stop = "." if any(_split_fix(text)[1] for text in fixes) else ""
        message = _one_fix(f"{own}. ({listed}{stop})" if own else _sentence([listed]), fixes)

    # status.json records model, dataset and (since adapters) method when a run starts; config.yaml fills gaps.
    # The same reading as core.adapters.method_of_run, with the files this function has open anyway.
    fields = {"model": status.get("model"), "dataset": status.get("dataset"), "method": status.get("method")}
    if not all(isinstance(value, str) for value in fields.values()):
        fields = {**_config_fields(folder.config_path), **{k: v for k, v in fields.items() if isinstance(v, str)}}
    method = fields.get("method")
    step = tally.step if tally.step is not None else _int(status.get("step"))
    max_steps = tally.max_steps or _int(status.get("max_steps"))
    step, max_steps = (value if value is not None and value > 0 else None for value in (step, max_steps))
    started = tally.first_time or _created_time(status)
    if started is None:
        try:
            started = min(p.stat().st_mtime for p in (folder.path / n for n in RUN_FILES) if p.exists())
        except (OSError, ValueError):
            started = None
    train_loss = tally.train_loss if tally.train_loss is not None else _float(status.get("train_loss"))
    # Which runs are marked is core.metrics' one rule (MetricsTally.train_loss_note: a resumed run, or logging windows
    # that trained no token; not a run never resumed that stopped between logging steps), the model card's too. Said
    # once the run has ended: a live run's last logged loss trails its step until the next window logs.
    note = tally.train_loss_note(train_loss, step) if state != RunState.RUNNING.value else ""
    return RunSummary(
        path=folder.path, state=state, message=message,
        model=str(fields.get("model") or ""), dataset=str(fields.get("dataset") or ""),
        # Not recorded: the adapter it saved says (a run whose files do not record it), else every run before
        # adapters was full fine-tuning.
        method=method if method in ADAPTER_METHODS else saved_adapter_method(folder.path) or "full",
        step=step or 0, max_steps=max_steps or 0,
        train_loss=train_loss, train_loss_note=note,
        eval_loss=tally.eval_loss if tally.eval_loss is not None else _float(status.get("eval_loss")),
        duration_s=tally.duration_s, started=started, pid=_int(status.get("pid")),
        problems=tuple(problems), tally=tally,
    )


def run_folders(runs_dir: Path) -> list[Path]:
    """The runs in runs_dir, by name: the one listing the Runs tab, `finetune-studio runs` and the Try tab read
    (skipping hidden entries, dangling links and folders that cannot be looked into: scan_runs_dir names those)."""
    return scan_runs_dir(runs_dir)[0]


def scan_runs_dir(runs_dir: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(the runs in runs_dir by name, as run_folders lists them; the folders in it that cannot be looked into, each
    with why, by name). A run folder made unreadable (chmod 000, another user's) was left out of the Runs tab
    without a word, as if it had been deleted."""
    try:
        children = list(Path(runs_dir).iterdir())
    except OSError:  # no runs folder yet, or not readable: nothing to list
        return [], []
    runs, closed = [], []
    for child in sorted(children):
        if child.name.startswith("."):
            continue
        try:
            if child.is_dir() and any((child / name).is_file() for name in RUN_FILES):
                runs.append(child)
        except OSError as exc:  # on Python 3.11 is_file raises PermissionError for a folder that cannot be entered
            closed.append((child, exc.strerror or str(exc)))
    return runs, closed


class RunsDirUnreadable(FinetuneError):
    """The runs folder itself cannot be listed (no permission, a file in its place, an I/O error): RunIndex.refresh
    raises it rather than list nothing, which read as a folder without runs."""


def runs_dir_unreadable(runs_dir: Path) -> str | None:
    """Why the runs folder cannot be listed, in words with what to do; None when it can, and when it is not there
    (no run has made it yet). scan_runs_dir lists nothing either way: the Runs tab said 'No runs yet. Press Start to
    train one' over a folder of runs it had no permission to read, and took every run off its table."""
    try:
        with os.scandir(runs_dir):
            return None
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return (f"The runs folder {runs_dir} is a file, not a folder, so no run can be listed or saved there. To fix: "
                "move that file away, or choose another runs folder.")
    except OSError as exc:
        why = (exc.strerror or str(exc)).lower()
        return (f"The runs folder {runs_dir} cannot be read ({why}), so its runs cannot be listed. To fix: make it "
                f"readable by your user (for example chmod u+rwx {shlex.quote(str(runs_dir))}), or choose another "
                "runs folder.")


def unreadable_text(closed: list[tuple[Path, str]], runs_dir: Path) -> str:
    """What the Runs tab says of the folders in runs_dir it cannot look into (scan_runs_dir), with what to do; ""
    for none."""
    if not closed:
        return ""
    names = ", ".join(path.name for path, _ in closed[:5]) + (f" and {len(closed) - 5} more" if len(closed) > 5
                                                               else "")
    whys = sorted({why.lower() for _, why in closed})
    one = len(closed) == 1
    first = closed[0][0]
    return (f"Not listed: {'1 folder' if one else f'{len(closed)} folders'} in {runs_dir} cannot be read "
            f"({'; '.join(whys)}): {names}. If {'it is a run, it is' if one else 'they are runs, they are'} not "
            f"shown, resumed or deleted here. To fix: make {'it' if one else 'them'} readable by your user (for "
            f"example chmod u+rwx {shlex.quote(str(first))}), or move {'it' if one else 'them'} out of the runs "
            "folder.")


def list_runs(runs_dir: Path) -> list[RunSummary]:
    """Every run in runs_dir, newest first."""
    runs = [summarize(path) for path in run_folders(runs_dir)]
    runs.sort(key=lambda r: (r.started or 0.0, r.name), reverse=True)
    return runs


def _signature(path: Path) -> tuple[Any, ...]:
    out: list[Any] = []
    for name in RUN_FILES:
        try:
            st = (path / name).stat()
        except OSError:
            out.append(None)
        else:
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


class RunIndex:
    """The runs of one folder, kept current by `refresh()` (a poller calls it about once a second).

    Only folders whose files changed (mtime, size or inode of config/status/metrics) are summarized again, and
    then only the metrics lines appended since the last read are parsed. Runs that say "running" are checked
    every time, since their process can die without touching a file (they turn "interrupted").
    """

    def __init__(self, runs_dir: Path):
        self.runs_dir = Path(runs_dir)
        self.runs: dict[Path, RunSummary] = {}
        self._signatures: dict[Path, tuple[Any, ...]] = {}
        self.pending = False  # the last refresh ran out of time before reading every changed run
        self.unreadable: list[tuple[Path, str]] = []  # folders it cannot look into, with why (scan_runs_dir)

    def refresh(self, budget_s: float | None = None) -> tuple[list[RunSummary], list[Path]]:
        """(summaries that are new or changed, paths of runs that are gone).

        budget_s: stop reading runs after about this long and set `pending`; the next call goes on where this
        one stopped. A first pass over a folder with many long runs then shows its first rows quickly.

        Raises RunsDirUnreadable when the runs folder exists but cannot be listed (runs_dir_unreadable).
        """
        deadline = None if budget_s is None else time.monotonic() + budget_s
        problem = runs_dir_unreadable(self.runs_dir)
        if problem:  # the runs it listed stay as they were: a folder it cannot read is not one without runs
            raise RunsDirUnreadable(problem)
        found, self.unreadable = scan_runs_dir(self.runs_dir)
        present = set(found)
        gone = [path for path in self.runs if path not in present]
        for path in gone:
            del self.runs[path]
            self._signatures.pop(path, None)
        changed = []
        self.pending = False
        for path in found:
            if deadline is not None and changed and time.monotonic() > deadline:
                self.pending = True
                break
            signature = _signature(path)
            previous = self.runs.get(path)
            if previous is not None and signature == self._signatures.get(path) and not previous.live:
                continue
            summary = summarize(path, previous)
            self._signatures[path] = signature
            if summary != previous:
                self.runs[path] = summary
                changed.append(summary)
            elif previous is not None:
                previous.tally = summary.tally  # same row, but remember how far the metrics were read
        return changed, gone


def delete_run(path: Path, runs_dir: Path) -> None:
    """Delete one run folder, refusing anything that is not a run directly inside runs_dir (a typo or a symlink
    must never remove other files) and any run still training.

    Raises FinetuneError with a message for the user.
    """
    import shutil

    from finetune_studio.core.errors import FinetuneError

    path, runs_dir = Path(path), Path(runs_dir)
    try:
        resolved, root = path.resolve(strict=True), runs_dir.resolve(strict=True)
    except (OSError, RuntimeError):
        raise FinetuneError(f"{path} does not exist (was it deleted already?).") from None
    if path.is_symlink() and path.parent.resolve() == root:
        # Listed in the Runs tab like any run (the link is followed to read it); deleting through it would remove
        # the folder it points to, outside the runs folder. It said '... is not inside the runs folder', beside it.
        where = "a folder not inside the runs folder" if resolved.parent != root else \
            f"the run {resolved.name} beside it"
        raise FinetuneError(f"{path.name} in {runs_dir} is a link to {resolved}, {where}, so nothing was deleted: "
                            "deleting through the link would remove that folder. To fix: delete the link itself in "
                            "your file manager (the folder it points to stays), or that folder if you mean to.")
    if resolved.parent != root or path.is_symlink():
        raise FinetuneError(f"{path} is not inside the runs folder {runs_dir}, so it was not deleted. "
                            "Delete it in your file manager if you really mean to.")
    if not is_run_folder(resolved):
        raise FinetuneError(f"{path} is not a run folder (it has no config.yaml, status.json or metrics.jsonl), "
                            "so it was not deleted.")
    status = RunFolder(resolved).read_status()
    if status.get("state") == "running":
        raise FinetuneError(f"The run {path.name} is still training (process {status.get('pid')}). Stop it first "
                            "(Stop in the app, or Ctrl-C in its terminal), then delete it.")
    record = read_lock(resolved)
    if record is not None and lock_alive(record):
        # Its status.json does not say running, but a process holds the run lock: a resume checking its checkpoint
        # and config before it writes 'running' (seconds for a large model), or a finished run saving or uploading
        # its model. The folder was removed under it.
        pid = record.get("pid")
        raise FinetuneError(f"The run {path.name} is in use by {f'process {pid}' if pid else 'another process'} "
                            f"(its status.json says {status.get('state')}, but a resume is starting in it, or its "
                            "model is still being saved or uploaded), so it was not deleted. To fix: wait until "
                            "that process ends (or stop it: Stop in its window, or Ctrl-C in its terminal), then "
                            "delete the run.")
    try:
        shutil.rmtree(resolved)
    except OSError as exc:
        raise FinetuneError(f"Could not delete all of {path}: {exc.strerror or exc} ({exc.filename}). Close any "
                            "program using its files and try again.") from exc
