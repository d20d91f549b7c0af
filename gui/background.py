"""Run a plain function off the GUI thread and get its outcome back on the GUI thread.

Forms need the dataset preview, token statistics and the TrainingArguments fields, all of which import torch,
transformers or datasets (seconds) or read files and the network. `BackgroundTask` runs such a function in a
QThreadPool and re-emits its outcome from a QObject that lives in the GUI thread, so slots can touch widgets.
Each task keeps only its latest request: a result of a superseded request (the user picked another dataset while
the previous one was still loading) is dropped instead of overwriting newer state. Outcomes travel through one
long-lived relay object, so a job that finishes after its form was closed has nowhere to crash into.

Nothing heavy is imported here; the functions passed in do their own imports (under `IMPORT_LOCK`).
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

# Two jobs importing transformers/datasets at the same moment in two threads can trip over half-initialised lazy
# modules; jobs import their heavy modules under this lock so the first import finishes before the next begins.
IMPORT_LOCK = threading.Lock()

_pool: QThreadPool | None = None

# While a run starts (Start pressed, or queued behind the warm-up, until its first optimizer step) the jobs that only
# refresh what the window shows (previews, statistics, the memory estimate, the first-run check) wait here: the
# user is waiting for the first step, and on a machine with few cores every such job takes a core from it (the
# training thread is niced below the others, gui.early_init.lower_thread_priority). An open gate costs nothing.
_run_start_clear = threading.Event()
_run_start_clear.set()
RUN_START_HOLD_MAX_S = 300.0  # a release that never comes (a bug) must not hide the window's figures for ever


def hold_for_run_start() -> None:
    """A run is starting: jobs that yield to it wait until `release_after_run_start()`."""
    _run_start_clear.clear()


def release_after_run_start() -> None:
    """The run reached its first step, or ended, or never began: waiting jobs go on."""
    _run_start_clear.set()


def run_starting() -> bool:
    return not _run_start_clear.is_set()


def wait_for_run_start() -> None:
    """Called at the top of a job that yields to a starting run (in its pool thread, never the GUI thread)."""
    _run_start_clear.wait(RUN_START_HOLD_MAX_S)


def pool() -> QThreadPool:
    """The pool used by the forms: private, so long jobs never starve QThreadPool.globalInstance() users."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(max(2, min(4, QThreadPool.globalInstance().maxThreadCount())))
        _pool.setExpiryTimeout(30_000)
    return _pool


def wait_idle(timeout_ms: int = 30_000) -> bool:
    """Block until every background job has returned (tests). True if all finished."""
    return _pool.waitForDone(timeout_ms) if _pool is not None else True


def shutdown(timeout_ms: int = 2_000) -> bool:
    """For application exit: drop jobs not started yet and wait a little for running ones. False means a job
    (a Hub download, say) is still running; Python waits for it at exit unless the caller ends the process."""
    if _pool is None:
        return True
    _pool.clear()
    return _pool.waitForDone(timeout_ms)


class _Relay(QObject):
    """Carries every job's outcome across threads. One instance, created in and living in the GUI thread and never
    deleted, so a worker always has a valid object to emit from, even after the requesting form was closed."""

    done = Signal(int, int, object, object)  # task id, token, result, exception (one of the last two is None)

    def __init__(self) -> None:
        super().__init__()
        self.tasks: weakref.WeakValueDictionary[int, BackgroundTask] = weakref.WeakValueDictionary()
        self.done.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    @Slot(int, int, object, object)
    def _dispatch(self, task_id: int, token: int, result: Any, error: Any) -> None:
        task = self.tasks.get(task_id)
        if task is not None and shiboken6.isValid(task):
            task._deliver(token, result, error)


_relay: _Relay | None = None
_task_ids = itertools.count(1)


def _the_relay() -> _Relay:
    global _relay
    if _relay is None:
        _relay = _Relay()
    return _relay


class _Job(QRunnable):
    """Runs fn and reports through the relay. Auto-deleted by the pool after run(); holds no Qt object of its own
    besides the relay, which outlives it."""

    def __init__(self, task_id: int, token: int, fn: Callable[..., Any], args: tuple, kwargs: dict, relay: _Relay,
                 yields: bool = False):
        super().__init__()
        self.task_id, self.token, self.fn, self.args, self.kwargs, self.relay = task_id, token, fn, args, kwargs, relay
        self.yields = yields

    def run(self) -> None:
        result: Any = None
        error: BaseException | None = None
        if self.yields:
            wait_for_run_start()
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI as a value
            error = exc
        try:
            self.relay.done.emit(self.task_id, self.token, result, error)
        except RuntimeError:
            pass  # the app is shutting down and took the relay with it: nobody is left to tell (it printed a traceback)
        self.fn = self.args = self.kwargs = None  # drop references (datasets, tokenizers) before the pool does


class BackgroundTask(QObject):
    """One kind of background request (e.g. "preview of the current dataset") with last-request-wins delivery.

    `submit(fn, *args)` starts fn in the pool; `result(object)` or `error(object)` (the exception) is emitted on
    the GUI thread for the newest request only. `busy_changed(bool)` drives spinners and "loading…" labels.
    With `yields_to_run_start`, a request made while a run starts begins once it has (see hold_for_run_start): for
    jobs that refresh a view, not for what the user asked for and waits on (a login, a push, an export).
    """

    result = Signal(object)
    error = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, yields_to_run_start: bool = False):
        super().__init__(parent)
        self.yields_to_run_start = yields_to_run_start
        self._id = next(_task_ids)
        self._token = 0
        self._busy = False
        _the_relay().tasks[self._id] = self

    @property
    def busy(self) -> bool:
        return self._busy

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
        """Run fn(*args, **kwargs) in the pool; supersedes any earlier request of this task. Returns its token."""
        self._token += 1
        self._set_busy(True)
        pool().start(_Job(self._id, self._token, fn, args, kwargs, _the_relay(), self.yields_to_run_start))
        return self._token

    def cancel(self) -> None:
        """Forget the pending request: its outcome will be dropped (the function itself runs to its end)."""
        self._token += 1
        self._set_busy(False)

    def _deliver(self, token: int, result: Any, error: Any) -> None:
        if token != self._token:
            return  # superseded or cancelled
        self._set_busy(False)
        if error is not None:
            self.error.emit(error)
        else:
            self.result.emit(result)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


def load_fields_in_background(parent: QObject, on_result: Callable[[dict], None],
                              on_error: Callable[[BaseException], None] | None = None) -> BackgroundTask:
    """Read `core.validation.training_fields()` off the GUI thread (it imports transformers: seconds).

    Keep the returned task referenced (it is parented to `parent`) until the callback ran.
    """
    task = BackgroundTask(parent)
    task.result.connect(on_result)
    if on_error is not None:
        task.error.connect(on_error)
    task.submit(_training_fields)
    return task


def _training_fields() -> dict:
    with IMPORT_LOCK:
        from finetune_studio.core.validation import training_fields

        return training_fields()
