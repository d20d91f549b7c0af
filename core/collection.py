"""Which thread runs Python's cycle collector, and when.

CPython collects in whichever thread happens to allocate past a threshold. In the window that is often a worker
(training, a background read of an answers file, the warm-up's imports), and a collection there that finds a Qt
object in a reference cycle destroys it off the GUI thread, which Qt does not survive: a fresh-clone CI died with
"Fatal Python error: Segmentation fault … Garbage-collecting" in a thread reading answers (34a88d4). So the window
hands collection to its GUI thread (`hand_to_this_thread`, then `due` polled from a timer there: the scheme calibre
and PyQt's own documentation use), automatic collection stays off, and core code that wants memory back now
(`collect`) asks that thread and waits for it instead of collecting where it stands.

Libraries collect explicitly too (accelerate's `free_memory()` at every train start, transformers between
checkpoint shards), in the thread that trains. While a thread owns collection, `gc.collect` itself is routed: called
anywhere else, it asks the owner and waits, so no collection at all runs off the owner's thread.

The owner itself sometimes blocks on a worker (the window closing while a generation stops, a pool's last job, a
thread joined). A worker that collects then would wait REQUEST_WAIT_S for nothing, and the close with it: the owner
waits through `wait_serving` (or `join`), in short slices, running what the workers asked for between them.

Without an owner (the CLI, a torchrun rank, the tests of core) nothing changes: Python collects as usual, and
`collect` and `paused` act at once in the calling thread.

Qt-free on purpose: the GUI only supplies `wake`, a thread-safe call that makes its thread run `run_due` soon.
"""

from __future__ import annotations

import gc
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

REQUEST_WAIT_S = 2.0  # how long `collect` in a worker waits for the owner (busy, or blocked on that worker other
# than through `wait_serving`); past it the worker goes on, and the memory comes back at the owner's next collection

SERVE_SLICE_S = 0.02  # while the owner waits for a worker (`wait_serving`): the longest a worker's request waits

_python_collect: Callable[..., int] = getattr(gc.collect, "python_collect", gc.collect)  # Python's, even on a re-import


@dataclass
class _State:
    owner: int | None = None  # threading.get_ident() of the thread that collects; None: Python decides
    wake: Callable[[], None] = lambda: None
    thresholds: tuple[int, int, int] = (700, 10, 10)
    pauses: int = 0  # `paused` blocks open now, in any thread
    enabled_before_pause: bool = True  # without an owner: whether automatic collection was on at the first pause
    requests: list[threading.Event] = field(default_factory=list)  # workers waiting for a full collection
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _State()


def hand_to_this_thread(wake: Callable[[], None] = lambda: None) -> None:
    """Make the calling thread the only one that collects: automatic collection goes off, and this thread calls
    `run_due` from a timer. `wake` must be safe to call from any thread (a queued Qt signal)."""
    with _state.lock:
        _state.owner = threading.get_ident()
        _state.wake = wake
        _state.thresholds = gc.get_threshold()
        gc.disable()
        gc.collect = collect


def give_back() -> None:
    """Return collection to Python (the window is closing; tests that handed it over)."""
    with _state.lock:
        owned, _state.owner, _state.wake = _state.owner is not None, None, (lambda: None)
        waiting, _state.requests = _state.requests, []
        gc.collect = _python_collect
        if owned and _state.pauses == 0:
            gc.enable()
        elif owned:
            _state.enabled_before_pause = True  # the last `paused` block to end turns it back on
    for request in waiting:
        request.set()


def owner() -> int | None:
    return _state.owner


def due(counts: tuple[int, int, int], thresholds: tuple[int, int, int]) -> int | None:
    """The generation Python itself would collect at these counts (gcmodule.c's thresholds): the oldest whose count
    passed its threshold, walking up from the youngest only while each younger one has passed its own. Not
    gcmodule.c's further condition on a full collection (that a quarter of the long-lived objects be new since the
    last), which Python does not expose: the oldest generation is collected somewhat more often than Python would,
    on the GUI thread, over a heap whose imports the warm-up froze out of every collection."""
    generation = None
    for level, (count, threshold) in enumerate(zip(counts, thresholds)):
        if threshold <= 0 or count <= threshold:
            break
        generation = level
    return generation


