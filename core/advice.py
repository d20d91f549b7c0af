"""Runtime failures turned into advice, and fixes the app can apply for the user.

A run that fails while training (out of memory, an exception in the model's forward pass, a full disk) ends with
a sentence that says what happened and what to do next. For out-of-memory there is also a concrete, machine-
readable proposal: a `Fix` whose `overrides` change the run's config (dotted paths such as
"training.per_device_train_batch_size"). It is recorded in status.json and in the `end` event, carried by
`OutOfMemoryFailure.fix`, printed by the CLI and offered as a button by the GUI; `apply_fix_and_resume` writes it
into the run's config.yaml (keeping the old one as config.before-fix.yaml) and continues from the latest
complete checkpoint.

Qt-free, and light at import: torch is never imported here (exceptions are recognised by name and message).
"""

from __future__ import annotations

import errno
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

from finetune_studio.core.config import RunConfig, load_config, parse_config, pasted_command, to_yaml
from finetune_studio.core.errors import FinetuneError, OutOfMemoryFailure, TrainingError
from finetune_studio.core.fileio import atomic_write_text
from finetune_studio.core.runs import (
    CANNOT_RESUME_TEXT,
    NO_CHECKPOINT_TEXT,
    NOTHING_LOST_TEXT,
    RESUME_FROM_TEXT,
    RunBusy,
    RunFolder,
    require_run_folder,
    run_busy,
    unwritable,
)

BEFORE_FIX_FILE = "config.before-fix.yaml"
# TrainingArguments defaults, for configs that leave these keys out.
DEFAULT_TRAIN_BATCH, DEFAULT_EVAL_BATCH, DEFAULT_ACCUMULATION = 8, 8, 1
MIN_MAX_LENGTH = 32  # below this a causal LM learns next to nothing; do not propose shorter


