"""A folder typed into the export dialog is checked as one chosen with … is (helper-131): once typing pauses (about
300 ms after the last keystroke) or the field is left, not on every keystroke (each read the folder, its parent and
the run's config on the GUI thread, which on a slow disk made typing stutter), and with the same check: the refusal
of a folder of documents (Export and "Delete what the folder holds" disabled), and what an export killed while
replacing the folder left beside it put back and said, which a typed folder only got when Export was pressed."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from finetune_studio.gui import export_dialog
from finetune_studio.gui.export_dialog import OVERWRITE_TIP, TYPED_CHECK_MS, ExportDialog
from tests.core.test_cli_push_export_input import _adapter_run
from tests.core.test_export_replace_only_exports_h126 import _refusal, _thesis, _tree
from tests.core.test_export_replaced_left_h126 import WEIGHTS, _hidden, _killed_mid_replace, _put_back
from tests.gui.test_export_dialog_replaced_h126 import put_back_then_refused


@pytest.fixture(autouse=True)
def _here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "here")  # _killed_mid_replace's copies are this computer's


def _open(qtbot: Any, run: Path) -> ExportDialog:
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.out_edit.setFocus()
    return dialog


def _type(dialog: ExportDialog, folder: Path | str) -> None:
    """What a user does: select the field's text, delete it, type the folder key by key."""
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Backspace)
    QTest.keyClicks(dialog.out_edit, str(folder))
    assert dialog.out_edit.text() == str(folder)


def _typed_after_a_killed_replace(qtbot: Any, tmp_path: Path) -> tuple[ExportDialog, Path, Path]:
    """(the dialog, the folder typed into it, where a killed replace left the earlier export of that folder)."""
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    aside = _killed_mid_replace(run, out)
    dialog = _open(qtbot, run)
    _type(dialog, out)
    return dialog, out, aside


def test_a_typed_folder_of_documents_is_refused_once_typing_pauses_and_a_new_one_is_taken(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[Path] = []
    real = export_dialog.destination_refusal

    def counted(run_dir: Path, out_dir: Path) -> str | None:
        checked.append(out_dir)
        return real(run_dir, out_dir)

    monkeypatch.setattr(export_dialog, "destination_refusal", counted)
    thesis = tmp_path / "Documents" / "thesis"
    before = _thesis(thesis)
    dialog = _open(qtbot, _adapter_run(tmp_path / "runs"))
    assert dialog.export_button.isEnabled() and dialog.message.isHidden()
    checked.clear()

    _type(dialog, thesis)
    assert checked == []  # no keystroke read the disk
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=5_000)
    assert checked == [thesis]  # one check, of the whole folder typed
    assert dialog.message.property("kind") == "error" and dialog.message.text() == _refusal(thesis)
    assert not dialog.export_button.isEnabled() and dialog.export_button.toolTip() == _refusal(thesis)
    assert not dialog.overwrite_check.isEnabled() and dialog.overwrite_check.toolTip() == _refusal(thesis)
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Return)  # Enter: Export is disabled, nothing happens
    assert not dialog.exporting and _tree(thesis) == before

    fresh = tmp_path / "exports" / "new-model"
    _type(dialog, fresh)
    assert len(checked) == 1  # the check waits for the pause; thesis's refusal went as its text did (helper-135)
    assert dialog.message.isHidden() and dialog.message.text() == "" and dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: len(checked) == 2, timeout=5_000)
    assert checked == [thesis, fresh]
    assert dialog.message.isHidden() and dialog.message.text() == ""
    assert dialog.overwrite_check.isEnabled() and dialog.overwrite_check.toolTip() == OVERWRITE_TIP
    assert dialog.export_button.toolTip() == ""
    qtbot.wait(TYPED_CHECK_MS + 100)
    assert checked == [thesis, fresh]  # and nothing more once done


def test_a_typed_folder_gets_back_the_export_a_killed_replace_moved_aside_after_the_pause(qtbot: Any,
                                                                                          tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    aside = _killed_mid_replace(run, out)
    dialog = _open(qtbot, run)
    assert not out.exists()  # the dialog opened on its own proposal, not on this folder
    _type(dialog, out)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=5_000)
    assert dialog.message.property("kind") == "info" and dialog.message.text() == _put_back(out, aside)
    assert (out / WEIGHTS).read_bytes() == b"the earlier export's weights 0a1b2c3d"
    assert _hidden(out.parent) == []  # the dead export's .partial folder went too
    assert dialog.export_button.isEnabled() and dialog.overwrite_check.isEnabled()


def test_leaving_the_field_checks_the_typed_folder_at_once(qtbot: Any, tmp_path: Path) -> None:
    dialog, out, aside = _typed_after_a_killed_replace(qtbot, tmp_path)
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Tab)  # editingFinished: no pause waited for
    assert dialog.focusWidget() is not dialog.out_edit
    assert dialog.message.text() == _put_back(out, aside) and (out / WEIGHTS).is_file()


def test_enter_right_after_typing_says_what_was_put_back_with_the_exports_outcome(qtbot: Any, tmp_path: Path) -> None:
    dialog, out, aside = _typed_after_a_killed_replace(qtbot, tmp_path)
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Return)  # before the pause: checked, then exported
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == put_back_then_refused(out, aside)
    assert (out / WEIGHTS).read_bytes() == b"the earlier export's weights 0a1b2c3d"


def test_with_the_box_ticked_enter_right_after_typing_first_shows_what_it_deletes(qtbot: Any, tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    earlier = tmp_path / "earlier"
    dialog = _open(qtbot, run)
    _type(dialog, earlier)  # a new folder, exported into
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    (earlier / "keep-me.txt").write_text("a file of the user's, put into the export's folder")
    other = tmp_path / "empty"
    other.mkdir()
    dialog.out_edit.setText(str(other))  # an empty folder: the box may be ticked, and nothing is listed
    dialog.overwrite_check.click()
    assert dialog.overwrite_check.isChecked() and not dialog.delete_warning.isVisible()

    dialog.out_edit.setFocus()
    _type(dialog, earlier)
    assert not dialog.delete_warning.isVisible()  # not the previous folder's names while this one is unchecked
    dialog.export_button.click()  # before the pause: the folder is checked, and what the box deletes shown first
    assert not dialog.exporting and (earlier / "keep-me.txt").is_file()
    assert dialog.delete_warning.isVisible() and dialog.delete_warning.text() == (
        "Exporting will delete what this folder holds now: adapter_config.json, adapter_model.safetensors, "
        "keep-me.txt and 1 more.")
    dialog.export_button.click()  # seen: the second press exports
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert not (earlier / "keep-me.txt").exists() and (earlier / WEIGHTS).is_file()


def test_closing_while_a_typed_folder_waits_for_its_check(qtbot: Any, tmp_path: Path) -> None:
    dialog = _open(qtbot, _adapter_run(tmp_path / "runs"))
    _type(dialog, tmp_path / "half-typ")
    dialog.close()  # deleted on close, its timer with it
    qtbot.wait(TYPED_CHECK_MS + 100)
