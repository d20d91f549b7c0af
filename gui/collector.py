"""The GUI thread's share of core.collection: a timer that runs the collections Python would have run, and a
queued signal through which a worker that needs memory back (core.collection.collect) wakes it at once.

The GUI thread that blocks on a worker without the event loop (closing: QThread.wait, QThreadPool.waitForDone, a
thread's join) serves that worker's gc.collect meanwhile through `wait` (or core.collection.join for a thread):
blocked plainly, it would make the worker, and so the close, wait REQUEST_WAIT_S for nothing."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from finetune_studio.core import collection

TICK_MS = 1000  # calibre's and PyQt's documented interval: young objects are cheap to check, and few pile up in 1 s


class Collector(QObject):
    """Owns Python's cycle collection for the process, on the thread it is created in (the GUI thread)."""

    wake = Signal()  # emitted from any thread: the connection queues it to this object's thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.wake.connect(self.tick)
        collection.hand_to_this_thread(self.wake.emit)
        self.timer.start()

    def tick(self) -> int | None:
        return collection.run_due()

    def stop(self) -> None:
        """Hand collection back to Python (tests; the process ends otherwise)."""
        self.timer.stop()
        collection.give_back()


def wait(done_within: Callable[[int], bool], timeout_ms: int) -> bool:
    """A Qt wait in milliseconds (`thread.wait`, `pool.waitForDone`) taken in slices, with the collections the
    workers asked for run between them on this thread when it owns collection (core.collection.wait_serving).
    True when it was done within `timeout_ms`, as the Qt call says."""
    return collection.wait_serving(lambda seconds: done_within(round(seconds * 1000)), timeout_ms / 1000)
