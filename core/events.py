"""What a run reports, declared once: its states, and the events core emits with their fields.

A run talks to whatever shows it (the window, the CLI's progress bar, the Runs tab, the model card) only through
these events, each also appended to its `metrics.jsonl`. Adding an event kind or a field starts here; the sinks
(`gui/runner.py`, `core/cli.py` ProgressPrinter), the one metrics reader (`core/metrics.py`) and
`docs/gui-contract.md` follow (tests/core/test_metrics_reader.py checks that the doc names every kind and field).

The events stay plain dicts (JSON lines on disk, `Signal(object)` copies in the GUI): the TypedDicts below say
which keys each kind has, for readers and type checkers, and cost nothing at run time.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Callable, Literal, TypedDict


class RunState(str, Enum):
    """Where a run is, as the window shows it and as its folder records it (status.json `state`, end events).

    A `str` enum: `RunState.RUNNING == "running"`, and JSON gets the plain string, so files written before this
    enum existed read the same.
    """

    # The window's own states around a run (never written to a run folder).
    IDLE = "idle"
    PREPARING = "preparing"
    STOPPING = "stopping"
    # What a run folder can say (status.json, and `end` events for the last three).
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    # What a reader concludes about a folder: its process is gone while it said running; it has no readable status;
    # its files are missing or garbled (listed with the reason, never hidden).
    INTERRUPTED = "interrupted"
    UNKNOWN = "unknown"
    BROKEN = "broken"

    def __str__(self) -> str:  # "running", not "RunState.RUNNING", in f-strings and messages
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# The states status.json may record (a reader adds UNKNOWN and BROKEN, and turns a dead RUNNING into INTERRUPTED).
FOLDER_STATES: tuple[RunState, ...] = (RunState.RUNNING, RunState.FINISHED, RunState.STOPPED, RunState.FAILED,
                                       RunState.INTERRUPTED)
# How a run can end (the `state` of its `end` event).
END_STATES: tuple[RunState, ...] = (RunState.FINISHED, RunState.STOPPED, RunState.FAILED)


class EventKind(str, Enum):
    """The `event` field of every event core emits."""

    RUN_START = "run_start"
    PHASE = "phase"
    NOTICE = "notice"
    WARNING = "warning"
    DATA = "data"
    TRAIN_BEGIN = "train_begin"
    STEP = "step"
    LOG = "log"
    EVAL = "eval"
    SUMMARY = "summary"
    CHECKPOINT = "checkpoint"
    END = "end"
    PUSH = "push"  # core.hub.push_run's progress only (never in metrics.jsonl)

    def __str__(self) -> str:
        return self.value


# `phase` events' `phase`, in the order a run goes through them ("pack" only with dataset.batching: packed,
# "push" only after a finished run with hub.push_when_done).
PHASES = ("rendezvous", "tokenizer", "data", "tokenize", "model", "pack", "train", "save", "push")
# What a `step` event's `then` may list: what the Trainer does before the next step.
STEP_THEN = ("evaluate", "save", "epoch_end", "stop")


class _Stamped(TypedDict, total=False):
    time: float  # Unix time, added by core.training when the event is recorded


class RunStartEvent(_Stamped):
    """A run (or a resume of it) starts in this process."""

    event: Literal["run_start"]
    run_dir: str
    name: str
    resume_from: str | None  # the checkpoint resumed from, or None for a fresh start
    pid: int


class PhaseEvent(_Stamped):
    """Preparing the run: loading, tokenizing, packing, saving, pushing (one of PHASES)."""

    event: Literal["phase"]
    phase: str
    message: str


class _NoticeRequired(_Stamped):
    event: Literal["notice"]
    message: str


class NoticeEvent(_NoticeRequired, total=False):
    """Something the user should know that is not a problem (a renamed column, dropped empty rows, a push)."""

    push: str  # "done" after hub.push_when_done pushed the model
    url: str
    repo_id: str
    files: int


class _WarningRequired(_Stamped):
    event: Literal["warning"]
    source: str  # the logger's name ("transformers", "py.warnings", …) or "hub"
    message: str


class WarningEvent(_WarningRequired, total=False):
    """A library warning, or a push after training that did not happen."""

    push: str  # "failed" or "cancelled" (source "hub")
    error_type: str
    problem: str  # source "hub": `message` in two parts, what went wrong and
    fix: str  # how to push again (the status bar shows `problem` alone)


class _DataFiles(TypedDict, total=False):
    files: list[list[Any]]  # a local dataset's files as [path, size, mtime_ns] (core.data.files_signature)


class DataEvent(_Stamped, _DataFiles):
    event: Literal["data"]
    train_rows: int
    eval_rows: int


class _Rates(TypedDict, total=False):
    elapsed_s: float  # time run so far, over the start and every resume
    eta_s: float | None
    tokens_per_s: float | None


class _Speed(_Rates, total=False):
    """The step speed fields, on step events and repeated on log/eval events."""

    memory_mb: float | None


class _TrainBeginRequired(_Stamped, _Rates):
    event: Literal["train_begin"]
    step: int
    max_steps: int
    num_train_epochs: float
    start_step: int
    epoch: float
    epochs_total: float | None  # the epoch the run ends at (less than num_train_epochs when max_steps ends it)


class TrainBeginEvent(_TrainBeginRequired, total=False):
    """Training starts; after a resume `start_step` is the checkpoint's step, and whatever a reader holds past it
    belongs to the attempt that was cut short (the resume rule, applied in core.metrics). Runs before a3f4c26 lack
    the two keys below (NotRequired is not read as such under `from __future__ import annotations` on Python 3.11,
    hence the total=False subclass, as for the other events)."""

    precision: str  # what the run trained in, "auto" resolved: fp32, bf16 or fp16
    trainer_defaults: dict[str, Any]  # the TrainingArguments defaults the model card shows (3aa966b)


class _StepRequired(_Stamped, _Speed):
    event: Literal["step"]
    step: int
    max_steps: int
    epoch: float


class StepEvent(_StepRequired, total=False):
    """Every optimizer step."""

    then: list[str]  # present only when non-empty: what comes before the next step (STEP_THEN)
    gpu_memory_mb: list[float]  # memory used on each of the run's GPUs (NVML, nvidia-smi's figure), at most every 2 s
    gpu_util: list[float]  # and their utilization in %, sampled with it (core.gpus.Sampler); absent on the CPU


class _LogRequired(_Stamped, _Speed):
    event: Literal["log"]
    step: int
    epoch: float


class LogEvent(_LogRequired, total=False):
    """Every logging_steps: the Trainer's log dict (a non-finite value is the text "nan"/"inf")."""

    loss: float | str
    learning_rate: float
    grad_norm: float | str


