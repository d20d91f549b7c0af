"""Who may touch the process-wide state a training run depends on.

A Trainer lives on state that belongs to the whole process, not to the run: accelerate's `AcceleratorState` and
`PartialState` (one shared dict for everyone), torch backend switches (TF32 matmuls), environment variables that
accelerate reads (`ACCELERATE_*`). Building a `TrainingArguments` rewrites all of them — its device set-up calls
`AcceleratorState._reset_state()` — so validating a config while a run trains in another thread of the same
process (the window does this on every keystroke) used to kill that run with "AcceleratorState object has no
attribute distributed_type".

The rule: a run holds `training_owns_process_state()` from before it builds its TrainingArguments until its
Trainer is gone; anything else that would touch that state runs inside `unless_training()` and skips the touch
when it yields False. Both take one lock, so a check that began first finishes before a run starts, and a run that
began first is never touched. Qt-free; nothing heavy is imported here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_runs = 0


@contextmanager
def training_owns_process_state() -> Iterator[None]:
    """Held by a run for as long as its Trainer exists (core.training._execute)."""
    global _runs
    with _lock:
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1


@contextmanager
def unless_training() -> Iterator[bool]:
    """Yields True when no run trains in this process; the caller may then touch the shared state, and no run can
    begin until it is done. Yields False while a run trains: the caller must leave the state alone."""
    with _lock:
        yield _runs == 0


def training_in_process() -> bool:
    """True while a run of this process holds the shared state."""
    with _lock:
        return _runs > 0
