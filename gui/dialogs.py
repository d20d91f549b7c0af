"""The few modal questions and error reports the app asks and shows.

Every modal dialog lives here, behind a plain function, so the main window reads as a story ("ask, then act") and
tests replace one function (`monkeypatch.setattr(dialogs, "show_error", record)`) instead of driving a blocking
QMessageBox. Callers must look the functions up through the module (`dialogs.show_error(...)`), never import them
by name, or the monkeypatching would not reach them.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpacerItem,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextEdit,
    QWidget,
)

Button = QMessageBox.StandardButton


class SaveChoice(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class CliChoice(Enum):
    SAVE = "save"  # save the config, then copy `finetune-studio train <path>`
    FLAGS = "flags"  # copy a command that rebuilds the config from a preset with --set flags
    CANCEL = "cancel"


def least_height(dialog: QWidget) -> int | None:
    """What a dialog's lines take at its width, or None without a layout. Word-wrapped labels need their height for
    the dialog's width, which its layout's least size (one line's height each) does not ask for."""
    layout = dialog.layout()
    if layout is None:
        return None
    needed = layout.totalHeightForWidth(dialog.width()) if layout.hasHeightForWidth() else -1
    return max(needed, layout.totalMinimumSize().height())


def fit_least_height(dialog: QWidget) -> None:
    """The dialog's least height set to least_height, on each layout request and resize (the Export and Push dialogs'
    event()). At their smallest, their hints ran into each other and their last rows were cut off (210f320,
    5fbd1e4); a message shown later squeezed them too. Now the dialog grows to fit them, and cannot be made smaller."""
    needed = None if dialog.isMinimized() else least_height(dialog)
    if needed is not None and needed != dialog.minimumHeight():
        dialog.setMinimumHeight(needed)  # a taller one grows the dialog to it


# How many rows a Model box's list shows before it scrolls.
MODEL_BOX_ROWS = 15


class _RoomyRows(QStyledItemDelegate):
    """The rows of a Model box's list as tall as a menu's (the list view's own are one line of text, cramped)."""

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt override
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + 8, max(size.height(), option.fontMetrics.height() + 8))


class ModelBox(QComboBox):
    """The Export and Push dialogs' Model box (a run's final model and its checkpoints). Its list shows at most
    MODEL_BOX_ROWS rows and scrolls: the Fusion style draws a combo box's list as a menu as tall as its items
    (SH_ComboBox_Popup), up to the screen's whole height for a run with 60 checkpoints, and ignores
    maxVisibleItems; the style sheet's combobox-popup: 0 asks for the list view that keeps to it. `opening` is
    emitted just before the list opens, so the dialog re-reads the run's folder and the labels follow its files."""

    opening = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setStyleSheet("QComboBox { combobox-popup: 0; }")
        self.setMaxVisibleItems(MODEL_BOX_ROWS)
        self.setItemDelegate(_RoomyRows(self))

    def showPopup(self) -> None:  # noqa: N802 - Qt override
        self.opening.emit()
        super().showPopup()


