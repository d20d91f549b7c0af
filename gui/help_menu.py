"""The Help menu: About (versions, for bug reports) and Check runtime (the GPU stack, core.doctor).

The main window only creates this; the dialogs live in gui.about and gui.runtime_check. The first-run check is
started from here too (gui.app calls `first_run_check` once the window shows), so its background task has one
owner that outlives it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from finetune_studio.gui.background import BackgroundTask

if TYPE_CHECKING:  # the dialogs and the check load when first used, not while the window starts (~30 ms)
    from finetune_studio.core import doctor
    from finetune_studio.gui.about import AboutDialog
    from finetune_studio.gui.runtime_check import RuntimeCheckDialog


class HelpMenu(QObject):
    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.menu = window.menuBar().addMenu("&Help")
        self.check_action = QAction("Check &runtime…", window)
        self.check_action.setStatusTip("Check the GPU, the torch build and free disk space, and how to fix a mismatch")
        self.about_action = QAction("&About Finetune Studio", window)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.menu.addAction(self.check_action)
        self.menu.addSeparator()
        self.menu.addAction(self.about_action)
        self.check_action.triggered.connect(self.check_runtime)
        self.about_action.triggered.connect(self.about)
        self.about_dialog: AboutDialog | None = None
        self.runtime_dialog: RuntimeCheckDialog | None = None
        self.check_task = BackgroundTask(self)
        self.check_task.result.connect(self._show_report)
        self.first_run_task: BackgroundTask | None = None

    def about(self) -> None:
        from finetune_studio.gui.about import show_about

        self.about_dialog = show_about(self.window)

    def check_runtime(self) -> None:
        """Check in the background (a slow nvidia-smi must not freeze the window), then always show the result."""
        from finetune_studio.gui.runtime_check import run_check

        self.check_action.setEnabled(False)
        self.check_task.submit(run_check)

    def _show_report(self, report: doctor.Report) -> None:
        from finetune_studio.gui import runtime_check

        self.check_action.setEnabled(True)
        self.runtime_dialog = runtime_check.open_dialog(report, self.window)

    def first_run_check(self) -> None:
        """At launch: the dialog only for a problem not shown before (gui.runtime_check.should_show_at_start)."""
        from finetune_studio.gui.runtime_check import run_check

        self.first_run_task = BackgroundTask(self, yields_to_run_start=True)
        self.first_run_task.result.connect(self._first_run_report)
        self.first_run_task.submit(run_check)

    def _first_run_report(self, report: doctor.Report) -> None:
        from finetune_studio.gui.runtime_check import at_start

        dialog = at_start(report, self.window)
        if dialog is not None:
            self.runtime_dialog = dialog
