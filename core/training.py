"""run(config, sink, stop): the seed recipe, reported event by event, stoppable and resumable.

The Trainer is built exactly as the tutorial builds it; what Finetune Studio adds lives in a TrainerCallback that
only observes and flips TrainerControl flags, and in the run folder around it. Every event goes to the run's
metrics.jsonl first, then to `sink` (a Qt signal in the GUI, a progress bar in the CLI).
"""

from __future__ import annotations

import logging
import math
import os
import re
import shlex
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from finetune_studio.core.config import (
    RunConfig,
    load_config,
    pasted_command,
    precision_of,
    runs_dir_of,
    save_config,
)
from finetune_studio.core.errors import ConfigError, FinetuneError, Problem, TrainingError
from finetune_studio.core.events import (
    CheckpointEvent,
    DataEvent,
    EndEvent,
    Event,
    NoticeEvent,
    PhaseEvent,
    RunStartEvent,
    Sink,
    StepEvent,
    TrainBeginEvent,
    WarningEvent,
)
from finetune_studio.core.metrics import MetricsLog, MetricsTally, read_metrics
from finetune_studio.core.runs import (
    NO_CHECKPOINT_TEXT,
    NOTHING_LOST_TEXT,
    UNLOADABLE_FIX,
    ResumePoint,
    RunFolder,
    RunLock,
    configured_output_dir,
    generate_run_name,
    require_run_folder,
    resume_offer,
    run_busy,
    unknown_state,
)
from finetune_studio.core.shared_state import training_owns_process_state

# Why a resume trained no step and changed nothing (RunResult.untrained): the run had trained all its steps, or
# more epochs were asked of a run its config's max_steps caps (a request that cannot be met as the config stands),
# finished (_nothing_to_resume) or not (epochs_capped).
ALL_TRAINED, EPOCHS_CAPPED = "all trained", "epochs capped"


@dataclass
class RunResult:
    state: str  # finished / stopped / failed
    message: str
    run_dir: Path
    step: int = 0
    max_steps: int = 0
    model_dir: Path | None = None
    train_loss: float | None = None
    eval_loss: float | None = None
    untrained: str | None = None  # a resume that trained nothing (_nothing_to_resume): ALL_TRAINED or EPOCHS_CAPPED


def training_arguments(config: RunConfig, output_dir: Path) -> Any:
    """TrainingArguments from the config's training section, the way a run builds them."""
    from transformers import TrainingArguments

    from finetune_studio.core.config import is_token_key
    from finetune_studio.core.hardware import detect
    from finetune_studio.core.hub import TRAINER_PUSH_FIELDS

    kwargs = dict(config.training)
    out = kwargs.pop("output_dir", None) or str(output_dir)
    if precision_of(kwargs) == "auto":
        precision = detect().auto_precision
        kwargs["bf16"], kwargs["fp16"] = precision == "bf16", precision == "fp16"
    kwargs.setdefault("disable_tqdm", True)  # the GUI and CLI draw their own progress from events
    kwargs.setdefault("report_to", "none")
    kwargs.setdefault("include_num_input_tokens_seen", "non_padding")  # real tokens/s, not padding
    if detect().device == "cpu":
        kwargs.setdefault("dataloader_pin_memory", False)  # pinning needs an accelerator; on CPU it only warns
    if config.dataset.batching == "group_by_length":
        kwargs.setdefault("train_sampling_strategy", "group_by_length")
    # Never the Trainer's own push, nor a token from the config (validate refuses both; see core.hub): the app pushes.
    kwargs = {k: v for k, v in kwargs.items() if k not in TRAINER_PUSH_FIELDS and not is_token_key(k)}
    return TrainingArguments(output_dir=out, **kwargs)


def trained_precision(args: Any) -> str:
    """What a run's TrainingArguments train in: "bf16", "fp16" or "fp32". A config's precision "auto" (neither bf16
    nor fp16 set) is decided in training_arguments by core.hardware; the train_begin event records the outcome
    (`precision`), so the model card can say what "auto" chose (runs from before it lack the key)."""
    return "bf16" if getattr(args, "bf16", False) else "fp16" if getattr(args, "fp16", False) else "fp32"


def _memory_mb() -> float | None:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2**20
    except Exception:  # noqa: BLE001 - memory is a nice-to-have; never fail a run over it
        pass
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except Exception:  # noqa: BLE001 - the same: a figure to show, never a reason to fail
        return None


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN; keep it visible as text
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def schedule_rate_now(optimizer: Any, scheduler: Any) -> list[float] | None:
    """Set a resumed run's learning rate to its schedule's value at the step it resumes from, as the Trainer's
    scheduler has it now. The checkpoint's optimizer holds the rate the old schedule gave its next step, and the
    Trainer uses it for the first step resumed; where the schedule changed (more epochs or steps: a later end), that
    rate is the old one's, 0 after a linear decay to a run's end, so the first of N more steps trained nothing (its
    log said learning_rate 0.0) and the rate then jumped to the new schedule's. The schedule's own rate for that
    step is what every later step gets; where nothing changed (a stopped run resumed) it is the rate saved. A
    scheduler without per-step factors (reduce_lr_on_plateau) is left as loaded. Returns the rates set, or None."""
    inner = getattr(scheduler, "scheduler", scheduler)  # accelerate's AcceleratedScheduler wraps the torch one
    factors, bases = getattr(inner, "lr_lambdas", None), getattr(inner, "base_lrs", None)
    groups = getattr(optimizer, "param_groups", None)
    step = getattr(inner, "last_epoch", None)
    if not factors or not bases or not groups or not isinstance(step, int) or not (
            len(factors) == len(bases) == len(groups)):
        return None
    rates = [float(base) * float(factor(step)) for base, factor in zip(bases, factors)]
    for group, rate in zip(groups, rates):
        if hasattr(group["lr"], "fill_"):  # a tensor rate (capturable or fused optimizers)
            group["lr"].fill_(rate)
        else:
            group["lr"] = rate
    inner._last_lr = list(rates)  # what get_last_lr (the logged learning_rate) reads until the next step
    return rates


def epochs_at(step: int, steps_per_epoch: int, batches_per_epoch: int, accumulation: int) -> float:
    """The Trainer's `state.epoch` after optimizer step `step`: whole epochs, plus the batches of the current one
    (an epoch's last step may take fewer than `accumulation` batches)."""
    whole, rest = divmod(step, steps_per_epoch)
    return whole + min(rest * accumulation, batches_per_epoch) / batches_per_epoch


def _ends_epoch(state: Any) -> bool:
    """The step just taken is an epoch's last (the Trainer sets state.epoch to a whole number there)."""
    return bool(state.epoch) and abs(state.epoch - round(state.epoch)) < 1e-6


