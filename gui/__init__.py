"""Finetune Studio's Qt skin over the Qt-free core.

On import, before any Qt call: PySide6 6.12 on Python 3.11 returns None from void methods (setText, setPen, …)
without taking a new reference to it, and pyqtgraph redraws do the same to True; each call lowers the object's
reference count by one, and after a few thousand the interpreter aborts ("Fatal Python error: none_dealloc").
Python 3.12 made these singletons immortal (PEP 683), which hides the bug there; on older Pythons
gui/_none_guard.py gives them the same immortality.
"""

from gui._none_guard import keep_singletons_alive

keep_singletons_alive()
