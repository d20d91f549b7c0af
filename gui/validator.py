"""Inline validation of the config the forms hold, without ever stalling typing.

`core.validation.validate` usually takes about a millisecond once the stack is warm, but it builds
TrainingArguments and checks files, which can take longer (a slow disk, a network folder). It runs on the GUI
thread while its last run stayed under the budget, else in a one-thread pool; either way the newest request wins
and stale results are dropped.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from finetune_studio.core.config import RunConfig
from finetune_studio.core.errors import Problem

BUDGET_MS = 30.0


def _validate(config: RunConfig) -> tuple[list[Problem], float]:
    t0 = time.perf_counter()
    try:
        from finetune_studio.core.validation import validate

        problems = validate(config)
    except Exception as exc:  # noqa: BLE001 - a bug in a check must not take the form down
        problems = [Problem("", f"The config could not be checked: {type(exc).__name__}: {exc}")]
    return problems, (time.perf_counter() - t0) * 1000


class _Relay(QObject):
    done = Signal(int, object, float)


class _Job(QRunnable):
    def __init__(self, generation: int, config: RunConfig, relay: _Relay):
        super().__init__()
        self.generation, self.config, self.relay = generation, config, relay

    def run(self) -> None:
        problems, ms = _validate(self.config)
        try:
            self.relay.done.emit(self.generation, problems, ms)
        except RuntimeError:
            pass  # the validator was destroyed with its window


class ConfigValidator(QObject):
    """`request(config)` → `validated(list[Problem])` on the GUI thread, for the newest request only."""

    validated = Signal(object)

    def __init__(self, parent: QObject | None = None, budget_ms: float = BUDGET_MS):
        super().__init__(parent)
        self.budget_ms = budget_ms
        self.last_ms = 0.0
        self.off_thread_runs = 0
        self._generation = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._deliver)

    def request(self, config: RunConfig) -> None:
        self._generation += 1
        config = config.copy()
        if self.last_ms < self.budget_ms:
            problems, self.last_ms = _validate(config)
            self.validated.emit(problems)
        else:
            self.off_thread_runs += 1
            self._pool.start(_Job(self._generation, config, self._relay))

    def wait(self, timeout_ms: int = 10_000) -> bool:
        return self._pool.waitForDone(timeout_ms)

    @Slot(int, object, float)
    def _deliver(self, generation: int, problems: Any, ms: float) -> None:
        self.last_ms = ms  # a fast run moves validation back onto the GUI thread
        if generation == self._generation:
            self.validated.emit(problems)
