"""Rank awareness inside a training process that torchrun started: who writes what, heartbeats, the shared stop.

torchrun (core.launch builds its command) starts one process per rank on the same entry,
`finetune-studio worker RUN_DIR`. Every rank trains the same config in the same Trainer, which does the
data-parallel part itself (accelerate under TrainingArguments). What Finetune Studio adds lives here:

- Rank 0 alone writes the run's metrics.jsonl and status.json (the files the window, the Runs tab and `runs`
  read). Another rank trains through a `RankFolder`, whose log and status are its own files under `ranks/`, so
  core.training runs unchanged on every rank and nothing it writes collides.
- Every rank writes a small heartbeat, `ranks/rank-N.json` (pid, host, step, state, last error), so the launcher
  can name the rank that failed, and, at the end, a fingerprint of its weights (equal on every rank when
  data-parallel training kept them in sync).
- Stop: the window (or Ctrl-C in the launcher) writes a stop file. Rank 0 reads it at the end of each optimizer
  step and one all_reduce tells every rank at that same step, so all ranks stop together and the checkpoint they
  save is one complete checkpoint. A rank reading the file by itself could see it a step before another and hang
  the others in the next collective.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune_studio.core.fileio import atomic_write_json
from finetune_studio.core.runs import RunFolder

RANKS_DIR = "ranks"
STOP_FILE = "stop.request"
# Set by core.launch's supervisor for the processes it starts: it holds the run folder's RunLock for them.
SUPERVISED_ENV = "FINETUNE_STUDIO_SUPERVISED"
HEARTBEAT_INTERVAL_S = 2.0
TERMINATED = "terminated"  # a rank the launcher ended because another rank failed (not the cause)


@dataclass(frozen=True)
class RankInfo:
    """This process's place in a torchrun job, from the environment torchrun sets."""

    rank: int
    world_size: int
    local_rank: int
    node_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> RankInfo | None:
        """None outside torchrun (no RANK / WORLD_SIZE): the ordinary one-process run."""
        env = dict(os.environ if env is None else env)
        try:
            rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
        except (KeyError, ValueError):
            return None
        return cls(rank, world, int(env.get("LOCAL_RANK", rank)), int(env.get("GROUP_RANK", 0)))


def rank_info() -> RankInfo | None:
    return RankInfo.from_env()


def is_main_process() -> bool:
    """True in a one-process run and on rank 0 of a torchrun job: the process that writes the run's files."""
    info = rank_info()
    return info is None or info.is_main


# ---------------------------------------------------------------------------------------------- files
def ranks_dir(run_dir: Path) -> Path:
    return Path(run_dir) / RANKS_DIR


def heartbeat_path(run_dir: Path, rank: int) -> Path:
    return ranks_dir(run_dir) / f"rank-{rank}.json"


def stop_path(run_dir: Path) -> Path:
    return Path(run_dir) / STOP_FILE


def request_stop(run_dir: Path) -> None:
    """Ask a multi-process run to stop at its next optimizer step (rank 0 reads the file and tells the others)."""
    path = stop_path(run_dir)
    path.write_text(f"stop requested by pid {os.getpid()} at {time.time():.3f}\n", encoding="utf-8")


def stop_requested(run_dir: Path) -> bool:
    return stop_path(run_dir).exists()


def clear_stop(run_dir: Path) -> None:
    stop_path(run_dir).unlink(missing_ok=True)