def error_box(parent: QWidget | None, title: str, message: str, details: str | None = None) -> QMessageBox:
    """The error dialog, built but not shown: the message says what happened and what to do; the traceback goes
    behind "Show Details…" where a bug report can copy it from."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, Button.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if details:
        box.setInformativeText("“Show Details…” has the technical details for a bug report.")
        box.setDetailedText(details)
        for view in box.findChildren(QTextEdit):
            view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            view.setMinimumWidth(560)
    _widen(box, 460)
    return box


def _widen(box: QMessageBox, width: int) -> None:
    """QMessageBox wraps at a narrow width; a spacer in its grid is the documented-by-practice way to widen it."""
    layout = box.layout()
    if isinstance(layout, QGridLayout):
        spacer = QSpacerItem(width, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)
        layout.addItem(spacer, layout.rowCount(), 0, 1, layout.columnCount())


def show_error(parent: QWidget | None, title: str, message: str, details: str | None = None) -> None:
    error_box(parent, title, message, details).exec()


APPLY_FIX = "Apply fix and restart"


def fix_box(parent: QWidget | None, title: str, message: str, fix: str,
            details: str | None = None) -> tuple[QMessageBox, QPushButton]:
    """The error dialog of a failure that proposes a fix (core.advice.Fix.description), with a button that applies
    it; built but not shown."""
    box = error_box(parent, title, message, details)
    hint = "\n\n“Show Details…” has the technical details for a bug report." if details else ""
    box.setInformativeText(f"Proposed fix: {fix}. “{APPLY_FIX}” writes it into the run's config.yaml (the old one "
                           f"is kept as config.before-fix.yaml) and continues from the latest checkpoint.{hint}")
    apply = box.addButton(APPLY_FIX, QMessageBox.ButtonRole.AcceptRole)
    box.button(Button.Ok).setText("Close")
    box.setDefaultButton(apply)
    return box, apply


def offer_fix(parent: QWidget | None, title: str, message: str, fix: str, details: str | None = None) -> bool:
    """Show a failure with its proposed fix; True when the user chose to apply it and restart."""
    box, apply = fix_box(parent, title, message, fix, details)
    box.exec()
    return box.clickedButton() is apply


class CloseChoice(Enum):
    """The answer to closing the window during a run. Falsy only for KEEP, so "if not answer: stay open" reads
    right (and a test stand-in answering True means "stop and quit")."""

    KEEP = "keep"  # keep training, the window stays open
    STOP = "stop"  # stop the run (checkpoint) and quit; unsaved config changes, if any, are discarded
    SAVE_AND_STOP = "save"  # save the config, stop the run (checkpoint) and quit

    def __bool__(self) -> bool:
        return self is not CloseChoice.KEEP


def stop_and_close_box(parent: QWidget | None, unsaved: str | None = None) -> tuple[QMessageBox, dict]:
    """The one question asked when the window closes during a run, built but not shown: buttons -> CloseChoice.
    With unsaved config changes (`unsaved` names the config) it also asks about them, so no second dialog follows
    while the run goes on training behind it."""
    text = ("Stop the run and quit?\n\nTraining stops after the current step and saves a checkpoint, so you can "
            "resume it later.")
    if unsaved:
        text += f"\n\n{unsaved} has unsaved changes."
    box = QMessageBox(QMessageBox.Icon.Question, "Training is running", text, Button.NoButton, parent)
    _widen(box, 460 if unsaved else 420)
    choices: dict = {}
    if unsaved:
        save = box.addButton("Save, stop and quit", QMessageBox.ButtonRole.AcceptRole)
        choices[save] = CloseChoice.SAVE_AND_STOP
        discard = box.addButton("Stop and quit without saving", QMessageBox.ButtonRole.DestructiveRole)
        choices[discard] = CloseChoice.STOP
    else:
        stop = box.addButton("Stop and quit", QMessageBox.ButtonRole.AcceptRole)
        choices[stop] = CloseChoice.STOP
    keep = box.addButton("Keep training", QMessageBox.ButtonRole.RejectRole)
    choices[keep] = CloseChoice.KEEP
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    return box, choices


def confirm_stop_and_close(parent: QWidget | None, unsaved: str | None = None) -> CloseChoice:
    """Closing during a run: one question (see stop_and_close_box); the run stops at the next step with a
    checkpoint, so nothing is lost."""
    box, choices = stop_and_close_box(parent, unsaved)
    box.exec()
    clicked = box.clickedButton()
    return next((choice for button, choice in choices.items() if button is clicked), CloseChoice.KEEP)


def ask_save_changes(parent: QWidget | None, name: str) -> SaveChoice:
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                      f"Save the changes to {name}?", Button.Save | Button.Discard | Button.Cancel, parent)
    _widen(box, 360)
    box.setInformativeText("Your changes are lost if you don't save them.")
    box.setDefaultButton(Button.Save)
    answer = box.exec()
    return {Button.Save: SaveChoice.SAVE, Button.Discard: SaveChoice.DISCARD}.get(answer, SaveChoice.CANCEL)


def ask_cli_form(parent: QWidget | None) -> CliChoice:
    box = QMessageBox(QMessageBox.Icon.Question, "Copy CLI command",
                      "The config has unsaved changes. The command can name a saved config file, or rebuild the "
                      "config from a preset with --set flags.", Button.Cancel, parent)
    _widen(box, 420)
    save = box.addButton("Save, then copy", QMessageBox.ButtonRole.AcceptRole)
    flags = box.addButton("Copy with --set flags", QMessageBox.ButtonRole.ActionRole)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    if clicked is save:
        return CliChoice.SAVE
    if clicked is flags:
        return CliChoice.FLAGS
    return CliChoice.CANCEL


def choose_open_path(parent: QWidget | None, title: str, folder: str, filters: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
    return path or None


def choose_save_path(parent: QWidget | None, title: str, suggested: str, filters: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path or None


def choose_folder(parent: QWidget | None, title: str, folder: str) -> str | None:
    return QFileDialog.getExistingDirectory(parent, title, folder) or None
