"""Keep None, True and False alive under PySide6 builds that release references to them they never took.

Measured with PySide6-Essentials 6.12.0 / shiboken6 6.12.0 on CPython 3.11.7: `label.setText("x")` x1000 lowers
`sys.getrefcount(None)` by 1000, and a pyqtgraph redraw lowers True's count by ~9. A chart that repaints its axes
brings one of them to zero within minutes and the interpreter aborts ("Fatal Python error: none_dealloc:
deallocating None", or bool_dealloc). CPython 3.12+ pins the counts of these immortal objects (PEP 683), so there
the same PySide6 build is harmless and this does nothing.
"""

from __future__ import annotations

import ctypes
import sys

IMMORTAL = 1 << 60  # decrementing this to zero would take decades at a billion calls per second


def keep_singletons_alive() -> None:
    """Give None, True and False the immortality Python 3.12 gives them: a count no leak can exhaust."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    for singleton in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt: the first field of every object
        if count.value < IMMORTAL:
            count.value += IMMORTAL