def read_heartbeats(run_dir: Path) -> dict[int, dict[str, Any]]:
    """Every rank's last heartbeat, by rank; unreadable files are skipped."""
    found: dict[int, dict[str, Any]] = {}
    folder = ranks_dir(run_dir)
    if not folder.is_dir():
        return found
    for path in folder.glob("rank-*.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("rank"), int):
            found[record["rank"]] = record
    return found


def clear_heartbeats(run_dir: Path) -> None:
    """Before a launch: last time's heartbeats would name a rank that failed before this start."""
    folder = ranks_dir(run_dir)
    if folder.is_dir():
        for path in folder.glob("rank-*.json"):
            path.unlink(missing_ok=True)


class Heartbeat:
    """This rank's `ranks/rank-N.json`: rewritten on every state change and at most every HEARTBEAT_INTERVAL_S
    while it trains."""

    def __init__(self, run_dir: Path, info: RankInfo):
        self.path = heartbeat_path(run_dir, info.rank)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.record: dict[str, Any] = {"rank": info.rank, "world_size": info.world_size,
                                       "local_rank": info.local_rank, "node_rank": info.node_rank,
                                       "pid": os.getpid(), "host": socket.gethostname(), "state": "starting",
                                       "step": 0, "started": round(time.time(), 3)}
        self._written = 0.0
        self._lock = threading.Lock()

    def write(self, state: str | None = None, **extra: Any) -> None:
        with self._lock:
            if state is not None:
                self.record["state"] = state
            self.record.update(extra, updated=round(time.time(), 3))
            try:
                atomic_write_json(self.path, self.record)
            except OSError:
                pass  # a full disk: the run itself reports that
            self._written = time.monotonic()

    def write_last(self, state: str) -> None:
        """The write of a signal handler just before the process ends. Python runs the handler in the main thread
        between two bytecodes, perhaps inside write() with the lock held: waiting on the lock would wait forever
        (torchrun SIGKILLs the rank 30 s later, and its heartbeat said 'running' for good). The interrupted write
        never finishes, so its temp file is removed here."""
        held = self._lock.acquire(blocking=False)
        try:
            record = dict(self.record, state=state, updated=round(time.time(), 3))
            try:
                atomic_write_json(self.path, record)
                for stray in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                    stray.unlink(missing_ok=True)
            except OSError:
                pass
        finally:
            if held:
                self._lock.release()

    def beat(self, step: int) -> None:
        self.record["step"] = step
        if time.monotonic() - self._written >= HEARTBEAT_INTERVAL_S:
            self.write()

    def sink(self, event: dict[str, Any]) -> None:
        """core.training's event sink on this rank: the phase and step go into the heartbeat."""
        kind = event.get("event")
        if kind == "phase":
            self.write("running", phase=event.get("phase"))
        elif kind in ("step", "train_begin"):
            self.beat(int(event.get("step") or 0))


class RankFolder(RunFolder):
    """The run folder as a rank other than 0 sees it: checkpoints and the config are the run's, but its log,
    status and final-model scratch are its own, under ranks/, so only rank 0 writes the files readers use."""

    def __init__(self, path: Path, rank: int):
        super().__init__(Path(path))
        self.rank = rank

    @property
    def metrics_path(self) -> Path:
        return ranks_dir(self.path) / f"rank-{self.rank}.jsonl"

    @property
    def status_path(self) -> Path:
        return ranks_dir(self.path) / f"rank-{self.rank}.status.json"

    @property
    def model_dir(self) -> Path:
        # Trainer.save_model writes nothing on a rank other than 0; only the tokenizer lands here (then removed).
        return ranks_dir(self.path) / f"rank-{self.rank}.model"


def folder_for_rank(run_dir: Path, info: RankInfo | None) -> RunFolder:
    return RunFolder(Path(run_dir)) if info is None or info.is_main else RankFolder(Path(run_dir), info.rank)


# ---------------------------------------------------------------------------------------------- no orphans
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def parent_death_signal() -> Any:
    """A function that asks the kernel to send the calling process a signal when its parent ends (Linux prctl
    PR_SET_PDEATHSIG; kept across exec), or None where there is no such call. Resolved here, before a fork, so a
    child between fork and exec (a Popen preexec_fn) only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_signal(signum: int) -> bool:
        return prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0

    return set_signal


def die_with_parent(signum: int = signal.SIGTERM, parent: int | None = None, set_signal: Any = None) -> bool:
    """Have this process get `signum` when its parent ends, so a SIGKILLed supervisor or torchrun leaves no
    process behind (a SIGKILL runs no clean-up of its own). `parent`: the pid the parent had before a fork; if it
    already ended before the call (the race the call cannot see), the signal is raised now. False where the
    platform has no such call (nothing done)."""
    set_signal = set_signal or parent_death_signal()
    if set_signal is None or not set_signal(signum):
        return False
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)
    return True


# ---------------------------------------------------------------------------------------------- the Trainer side
def weights_fingerprint(model: Any) -> list[float]:
    """[sum, sum of squares] of every parameter, in float64 on its own device: equal on every rank exactly when
    their weights are (data-parallel training keeps them bit for bit equal), and cheap to move off a GPU."""
    import torch

    total = torch.zeros((), dtype=torch.float64)
    squares = torch.zeros((), dtype=torch.float64)
    with torch.no_grad():
        for parameter in model.parameters():
            value = parameter.detach().double()
            total += value.sum().cpu()
            squares += (value * value).sum().cpu()
    return [float(total), float(squares)]


def trainer_callbacks(run_dir: Path, stop: threading.Event) -> list[Any]:
    """Callbacks core.training adds before its progress callback: none in a run trained in the app's own process;
    under torchrun (a one-process run on a chosen GPU too) the one that reads the stop file, shares Stop between
    ranks and keeps this rank's heartbeat."""
    info = rank_info()
    if info is None:
        return []
    return [_sync_callback(Path(run_dir), stop, info)]


def _sync_callback(run_dir: Path, stop: threading.Event, info: RankInfo) -> Any:
    from transformers import TrainerCallback

    heartbeat = _HEARTBEATS.get(info.rank) or Heartbeat(run_dir, info)

    class RankSyncCallback(TrainerCallback):
        """As training begins, at the end of every optimizer step and after every evaluation: rank 0 reads the
        stop file, one all_reduce tells every rank, and each sets the same `stop` event the progress callback (next
        in the list) turns into an end before the first step (nothing trained, on every rank at once) or a stop
        and save."""

        def on_train_begin(self, args, state, control, **kwargs):
            self._share_stop()  # a Stop while the ranks loaded the model: none trains a step

        def on_step_end(self, args, state, control, **kwargs):
            self._share_stop()
            heartbeat.beat(state.global_step)
            return control

        def on_evaluate(self, args, state, control, **kwargs):
            # A Stop that came while the ranks evaluated: the progress callback stops them all right after this
            # evaluation, at the same step (every rank evaluates, so every rank gets here for the all_reduce).
            self._share_stop()
            return control

        def _share_stop(self) -> None:
            import torch
            import torch.distributed as dist

            wanted = stop.is_set() or (info.is_main and stop_requested(run_dir))
            if dist.is_available() and dist.is_initialized():
                device = (torch.device("cuda", torch.cuda.current_device())
                          if dist.get_backend() == "nccl" else torch.device("cpu"))
                flag = torch.tensor([1 if wanted else 0], dtype=torch.int32, device=device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                wanted = bool(flag.item())
            if wanted:
                stop.set()

        def on_train_end(self, args, state, control, model=None, **kwargs):
            extra: dict[str, Any] = {"step": state.global_step}
            if model is not None:
                extra["weights"] = weights_fingerprint(model)
            heartbeat.write(**extra)

    return RankSyncCallback()


_HEARTBEATS: dict[int, Heartbeat] = {}  # the worker's heartbeat, shared with its Trainer callback


def trainer_class(base: Any) -> Any:
    """The Trainer class core.training builds: `base` itself in one process (the tutorial's Trainer, untouched);
    on several ranks, a subclass whose eval_loss is the one the same weights get in one process at the same global
    eval batch (see _rank_trainer)."""
    info = rank_info()
    if info is None or info.world_size < 2:
        return base
    return _rank_trainer(base)


def _rank_trainer(base: Any) -> Any:
    class RankTrainer(base):
        """One process's eval_loss is the mean over its eval batches of each batch's token-weighted loss, each
        batch weighted by its rows. On W ranks of b rows each, the Trainer's global batches are the same rows (a
        global batch of W x b), but when the split is not a multiple of W x b, accelerate pads the last global
        batch with repeated rows (even_batches), whose tokens then count in that batch's loss, and gathers the
        ranks' different losses with the last one cut to its real rows, so ranks weigh unequally. Here, in that
        case only: the repeated rows' labels are masked (no token of theirs counts), and every rank's loss for the
        step is the mean of the ranks' (the global batch's token-weighted loss: transformers scales each rank's
        sum by the global token count and the number of processes). The figure then equals one process's, for
        any split size. Any other data loading (no padding to undo) is left as the Trainer does it."""

        def evaluation_loop(self, dataloader: Any, *args: Any, **kwargs: Any) -> Any:
            self._eval_plan = _eval_padding_plan(self, dataloader)
            self._eval_step = 0
            try:
                return super().evaluation_loop(dataloader, *args, **kwargs)
            finally:
                self._eval_plan = None

        def prediction_step(self, model: Any, inputs: Any, prediction_loss_only: bool,
                            ignore_keys: Any = None) -> Any:
            plan = getattr(self, "_eval_plan", None)
            if plan is None:
                return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys=ignore_keys)
            rows, per_rank, ranks, rank = plan
            batch = self._eval_step * ranks + rank  # this rank's batch in the sampler's batches of per_rank rows
            self._eval_step += 1
            real = min(per_rank, max(0, rows - batch * per_rank))  # the rest are accelerate's repeated rows
            inputs = _mask_rows_from(inputs, real)
            loss, logits, labels = super().prediction_step(model, inputs, prediction_loss_only,
                                                           ignore_keys=ignore_keys)
            if loss is not None:
                import torch.distributed as dist

                loss = loss.detach().clone()
                dist.all_reduce(loss, op=dist.ReduceOp.SUM)
                loss = loss / ranks
            return loss, logits, labels

    return RankTrainer


def _eval_padding_plan(trainer: Any, dataloader: Any) -> tuple[int, int, int, int] | None:
    """(rows, rows per rank's batch, ranks, this rank) when the eval loader is accelerate's even-batches shard of
    a sampler of known length and the loss is token-weighted across ranks (the default); None otherwise."""
    import torch.distributed as dist

    args = trainer.args
    if not (getattr(args, "average_tokens_across_devices", False) and trainer.model_accepts_loss_kwargs
            and dist.is_available() and dist.is_initialized()):
        return None
    shard = getattr(dataloader, "batch_sampler", None)
    inner = getattr(shard, "batch_sampler", None)
    if type(shard).__name__ != "BatchSamplerShard" or shard.split_batches or not shard.even_batches \
            or shard.drop_last or not isinstance(shard.batch_size, int) or shard.batch_size < 1:
        return None
    try:
        rows = len(inner.sampler)
    except (AttributeError, TypeError):
        return None
    return rows, shard.batch_size, shard.num_processes, shard.process_index


def _mask_rows_from(inputs: Any, first: int) -> Any:
    """The batch with the labels of rows `first` on set to -100 (they count no token), or the batch itself when
    every row is real."""
    labels = inputs.get("labels") if hasattr(inputs, "get") else None
    if labels is None or first >= labels.shape[0]:
        return inputs
    masked = dict(inputs)
    for key in ("labels", "shift_labels"):
        if masked.get(key) is not None:
            masked[key] = masked[key].clone()
            masked[key][first:] = -100
    return masked


# ---------------------------------------------------------------------------------------------- the worker
def worker_main(run_dir: Path, config_path: Path | None = None, resume_from: str | None = None) -> int:
    """One rank of a torchrun job: train the run in run_dir (its config.yaml, or config_path on a machine that
    has no run folder yet) from `resume_from` (a checkpoint folder, 'latest', or None for step 0).

    Returns 0 when it finished or stopped (torchrun reads any other code as a failure and ends the other ranks).
    """
    from finetune_studio.core.config import load_config, save_config

    info = rank_info()
    if info is None:
        print("error: 'finetune-studio worker' is one rank of a torchrun job and needs torchrun's environment "
              "(RANK, WORLD_SIZE). To fix: start the run with 'finetune-studio train CONFIG' and launch.processes "
              "> 1, or use the lines 'Copy launch command' gives.", file=sys.stderr)
        return 2
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)  # a machine of a multi-node run that has no run folder yet
    heartbeat = Heartbeat(run_dir, info)
    _HEARTBEATS[info.rank] = heartbeat
    heartbeat.write("starting")

    def on_term(signum: int, frame: Any) -> None:
        # torchrun ends the other ranks with SIGTERM when one fails: say so, so this rank is not taken for the
        # cause, and leave at once (writing the run's status is the launcher's job now).
        heartbeat.write_last(TERMINATED)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    die_with_parent(signal.SIGTERM)  # torchrun SIGKILLed: this rank ends too (through on_term), none is left
    config = None
    lock = None
    try:
        source = Path(config_path) if config_path else RunFolder(run_dir).config_path
        config, _ = load_config(source)
        if info.is_main and not RunFolder(run_dir).config_path.exists():
            save_config(config, RunFolder(run_dir).config_path)  # a machine without the launcher's folder
        config.hub.push_when_done = config.hub.push_when_done and info.is_main
        _training_settings_for_ranks(config)
        if info.is_main and not os.environ.get(SUPERVISED_ENV):
            from finetune_studio.core.runs import RunLock

            lock = RunLock.acquire(run_dir)  # a torchrun line run by hand: rank 0 holds the folder
            if not resume_from:
                _refuse_second_start(run_dir)
        folder = folder_for_rank(run_dir, info)
        checkpoint = _checkpoint(run_dir, config, resume_from)
        from finetune_studio.core.training import train_in_folder

        stop = threading.Event()
        result = train_in_folder(config, folder, heartbeat.sink, stop, checkpoint)
        heartbeat.write(result.state, step=result.step, max_steps=result.max_steps)
        _end_process_group()
        return 0
    except BaseException as exc:  # noqa: BLE001 - every failure is recorded for the launcher to name the rank
        message = _describe(exc, config)
        fix = getattr(exc, "fix", None)  # core.advice's proposal for this rank's own error (out of memory)
        # The fix too: rank 0 leaves the run's status to the supervisor when another rank failed first
        # (core.training.peer_failure_left_to_supervisor), and a rank other than 0 writes none; the supervisor
        # records the failing rank's fix from here (core.launch.diagnose), so --apply-fix is still offered.
        heartbeat.write("failed", error=message, error_type=type(exc).__name__,
                        **({"fix": fix.to_dict()} if hasattr(fix, "to_dict") else {}))
        print(f"error: rank {info.rank}: {message}", file=sys.stderr)
        return 1
    finally:
        if info.is_main and not os.environ.get(SUPERVISED_ENV):
            # A line run by hand (Copy launch command) has no supervisor to remove the stop file when its segment
            # ends: a Stop would otherwise stop the next line run by hand (a resume) at its first step.
            clear_stop(run_dir)
        if lock is not None:
            lock.release()
        if isinstance(folder_for_rank(run_dir, info), RankFolder):
            import shutil

            shutil.rmtree(folder_for_rank(run_dir, info).model_dir, ignore_errors=True)


