"""`finetune-studio` with no arguments: the desktop app.

Startup order is what makes the window appear in well under two seconds: Qt, the window and the forms first
(nothing here imports torch, transformers or datasets; only torch's shared libraries are mapped meanwhile, by a
thread that holds no GIL), then, one event-loop turn after the window is first exposed (painted; AfterFirstExpose),
a background thread imports the training stack (see gui.warmup). Start works at once: pressed before that is done,
the run is queued and begins when it is. Any uncaught exception, on any thread, ends up in a dialog rather than a
silent stderr line. The `finetune-studio` command (gui.launcher) calls `main` when no command is given.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QWidget

from finetune_studio.core import collection
from finetune_studio.gui import dialogs
from finetune_studio.gui import settings as store
from finetune_studio.gui.collector import Collector
from finetune_studio.gui.desktop_entry import APP_ID
from finetune_studio.gui.early_init import early_init
from finetune_studio.gui.icon import app_icon
from finetune_studio.gui.warmup import preload_in_background

# The runtime check waits until the warm-up's first imports are under way: it is not urgent, they are.
FIRST_RUN_CHECK_DELAY_MS = 1000
# The warm-up begins one event-loop turn after the window is first exposed (painted); this long at most after show()
# when no expose comes (a window manager that starts it minimised).
WARMUP_START_FALLBACK_MS = 1000
WARMUP_EXIT_WAIT_S = 60  # at most, for the training stack's import to end before the process exits


class CrashReporter(QObject):
    """Turns uncaught exceptions into an error dialog on the GUI thread, whichever thread raised them."""

    crashed = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._showing = False
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def report(self, kind: type[BaseException], value: BaseException, tb: TracebackType | None,
               where: str = "") -> None:
        details = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(details)
        text = str(value).strip().splitlines()[0] if str(value).strip() else ""
        message = (f"Finetune Studio hit an unexpected error{where}: {kind.__name__}{': ' + text if text else ''}"
                   "\n\nThe app keeps running. If something looks wrong, save your config and restart it.")
        try:
            self.crashed.emit(message, details)
        except RuntimeError:
            pass  # the app is shutting down

    @Slot(str, str)
    def _show(self, message: str, details: str) -> None:
        if self._showing:
            return  # one dialog at a time; the rest is on stderr
        self._showing = True
        try:
            parent = QApplication.activeWindow()
            dialogs.show_error(parent if isinstance(parent, QWidget) else None, "Unexpected error", message, details)
        finally:
            self._showing = False


def install_excepthooks(reporter: CrashReporter) -> None:
    previous = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        reporter.report(kind, value, tb)

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "a background thread"
        reporter.report(args.exc_type, args.exc_value, args.exc_traceback, f" in {name}")

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook


def create_window() -> Any:
    """The main window with the last config reopened when it still loads, else the built-in demo."""
    from finetune_studio.core.config import PRESETS, load_config
    from finetune_studio.core.errors import ConfigError
    from finetune_studio.gui.document import PRESET_TITLES
    from finetune_studio.gui.main_window import MainWindow

    window = MainWindow()
    last = store.last_config()
    if last and Path(last).is_file():
        try:
            config, _ = load_config(last)
        except ConfigError:
            pass
        else:
            window.set_config(config, Path(last))
            return window
    window.set_config(PRESETS["demo"](), None, PRESET_TITLES["demo"])
    return window


class AfterFirstExpose(QObject):
    """Calls `then` once, one event-loop turn after the window is first exposed (on screen and painted), or after
    WARMUP_START_FALLBACK_MS when no expose comes.

    The warm-up's first import (torch) holds the GIL for long stretches: begun right after show(), it ran while the
    window was still being laid out and painted, so the window became usable with torch half imported
    (benchmarks/startup.py). After the first expose the window is already drawn and answering."""

    def __init__(self, window: QWidget, then: Any):
        super().__init__(window)
        self._then = then
        self._done = False
        self._handle = window.windowHandle()
        if self._handle is not None:
            self._handle.installEventFilter(self)
        QTimer.singleShot(WARMUP_START_FALLBACK_MS, self, self._fire)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Expose and getattr(obj, "isExposed", lambda: False)():
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        if self._done:
            return
        self._done = True
        if self._handle is not None:
            self._handle.removeEventFilter(self)
        self._then()


def _quit_on_ctrl_c(window: QWidget) -> QTimer:
    """Ctrl-C in the terminal closes the window (asking first during a run). Python only sees the signal when it
    runs bytecode, so a slow idle timer gives it a chance to."""
    signal.signal(signal.SIGINT, lambda *_: window.close())
    timer = QTimer(window)
    timer.start(250)
    timer.timeout.connect(lambda: None)
    return timer


def wait_for_imports(preload: threading.Thread, warmup: Any, timeout_s: float = WARMUP_EXIT_WAIT_S) -> None:
    """After the event loop ended: wait for torch's preload and the warm-up (gui.warmup.Warmup) to end, each at most
    `timeout_s`. This thread still owns collection (the Collector's timer no longer fires): a gc.collect in those
    threads is served here meanwhile (core.collection.join, wait_serving), rather than waiting REQUEST_WAIT_S for a
    thread that waits for it."""

    def warmed(seconds: float) -> bool:
        warmup.join(seconds)
        return not warmup.running

    collection.join(preload, timeout_s)
    collection.wait_serving(warmed, timeout_s)


def main(argv: list[str] | None = None) -> int:
    early_init()  # process-wide settings, before Qt or the warm-up start threads
    preload = preload_in_background()  # torch's libraries map on another core while the window is built
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    # Cycle collection on this thread only, before any window exists: a worker's collection that finds a Qt object
    # in a cycle destroys it off the GUI thread (core.collection). Parented to the app, it lives as long as it.
    Collector(app)
    app.setOrganizationName(store.ORGANIZATION)
    app.setApplicationName(store.APPLICATION)
    app.setApplicationDisplayName(store.APPLICATION)
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())  # every window's icon, and the taskbar's
    app.setDesktopFileName(APP_ID)  # Wayland's app id: the desktop links the window to the installed entry
    reporter = CrashReporter(app)
    install_excepthooks(reporter)
    window = create_window()
    window.show()
    AfterFirstExpose(window, window.begin_warmup)
    QTimer.singleShot(FIRST_RUN_CHECK_DELAY_MS, window.help_menu.first_run_check)  # GPU stack (gui.runtime_check)
    _quit_on_ctrl_c(window)
    code = app.exec()
    # The warm-up imports torch in a daemon thread. An interpreter that exits while that import runs can crash in
    # torch's C++ start-up (abort, segfault, heap corruption when the window was closed within a second of
    # launch): let it finish first. The window is already gone, so this costs the user nothing they can see.
    wait_for_imports(preload, window.warmup)
    return code