@dataclass(frozen=True)
class Fix:
    """A change to a run's config: `overrides` maps dotted config paths to their new (absolute) values, so
    applying the same fix twice changes nothing the second time."""

    description: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "overrides": dict(self.overrides)}

    @classmethod
    def from_dict(cls, data: Any) -> Fix | None:
        if not isinstance(data, dict) or not isinstance(data.get("overrides"), dict) or not data["overrides"]:
            return None
        return cls(str(data.get("description", "")), dict(data["overrides"]))

    def as_flags(self) -> str:
        """The same change as `--set` flags for `finetune-studio train`."""
        return " ".join(f"--set {key}={_yaml_scalar(value)}" for key, value in self.overrides.items())


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _whole(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


# ---------------------------------------------------------------------------------------------- recognising


def _chain(exc: BaseException | None) -> list[BaseException]:
    """The exception and its causes (transformers and accelerate re-raise with `from`)."""
    seen: list[BaseException] = []
    while exc is not None and len(seen) < 10 and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def out_of_memory_cause(exc: BaseException) -> BaseException | None:
    """torch.OutOfMemoryError, a "CUDA out of memory" / "MPS backend out of memory" RuntimeError, or MemoryError."""
    for item in _chain(exc):
        if isinstance(item, MemoryError) or any(c.__name__ == "OutOfMemoryError" for c in type(item).__mro__):
            return item
        if isinstance(item, RuntimeError) and "out of memory" in str(item).lower():
            return item
    return None


# How safetensors (Rust's io::Error) and others word a full disk or an exhausted quota inside a message.
_NO_SPACE_TEXT = ("no space left on device", "os error 28", "disk quota exceeded", "os error 122")
# torch's zip writer (inline_container.cc) reports a short write only as "unexpected pos N vs M".
_SHORT_WRITE_TEXT = ("unexpected pos",)
# A folder with less room than this is (nearly) full: a failed write there is taken to be for want of space.
NEARLY_FULL_BYTES = 64 * 1024 * 1024
_SAVING = {"_save_checkpoint", "save_model", "_save", "save_pretrained", "_save_optimizer_and_scheduler",
           "_save_rng_state", "save_file", "save", "_save_scaler", "save_state"}
_SAVERS = ("torch.serialization", "safetensors", "transformers", "peft", "accelerate")


def _writing(exc: BaseException) -> bool:
    """Whether exc was raised while a checkpoint or the model was being written: by torch.save (whose failed
    write says only "unexpected pos"), by safetensors, or under one of the Trainer's or peft's save methods."""
    for item in _chain(exc):
        if any(text in str(item).lower() for text in _SHORT_WRITE_TEXT):
            return True
        for frame in _frames(item):
            module = str(frame.f_globals.get("__name__", ""))
            if module.startswith(_SAVERS) and frame.f_code.co_name in _SAVING:
                return True
    return False


def _written_folder(exc: BaseException) -> Path | None:
    """The folder the failed save was writing into, read from the save functions' arguments."""
    for item in _chain(exc):
        for frame in reversed(_frames(item)):  # innermost first: the file itself, then its folder
            module = str(frame.f_globals.get("__name__", ""))
            if not module.startswith(_SAVERS) or frame.f_code.co_name not in _SAVING:
                continue
            for name in ("filename", "f", "output_dir", "save_directory"):
                value = frame.f_locals.get(name)
                if isinstance(value, (str, Path)) and str(value):
                    path = Path(value)
                    return path if name in ("output_dir", "save_directory") else path.parent
    return None


def _nearly_full(folder: Path) -> bool:
    """Whether the disk that holds folder (or its nearest existing parent) has (almost) no room left."""
    import shutil

    for candidate in (folder, *folder.parents):
        try:
            return shutil.disk_usage(candidate).free < NEARLY_FULL_BYTES
        except OSError:
            continue
    return False


def disk_full_cause(exc: BaseException, folder: Path | str | None = None) -> OSError | None:
    """The full disk behind exc, as an OSError(ENOSPC), or None.

    Recognised: an OSError with ENOSPC or EDQUOT in the exception chain; a message that says so in words
    (safetensors' SafetensorError "I/O error: No space left on device (os error 28)"); and a failure while a
    checkpoint or the model was written (torch's opaque "unexpected pos N vs M") when the folder being written
    (`folder`, else the one the save function was given) is actually (nearly) full."""
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, OSError) and item.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return item
    for item in chain:
        if any(text in str(item).lower() for text in _NO_SPACE_TEXT):
            return OSError(errno.ENOSPC, str(item).strip().splitlines()[0])
    where = Path(folder) if folder is not None else _written_folder(exc)
    if where is not None and _writing(exc) and _nearly_full(where):
        return OSError(errno.ENOSPC, f"No space left on device while writing in {where}")
    return None


def _frames(exc: BaseException) -> list[Any]:
    frames = []
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


@dataclass(frozen=True)
class Site:
    """Where in the Trainer an exception was raised."""

    evaluating: bool = False  # inside evaluation_loop / prediction_step
    forward: bool = False  # inside Trainer.compute_loss, which runs the model's forward pass
    backward: bool = False  # inside torch's backward
    model: str | None = None  # the model's class name, when the forward pass was reached


def failure_site(exc: BaseException) -> Site:
    """Read from the traceback: Trainer.compute_loss calls the model's forward, prediction_step/evaluation_loop
    evaluate, torch's Tensor.backward runs the backward pass."""
    evaluating = computing_loss = forward = backward = False
    model_name = None
    for frame in _frames(exc):  # outermost first
        name = frame.f_code.co_name
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith("transformers.trainer") and name in ("evaluation_loop", "prediction_step"):
            evaluating = True
        elif module.startswith("transformers.trainer") and name == "compute_loss":
            computing_loss = True
            model = frame.f_locals.get("model")
            model_name = type(model).__name__ if model is not None else None
        elif computing_loss and module == "torch.nn.modules.module" and name in ("_call_impl", "_wrapped_call_impl"):
            # Established only when the model was called: compute_loss also does work of its own (accelerate's
            # state, label shifting), and an error raised there is not the model's.
            forward = True
        elif module.startswith("torch") and name == "backward":
            backward = True
    return Site(evaluating, forward and not backward, backward, model_name if forward else None)