def _refuse_second_start(run_dir: Path) -> None:
    """A torchrun line run by hand without --resume-from starts the run at step 0: in a folder that has trained
    already (the same copied line run a second time, or the lines of another config with the same name), it appended
    a second run's events to the first one's metrics.jsonl and saved its checkpoints into the first one's folders of
    the same steps. Refused, with the two ways on. (The app's own Start and Resume run the ranks under their
    supervisor, not through this.)"""
    from finetune_studio.core.errors import FinetuneError
    from finetune_studio.core.metrics import read_metrics

    folder = RunFolder(run_dir)
    steps = [e["step"] for e in read_metrics(folder.metrics_path)[0]
             if e.get("event") == "step" and isinstance(e.get("step"), int)]
    if not steps:
        return  # nothing trained here yet (a first start, or one that failed before its first step)
    state = folder.read_status().get("state") or "not finished"
    raise FinetuneError(
        f"The run folder {run_dir} already holds a run ({state}, {max(steps)} steps trained), and this line starts "
        "a run at step 0 there. To fix: to continue that run, use the lines of 'finetune-studio launch-command CONFIG "
        "--resume' (this line with --resume-from latest at its end); for a new run, give the config another name "
        "(name:), save it and copy its lines again.")


def _end_process_group() -> None:
    """Destroy the rank's process group once its run has ended well. The app never calls `Trainer.end()` (whose
    accelerate `end_training` would do it), and a gloo group left to the interpreter's exit can abort the rank
    ("terminate called without an active exception", SIGABRT) after a finished run, which torchrun then reports as
    a failure. Only on success: after a failure torchrun ends the other ranks, and a group whose peers are gone is
    not worth a wait."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _describe(exc: BaseException, config: Any) -> str:
    try:
        from finetune_studio.core.config import RunConfig
        from finetune_studio.core.training import describe_failure

        return describe_failure(exc, config or RunConfig())
    except Exception:  # noqa: BLE001 - describing must not hide the original error
        return f"{type(exc).__name__}: {exc}"


def _training_settings_for_ranks(config: Any) -> None:
    """TrainingArguments that several processes need. Without a GPU, use_cpu must be set under torchrun: the
    ranks then join one gloo group (without it, each trains alone as its own rank 0)."""
    try:
        import torch

        cuda = torch.cuda.is_available()
    except Exception:  # noqa: BLE001 - no torch: loading the model says so
        cuda = False
    if not cuda:
        config.training.setdefault("use_cpu", True)


def _checkpoint(run_dir: Path, config: Any, resume_from: str | None) -> Path | None:
    """The checkpoint this rank resumes from: `resume_from` as given, or for 'latest' (the lines Copy launch command
    gives for a resume) the one Resume continues from, core.runs' resume_point read as core.training.resume reads
    it: the latest complete checkpoint whose weights load. latest_checkpoint took a newest one whose weights were
    deleted or cut short, and every rank then failed loading it. None when none was saved (step 0, as before);
    checkpoints none of which loads: refused with why (FinetuneError)."""
    if not resume_from:
        return None
    if resume_from != "latest":
        return Path(resume_from)
    from finetune_studio.core.training import _resumable_checkpoint

    folder = RunFolder(run_dir)
    output_dir = Path(config.training.get("output_dir") or folder.path)
    return _resumable_checkpoint(folder, folder.resume_point(output_dir), restart=False)