def run_due() -> int | None:
    """On the owner's thread: collect what Python would have collected by now, or everything when a worker asked
    (`collect`). Returns the generation collected, None when nothing was due or a `paused` block is open."""
    if threading.get_ident() != _state.owner:
        return None
    with _state.lock:
        if _state.pauses:
            return None  # a bulk import is under way: walking its half-built objects only stalls the window
        waiting, _state.requests = _state.requests, []
    generation = 2 if waiting else due(gc.get_count(), _state.thresholds)
    try:
        if generation is not None:
            _python_collect(generation)
    finally:
        for request in waiting:
            request.set()
    return generation


def collect(generation: int = 2) -> int:
    """Collect `generation` now (memory a failed run or an unloaded model held, before the next allocation).

    In the owner's thread, or with no owner, this is Python's gc.collect(), and returns what it found. In another
    thread it asks the owner for a full collection and waits up to REQUEST_WAIT_S (returning 0): a worker must not
    run the collection itself (see the module's docstring), and a caller's next step (emptying torch's CUDA
    cache) only frees what the collection released. The same signature as gc.collect, which it stands in for."""
    with _state.lock:
        here = _state.owner is None or threading.get_ident() == _state.owner
        if not here:
            request = threading.Event()
            _state.requests.append(request)
            wake = _state.wake
    if here:
        return _python_collect(generation)
    try:
        wake()
    except RuntimeError:  # the waker's Qt object is gone (the app is closing): no collection off the owner's thread
        with _state.lock:
            if request in _state.requests:
                _state.requests.remove(request)
        return 0
    request.wait(REQUEST_WAIT_S)
    return 0


collect.python_collect = _python_collect  # type: ignore[attr-defined]


def wait_serving(ended: Callable[[float], bool], timeout: float | None = None) -> bool:
    """Block until a worker has ended, and go on collecting for it meanwhile: True when it ended within `timeout`
    seconds (None: however long it takes).

    `ended(seconds)` waits up to that long and says whether the worker has ended: `lambda s: qthread.wait(round(s *
    1000))`, a pool's waitForDone the same way, `join` below for a thread. It is called with slices of at most
    SERVE_SLICE_S, and between them the owner runs `run_due`: a full collection for a worker that asked (its
    gc.collect returns within a slice, not after REQUEST_WAIT_S), what Python would have collected otherwise. The
    collection still runs on the owner's thread only. In any other thread, or with no owner, `run_due` does nothing
    and this is a plain wait."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = SERVE_SLICE_S if deadline is None else max(0.0, min(SERVE_SLICE_S, deadline - time.monotonic()))
        if ended(left):
            return True
        run_due()
        if deadline is not None and time.monotonic() >= deadline:
            return ended(0.0)


def join(thread: threading.Thread, timeout: float | None = None) -> bool:
    """`thread.join(timeout)` for the owner, serving the thread's gc.collect meanwhile (`wait_serving`). True when
    the thread has ended."""

    def ended(seconds: float) -> bool:
        thread.join(seconds)
        return not thread.is_alive()

    return wait_serving(ended, timeout)


@contextmanager
def paused() -> Iterator[None]:
    """No collection while the block runs (big imports: each collection would walk millions of half-built objects,
    0.1-0.4 s with the GIL held). Blocks may overlap across threads; collection resumes when the last one ends.
    With no owner this switches Python's automatic collection off and back to what it was."""
    with _state.lock:
        if _state.pauses == 0 and _state.owner is None:
            _state.enabled_before_pause = gc.isenabled()
            gc.disable()
        _state.pauses += 1
    try:
        yield
    finally:
        with _state.lock:
            _state.pauses -= 1
            if _state.pauses == 0 and _state.owner is None and _state.enabled_before_pause:
                gc.enable()
