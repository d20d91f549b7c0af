"""The GUI thread's share of core.collection: a timer that runs the collections Python would have run, and a
queued signal through which a worker that needs memory back (core.collection.collect) wakes it at once."""

from __future__ import annotations

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
