"""The runtime check in the window: on first launch, and from Help > Check runtime (core.doctor does the checking).

The first launch runs the check in the background once the window is up (it must not delay a usable window) and
opens the dialog only when something keeps training off the GPU: a machine that is fine hears nothing. What was
shown is remembered in QSettings as a fingerprint of the findings, so a known, unfixed mismatch does not nag at
every start, while a changed one (another torch installed, say, still the wrong build) is shown again.

The fix is a command the user runs in a terminal: it is shown and copyable, never run from here. Replacing torch
under a running app that has already imported it would leave the window on the old build; the terminal and a
restart are the safe order, and the dialog says so.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core import doctor
from finetune_studio.gui import settings as store
from finetune_studio.gui.background import IMPORT_LOCK

SHOWN_KEY = "runtime_check/shown"  # the fingerprint of the findings the first-run check last showed
COLORS = {doctor.OK: "#1a7f37", doctor.WARNING: "#9a6700", doctor.PROBLEM: "#cf222e"}
MARKS = {doctor.OK: "✔", doctor.WARNING: "⚠", doctor.PROBLEM: "✖"}


def fingerprint(report: doctor.Report) -> str:
    """What the user was told: the GPU, the torch build and the problems (free space changes all the time)."""
    return json.dumps([report.gpu.vendor, list(report.gpu.names), report.torch.version,
                       [f.message for f in report.problems]])


def should_show_at_start(report: doctor.Report, shown: str | None) -> bool:
    """At launch: only a problem, and only one not shown before in this exact form."""
    return not report.ok and fingerprint(report) != shown


def headline(report: doctor.Report) -> str:
    if not report.ok:
        return "Training will not use this machine's GPU"
    if any(f.level == doctor.WARNING for f in report.findings):
        return "Ready to train, with a warning"
    return "Ready to train"


class RuntimeCheckDialog(QDialog):
    """The report: what was found, each finding coloured by level, and the fix command with a Copy button."""

    def __init__(self, report: doctor.Report, parent: QWidget | None = None):
        super().__init__(parent)
        self.report = report
        self.setObjectName("runtime_check_dialog")
        self.setWindowTitle("Runtime check")
        layout = QVBoxLayout(self)
        self.headline = QLabel(f"<b style='font-size:13pt'>{_html(headline(report))}</b>")
        layout.addWidget(self.headline)
        facts = [("GPU", report.gpu.describe()), ("torch", report.torch.describe()),
                 *(("Disk", d.describe()) for d in report.disks)]
        self.facts = QLabel("<br>".join(f"<b>{what}:</b> {_html(fact)}" for what, fact in facts))
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setWordWrap(True)
        layout.addWidget(self.facts)
        self.findings = QLabel("<br>".join(f"<span style='color:{COLORS[f.level]}'>{MARKS[f.level]}</span> "
                                           f"{_html(f.message)}" for f in report.findings))
        self.findings.setWordWrap(True)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.findings)

        self.command = QPlainTextEdit(report.fix_command or "")  # wraps: the whole command is visible
        self.command.setReadOnly(True)
        self.command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.command.setFixedHeight(self.command.fontMetrics().lineSpacing() * 3 + 12)
        self.copy_command = QPushButton("Copy command")
        self.copy_command.clicked.connect(lambda: self._copy(self.command.toPlainText(), self.copy_command))
        if report.fix_command:
            how = QLabel(f"To fix it ({_html(report.fix_reason)}), run this in a terminal, then restart Finetune "
                         "Studio. Nothing is run for you: the app keeps the torch it has loaded until it restarts.")
            how.setWordWrap(True)
            layout.addWidget(how)
            layout.addWidget(self.command)
        else:
            self.command.hide()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_report = QPushButton("Copy report")
        if report.fix_command:
            buttons.addButton(self.copy_command, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_report, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_report.clicked.connect(lambda: self._copy(report.text(), self.copy_report))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(640)

    def _copy(self, text: str, button: QPushButton) -> None:
        QApplication.clipboard().setText(text)
        button.setText("Copied")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def run_check() -> doctor.Report:
    """doctor.check() for a pool thread: its one import (huggingface_hub, for the cache folder) waits for the
    warm-up's, as every background import does."""
    with IMPORT_LOCK:
        from finetune_studio.core.doctor import hf_cache_dir

        hf_cache_dir()
    return doctor.check()


def open_dialog(report: doctor.Report, parent: QWidget | None) -> RuntimeCheckDialog:
    dialog = RuntimeCheckDialog(report, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def at_start(report: doctor.Report, parent: QWidget | None) -> RuntimeCheckDialog | None:
    """The first-run check's result: open the dialog for a problem not shown before, and remember what was seen."""
    shown = store.settings().value(SHOWN_KEY)
    dialog = open_dialog(report, parent) if should_show_at_start(report, str(shown) if shown else None) else None
    store.settings().setValue(SHOWN_KEY, fingerprint(report))
    return dialog