def make_progress_callback(emit: Sink, stop: threading.Event, elapsed: Callable[[], float] | None = None) -> Any:
    """The Trainer callback behind every run's events. `elapsed()` is how long the run has run, over its start and
    every resume (the run history's Duration); by default, the time since this callback was made."""
    from transformers import TrainerCallback

    made = time.monotonic()
    elapsed = elapsed or (lambda: time.monotonic() - made)
    from finetune_studio.core.gpus import Sampler
    from finetune_studio.core.model_card import trainer_defaults  # the defaults the card shows, recorded as trained

    gpu_sample = Sampler()  # the run's GPUs' memory and utilization for the over-time plot; {} on the CPU

    class ProgressCallback(TrainerCallback):
        """Observes the Trainer and turns its state into events; stops at the next optimizer step when asked."""

        def __init__(self) -> None:
            self.stopped = False
            self.diverged: str | None = None
            self.start_step = 0
            self.first: tuple[float, int, int] | None = None  # (time, step, tokens) at this segment's first step
            self.speed: dict[str, Any] = {}
            self.epochs_total: float | None = None
            self.saved_at: int | None = None  # the step of the last checkpoint saved

        def on_train_begin(self, args, state, control, train_dataloader=None, **kwargs):
            if stop.is_set():  # asked while the Trainer set up (or, on several ranks, while any rank did)
                raise StoppedBeforeTraining(state.global_step, state.max_steps)
            self.start_step = state.global_step
            self.first = None
            if state.global_step > 0:  # resumed: the checkpoint's optimizer and scheduler are loaded by now
                schedule_rate_now(kwargs.get("optimizer"), kwargs.get("lr_scheduler"))
            self.epochs_total = self._epochs_total(args, state, train_dataloader)
            emit(TrainBeginEvent(event="train_begin", step=state.global_step, max_steps=state.max_steps,
                                 num_train_epochs=args.num_train_epochs, start_step=state.global_step,
                                 epoch=state.epoch or 0.0, epochs_total=self.epochs_total,
                                 elapsed_s=round(elapsed(), 3), eta_s=None, tokens_per_s=None,
                                 precision=trained_precision(args), trainer_defaults=trainer_defaults(type(args))))

        @staticmethod
        def _epochs_total(args, state, loader) -> float | None:
            """The epoch the run ends at: num_train_epochs, or less when max_steps ends it mid-epoch."""
            try:
                batches = len(loader)
            except TypeError:  # no loader, or one without a length (a streamed dataset)
                return None
            if batches <= 0 or not state.max_steps:
                return None
            accumulation = max(1, int(args.gradient_accumulation_steps))
            per_epoch = max(batches // accumulation + int(batches % accumulation > 0), 1)
            return round(epochs_at(state.max_steps, per_epoch, batches, accumulation), 4)

        def on_step_end(self, args, state, control, **kwargs):
            # Rates count from the end of this start's (or resume's) first step: that step also pays for warm-up
            # and, after a resume, for skipping the batches already trained, and would skew every estimate.
            now, tokens = time.monotonic(), state.num_input_tokens_seen or 0
            if self.first is None:
                self.first = (now, state.global_step, tokens)
            seconds, steps = now - self.first[0], state.global_step - self.first[1]
            eta = seconds / steps * (state.max_steps - state.global_step) if steps > 0 else None
            if state.global_step >= state.max_steps:
                eta = 0.0
            rate = (tokens - self.first[2]) / seconds if seconds > 0 and tokens > self.first[2] else None
            self.speed = {"elapsed_s": round(elapsed(), 3), "eta_s": None if eta is None else round(eta, 1),
                          "tokens_per_s": None if rate is None else round(rate, 1), "memory_mb": _memory_mb()}
            self._check_stop(control, state)
            if (state.global_step >= state.max_steps and args.logging_strategy == "steps" and state.logging_steps
                    and state.global_step % state.logging_steps):
                # The last step is logged too when it falls between logging steps: the run's final train loss
                # (status, Runs tab, model card, CLI) was otherwise the one logged up to 9 steps before the end.
                control.should_log = True
            # What the Trainer does before the next step (DefaultFlowCallback, first in the list, has decided;
            # per-epoch evals and saves follow a step that ends an epoch): a listener that shows only some steps
            # must show this one, since the next may be minutes away.
            epoch_end = _ends_epoch(state)
            then = [name for name, flag in (("evaluate", control.should_evaluate), ("save", control.should_save),
                                            ("epoch_end", epoch_end), ("stop", control.should_training_stop))
                    if flag]
            emit(StepEvent(event="step", step=state.global_step, max_steps=state.max_steps, epoch=state.epoch,
                           **self.speed, **({"then": then} if then else {}), **gpu_sample()))
            self._check_stop(control, state)  # a listener may have asked while it handled this step
            return control

        def _check_stop(self, control, state) -> None:
            # Stop ends the run at this step with the step's checkpoint. An evaluation due at this step still runs,
            # before the save, as in a run that was not stopped: evaluating draws from torch's random generator,
            # whose state the checkpoint keeps, so skipping it would make the resumed run's losses (and an
            # adapter's dropout) differ from an uninterrupted run's. At an epoch's last step the epoch's own
            # evaluation and save follow in on_epoch_end, in the same order as without a Stop.
            if stop.is_set():
                control.should_training_stop = True
                if not _ends_epoch(state):
                    control.should_save = True
                self.stopped = True

        def on_evaluate(self, args, state, control, **kwargs):
            # A Stop pressed while the Trainer evaluated (minutes on a big test split) came after this step's look
            # at it: ends the run here, with the checkpoint the Trainer saves next (a Stop always saves one, and
            # Resume continues from exactly this step), rather than after one more optimizer step. The Trainer
            # reads should_save and should_training_stop only after this call, then leaves both loops. A Stop
            # during an evaluation before any step of this segment (eval_on_start) has nothing to keep.
            if not stop.is_set() or self.diverged:
                return control
            if self.first is None and state.global_step == self.start_step:
                raise StoppedBeforeTraining(state.global_step, state.max_steps)
            control.should_training_stop = True
            if state.global_step < state.max_steps:
                control.should_save = True
            self.stopped = True
            return control

        def on_epoch_end(self, args, state, control, **kwargs):
            # After a Stop mid-epoch (or a divergence) the Trainer leaves the epoch early and DefaultFlowCallback,
            # just before this, asks for the per-epoch evaluation and save: the checkpoint was saved at the step
            # already (or must not be: its weights are NaN), and evaluating would only delay the stop. A Stop at
            # the epoch's last step keeps the epoch's evaluation, and saves even when the strategy would not
            # (unless a Stop during the step's own evaluation saved this step already).
            if self.diverged or (self.stopped and state.global_step < state.max_steps and not _ends_epoch(state)):
                control.should_evaluate = False
                control.should_save = False
            elif self.stopped and state.global_step < state.max_steps and self.saved_at != state.global_step:
                control.should_save = True
            return control

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = {k: _clean(v) for k, v in (logs or {}).items()}
            if "eval_loss" in logs:
                kind = "eval"
            elif "loss" in logs or "learning_rate" in logs:  # a window that trained no token has no loss
                kind = "log"
            else:
                kind = "summary"
            emit({"event": kind, "step": state.global_step, "epoch": state.epoch, **logs, **self.speed})
            bad = [k for k in ("loss", "grad_norm", "eval_loss") if isinstance(logs.get(k), str)]
            if bad and self.diverged is None:
                # logging_nan_inf_filter hides a NaN loss behind an average; the gradient norm still shows it.
                self.diverged = f"The {bad[0].replace('_', ' ')} became {logs[bad[0]]} at step {state.global_step}"
                control.should_training_stop = True
                control.should_evaluate = False  # the weights are NaN now: nothing to evaluate,
                control.should_save = False  # and a checkpoint of them would only be resumed into the same failure
            return control

        def on_save(self, args, state, control, **kwargs):
            self.saved_at = state.global_step
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            # peft's save_pretrained wrote its template card into the checkpoint (an adapter run's): as the final
            # model folder, a checkpoint uploaded as it is must not publish the base's local path in it.
            drop_placeholder_card(path)
            emit(CheckpointEvent(event="checkpoint", step=state.global_step, path=str(path)))

    return ProgressCallback()


class _WarningsToEvents(logging.Handler):
    """The library's warnings (transformers, datasets, Python warnings) become events the user can read."""

    # Warnings that are known to be harmless here and would only alarm a user.
    HARMLESS = (
        # load_best_model_at_end on a model with tied embeddings: lm_head is the embedding, saved once.
        "There were missing keys in the checkpoint model loaded: ['lm_head.weight']",
    )
    # The Trainer copies the tokenizer's pad token into the model's config (transformers' align_special_tokens):
    # on a model without one (the demo, Llama) that is the eos token the run already said it pads with, so the
    # library's "new PAD/BOS/EOS tokens ... {'pad_token_id': 0}" would only repeat it in alarming words. A changed
    # bos or eos token is said as before: generation stops on it.
    PAD_ONLY = re.compile(r"The tokenizer has new PAD/BOS/EOS tokens .*Updated tokens: \{'pad_token_id': [^,{}]*\}\.",
                          re.DOTALL)

    def __init__(self, emit: Sink):
        super().__init__(logging.WARNING)
        self._emit = emit
        # The loggers are process-wide: in the app, the window's own work while the run trains (a dataset
        # preview, token statistics) logs to them too, and those warnings are not the run's.
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self._thread:
            return
        try:
            message = record.getMessage().strip()
        except Exception:  # noqa: BLE001 - a malformed log call must not break training
            return
        if message and not message.startswith(self.HARMLESS) and not self.PAD_ONLY.fullmatch(message):
            self._emit(WarningEvent(event="warning", source=record.name, message=message))


_LOGGERS = ("transformers", "datasets", "py.warnings", "accelerate")


class _QuietLibraries:
    """While a run reports through events, the libraries' own progress bars and stderr log lines would only
    print everything twice (and scramble the CLI's bar); they come back when the run ends."""

    def __init__(self) -> None:
        import datasets
        import huggingface_hub.utils as hub_utils
        from transformers.utils import logging as hf_logging

        self._restore = []
        if datasets.is_progress_bar_enabled():
            datasets.disable_progress_bars()
            self._restore.append(datasets.enable_progress_bars)
        if hf_logging.is_progress_bar_enabled():
            hf_logging.disable_progress_bar()
            self._restore.append(hf_logging.enable_progress_bar)
        if not hub_utils.are_progress_bars_disabled():
            hub_utils.disable_progress_bars()
            self._restore.append(hub_utils.enable_progress_bars)
        hf_logging.disable_default_handler()
        self._restore.append(hf_logging.enable_default_handler)

    def restore(self) -> None:
        for undo in reversed(self._restore):
            undo()


def anchored(config: RunConfig) -> RunConfig:
    """The config with its local paths made absolute (in place): the run's config.yaml is what resume, the window
    and another shell read later, from any working directory. A relative dataset path kept as it was typed failed
    to resume from another folder, or silently trained on another folder's file of the same name. A dataset or
    model that is not a path here (a Hub id, a built-in one) is left as it is, as are absolute paths."""
    def anchor(value: Any, must_exist: bool) -> Any:
        if not isinstance(value, str) or not value.strip():
            return value
        path = os.path.expanduser(value)
        if os.path.isabs(path) or (must_exist and not os.path.exists(path)):
            return value
        return os.path.abspath(path)

    config.dataset.source = anchor(config.dataset.source, must_exist=True)
    config.model.name_or_path = anchor(config.model.name_or_path, must_exist=True)
    config.runs_dir = anchor(config.runs_dir, must_exist=False)
    if "output_dir" in config.training:
        config.training["output_dir"] = anchor(config.training["output_dir"], must_exist=False)
    return config


def new_run_folder(config: RunConfig) -> tuple[RunConfig, RunFolder]:
    """Claim the run's folder. A generated name gets a -2, -3 … suffix when two runs start in the same second
    (two windows, or the GUI and a CLI run): mkdir without exist_ok is the atomic claim, so they never share a
    folder and mix their metrics."""
    config = anchored(config.copy())
    runs = runs_dir_of(config)
    if config.name:
        folder = RunFolder(runs / config.name)
        if folder.path.exists() and any(folder.path.iterdir()):
            if not never_trained(folder.path):
                again = f"finetune-studio resume {shlex.quote(str(folder.path))}"
                point = folder.resume_point(configured_output_dir(folder))  # where its config put its checkpoints
                ended = point.checkpoint is None and not point.why_not() and not run_busy(folder.path)
                if ended and folder.has_saved_model():  # finished without a checkpoint: its model is the result
                    that = f"keep it: it saved its trained model in {folder.model_dir}"
                elif ended:
                    that = "delete that run's folder first: it saved no checkpoint, so it cannot resume"
                else:
                    that = f"resume that run ({again})"
                raise ConfigError([Problem("name", f"A run named '{config.name}' already exists in {runs}. To fix: "
                                                   f"choose another name (name: in the config, or --name NEW), or "
                                                   f"{that}.")])
            _clear_untrained(folder.path)  # it failed before its first step: starting it again loses nothing
        folder.path.mkdir(parents=True, exist_ok=True)
        return config, folder
    base = generate_run_name(config.model.name_or_path, config.dataset.source)
    runs.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        name = base if attempt == 1 else f"{base}-{attempt}"
        try:
            (runs / name).mkdir()
        except FileExistsError:
            continue
        config.name = name
        return config, RunFolder(runs / name)
    raise ConfigError([Problem("name", f"Could not find a free run name like '{base}' in {runs}. "
                                       "Type a run name in the form or pass --set name=….")])


# What a run folder holds before its first step: its config, status, metrics log, lock, and the launcher's log,
# rank heartbeats and stop request.
_UNTRAINED_FILES = frozenset({"config.yaml", "status.json", "metrics.jsonl", "run.lock", "launch.log", "ranks",
                              "stop.request"})


def never_trained(run_dir: Path, ended: bool = True) -> bool:
    """A run that failed or was stopped before its first training step (a rendezvous that never completed, a model
    that did not load, a Stop while it loaded): it holds no checkpoint, model, step or anything but its own
    bookkeeping, and no process holds it, so a new start under the same name may take its folder over — nothing
    trained is lost. `ended` False: the run's own launcher asks while it records the failure (the folder still says
    running, under its lock)."""
    from finetune_studio.core.runs import run_busy

    folder = RunFolder(Path(run_dir))
    try:
        names = {child.name for child in folder.path.iterdir()}
    except OSError:
        return False
    if not names <= _UNTRAINED_FILES:
        return False
    # interrupted (read_status's word for "running" with no live process: it was killed) has ended too
    if ended and (folder.read_status().get("state") not in ("failed", "stopped", "interrupted")
                  or run_busy(folder.path)):
        return False
    step = folder.read_status().get("step")
    if isinstance(step, int) and step > 0:
        return False
    return not any(isinstance(event, dict) and event.get("event") == "step" for event in folder.read_metrics())


def _data_changed(first: dict[str, Any] | None, now: DataEvent) -> str:
    """How the data of a resume differs from the run's first data event `first` (its rows, its files' sizes or
    times), in words; "" when it does not, or when the run recorded nothing to compare. `first` comes from the
    tally _execute reads the log into once (core.metrics' reader, the one that skips lines that are no events),
    not from a second read of a log that can be 100k lines long."""
    if first is None:
        return ""
    if (first.get("train_rows"), first.get("eval_rows")) != (now["train_rows"], now["eval_rows"]):
        return (f"{first.get('train_rows')} training and {first.get('eval_rows')} test rows then, "
                f"{now['train_rows']} and {now['eval_rows']} now")
    from finetune_studio.core.data import files_differ

    if "files" in first and files_differ(first["files"], now.get("files")):
        return "its files' sizes, modification times or contents differ"
    return ""


def resume_advice(folder: RunFolder, config: RunConfig, same: str = "") -> str:
    """What a stopped or failed run can do next, said after its message: resume from its latest checkpoint (`same`:
    with what, e.g. the same processes), start again under the same name (nothing trained yet), or under another
    name (steps trained, none saved: the name is taken by their folder)."""
    point = folder.resume_point(Path(config.training.get("output_dir") or folder.path))
    if point.checkpoint is not None or point.why_not():  # one that loads, or saved ones none of which loads
        return resume_offer(point, same)
    if never_trained(folder.path, ended=False):
        return f" {NOTHING_LOST_TEXT}: start the run again as it is (the same name takes this folder over)."
    return no_checkpoint_text(folder, ended=False)


# How a run with no checkpoint is said to be (core.runs' NO_CHECKPOINT_TEXT, whose command names no folder, opens so
# too): the same words, then a command for this run.
NO_CHECKPOINT_SAID = NO_CHECKPOINT_TEXT.split(". To fix:")[0]


def start_again_fix(folder: RunFolder, ended: bool = True) -> str:
    """What a run that saved no checkpoint (so Resume cannot continue it) can do: start again with its settings, as a
    command that works. Under the same name when it trained nothing (never_trained: new_run_folder takes its folder
    over), else under a free other name: its trained steps keep the folder, whose name new_run_folder refuses.
    "Delete this run first", "or resume it" and a bare "Start it again" were said (runs, generate, resume) for the
    same run, and "resume that run" by a start under its name, which Resume refuses. `ended`: as never_trained's."""
    path = folder.path
    same = never_trained(path, ended)
    name = path.name if same else next(f"{path.name}-{n}" for n in range(2, 1000)
                                       if not (path.parent / f"{path.name}-{n}").exists())
    command = pasted_command(f"finetune-studio train {shlex.quote(str(folder.config_path))} --runs-dir "
                             f"{shlex.quote(str(path.parent))} --name {shlex.quote(name)}")
    if same:
        return f"start it again as it is; nothing was trained, so the same name takes this folder over: {command}"
    return (f"start it again under another name, with its settings: {command} (this folder, which holds the steps "
            f"it trained, keeps the name {path.name})")


def no_checkpoint_text(folder: RunFolder, ended: bool = True) -> str:
    """The sentence said after a message about a run with no checkpoint: it cannot resume, and start_again_fix."""
    return f" {NO_CHECKPOINT_SAID}. To fix: {start_again_fix(folder, ended)}."


def _clear_untrained(run_dir: Path) -> None:
    import shutil

    for child in Path(run_dir).iterdir():
        if child.name in _UNTRAINED_FILES:
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


# What trains a run once its folder is claimed and locked: train_in_folder (this process), or core.launch's
# torchrun launcher for a run of several processes. Called as execute(config, folder, sink, stop, checkpoint,
# finish_only).
Executor = Callable[["RunConfig", RunFolder, "Sink | None", threading.Event, "Path | None", bool], "RunResult"]


def run(config: RunConfig, sink: Sink | None = None, stop: threading.Event | None = None,
        execute: Executor | None = None) -> RunResult:
    """Validate, then train in a new run folder. Raises ConfigError before anything heavy when the config is bad.
    `execute` trains it once the folder is claimed and locked (default: in this process). Validation renders the
    first chat rows with the run's tokenizer (render_rows, cached), as `finetune-studio validate` does: the window's
    Start comes here, and a dataset that trains no token is then refused before a run folder exists rather than
    failing after tokenizing, with a failed folder left behind."""
    from finetune_studio.core.validation import validate

    problems = validate(config, render_rows=True)
    if problems:
        raise ConfigError(problems)
    config, folder = new_run_folder(config)
    with RunLock.acquire(folder.path, new_run=True):  # busy: another start took this name a moment ago
        save_config(config, folder.config_path)
        return (execute or train_in_folder)(config, folder, sink, stop or threading.Event(), None, False)


def resume(run_dir: Path, sink: Sink | None = None, stop: threading.Event | None = None,
           extra_epochs: float | None = None, restart: bool = False, execute: Executor | None = None,
           extra_steps: int | None = None) -> RunResult:
    """Continue a run from its latest complete checkpoint, in the same folder and metrics log. With `restart`, a
    run that failed before its first checkpoint starts again from step 0 in its folder (core.advice uses this
    after applying a fix). `extra_epochs` trains that many epochs more than its config.yaml says (num_train_epochs
    raised there); `extra_steps`, for a run its config's max_steps caps, that many optimizer steps more (max_steps
    raised there by as many): the one change is made and saved the same way (_add_more), so the learning rate does
    as it does for more epochs: the Trainer builds its schedule for the new end and loads the checkpoint's scheduler
    state, and the new schedule goes on from the checkpoint's step count, its first step resumed included
    (schedule_rate_now: it trained at the rate the old schedule ended on, 0 after a linear decay)."""
    folder = RunFolder(require_run_folder(run_dir))  # core.runs' words for a folder that holds no run
    if extra_epochs is not None and not 0 < extra_epochs < float("inf"):
        finite = "" if math.isfinite(extra_epochs) else "a finite number "  # inf, nan: "above 0" alone would hold
        raise ConfigError([Problem("--epochs", f"The number of epochs to add must be {finite}above 0 (got "
                                               f"{extra_epochs:g}). To fix: give how many more epochs to train, e.g. "
                                               "--epochs 1.")])
    extra_steps = _steps_to_add(extra_steps, extra_epochs)
    # Before anything in the folder changes: a run that another process (or window) still trains is refused.
    with RunLock.acquire(folder.path):
        newer = unknown_state(folder.path)  # a resume writes a status.json of its own over the newer version's
        if newer:
            raise ConfigError([Problem("status.json", f"The run {folder.path.name} cannot be resumed here: {newer}")])
        config, _ = load_config(folder.config_path)
        output_dir = Path(config.training.get("output_dir") or folder.path)
        point = folder.resume_point(output_dir)  # each checkpoint's weights read once, from the latest back
        checkpoint = point.latest  # the latest complete save, loadable or not: which one loads is decided below
        if extra_steps:  # before anything is decided from the cap: a run with none trains by epochs
            _refuse_steps_uncapped(folder, config, extra_steps)
        done = None if extra_steps else _nothing_to_resume(folder, config, checkpoint, extra_epochs)
        if done is not None:
            return done
        _add_more(config, extra_epochs, extra_steps)
        if checkpoint is None and not restart:
            raise FinetuneError(f"The run {folder.path.name} has no complete checkpoint to resume from, so it cannot "
                                f"resume. To fix: {start_again_fix(folder, ended=False)}.")
        capped = epochs_capped(folder, config, checkpoint, extra_epochs)
        if capped is not None:
            return capped
        from finetune_studio.core.validation import validate

        problems = validate(config)
        from finetune_studio.core.adapters import resume_problem

        mismatch = resume_problem(config, point.checkpoint or checkpoint)  # an adapter fits only its own base
        if mismatch:
            problems.append(Problem("model.name_or_path", mismatch))
        if problems:
            raise ConfigError(problems)
        if checkpoint is not None:  # after validation, whose problems (exit 2) are said first, as before
            checkpoint = _resumable_checkpoint(folder, point, restart)
        if extra_epochs or extra_steps:  # only once the resume is sure to go ahead: a refused one leaves it as it was
            save_config(config, folder.config_path)
        # A checkpoint at the last step means training had ended and the final save was cut short (a kill, a full
        # disk): the Trainer would train one step past the end, so the save is finished from the checkpoint.
        finish_only = checkpoint is not None and _steps_left(config, _checkpoint_state(checkpoint), extra_epochs) == 0
        return (execute or train_in_folder)(config, folder, sink, stop or threading.Event(), checkpoint, finish_only)


def _steps_to_add(extra_steps: Any, extra_epochs: float | None) -> int | None:
    """`extra_steps` as a whole number above 0 (None: none asked), else refused with what to give instead; more
    epochs and more steps at once are refused too (a run trains to one end: max_steps when it caps the run, else
    its epochs). Said before the run's lock is taken: nothing has changed."""
    if extra_steps is None:
        return None
    if extra_epochs is not None:
        raise ConfigError([Problem("--steps", f"Both more epochs (--epochs {extra_epochs:g}) and more steps (--steps "
                                              f"{extra_steps}) were asked; a resume adds one or the other. Nothing "
                                              "was trained or changed. To fix: give --steps alone for a run its "
                                              "config's max_steps caps, or --epochs alone for one that trains by "
                                              "epochs.")])
    whole = (isinstance(extra_steps, int) and not isinstance(extra_steps, bool)) or (
        isinstance(extra_steps, float) and extra_steps.is_integer())
    if not whole or extra_steps <= 0:
        got = f"{extra_steps:g}" if isinstance(extra_steps, float) else repr(extra_steps)
        raise ConfigError([Problem("--steps", f"The number of optimizer steps to add must be a whole number above 0 "
                                              f"(got {got}). To fix: give how many more steps to train, e.g. "
                                              "--steps 10.")])
    return int(extra_steps)


def _refuse_steps_uncapped(folder: RunFolder, config: RunConfig, extra_steps: int) -> None:
    """More steps of a run its config's max_steps does not cap: it trains by epochs, whose end the steps would not
    move (max_steps -1 or none). Refused, before anything changed, with the command that trains it further."""
    if _max_steps_cap(config) is not None:
        return
    more = pasted_command(f"finetune-studio resume {shlex.quote(str(folder.path))} --epochs 1")
    raise ConfigError([Problem("--steps", f"The run {folder.path.name} trains by epochs (its config.yaml sets no "
                                          f"max_steps), so --steps {extra_steps} does not apply; nothing was trained "
                                          f"or changed. To fix: train it for more epochs: {more} (in the app: Runs "
                                          f"tab, {MORE_EPOCHS_LABEL}).")])


def _add_more(config: RunConfig, extra_epochs: float | None, extra_steps: int | None) -> None:
    """The one change a resume for more makes to the run's config (saved to its config.yaml once the resume goes
    ahead): num_train_epochs raised by `extra_epochs`, or the max_steps that caps the run by `extra_steps`."""
    if extra_epochs:
        config.training["num_train_epochs"] = float(config.training.get("num_train_epochs", 3)) + extra_epochs
    if extra_steps:
        config.training["max_steps"] = (_max_steps_cap(config) or 0) + extra_steps


def run_steps_cap(run_dir: Path) -> int | None:
    """The max_steps that caps the run in run_dir (its config.yaml's, above 0), or None: it trains by epochs, or
    its config.yaml cannot be read. The Runs tab offers more steps for a capped run, more epochs otherwise. One
    read of the file per change (core.runs' cached read, the one the Runs tab's listing makes)."""
    from finetune_studio.core.runs import _read_config

    data, problem = _read_config(RunFolder(Path(run_dir)).config_path)
    training = data.get("training") if isinstance(data, dict) and problem is None else None
    cap = training.get("max_steps") if isinstance(training, dict) else None
    return cap if isinstance(cap, int) and not isinstance(cap, bool) and cap > 0 else None


def run_epochs_set(run_dir: Path) -> float | None:
    """The num_train_epochs in the config.yaml of the run in run_dir (a number above 0; the Trainer's 3 where it sets
    none), or None where the file cannot be read. The Runs tab names the epoch a stopped run trains to with it."""
    from finetune_studio.core.runs import _read_config

    data, problem = _read_config(RunFolder(Path(run_dir)).config_path)
    training = data.get("training") if isinstance(data, dict) and problem is None else None
    epochs = training.get("num_train_epochs", 3) if isinstance(training, dict) else None
    good = isinstance(epochs, (int, float)) and not isinstance(epochs, bool) and 0 < epochs < float("inf")
    return float(epochs) if good else None


# The Runs tab's control that trains a finished (or stopped) run further, by its labels' words: advice names it so.
MORE_EPOCHS_LABEL, MORE_STEPS_LABEL = "Train N more epochs", "Train N more steps"


def more_steps_text(folder: RunFolder, cap: int, pasted: Callable[[str], str] = pasted_command) -> str:
    """How a run max_steps = cap caps trains past it: its command with --steps cap (max_steps doubled), and the Runs
    tab's control."""
    command = pasted(f"finetune-studio resume {shlex.quote(str(folder.path))} --steps {cap}")
    return f"{command} (in the app: Runs tab, {MORE_STEPS_LABEL}), which raises max_steps to {cap * 2}"


def train_in_folder(config: RunConfig, folder: RunFolder, sink: Sink | None = None,
                    stop: threading.Event | None = None, checkpoint: Path | None = None,
                    finish_only: bool = False) -> RunResult:
    """Train config in its claimed run folder from `checkpoint` (None: step 0); with `finish_only`, training had
    ended and only the final save is left. The caller has validated the config and holds the folder's RunLock;
    each rank of a torchrun job (core.distributed) runs this under the lock its launcher holds."""
    body = _finish_final_save if finish_only else _train
    return _execute(config, folder, sink, stop or threading.Event(), checkpoint=checkpoint, body=body)


def _resumable_checkpoint(folder: RunFolder, point: ResumePoint, restart: bool) -> Path | None:
    """The checkpoint Resume continues from: `point`'s (core.runs' RunFolder.resume_point, the rule that also
    decides where Resume is offered: saved whole, weights whole). A later one whose weights were deleted or cut
    short was chosen before, and the resume failed after loading everything ("Can't find a valid checkpoint"),
    every time (helper-58): it is passed over, and the resume says so (_passed_over). When every checkpoint is
    damaged the run cannot resume: said, with what to do (a restart after a fix, `restart`, starts from step 0
    instead)."""
    if point.checkpoint is not None or restart or not point.unloadable:
        return point.checkpoint
    raise FinetuneError(f"The run {folder.path.name} cannot resume: none of its checkpoints can be loaded "
                        f"({point.damaged()}). To fix: {UNLOADABLE_FIX}.")


def _passed_over(folder: RunFolder, checkpoint: Path) -> str | None:
    """What a resume from `checkpoint` says of the later checkpoints it passed over (_resumable_checkpoint), or
    None when it is the latest."""
    from finetune_studio.core.runs import checkpoint_problem

    later = [c for c in folder.checkpoints(checkpoint.parent) if _step_of(c) > _step_of(checkpoint)]
    if not later:
        return None
    why = "; ".join(f"{c.name}: {checkpoint_problem(c) or 'passed over'}" for c in reversed(later))
    steps = _step_of(later[-1]) - _step_of(checkpoint)
    return (f"Resuming from {checkpoint.name}, not from the later {', '.join(c.name for c in later)}, which cannot "
            f"be loaded ({why}): up to {steps} steps are trained again. To keep them next time, put the files back "
            "before resuming.")


def _step_of(checkpoint: Path) -> int:
    number = checkpoint.name.rsplit("-", 1)[-1]
    return int(number) if number.isdigit() else 0


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _checkpoint_state(checkpoint: Path | None) -> dict[str, Any]:
    from finetune_studio.core.fileio import read_json

    try:
        state = read_json(checkpoint / "trainer_state.json") if checkpoint is not None else {}
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _steps_left(config: RunConfig, trained: dict[str, Any], extra_epochs: float | None) -> int | None:
    """How many optimizer steps a resume from a checkpoint in state `trained` would train; None when the Trainer
    will only know (more epochs than before)."""
    step = trained.get("global_step")
    if not isinstance(step, int):
        return None
    if extra_epochs and not _max_steps_cap(config):
        return None
    target = _planned_steps(config, trained)
    return max(0, target - step) if target is not None else None


def _max_steps_cap(config: RunConfig) -> int | None:
    cap = config.training.get("max_steps")
    return cap if isinstance(cap, int) and not isinstance(cap, bool) and cap > 0 else None


def _planned_steps(config: RunConfig, trained: dict[str, Any]) -> int | None:
    """The step a resume from a checkpoint in state `trained` trains to: max_steps when the config caps it, else
    the checkpoint's own max_steps, unless the config now asks for more epochs than the checkpoint's run trained
    to (a resume for more epochs saves them in config.yaml first, and may have been stopped before its first
    step: the next Resume must still train them, not only finish the old end's save). Then it is the Trainer's
    count, ceil(epochs x steps per epoch), when the checkpoint is at a whole epoch (its steps per epoch are exact),
    else None (the Trainer will know)."""
    cap = _max_steps_cap(config)
    if cap is not None:
        return cap  # max_steps decides, whatever the epochs say
    target, step, epoch = trained.get("max_steps"), trained.get("global_step"), trained.get("epoch")
    if not isinstance(target, int) or isinstance(target, bool) or target <= 0:
        return None
    epochs = config.training.get("num_train_epochs", 3)
    more = (isinstance(epochs, (int, float)) and isinstance(epoch, (int, float)) and isinstance(step, int)
            and step >= target and epochs > epoch + 1e-6)
    if not more:
        return target
    if epoch >= 1 and abs(epoch - round(epoch)) < 1e-6:
        return math.ceil(epochs * round(step / round(epoch)))  # as the Trainer counts them
    return None


def _uncapping(config: RunConfig, trained: dict[str, Any], step: int) -> str:
    """What a run that max_steps cut short would train once the cap is lifted. More epochs are counted from the
    configured num_train_epochs, not from where the cap stopped it: a run capped at epoch 0.05 of 3, uncapped and
    continued for 1 more epoch, trained to epoch 4 (helper-58), which the advice to set max_steps to -1 never said."""
    epochs = config.training.get("num_train_epochs", 3)
    epoch = trained.get("epoch")
    if not (isinstance(epochs, (int, float)) and isinstance(epoch, (int, float)) and 0 < epoch < epochs - 1e-6
            and step > 0):
        return "Set max_steps to -1 in that file (or raise it) to train further."
    per_epoch = step / epoch
    return (f"To train further, raise max_steps in that file to the step to reach (an epoch is about "
            f"{per_epoch:,.0f} steps here), or set it to -1: the run then trains all {epochs:g} configured "
            f"epoch{'' if epochs == 1 else 's'} plus the ones added, {epochs - epoch:.2f} epochs more than the "
            f"{epoch:.2f} it has trained before any are added.")


def train_further_text(folder: RunFolder, config: RunConfig | None, quoted: bool = True) -> str:
    """How a finished run trains further, as a sentence with a command that works: `resume RUN --epochs 1`, unless
    max_steps in its config.yaml caps it, which a resume for more epochs refuses ("nothing trained", exit 2): then
    `resume RUN --steps N` (max_steps doubled) and the Runs tab's Train N more steps. Said after a plain resume of a
    finished run and by apply_fix's refusal (core.advice)."""
    run = shlex.quote(str(folder.path))
    pasted = pasted_command if quoted else str  # a plain resume's own message shows the command bare
    cap = _max_steps_cap(config) if config is not None else None
    if cap is None:
        further = pasted(f"finetune-studio resume {run} --epochs 1")
        return f" To train it further: {further} (in the app: Runs tab, {MORE_EPOCHS_LABEL})."
    return (f" max_steps = {cap} in its config.yaml caps it, so more epochs (--epochs) would train nothing. To train "
            f"it further: {more_steps_text(folder, cap, pasted)}.")


def _nothing_to_resume(folder: RunFolder, config: RunConfig, checkpoint: Path | None,
                       extra_epochs: float | None) -> RunResult | None:
    """A finished run that a resume would not train any further: the result that says so, touching nothing."""
    status = folder.read_status()
    if status.get("state") != "finished":
        return None
    step = status.get("step") if isinstance(status.get("step"), int) else 0
    max_steps = status.get("max_steps") if isinstance(status.get("max_steps"), int) else step
    left = _steps_left(config, {"global_step": step, "max_steps": max_steps}, extra_epochs)
    if left != 0:
        return None
    name = folder.path.name
    model_dir = folder.model_dir if folder.model_dir.is_dir() else None
    if extra_epochs:
        cap = _max_steps_cap(config) or step
        message = (f"The run {name} already finished its {step} steps, and max_steps = "
                   f"{config.training.get('max_steps')} in its config.yaml caps it, so more epochs would train "
                   f"nothing; no step was trained and nothing was changed. To fix: train more steps instead: "
                   f"{more_steps_text(folder, cap)}. Or by hand: "
                   f"{_uncapping(config, _checkpoint_state(checkpoint), step)}")
    else:
        model = (f"its final model is in {model_dir}, unchanged" if model_dir is not None else
                 f"its model folder {folder.model_dir} is missing")
        message = (f"The run {name} already trained all {step} of its {max_steps} steps: nothing to resume, so no "
                   f"step was trained; {model}.{train_further_text(folder, config, quoted=False)}")
    train_loss, eval_loss = status.get("train_loss"), status.get("eval_loss")
    return RunResult("finished", message, folder.path, step, max_steps, model_dir,
                     train_loss if isinstance(train_loss, (int, float)) else None,
                     eval_loss if isinstance(eval_loss, (int, float)) else None,
                     untrained=EPOCHS_CAPPED if extra_epochs else ALL_TRAINED)


def epochs_capped(folder: RunFolder, config: RunConfig, checkpoint: Path | None,
                   extra_epochs: float | None) -> RunResult | None:
    """A resume for more epochs of an unfinished run (or a finished one whose max_steps was raised since) that
    max_steps in its config.yaml caps: the Trainer trains to max_steps whatever the epochs say, so --epochs does not
    apply. It trained on to max_steps, silently, with the epochs added to config.yaml. Refused as _nothing_to_resume
    refuses a finished run's (EPOCHS_CAPPED: "nothing trained", exit 2), before anything changed."""
    cap = _max_steps_cap(config)
    if not extra_epochs or cap is None:
        return None
    status = folder.read_status()
    trained = _checkpoint_state(checkpoint)
    step = _int_or(trained.get("global_step"), _int_or(status.get("step"), 0))
    run = shlex.quote(str(folder.path))
    at = f"its latest checkpoint, {checkpoint.name}, is at step {step}" if checkpoint is not None else "it has none"
    message = (f"The run {folder.path.name} is capped by max_steps = {cap} in its config.yaml, so --epochs "
               f"{extra_epochs:g} does not apply: a resume trains on to step {cap} whatever the epochs say ({at}). "
               f"No step was trained and nothing was changed. To fix: resume it without --epochs to train on to step "
               f"{cap}: {pasted_command(f'finetune-studio resume {run}')}; to train past it, give the steps to add "
               f"instead: {more_steps_text(folder, cap)} (set max_steps to -1 in {folder.config_path} to train by "
               "epochs).")
    state = str(status.get("state") or "stopped")
    state = "interrupted" if state == "running" else state  # its process ended without saying so (the lock is ours)
    model_dir = folder.model_dir if folder.model_dir.is_dir() else None
    return RunResult(state, message, folder.path, step, cap, model_dir, untrained=EPOCHS_CAPPED)


class RunFolderMoved(TrainingError):
    """The run's folder was renamed, moved or deleted while it trained. Its metrics log (an open file) and lock went
    with it, but the Trainer writes checkpoints, and the run its status, by path: going on would make a second
    folder under the old name holding the later checkpoints and the final model, which no run lists (no
    config.yaml), while the moved folder stayed 'running' without them."""

    def __init__(self, path: Path, step: int):
        super().__init__(
            f"The run folder {path} was renamed, moved or deleted while the run trained, so training stopped at step "
            f"{step} (nothing more is written to that path). If it was moved or renamed, resume it from its new "
            "place: open it in the Runs tab and press Resume, or run 'finetune-studio resume NEW_FOLDER'; it "
            "continues from its last checkpoint.")


def _identity(path: Path) -> tuple[int, int] | None:
    """The folder at `path` as the file system knows it (device, inode); None when nothing is there."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


# What rank 0 meets in its next collective when another rank's process has ended (gloo, NCCL, the c10d store).
_PEER_GONE = re.compile(r"connection closed by peer|connection reset by peer|broken pipe|gloo/|nccl|remote process "
                        r"exited|timed out waiting|socket timeout|collective operation timeout", re.IGNORECASE)


def peer_failure_left_to_supervisor(exc: BaseException, run_dir: Path, env: dict[str, str] | None = None) -> bool:
    """Whether rank 0 of a run of several processes under core.launch's supervisor fails because another rank ended
    first, and leaves the run's failed status and end event to the supervisor. Such a rank 0 failed in its next
    collective ("[gloo/pair.cc:553] Connection closed by peer", advice about the model and its data) and wrote that
    as the run's status and end; the supervisor replaced both with the failing rank's own error once every rank had
    ended, a second or two later, and in between the Runs tab, the CLI and the window read the wrong error (the Runs
    tab stopped following the run on it). The supervisor writes both where rank 0 did not (launch._record_failure),
    from torchrun's root cause and the ranks' heartbeats (worker_main writes rank 0's own error there too).

    True only when: this process is rank 0 of several (torchrun's RANK and WORLD_SIZE), the supervisor that started
    it (FINETUNE_STUDIO_SUPERVISED holds its pid) is still there to write, and the error is a collective's or
    connection's (in `exc` or what caused it), or another rank's heartbeat already says it failed or was ended.
    Rank 0's own error (a bad batch, out of memory: neither) is written by rank 0 as before, with its fix; a run of
    one process, or a torchrun line run by hand (no supervisor), is unchanged."""
    from finetune_studio.core.distributed import SUPERVISED_ENV, TERMINATED, RankInfo, read_heartbeats

    env = dict(os.environ if env is None else env)
    info = RankInfo.from_env(env)
    if info is None or not info.is_main or info.world_size <= 1 or not _alive(env.get(SUPERVISED_ENV)):
        return False
    if isinstance(exc, (KeyboardInterrupt, RunFolderMoved)):
        return False
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:  # the error and what raised it (advice wraps the original)
        seen.add(id(cause))
        if _PEER_GONE.search(f"{type(cause).__name__}: {cause}") or type(cause).__name__ in (
                "DistError", "DistBackendError", "DistNetworkError", "DistStoreError"):
            return True
        cause = cause.__cause__ or cause.__context__
    return any(beat.get("state") in ("failed", TERMINATED) for rank, beat in read_heartbeats(run_dir).items()
               if rank != info.rank)


def _alive(pid: str | None) -> bool:
    """Whether the process `pid` (a number as written in the environment) still runs."""
    from finetune_studio.core.runs import _pid_alive

    try:
        return _pid_alive(int(pid or ""))
    except ValueError:
        return False


def _execute(config: RunConfig, folder: RunFolder, sink: Sink | None, stop: threading.Event,
             checkpoint: Path | None, body: Callable[..., RunResult] | None = None) -> RunResult:
    # Elapsed time counts over the run's start and every resume, as the run history's Duration does (the same
    # tally of the same events), so the two always agree and neither restarts at a resume.
    earlier = MetricsTally()
    for event in read_metrics(folder.metrics_path)[0]:
        earlier.add(event)
    before_s = earlier.duration_s or 0.0
    # This segment counts from its run_start event's own time, as the tally does: not from here, before the
    # libraries' set-up below (a first import in a fresh process: 0.75-2.7 s the Duration never counted).
    started_at: list[float] = []

    def elapsed(at: float | None = None) -> float:
        now = time.time() if at is None else at
        return before_s + max(0.0, now - (started_at[0] if started_at else now))

    log = MetricsLog(folder.metrics_path)
    lock = threading.Lock()
    origin = _identity(folder.path)

    def emit(event: Event, best_effort: bool = False) -> None:
        event = {**event, "time": round(time.time(), 3)}
        kind = event.get("event")
        if kind == "run_start" and not started_at:
            started_at.append(event["time"])
        if kind == "end":
            event.setdefault("elapsed_s", round(elapsed(event["time"]), 3))
        if kind in ("train_begin", "step"):  # how far the run got, for the failure message
            state.update(step=event["step"], max_steps=event["max_steps"])
        elif kind == "phase":
            state["phase"] = event["phase"]
        with lock:
            try:
                log.append(event)
            except OSError:
                if not best_effort:  # a full disk while failing must not hide why the run failed
                    raise
        if sink is not None:
            sink(event)
        # Before a save could write to the old path: a step's (on_step_end), and one after a log or an evaluation
        # (the Trainer logs, evaluates, then saves; a rename during a long evaluation was seen only at the next
        # step, after the checkpoint went into a new folder under the old name), or a phase's (the final save).
        if kind in ("step", "log", "eval", "phase") and _identity(folder.path) != origin:
            raise RunFolderMoved(folder.path, state["step"])

    def notify(message: str) -> None:
        emit(NoticeEvent(event="notice", message=message))

    handler = _WarningsToEvents(emit)
    for name in _LOGGERS:
        logging.getLogger(name).addHandler(handler)
    logging.captureWarnings(True)
    quiet = _QuietLibraries()
    # How far the run got, for a failure's status: a resume that fails before training begins (a checkpoint that
    # will not load) still got as far as its checkpoint, and its run is not set back to step 0 in the history.
    resumed = _checkpoint_state(checkpoint)
    state: dict[str, Any] = {"step": _int_or(resumed.get("global_step"), 0), "max_steps": _int_or(
        resumed.get("max_steps"), 0), "phase": None}
    try:  # from here on, whatever fails (the first status write too) is recorded and the handlers above undone
        folder.write_status("running", "Preparing", name=config.name, model=config.model.name_or_path,
                            dataset=config.dataset.source, method=config.adapter.method, started=time.time())
        emit(RunStartEvent(event="run_start", run_dir=str(folder.path), name=config.name,
                           resume_from=str(checkpoint) if checkpoint else None, pid=os.getpid()))
        if checkpoint is not None:  # later checkpoints passed over, optimizer.pt or scheduler.pt deleted: said
            from finetune_studio.core.runs import resume_state_warning

            for said in (_passed_over(folder, checkpoint), resume_state_warning(checkpoint)):
                if said:
                    emit(WarningEvent(event="warning", source="finetune_studio.resume", message=said))
        with training_owns_process_state():  # the window's live validation must not reset accelerate under us
            result = (body or _train)(config, folder, emit, notify, stop, checkpoint, state, elapsed=elapsed,
                                      first_data=earlier.first_data)
    except BaseException as exc:
        from finetune_studio.core.advice import runtime_failure

        advice = runtime_failure(exc, config, folder.path, state)  # OOM, full disk, forward pass: what to do
        message = describe_failure(advice or exc, config)
        if isinstance(exc, KeyboardInterrupt) and advice is None:  # what is left to resume from, as it is
            message = "Interrupted." + resume_advice(folder, config)
        fix = getattr(advice, "fix", None)
        try:
            left = peer_failure_left_to_supervisor(exc, folder.path)
        except Exception:  # noqa: BLE001 - whatever the look at the other ranks met, the failure is written here
            left = False
        if not left:
            try:
                if not isinstance(exc, RunFolderMoved):  # a status written by path would make a second, empty one
                    folder.write_status("failed", message, step=state["step"], max_steps=state["max_steps"],
                                        fix=fix.to_dict() if fix else None)
            except OSError:
                pass  # the disk is full: the end event (if it fits) and the exception still say why
            emit(EndEvent(event="end", state="failed", message=message, step=state["step"],
                          max_steps=state["max_steps"], error_type=type(exc).__name__,
                          **({"fix": fix.to_dict()} if fix else {})), best_effort=True)
        if advice is not None:
            raise advice from exc
        raise
    finally:
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        logging.captureWarnings(False)
        quiet.restore()
        log.close()
    return result


def _train(config: RunConfig, folder: RunFolder, emit: Sink, notify: Callable[[str], None],
           stop: threading.Event, checkpoint: Path | None, state: dict[str, int],
           elapsed: Callable[[], float] | None = None, first_data: dict[str, Any] | None = None) -> RunResult:
    training: list[bool] = []

    def phase(name: str, message: str) -> None:
        if stop.is_set() and not training:  # a Stop while the run was set up: no step trains (see below)
            raise StoppedBeforeTraining
        if name == "train":  # the last look at Stop before the first step: from here on it ends a step
            training.append(True)
        emit(PhaseEvent(event="phase", phase=name, message=message))

    try:
        return _set_up_and_train(config, folder, emit, notify, stop, checkpoint, state, elapsed, phase,
                                 first_data)
    except StoppedBeforeTraining as stopped:
        return _stopped_before_training(config, folder, emit, checkpoint, state, stopped.max_steps)


def _losses_of_trained_tokens(base: Any) -> Any:
    """The Trainer whose logged train loss covers only the optimizer steps that trained a token.

    A step whose batches hold no label other than -100 (chat rows that max_length cuts before their reply, kept
    unless chat.drop_untrained_rows is on) has no loss: transformers 5 divides the sum of its token losses by
    num_items_in_batch, 0, and gets NaN; logging_nan_inf_filter then adds "the average of previous logged losses"
    of the window instead, 0.0 when the step opens it. A window of such steps was logged as loss 0.0, a mixed one
    was pulled towards 0, and the run's final train loss (status.json, the Runs tab, the model card, the CLI) read
    0.0000; with logging_nan_inf_filter off the NaN read as a diverged run. Here, only for a window that holds such
    a step: its loss is the mean over the steps that trained tokens, and a window with none logs no loss (its log
    event keeps the learning rate and gradient norm), so metrics.jsonl, which every view reads, never holds a loss
    that nothing was measured for. The Trainer's summary train_loss gets the same rule. What the Trainer computes
    and trains on is untouched (a step with no token has a zero gradient either way), and so is every figure of a
    window whose steps all trained tokens: the per-step losses the parity benchmarks compare stay the Trainer's.
    The counts stay on the device and are read once per log, where the Trainer synchronizes anyway."""
    import torch

    class TrainedTokenLossTrainer(base):
        _voids: list[Any]
        _counts: Any = None  # this window's [sum of the step losses that trained tokens, such steps, other steps]
        _run: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the same over the logged windows, as Python floats

        def get_batch_samples(self, epoch_iterator: Any, num_batches: int, device: Any) -> Any:
            batches, items = super().get_batch_samples(epoch_iterator, num_batches, device)
            self._voids = [_no_token(self, batch, items) for batch in batches]
            known = [v for v in self._voids if v is not None]
            if known and len(known) == len(self._voids):
                void = torch.stack([v.to(known[0].device) for v in known]).all()
                if self._counts is None:
                    self._counts = torch.zeros(3, device=void.device)
                self._counts[1] += (~void).float()
                self._counts[2] += void.float()
            else:
                self._voids = []
            return batches, items

        def training_step(self, model: Any, inputs: Any, num_items_in_batch: Any = None, *args: Any,
                          **kwargs: Any) -> Any:
            loss = super().training_step(model, inputs, num_items_in_batch, *args, **kwargs)
            void = self._voids.pop(0) if getattr(self, "_voids", None) else None
            if void is not None and self._counts is not None:
                self._counts[0] += torch.where(void.to(loss.device), torch.zeros_like(loss), loss.float()).to(
                    self._counts.device)
            return loss

        def _take_window(self) -> tuple[float, float, float] | None:
            """This window's figures (the loss sum as the Trainer averages it over ranks), and a fresh window: a
            window's own sum stays exact in float32, where a run-long one would not."""
            if self._counts is None:
                return None
            counts = self._counts.detach().clone()
            self._counts.zero_()
            if self.args.world_size > 1:  # every rank logs at the same step, so every rank gathers
                rows = self.accelerator.gather(counts.unsqueeze(0)).reshape(-1, 3)
                counts = torch.stack([rows[:, 0].mean(), rows[:, 1].max(), rows[:, 2].max()])
            total, trained, void = (float(x) for x in counts.tolist())
            self._run = (self._run[0] + total, self._run[1] + trained, self._run[2] + void)
            return total, trained, void

        def log(self, logs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            key = "loss" if "loss" in logs else "train_loss" if "train_loss" in logs else None
            window = self._take_window() if key is not None else None
            if window is not None:
                total, trained, void = window if key == "loss" else self._run  # train_loss: the whole run
                if void > 0:
                    logs = dict(logs)
                    if trained > 0:
                        logs[key] = total / trained
                    else:
                        del logs[key]
            return super().log(logs, *args, **kwargs)

    return TrainedTokenLossTrainer


def _no_token(trainer: Any, batch: Any, items: Any) -> Any:
    """Whether the loss of this micro-batch has no token behind it (a bool tensor on the device), or None when it
    cannot be told (no labels): the count is the Trainer's own (num_items_in_batch, the whole optimizer step's
    labels, over the ranks with average_tokens_across_devices), else the micro-batch's labels as its loss shifts
    them."""
    import torch

    if items is not None:
        return torch.as_tensor(items).reshape(-1).sum() == 0
    if not isinstance(batch, dict) or not torch.is_tensor(batch.get("labels")):
        return None
    labels = batch.get("shift_labels")
    if not torch.is_tensor(labels):
        labels = batch["labels"][..., 1:] if getattr(trainer, "_loss_shifts_labels", True) else batch["labels"]
    return labels.ne(-100).sum() == 0


def _saving_the_stops(base: Any) -> Any:
    """The Trainer for a chat adapter run: every save (each checkpoint and the final model) writes the model's
    generation_config, which holds the template's end of turn among its stops (core.chat.prepare_model). peft's
    save_pretrained writes none (a full model's does), so a checkpoint lacked it, and a run whose final save was
    completed from its last checkpoint on resume (_finish_final_save) ended with a model folder without it: its
    merged export answered with the base's stops, running on past <|im_end|> to max_new_tokens."""

    class StopsSavingTrainer(base):
        def _save(self, output_dir: str | None = None, state_dict: Any = None) -> None:
            super()._save(output_dir, state_dict)
            config = getattr(self.accelerator.unwrap_model(self.model), "generation_config", None)
            if config is not None and self.args.should_save:  # the rank that writes the files, as Trainer._save
                config.save_pretrained(output_dir if output_dir is not None else self.args.output_dir)

    return StopsSavingTrainer


def _saving_its_stop(base: Any, callback: Any) -> Any:
    """The Trainer for save_strategy "best" only: after an evaluation it replaces the save a Stop asked for with "is
    this a new best" (Trainer._maybe_log_save_evaluate), so a Stop at, or during, an evaluation that was no new best
    ended with no checkpoint at its step ("Stopped at step 6, resumable", and Resume went back to the last best).
    Here the Stop's checkpoint is saved right after, at that step (before load_best_model_at_end could swap the
    weights, which saving after train() would get wrong). Every other strategy keeps the tutorial's Trainer as is:
    their saves are not replaced after the Stop's look. Uses the Trainer's own _save_checkpoint (transformers 5.24,
    pinned), so the checkpoint is the same a save at that step would be, on every rank."""

    class StopSavingTrainer(base):
        def _maybe_log_save_evaluate(self, *args: Any, **kwargs: Any) -> Any:
            result = super()._maybe_log_save_evaluate(*args, **kwargs)
            step = self.state.global_step
            if callback.stopped and not callback.diverged and callback.saved_at != step and step < self.state.max_steps:
                self._save_checkpoint(self.model, None)
                self.control = self.callback_handler.on_save(self.args, self.state, self.control)
            return result

    return StopSavingTrainer


class StoppedBeforeTraining(Exception):
    """Stop was asked while the run was being set up (tokenizer, data, model: minutes for a big model): raised at
    the set-up's phases and as training begins (on every rank at once under torchrun, core.distributed). From the
    Trainer's callbacks it carries the Trainer's step and max_steps: a resume for more epochs ends later than its
    checkpoint says."""

    def __init__(self, step: int | None = None, max_steps: int | None = None):
        super().__init__("stopped before training")
        self.step, self.max_steps = step, max_steps


def _stopped_before_training(config: RunConfig, folder: RunFolder, emit: Sink, checkpoint: Path | None,
                             state: dict[str, Any], planned: int | None = None) -> RunResult:
    """End a run whose Stop came before its first step. A Stop is honoured at the end of a step, but before the
    first one there is nothing to keep: training one step and saving a full checkpoint (minutes and gigabytes for a
    big model) would only delay what the user asked for. A new run ends untrained (its name can start again); a
    resume ends where its checkpoint is, still resumable from it, with the steps it is to reach now (`planned`,
    the Trainer's, or worked out from the config): not its checkpoint's, which a resume for more epochs passes."""
    trained = _checkpoint_state(checkpoint)
    step = trained.get("global_step")
    step = step if isinstance(step, int) and not isinstance(step, bool) else 0
    if checkpoint is None:
        max_steps = 0  # nothing trained: no end to show
    elif isinstance(planned, int) and planned > 0:
        max_steps = planned
    else:
        max_steps = _planned_steps(config, trained) or 0
    if checkpoint is None:
        message = ("Stopped before training began: nothing was trained or saved. Start the run again as it is "
                   "(the same name takes this folder over).")
    else:
        message = (f"Stopped before training resumed: the run is still at step {step}"
                   f"{f' of {max_steps}' if max_steps else ''}; Resume continues from {checkpoint.name}.")
    state.update(step=step, max_steps=max_steps)
    folder.write_status("stopped", message, step=step, max_steps=max_steps)
    emit(EndEvent(event="end", state="stopped", message=message, step=step, max_steps=max_steps))
    return RunResult("stopped", message, folder.path, step, max_steps)


def _set_up_and_train(config: RunConfig, folder: RunFolder, emit: Sink, notify: Callable[[str], None],
                      stop: threading.Event, checkpoint: Path | None, state: dict[str, int],
                      elapsed: Callable[[], float] | None, phase: Callable[[str, str], None],
                      first_data: dict[str, Any] | None = None) -> RunResult:
    from finetune_studio.core import data
    from finetune_studio.core import model as models

    phase("tokenizer", f"Loading tokenizer of {config.model.name_or_path}")
    tokenizer = models.load_tokenizer(config.model, notify)
    phase("data", f"Loading dataset {config.dataset.source}")
    raw = data.load_split(config.dataset, notify)  # notice: a separator found in a CSV's header row
    seed = int(config.training.get("seed", 42))
    from finetune_studio.core import chat as chats

    chat_data = chats.prepare_dataset(raw, tokenizer, config.chat, config.dataset, seed, notify, phase)
    if chat_data is None:  # plain text: the seed's path
        data.check_text_column(raw, config.dataset.text_column, config.dataset.source, notify)  # notice: real name
        phase("tokenize", f"Tokenizing {len(raw)} rows")
        splits = data.tokenize_and_split(raw, tokenizer, config.dataset, seed, notify)  # notice: empty rows dropped
    else:
        splits = chat_data.splits
    files = data.files_signature(config.dataset.source)
    event = DataEvent(event="data", train_rows=len(splits["train"]),
                      eval_rows=len(splits["test"]) if "test" in splits else 0, **({"files": files} if files else {}))
    if checkpoint is not None:
        changed = _data_changed(first_data, event)
        if changed:
            notify(f"The dataset changed since this run began ({changed}): the resumed steps train on the rows as they "
                   "are now, so the run is no longer the one an uninterrupted run would give (data order, splits). "
                   "To keep it, restore the data as it was, or start a new run on the new data.")
    emit(event)
    phase("model", f"Loading model {config.model.name_or_path}")
    model = models.load_model(config.model, config.adapter)
    if chat_data is not None:  # embeddings for added control tokens; generation stops at the end of a reply
        chats.prepare_model(model, tokenizer, chat_data.plan)
    generation = getattr(model, "generation_config", None)
    unset = chats.saveable(generation) if generation is not None else []
    if unset:  # a base whose generation_config transformers would refuse to save once changed (Llama-2's)
        notify(chats.unset_note(unset))
    from finetune_studio.core import batching

    if config.dataset.batching in batching.FLATTENING_MODES:
        problem = batching.padding_free_problem(model)
        if problem:
            raise ConfigError([Problem("dataset.batching", problem)])
    batching.prepare_model(config.dataset.batching, model)
    from finetune_studio.core import adapters

    if adapters.is_adapter_method(config.adapter.method):  # full fine-tuning (the seed) never gets here
        new_tokens = chats.added_token_ids(tokenizer, chat_data.plan) if chat_data is not None else []
        model = adapters.wrap_model(model, config, seed, new_tokens)  # the added tokens' rows train too
        count = adapters.trainable_count(model)
        notify(f"{adapters.describe(config)}: training {count.trainable:,} of {count.total:,} parameters "
               f"({count.percent:.2f} %).")
    train_rows = splits["train"]
    if config.dataset.batching == "packed":
        phase("pack", f"Packing {len(train_rows)} rows into blocks of {config.dataset.max_length} tokens")
        train_rows = batching.pack(train_rows, config.dataset.max_length)

    from transformers import PrinterCallback, Trainer

    from finetune_studio.core.distributed import trainer_callbacks, trainer_class

    args = training_arguments(config, folder.path)
    callback = make_progress_callback(emit, stop, elapsed)
    base = trainer_class(Trainer)  # Trainer itself in one process (the tutorial's)
    if chat_data is not None:  # masked labels: a step may train no token, which then logs no loss
        base = _losses_of_trained_tokens(base)  # text runs keep the tutorial's Trainer (their rows all train tokens)
        if adapters.is_adapter_method(config.adapter.method):
            base = _saving_the_stops(base)
    if str(getattr(args.save_strategy, "value", args.save_strategy)) == "best":
        base = _saving_its_stop(base, callback)
    trainer = base(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=splits["test"] if "test" in splits else None,
        processing_class=tokenizer,
        data_collator=batching.collator(config.dataset.batching, tokenizer, labelled=chat_data is not None),
        callbacks=[*trainer_callbacks(folder.path, stop), callback],  # under torchrun: the ranks' shared Stop
    )
    trainer.remove_callback(PrinterCallback)  # it prints every log dict when tqdm is off; events replace it
    phase("train", "Training")
    folder.write_status("running", "Training", chat=chat_data is not None)  # the run's decision (trained_as_chat)
    output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    step, max_steps = trainer.state.global_step, trainer.state.max_steps
    state.update(step=step, max_steps=max_steps)
    losses = [e for e in trainer.state.log_history if "loss" in e]
    evals = [e for e in trainer.state.log_history if "eval_loss" in e]
    # The last window that trained tokens; with nothing logged, the Trainer's summary (which, like every logged
    # loss, leaves out the steps that trained no token: it has none when no step did).
    summary = next((e for e in reversed(trainer.state.log_history) if "train_runtime" in e), None)
    train_loss = (losses[-1]["loss"] if losses else summary.get("train_loss") if summary is not None
                  else output.training_loss)
    eval_loss = evals[-1]["eval_loss"] if evals else None

    if callback.diverged:
        lr = config.training.get("learning_rate", 5e-5)
        message = (f"{callback.diverged}: training diverged, so the run was ended and no model was saved. Lower the "
                   f"learning rate (now {lr:g}), raise warmup, or train in fp32/bf16 instead of fp16; then start "
                   "again (checkpoints before this step are kept).")
        raise TrainingError(message)

    if callback.stopped and step < max_steps:
        message = f"Stopped at step {step} of {max_steps}, resumable."
        folder.write_status("stopped", message, step=step, max_steps=max_steps,
                            train_loss=train_loss, eval_loss=eval_loss)
        emit(EndEvent(event="end", state="stopped", message=message, step=step, max_steps=max_steps))
        return RunResult("stopped", message, folder.path, step, max_steps, None, train_loss, eval_loss)

    phase("save", "Saving the final model")
    trainer.save_model(str(folder.model_dir))
    drop_placeholder_card(folder.model_dir)
    tokenizer.save_pretrained(str(folder.model_dir))
    if chat_data is not None:  # the stop tokens go with an adapter too (save_model writes them for a full model only)
        model.generation_config.save_pretrained(str(folder.model_dir))
    message = f"Finished {step} step{'' if step == 1 else 's'}. Model saved to {folder.model_dir}."
    return _finished(config, folder, emit, stop, message, step, max_steps, train_loss, eval_loss)


# What a Trainer checkpoint holds beyond what Trainer.save_model writes: the training state, not the model.
_TRAINING_STATE_FILES = ("optimizer.pt", "scheduler.pt", "scaler.pt", "trainer_state.json")


PLACEHOLDER_CARD_MARK = "# Model Card for Model ID"  # the heading of peft's template card


def drop_placeholder_card(model_dir: Path) -> None:
    """Remove the README.md peft's save_pretrained writes beside an adapter: a blank template ("Model Card for Model
    ID", "[More Information Needed]") whose front matter names the base model by its path on this computer
    (base_model: /home/USER/.cache/…). The push and the export leave it out and write the app's own card, but a user
    who uploads the model folder with `hf upload` published that path (helper-119's finding). A README.md the user
    wrote (no such heading) is kept."""
    card = Path(model_dir) / "README.md"
    try:
        if PLACEHOLDER_CARD_MARK in card.read_text(encoding="utf-8", errors="replace"):
            card.unlink()
    except OSError:  # none written (a full model), or unreadable: nothing to drop
        pass


def _finish_final_save(config: RunConfig, folder: RunFolder, emit: Sink, notify: Callable[[str], None],
                       stop: threading.Event, checkpoint: Path, state: dict[str, int],
                       elapsed: Callable[[], float] | None = None, first_data: dict[str, Any] | None = None
                       ) -> RunResult:
    """Training had reached its last step, but the run ended before its final model was saved: save it now from
    the checkpoint the Trainer would have saved it from (the best one with load_best_model_at_end, else the last),
    without training a step more. A checkpoint holds exactly what Trainer.save_model writes, plus the training
    state, so the model folder gets the same files, byte for byte."""
    import shutil

    trained = _checkpoint_state(checkpoint)
    step, max_steps = int(trained.get("global_step", 0)), int(trained.get("max_steps") or 0)
    state.update(step=step, max_steps=max_steps)
    source = checkpoint
    best = trained.get("best_global_step")
    if config.training.get("load_best_model_at_end") and isinstance(best, int):
        candidate = checkpoint.parent / f"checkpoint-{best}"
        if candidate in folder.checkpoints(checkpoint.parent):
            source = candidate
    emit(PhaseEvent(event="phase", phase="save",
                    message=f"Training had finished at step {step}; saving the final model from {source.name}"))
    partial = folder.path / f".{folder.model_dir.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for item in sorted(source.iterdir()):
        if item.is_file() and item.name not in _TRAINING_STATE_FILES and not item.name.startswith("rng_state"):
            shutil.copy2(item, partial / item.name)
    drop_placeholder_card(partial)
    shutil.rmtree(folder.model_dir, ignore_errors=True)  # what the cut-short save left
    os.replace(partial, folder.model_dir)
    history = trained.get("log_history") if isinstance(trained.get("log_history"), list) else []
    losses = [e["loss"] for e in history if isinstance(e, dict) and isinstance(e.get("loss"), (int, float))]
    evals = [e["eval_loss"] for e in history if isinstance(e, dict) and isinstance(e.get("eval_loss"), (int, float))]
    train_loss, eval_loss = (losses[-1] if losses else None), (evals[-1] if evals else None)
    message = (f"Finished {step} step{'' if step == 1 else 's'}: training had reached its last step before the run "
               f"was cut off, so no step was trained now; the final save was completed from {source.name}. Model "
               f"saved to {folder.model_dir}.")
    return _finished(config, folder, emit, stop, message, step, max_steps, train_loss, eval_loss)


def _finished(config: RunConfig, folder: RunFolder, emit: Sink, stop: threading.Event, message: str, step: int,
              max_steps: int, train_loss: float | None, eval_loss: float | None) -> RunResult:
    """Record a run whose model is saved as finished (status, end event), then push it when asked: one place for
    a run that trained to its end and one whose interrupted final save was completed on resume."""
    folder.write_status("finished", message, step=step, max_steps=max_steps, train_loss=train_loss,
                        eval_loss=eval_loss, model_dir=str(folder.model_dir), finished=time.time())
    emit(EndEvent(event="end", state="finished", message=message, step=step, max_steps=max_steps,
                  train_loss=train_loss, eval_loss=eval_loss, model_dir=str(folder.model_dir)))
    _push_when_done(config, folder, emit, stop)
    return RunResult("finished", message, folder.path, step, max_steps, folder.model_dir, train_loss, eval_loss)


def _push_when_done(config: RunConfig, folder: RunFolder, emit: Sink, stop: threading.Event) -> None:
    """hub.push_when_done: upload the finished run with core.hub (model, card, metrics, loss curve), after the
    run is recorded as finished so the card has its final losses. Never raises: a failed push leaves a finished
    run with a warning event. Not the Trainer's push_to_hub, which uploads the whole run folder."""
    if config.hub.push_when_done:
        from finetune_studio.core.hub import push_when_done

        push_when_done(folder.path, config.hub.repo_id, config.hub.private, emit, stop)


def describe_failure(exc: BaseException, config: RunConfig) -> str:
    """One sentence for the status, the CLI and the error dialog; the traceback goes to the details."""
    if isinstance(exc, FinetuneError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        # Whether it can resume depends on the checkpoints its folder holds, which only the callers that know
        # the folder say (resume_advice): "Resume to continue" was said of runs with none, and resume refused.
        return "Interrupted before the run ended."
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    from finetune_studio.core.advice import disk_full_cause

    full = disk_full_cause(exc)
    if full is not None:
        where = Path(full.filename).parent if full.filename else runs_dir_of(config)
        return (f"The disk is full — free space in {where} (or choose a runs folder on a disk with room), "
                "then try again.")
    if name == "OutOfMemoryError" or "out of memory" in str(exc).lower():
        from finetune_studio.core.advice import smaller_batch

        batch = int(config.training.get("per_device_train_batch_size") or 8)
        accumulation = int(config.training.get("gradient_accumulation_steps") or 1)
        # the advice's own lowering (a divisor, accumulation within what validation takes); at batch 1 there is no
        # batch left to lower: "batch size 1 with gradient accumulation 2" only doubled the run's time
        lower = smaller_batch(batch, accumulation) if batch > 1 else None
        first = (f"Try batch size {lower.batch} with gradient accumulation {lower.steps}, turn on activation "
                 "checkpointing, or" if lower else "Turn on activation checkpointing, or")
        return f"Ran out of memory at batch size {batch}. {first} lower max_length ({config.dataset.max_length})."
    from finetune_studio.core.advice import raised_in

    where = raised_in(exc)
    return f"Training failed: {name}: {text}" + (f" (raised in {where})" if where else "")