class _EvalRequired(_Stamped, _Speed):
    event: Literal["eval"]
    step: int
    epoch: float


class EvalEvent(_EvalRequired, total=False):
    """An evaluation: eval_loss and the Trainer's other eval_* figures."""

    eval_loss: float | str


class SummaryEvent(_Stamped, _Speed, total=False):
    """The Trainer's last log (train_runtime, train_loss, …)."""

    event: Literal["summary"]
    step: int
    epoch: float


class CheckpointEvent(_Stamped):
    event: Literal["checkpoint"]
    step: int
    path: str


class _EndRequired(_Stamped):
    event: Literal["end"]
    state: str  # one of END_STATES
    message: str
    step: int
    max_steps: int


class EndEvent(_EndRequired, total=False):
    """The run ended; always the last event of a segment that did not crash outright."""

    elapsed_s: float
    train_loss: float | None  # finished
    eval_loss: float | None  # finished
    model_dir: str  # finished
    error_type: str  # failed: the exception's class name ("OutOfMemoryError", "DataError", …)
    fix: dict[str, Any] | None  # failed, when core knows a fix: {"description", "overrides"}


class _PushRequired(TypedDict):
    event: Literal["push"]
    phase: str  # "account", "repo", "prepare", "upload", "done"
    message: str


class PushEvent(_PushRequired, total=False):
    repo_id: str
    url: str
    files: int
    bytes: int


Event = dict[str, Any]  # what sinks receive: one of the TypedDicts above, as the plain dict it is at run time
Sink = Callable[[Event], None]

EVENT_TYPES: dict[str, type] = {
    EventKind.RUN_START.value: RunStartEvent, EventKind.PHASE.value: PhaseEvent,
    EventKind.NOTICE.value: NoticeEvent, EventKind.WARNING.value: WarningEvent, EventKind.DATA.value: DataEvent,
    EventKind.TRAIN_BEGIN.value: TrainBeginEvent, EventKind.STEP.value: StepEvent, EventKind.LOG.value: LogEvent,
    EventKind.EVAL.value: EvalEvent, EventKind.SUMMARY.value: SummaryEvent,
    EventKind.CHECKPOINT.value: CheckpointEvent, EventKind.END.value: EndEvent, EventKind.PUSH.value: PushEvent,
}


def fields_of(kind: str) -> tuple[str, ...]:
    """Every field an event of `kind` can carry (besides `event`), in declaration order."""
    return tuple(name for name in EVENT_TYPES[kind].__annotations__ if name != "event")
