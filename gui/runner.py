"""Runs `core.training.run`/`resume` in a QThread and reports back with signals.

The worker is a QObject moved to a QThread, the pattern Qt documents: its slot blocks in `trainer.train()`, so the
worker's own event loop never turns while it trains and queued signals *to* it would never arrive. The GUI
therefore stops a run with a `threading.Event` the core polls at every optimizer step. Everything the worker
sends out is a signal carrying a fresh copy, and it never touches a widget.

Step events (one per optimizer step: hundreds a second for a small model on a GPU) go out at most every
STEP_SIGNAL_INTERVAL_S: each signal wakes the GUI thread, which then takes a core and the GIL from training, and
the progress figures show no more than 4 a second anyway. A step held back goes out before the next event of any
other kind, and a step after which the Trainer evaluates, saves or stops goes out at once, so what the window
shows is never behind while the run pauses. Every other event goes out as it comes.
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from finetune_studio.core.config import RunConfig
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.events import Event, EventKind, Sink
from finetune_studio.core.launch import uses_torchrun  # light (no torch): the launch rule, decided once
from finetune_studio.gui import early_init
from finetune_studio.gui.early_init import (
    share_malloc_arena as share_malloc_arena,  # re-exported: benchmarks/overhead.py calls it
)

Job = Callable[[Sink, threading.Event], Any]


TRAINING_NICENESS = 10  # how far the training thread yields to the GUI thread (benchmarks set it with --nice)
STEP_SIGNAL_INTERVAL_S = 0.25


def lower_thread_priority() -> None:
    """Called from inside the training thread: gui.early_init.lower_thread_priority by TRAINING_NICENESS."""
    early_init.lower_thread_priority(TRAINING_NICENESS)


class TrainingWorker(QObject):
    """Lives in the training thread; its `execute` slot runs one job (a run or a resume) from start to end."""

    event = Signal(object)  # one core event, as a fresh dict
    succeeded = Signal(object)  # core.training.RunResult (state finished or stopped)
    errored = Signal(str, str)  # message for the user, traceback text for the details
    invalid = Signal(object)  # list[Problem]: the config was rejected before anything heavy ran
    done = Signal()  # always last

    def __init__(self, job: Job, config: RunConfig | None, stop: threading.Event):
        super().__init__()
        self._job = job
        self._config = config
        self._stop = stop
        self._held_step: Event | None = None
        self._quiet_until = 0.0  # time.monotonic() before which a step event is held back

    def _sink(self, event: Event) -> None:
        if event.get("event") == EventKind.STEP:
            now = time.monotonic()
            if now < self._quiet_until and not event.get("then"):
                self._held_step = dict(event)  # superseded by a later step, or sent before the next other event
                return
            self._quiet_until = now + STEP_SIGNAL_INTERVAL_S
            self._held_step = None
        else:
            self._send_held_step()
        self.event.emit(dict(event))

    def _send_held_step(self) -> None:
        if self._held_step is not None:
            held, self._held_step = self._held_step, None
            self.event.emit(held)

    @Slot()
    def execute(self) -> None:
        lower_thread_priority()
        try:
            try:
                result = self._job(self._sink, self._stop)
            finally:
                self._send_held_step()  # before the outcome, so the GUI sees the events in order
        except ConfigError as exc:
            self.invalid.emit(list(exc.problems))
        except BaseException as exc:  # noqa: BLE001 - every failure reaches the user as a dialog, never a crash
            self.errored.emit(self._describe(exc), traceback.format_exc())
        else:
            self.succeeded.emit(result)
        finally:
            self.done.emit()

    def _describe(self, exc: BaseException) -> str:
        try:
            from finetune_studio.core.training import describe_failure

            return describe_failure(exc, self._config or RunConfig())
        except Exception:  # noqa: BLE001 - describing must not hide the original error
            return f"Training failed: {type(exc).__name__}: {exc}"


class TrainingRunner(QObject):
    """Owns at most one training thread; the GUI's only handle on a run.

    `started`/`idle` bracket a run; the worker's signals are re-emitted unchanged. The thread and worker are
    referenced here until the thread has finished, then handed to `deleteLater`: a QThread destroyed while its
    thread runs aborts the process.
    """

    started = Signal()
    event = Signal(object)
    succeeded = Signal(object)
    errored = Signal(str, str)
    invalid = Signal(object)
    idle = Signal()  # the thread has finished; a new run may start

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._stop = threading.Event()
        self._detach = threading.Event()
        self.detachable = False  # the run trains in processes of its own (torchrun): closing only stops following

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def stopping(self) -> bool:
        return self.running and self._stop.is_set()

    def start(self, config: RunConfig) -> None:
        """Train a new run of a copy of config (the forms may change the original while it trains)."""
        from finetune_studio.core.training import run

        config = config.copy()
        if _uses_torchrun(config):  # several processes: a detached supervisor trains, this thread follows it
            from finetune_studio.core.launch import start_and_follow

            self._launch(lambda sink, stop: start_and_follow(config, sink, stop, self._detach), config, True)
            return
        self._launch(lambda sink, stop: run(config, sink, stop), config)

    def resume(self, run_dir: Path, extra_epochs: float | None = None, extra_steps: int | None = None) -> None:
        """Continue the run in run_dir from its latest checkpoint, in the same folder; extra_epochs trains that
        many epochs more than its config says, extra_steps that many optimizer steps past the max_steps that caps
        it (the config.yaml is updated)."""
        from finetune_studio.core.launch import run_uses_torchrun
        from finetune_studio.core.training import resume

        if run_uses_torchrun(Path(run_dir)):  # the same number of processes as it started with
            from finetune_studio.core.launch import resume_and_follow

            self._launch(lambda sink, stop: resume_and_follow(Path(run_dir), sink, stop, extra_epochs, self._detach,
                                                              extra_steps=extra_steps), None, True)
            return
        self._launch(lambda sink, stop: resume(Path(run_dir), sink, stop, extra_epochs=extra_epochs,
                                               extra_steps=extra_steps), None)

    def apply_fix_and_resume(self, run_dir: Path) -> None:
        """Write the failed run's proposed fix (core.advice) into its config.yaml and resume it from its latest
        checkpoint, or from step 0 when it has none, in the same folder."""
        from finetune_studio.core.advice import apply_fix_and_resume
        from finetune_studio.core.launch import run_uses_torchrun

        if run_uses_torchrun(Path(run_dir)):  # the fix goes into config.yaml; the same processes resume it
            from finetune_studio.core.advice import apply_fix
            from finetune_studio.core.launch import resume_and_follow

            def fix_and_follow(sink: Sink, stop: threading.Event) -> Any:
                apply_fix(Path(run_dir))
                # restart, as the run of one process and the CLI's --apply-fix do: with no complete checkpoint the
                # supervisor starts the run again from step 0 (a plain resume refused: "no complete checkpoint")
                return resume_and_follow(Path(run_dir), sink, stop, None, self._detach, restart=True)

            self._launch(fix_and_follow, None, True)
            return
        self._launch(lambda sink, stop: apply_fix_and_resume(Path(run_dir), sink, stop), None)

    def stop(self) -> None:
        """Ask the run to stop after the current optimizer step (it saves a checkpoint first)."""
        self._stop.set()

    def detach(self) -> None:
        """Stop following a run that trains in its own processes; it goes on (the Runs tab reattaches to it)."""
        self._detach.set()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until the thread ended (for shutdown paths that cannot spin an event loop). True if it did."""
        return self._thread.wait(timeout_ms) if self._thread is not None else True

    def _launch(self, job: Job, config: RunConfig | None, detachable: bool = False) -> None:
        if self._thread is not None:
            raise RuntimeError("A run is already in progress.")
        self._stop = threading.Event()
        self._detach = threading.Event()
        self.detachable = detachable
        thread = QThread(self)
        thread.setObjectName("training")
        worker = TrainingWorker(job, config, self._stop)
        worker.moveToThread(thread)
        thread.started.connect(worker.execute)
        worker.event.connect(self.event)
        worker.succeeded.connect(self.succeeded)
        worker.errored.connect(self.errored)
        worker.invalid.connect(self.invalid)
        # QThread.quit is thread-safe: called in the training thread itself, so the thread ends even while the GUI
        # thread blocks in wait() (shutdown paths); queued to the GUI thread, it would wait for that thread's loop.
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(self._on_finished)
        self._thread, self._worker = thread, worker
        thread.start(QThread.Priority.LowPriority)
        self.started.emit()

    @Slot()
    def _on_finished(self) -> None:
        thread, self._thread, self._worker = self._thread, None, None
        self.detachable = False
        if thread is not None:
            thread.deleteLater()
        self.idle.emit()


def _uses_torchrun(config: RunConfig) -> bool:
    return uses_torchrun(config)
