"""A heartbeat on the GUI thread: a 1 ms precise QTimer, each beat recording how much later than 1 ms it came.

Any slot that needs the GIL waits the same way, so a late beat is what a user feels as a frozen window. One
heartbeat for every benchmark that times stalls (ui_latency.py, compare_latency.py, generate.py), so that their
figures mean the same thing. Import it after the QApplication exists.
"""

from __future__ import annotations

import time


def heartbeat() -> tuple[object, list[tuple[float, float]], list[float]]:
    """(the timer, not yet started; the list its beats fill with (time.perf_counter() of the beat, seconds late);
    a one-item list holding the last beat's time, which ui_latency.py's stall watchdog reads from another thread)."""
    from PySide6.QtCore import Qt, QTimer

    ticks: list[tuple[float, float]] = []
    last = [0.0]

    def beat() -> None:
        now = time.perf_counter()
        if last[0]:
            ticks.append((now, now - last[0] - 0.001))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    timer.timeout.connect(beat)
    return timer, ticks, last
