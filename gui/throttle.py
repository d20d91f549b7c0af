"""A rate limit for repaints that reacts at once after a quiet spell.

The chart and the progress figures repaint when the training thread reports. Doing it on a fixed timer tick would
land the work at a random moment of the next optimizer step, when torch's threads fill every core; doing it as the
report arrives lands it between two steps, while the training thread runs single-threaded Python and a core is
free. So the first request after `interval_ms` of quiet runs the callback immediately; requests closer together are
merged into one call when the interval is up, which bounds the rate however fast reports come.
"""

from __future__ import annotations

import math
import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer


class Throttle:
    """Calls `callback` at most once per `interval_ms`, at once when it can, else when the interval is up."""

    def __init__(self, parent: QObject, interval_ms: int, callback: Callable[[], None]):
        self.interval_s = interval_ms / 1000
        self._callback = callback
        self._last = -math.inf  # time.monotonic() of the last call
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    def request(self) -> None:
        if self._timer.isActive():
            return  # already due: that call sees whatever changed since
        wait_s = self._last + self.interval_s - time.monotonic()
        if wait_s <= 0:
            self._fire()
        else:
            self._timer.start(math.ceil(wait_s * 1000))

    def cancel(self) -> None:
        self._timer.stop()

    def _fire(self) -> None:
        self._last = time.monotonic()
        self._callback()