def raised_in(exc: BaseException) -> str | None:
    """The module whose code raised exc (the innermost frame), for a failure this module cannot explain: where it
    happened is established, why is not."""
    frames = _frames(exc)
    return str(frames[-1].f_globals.get("__name__") or "") or None if frames else None


def _device(exc: BaseException) -> str:
    text = str(exc)
    if "MPS" in text:
        return "MPS (the Apple GPU)"
    if "CUDA" in text or "HIP" in text:
        return "CUDA"
    if isinstance(exc, MemoryError):
        return "The computer (RAM)"
    return "The GPU"


# ---------------------------------------------------------------------------------------------- proposing


def _largest_divisor_at_most(n: int, limit: int) -> int:
    return next(d for d in range(max(1, limit), 0, -1) if n % d == 0)


@dataclass(frozen=True)
class SmallerBatch:
    """A per-device batch lowered with gradient accumulation raised to make up for it (smaller_batch): `steps` is at
    most validation's MAX_ACCUMULATION_STEPS, so the rows per optimizer step (`rows`) stay those of before
    (`rows_before`) only where that limit allows; `kept` says whether they do."""

    batch: int
    steps: int
    rows: int
    rows_before: int

    @property
    def kept(self) -> bool:
        return self.rows == self.rows_before


def smaller_batch(batch: int, accumulation: int, smaller: int | None = None) -> SmallerBatch:
    """`batch` lowered to `smaller` (else the largest divisor of it up to half of it, so that the rows per optimizer
    step stay exact: 7 as 3 x 2 lost one each step), with accumulation multiplied to keep those rows, up to
    MAX_ACCUMULATION_STEPS: a fix the app proposes must pass validation (batch 7 with 2,000 steps would need 14,000).
    Past it the steps stop at the limit and the optimizer step sums fewer rows; the description says so
    (batch_fix_text). Per process: the caller multiplies by the processes."""
    from finetune_studio.core.validation import MAX_ACCUMULATION_STEPS

    smaller = smaller or _largest_divisor_at_most(batch, batch // 2)
    wanted = -(-accumulation * batch // smaller)  # rounded up: never fewer rows than before, where it is not exact
    steps = max(1, min(wanted, MAX_ACCUMULATION_STEPS))
    return SmallerBatch(smaller, steps, smaller * steps, batch * accumulation)


def capped_steps_text(rows_before: int, rows: int) -> str:
    """What a capped accumulation does to the rows per optimizer step, for a fix's description: '' where none."""
    from finetune_studio.core.validation import MAX_ACCUMULATION_STEPS

    if rows == rows_before:
        return ""
    return (f"the effective batch goes from {rows_before:,} to {rows:,} rows, as gradient accumulation stops at "
            f"{MAX_ACCUMULATION_STEPS:,} steps, the most a run takes")


def propose_oom_fix(config: RunConfig, during: str = "train") -> Fix | None:
    """The next thing to lower after running out of memory, or None when nothing is left to lower.

    In order: halve the per-device batch and multiply gradient accumulation to keep the effective batch, turn
    on activation checkpointing, halve max_length. An OOM during evaluation halves the evaluation batch first.
    """
    training = config.training
    if during == "eval":
        batch = _whole(training.get("per_device_eval_batch_size"), DEFAULT_EVAL_BATCH)
        if batch > 1:
            return Fix(f"use evaluation batch size {batch // 2} instead of {batch} (training is unchanged)",
                       {"training.per_device_eval_batch_size": batch // 2})
    batch = _whole(training.get("per_device_train_batch_size"), DEFAULT_TRAIN_BATCH)
    accumulation = _whole(training.get("gradient_accumulation_steps"), DEFAULT_ACCUMULATION)
    if batch > 1:
        lower = smaller_batch(batch, accumulation)  # a divisor keeps the effective batch exact, within the limit
        kept = f"the effective batch stays {batch * accumulation}" if lower.kept else capped_steps_text(
            lower.rows_before, lower.rows)
        return Fix(f"use batch size {lower.batch} with gradient accumulation {lower.steps} instead of {batch} with "
                   f"{accumulation} ({kept})",
                   {"training.per_device_train_batch_size": lower.batch,
                    "training.gradient_accumulation_steps": lower.steps})
    if during != "eval" and not training.get("activation_checkpointing"):
        return Fix("turn on activation checkpointing (it recomputes activations in the backward pass: much less "
                   "memory, about 30 % slower)", {"training.activation_checkpointing": True})
    max_length = config.dataset.max_length
    if isinstance(max_length, int) and max_length > MIN_MAX_LENGTH:
        shorter = max(MIN_MAX_LENGTH, max_length // 2)
        return Fix(f"shorten max_length from {max_length} to {shorter} tokens (longer rows are cut)",
                   {"dataset.max_length": shorter})
    return None


def fix_command(run_dir: Path) -> str:
    return f"finetune-studio resume {shlex.quote(str(run_dir))} --apply-fix"


# ---------------------------------------------------------------------------------------------- explaining


def runtime_failure(exc: BaseException, config: RunConfig, run_dir: Path, progress: dict[str, Any]
                    ) -> TrainingError | None:
    """A TrainingError that explains `exc` (raised while a run was executing), or None when it is not one of the
    runtime failures this module knows: out of memory, a full disk, an exception in the model's forward pass.

    `progress` is what the run had reported: "step" (last finished optimizer step) and "phase".
    """
    if isinstance(exc, (FinetuneError, KeyboardInterrupt)):
        return None
    folder = RunFolder(Path(run_dir))
    output_dir = Path(config.training.get("output_dir") or folder.path)
    point = folder.resume_point(output_dir)  # the checkpoint Resume would continue from: one that loads
    checkpoint, why = point.checkpoint, point.why_not()
    kept = (f"checkpoints saved before are kept (latest: {checkpoint.name}), so Resume continues from there"
            if checkpoint else f"it cannot resume ({why}), so start the run again" if why else
            "no checkpoint had been saved yet, so start the run again")
    site = failure_site(exc)
    step = int(progress.get("step") or 0)
    training = progress.get("phase") == "train"
    where = ""
    if training:
        where = f" during evaluation at step {step}" if site.evaluating else f" at step {step + 1}"

    oom = out_of_memory_cause(exc)
    if oom is not None:
        batch = _whole(config.training.get("per_device_train_batch_size"), DEFAULT_TRAIN_BATCH)
        head = f"{_device(oom)} ran out of memory"
        if progress.get("phase") == "save":
            return OutOfMemoryFailure(f"{head} while saving the final model — close other programs that use it; "
                                      f"{kept}.", None, folder.path)
        if not training:
            return OutOfMemoryFailure(
                f"{head} while {_PHASES.get(progress.get('phase'), 'preparing the run')}, before training began "
                f"— the model does not fit: pick a smaller model, or load it in bfloat16 (model.dtype) on a GPU "
                "that supports it.", None, folder.path)
        fix = propose_oom_fix(config, "eval" if site.evaluating else "train")
        head += f"{where} with batch size {batch} and max_length {config.dataset.max_length}"
        if fix is None:
            return OutOfMemoryFailure(
                f"{head}, and batch size 1, activation checkpointing and max_length {config.dataset.max_length} "
                "leave nothing to lower — use a smaller model or a GPU with more memory.", None, folder.path)
        restart = f"{checkpoint.name}" if checkpoint else "the beginning (no checkpoint was saved yet)"
        return OutOfMemoryFailure(f"{head} — {fix.description}. Apply the fix to restart from {restart}.",
                                  fix, folder.path)

    full = disk_full_cause(exc, output_dir)
    if full is not None:
        return TrainingError(f"The disk is full — free space in {output_dir} (or choose a runs folder on a disk "
                             f"with room); {kept}.")

    if site.forward:
        name = type(exc).__name__
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
        model = f" ({site.model})" if site.model else ""
        return TrainingError(f"The model's forward pass{model} raised {name}{where}: {text}. Check the model (and "
                             f"its own code, if it needs trust_remote_code) and the data it was fed; {kept} once "
                             "it is fixed.")
    return None


_PHASES = {"tokenizer": "loading the tokenizer", "data": "loading the dataset", "tokenize": "tokenizing",
           "model": "loading the model"}


# ---------------------------------------------------------------------------------------------- applying


def recorded_fix(run_dir: Path | str | None) -> Fix | None:
    """The fix a failed run proposed (from its status.json), or None."""
    if run_dir is None:
        return None
    status = RunFolder(Path(run_dir)).read_status()
    if status.get("state") != "failed":
        return None
    return Fix.from_dict(status.get("fix"))


def with_overrides(config: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    """A copy of config with dotted-path overrides applied ("training.x", "dataset.max_length", "name")."""
    data = config.to_dict()
    for key, value in overrides.items():
        parts = key.split(".")
        target = data
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[parts[-1]] = value
    return parse_config(data)[0]


def apply_fix(run_dir: Path | str, fix: Fix | None = None) -> Fix:
    """Write the run's proposed fix (or `fix`) into its config.yaml, atomically; the previous config.yaml is kept
    as config.before-fix.yaml. Applying a fix that is already in the config changes no file. A run that is still
    training (in any process) is refused with RunBusy before anything is written."""
    from finetune_studio.core.training import resume_advice  # what is left to resume from: said, not assumed

    folder = RunFolder(require_run_folder(run_dir))  # core.runs' words for a folder that holds no run
    busy = run_busy(folder.path)
    if busy:  # its trainer would keep the old settings and a later resume would find the config changed under it
        raise RunBusy(busy)
    fix = fix or recorded_fix(folder.path)
    if fix is None:
        status = folder.read_status()
        happened = _what_happened(str(status.get("message", "")))
        refusal = FinetuneError(f"The run {folder.path.name} has no proposed fix to apply (it is "
                                f"{status.get('state', 'unknown')}{f': {happened}' if happened else ''})."
                                + _next_step_without_fix(folder, status))
        refusal.bad_input = True  # nothing ran or changed: the command asked for what is not there, exit 2
        raise refusal
    before = folder.config_path.read_text(encoding="utf-8")
    config, _ = load_config(folder.config_path)
    fixed = to_yaml(with_overrides(config, fix.overrides))
    try:  # a read-only folder fails at the first write, before anything changed
        if fixed != to_yaml(config):
            atomic_write_text(folder.path / BEFORE_FIX_FILE, before)
            atomic_write_text(folder.config_path, fixed)
        folder.write_status("failed", f"Fix applied: {fix.description}." + resume_advice(folder, config), fix=None,
                            fix_applied=fix.to_dict())
    except OSError as exc:
        said = unwritable(folder.path, exc)
        if said is not None:
            raise said from None
        raise
    return fix


# How the next step a run's status ends with begins (core.runs.resume_offer, core.training.resume_advice, a Stop
# before a resume trained: "…; Resume continues from checkpoint-5."). apply_fix's refusal says that step itself.
# A run with no checkpoint is said up to NO_CHECKPOINT_TEXT's "To fix:", whose command core.training fills in.
_NEXT_STEP_OPENINGS = (RESUME_FROM_TEXT, CANNOT_RESUME_TEXT, NO_CHECKPOINT_TEXT.split(". To fix:")[0],
                       NOTHING_LOST_TEXT)


def _what_happened(message: str) -> str:
    """A run's status message without the next step it ends with, for apply_fix's refusal, which ends with the next
    step from the folder as it is now (_next_step_without_fix): with both, a run whose fix was applied already read
    "(it is failed: Fix applied: …. Resume continues from checkpoint-5). Resume it from checkpoint-5 with …", and
    one with no checkpoint said "No checkpoint was saved, so it cannot resume" twice."""
    found = [at for at in (message.find(opening) for opening in _NEXT_STEP_OPENINGS) if at >= 0]
    return message[:min(found, default=len(message))].strip().rstrip(";,.").strip()


def _next_step_without_fix(folder: RunFolder, status: dict[str, Any]) -> str:
    """What a run with no fix to apply can do: resume from its latest complete checkpoint, or, with none, start
    again (a diverged run with a tenth of its learning rate), as a command that works."""
    from finetune_studio.core.training import never_trained

    try:
        config, _ = load_config(folder.config_path)
    except (FinetuneError, OSError):
        config = None
    output_dir = Path(config.training.get("output_dir") or folder.path) if config else folder.path
    point = folder.resume_point(output_dir)  # the checkpoint Resume would continue from: one that loads
    checkpoint, why = point.checkpoint, point.why_not()
    if status.get("state") == "finished":  # a plain resume trains nothing: --epochs does, or --steps when capped
        from finetune_studio.core.training import train_further_text

        return train_further_text(folder, config)
    if status.get("state") not in ("failed", "stopped", "interrupted"):
        return f" To fix: resume it with {pasted_command(f'finetune-studio resume {shlex.quote(str(folder.path))}')}."
    if checkpoint is not None:
        return (f" To fix: resume it from {checkpoint.name} with "
                f"{pasted_command(f'finetune-studio resume {shlex.quote(str(folder.path))}')}.")
    name = folder.path.name
    # What happened, then "To fix:" and the command, as every refusal says its next step (no_model_text's words for
    # a run without a checkpoint): the fix was said after a colon, so no reader could tell it from the cause.
    if never_trained(folder.path):
        how = "Nothing was trained. To fix: start it again as it is (the same name takes this folder over)"
    else:  # steps trained: the name is taken by their folder. Checkpoints none of which loads: Resume would refuse
        how = (f"It cannot resume: {why}. To fix: put the missing or damaged files back from a copy of the run and "
               "resume, or start it again under another name" if why else
               "No checkpoint was saved, so it cannot resume. To fix: start it again under another name")
        name = next(f"{folder.path.name}-{n}" for n in range(2, 1000)
                    if not (folder.path.parent / f"{folder.path.name}-{n}").exists())
    flags = f" --runs-dir {shlex.quote(str(folder.path.parent))} --name {shlex.quote(name)}"
    rate = config.training.get("learning_rate") if config else None
    if "diverged" in str(status.get("message", "")) and isinstance(rate, (int, float)) and rate > 0:
        how += " with a lower learning rate"
        # A tenth of it, unless that is still past fine-tuning's usual range (about 1e-5 to 1e-3, validation's
        # warning): a rate of 1e9 cut to 1e8 diverges again; the seed's 2e-5 then.
        lower = rate / 10 if rate / 10 <= 1e-3 else 2e-5
        flags += f" --set training.learning_rate={lower:g}"
    again = pasted_command(f"finetune-studio train {shlex.quote(str(folder.config_path))}{flags}")
    return (f" {how}: {again} (in the window: "
            "select the run in the Runs tab, press Use its settings, change them and press Start).")


def _free_accelerator_memory() -> None:
    """The failed run's tensors are garbage now; hand their memory back before the restart allocates again."""
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
        if torch is not None and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            torch.mps.empty_cache()
    except Exception:  # noqa: BLE001 - freeing a cache is best effort
        pass


def apply_fix_and_resume(run_dir: Path | str, sink: Callable[[dict], None] | None = None,
                         stop: threading.Event | None = None, extra_epochs: float | None = None) -> Any:
    """Apply the run's proposed fix, then continue it from its latest complete checkpoint (from the beginning,
    in the same folder, when none was saved before the failure). Returns core.training.RunResult.

    A run of several processes (its config's launch: section) resumes as a plain Resume of it does: under torchrun,
    with the same number of processes (core.launch.torchrun_execute trains, this process follows rank 0). It was
    resumed in this process, on one: a 4-GPU run went on on one GPU."""
    from finetune_studio.core import launch
    from finetune_studio.core.training import epochs_capped, resume

    if extra_epochs:  # more epochs that max_steps stops: refused as a plain resume refuses them, before any fix
        folder = RunFolder(require_run_folder(run_dir))
        config, _ = load_config(folder.config_path)
        latest = folder.resume_point(Path(config.training.get("output_dir") or folder.path)).latest
        capped = epochs_capped(folder, config, latest, extra_epochs)
        if capped is not None:
            return capped
    apply_fix(run_dir)
    _free_accelerator_memory()
    execute = launch.torchrun_execute if launch.run_uses_torchrun(Path(run_dir)) else None
    return resume(Path(run_dir), sink, stop, extra_epochs, restart=True, execute=execute)
