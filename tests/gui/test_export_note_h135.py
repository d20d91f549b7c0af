"""The export dialog's note always describes the folder now in its 'Into' field (helper-135). A note of one folder (its
refusal, what was put back beside it, that it is not a whole path, that it holds files) stayed shown after the user
typed or chose another one: for the pause before a typed folder is checked, and after it too when the new folder got
no note of its own (a put-back note stayed until the next export), and Export stayed disabled by the old folder's
refusal meanwhile. Now the note and the refusal go as the text leaves their folder, the new folder's come with its
check; a finished export's message stays (the outcome, with Open folder and the load line)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from finetune_studio.gui import export_dialog
from finetune_studio.gui.export_dialog import OVERWRITE_TIP, TYPED_CHECK_MS, ExportDialog, relative_text
from tests.core.test_cli_push_export_input import _adapter_run
from tests.core.test_export_replace_only_exports_h126 import _refusal, _thesis
from tests.core.test_export_replaced_left_h126 import WEIGHTS, _killed_mid_replace, _put_back
from tests.gui.test_export_typed_h131 import _open


@pytest.fixture(autouse=True)
def _here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "here")  # _killed_mid_replace's copies are this computer's


def _no_note(dialog: ExportDialog) -> None:
    assert dialog.message.text() == "" and dialog.message.isHidden()


def _free(dialog: ExportDialog) -> None:
    """No refusal holds Export or the box: enabled, with their own tooltips."""
    assert dialog.export_button.isEnabled() and dialog.export_button.toolTip() == ""
    assert dialog.overwrite_check.isEnabled() and dialog.overwrite_check.toolTip() == OVERWRITE_TIP


def _refused(dialog: ExportDialog, folder: Path) -> None:
    assert dialog.message.isVisible() and dialog.message.property("kind") == "error"
    assert dialog.message.text() == _refusal(folder)
    assert not dialog.export_button.isEnabled() and dialog.export_button.toolTip() == _refusal(folder)
    assert not dialog.overwrite_check.isEnabled() and dialog.overwrite_check.toolTip() == _refusal(folder)


def _type_watching(dialog: ExportDialog, folder: Path | str) -> None:
    """The field cleared and `folder` typed key by key, as a user types it (faster than the pause): after every
    keystroke no note is shown (none of the folder left, and the one typed is not checked yet), and Export is
    enabled whenever the field holds text (no refusal of the folder left holds it)."""
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Backspace)
    assert dialog.out_edit.text() == ""
    _no_note(dialog)
    assert not dialog.export_button.isEnabled() and dialog.export_button.toolTip() == ""  # nothing to export into
    for key in str(folder):
        QTest.keyClicks(dialog.out_edit, key)
        _no_note(dialog)
        _free(dialog)
    assert dialog.out_edit.text() == str(folder)


def _checked(qtbot: Any) -> None:
    qtbot.wait(TYPED_CHECK_MS + 200)  # the pause's check has run


def test_a_refused_folders_note_goes_as_another_is_typed_and_the_new_ones_comes_with_its_check(
        qtbot: Any, tmp_path: Path) -> None:
    thesis, letters = tmp_path / "Documents" / "thesis", tmp_path / "Documents" / "letters"
    _thesis(thesis)
    _thesis(letters)
    dialog = _open(qtbot, _adapter_run(tmp_path / "runs"))
    _type_watching(dialog, thesis)
    _checked(qtbot)
    _refused(dialog, thesis)

    _type_watching(dialog, letters)  # refused too: thesis's refusal is not shown meanwhile, nor holds Export
    _checked(qtbot)
    _refused(dialog, letters)

    fresh = tmp_path / "exports" / "new-model"
    _type_watching(dialog, fresh)
    _checked(qtbot)
    _no_note(dialog)
    _free(dialog)


def test_a_put_back_note_goes_when_another_folder_is_typed(qtbot: Any, tmp_path: Path) -> None:
    """The folder typed next has no note of its own: the put-back note of the one before stayed for good."""
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    aside = _killed_mid_replace(run, out)
    dialog = _open(qtbot, run)
    _type_watching(dialog, out)
    _checked(qtbot)
    assert dialog.message.property("kind") == "info" and dialog.message.text() == _put_back(out, aside)
    assert dialog.message.isVisible() and (out / WEIGHTS).is_file()

    _type_watching(dialog, tmp_path / "exports" / "other")
    _checked(qtbot)
    _no_note(dialog)
    _free(dialog)


def test_a_slash_typed_after_the_folder_keeps_its_note(qtbot: Any, tmp_path: Path) -> None:
    """The same folder written another way is not another folder: its note stays, and so does its refusal."""
    thesis = tmp_path / "thesis"
    _thesis(thesis)
    dialog = _open(qtbot, _adapter_run(tmp_path / "runs"))
    _type_watching(dialog, thesis)
    _checked(qtbot)
    QTest.keyClicks(dialog.out_edit, "/")
    _refused(dialog, thesis)
    _checked(qtbot)
    _refused(dialog, thesis)


def test_leaving_the_field_shows_the_typed_folders_note_at_once(qtbot: Any, tmp_path: Path) -> None:
    thesis = tmp_path / "thesis"
    _thesis(thesis)
    dialog = _open(qtbot, _adapter_run(tmp_path / "runs"))
    _type_watching(dialog, tmp_path / "new")
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Tab)  # editingFinished
    _no_note(dialog)
    dialog.out_edit.setFocus()
    _type_watching(dialog, thesis)
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Tab)
    _refused(dialog, thesis)


def test_the_notes_export_says_of_a_folder_go_when_another_is_typed(qtbot: Any, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """That it is not a whole path, that it holds files besides an earlier export: said when Export is pressed."""
    run = _adapter_run(tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    dialog = _open(qtbot, run)
    _type_watching(dialog, "my-export")
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Return)
    assert dialog.message.property("kind") == "error" and dialog.message.text() == relative_text("my-export", run)
    assert dialog.message.isVisible()

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "adapter_config.json").write_text('{"peft_type": "LORA"}')  # an earlier export and a file: not refused
    (taken / "notes.txt").write_text("mine")
    _type_watching(dialog, taken)
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "error" and dialog.message.isVisible()
    assert dialog.message.text().startswith(f"{taken} exists already and holds adapter_config.json, notes.txt.")

    _type_watching(dialog, tmp_path / "new")
    _checked(qtbot)
    _no_note(dialog)
    _free(dialog)


def test_a_finished_exports_message_stays_when_another_folder_is_typed(qtbot: Any, tmp_path: Path) -> None:
    """The outcome, not a note of the folder: it stays with Open folder and the load line (as before)."""
    dialog = _open(qtbot, _adapter_run(tmp_path / "runs"))
    done = tmp_path / "done"
    dialog.out_edit.setText(str(done))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    said = dialog.message.text()
    assert dialog.message.property("kind") == "success" and str(done) in said
    dialog.out_edit.setFocus()
    QTest.keyClicks(dialog.out_edit, "-2")
    _checked(qtbot)
    assert dialog.message.text() == said and dialog.message.isVisible()
    _free(dialog)

    thesis = tmp_path / "thesis"
    _thesis(thesis)
    QTest.keyClick(dialog.out_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(dialog.out_edit, str(thesis))
    _checked(qtbot)
    _refused(dialog, thesis)  # a refusal of the folder now in the field is said over it


def test_choosing_another_folder_with_browse_replaces_the_note(qtbot: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    aside = _killed_mid_replace(run, out)
    thesis = tmp_path / "thesis"
    _thesis(thesis)
    fresh = tmp_path / "exports" / "fresh"
    chosen: list[Path] = []
    monkeypatch.setattr(export_dialog.dialogs, "choose_folder", lambda *_: str(chosen.pop(0)))
    dialog = _open(qtbot, run)

    chosen.append(out)
    dialog.choose_button.click()
    assert dialog.message.property("kind") == "info" and dialog.message.text() == _put_back(out, aside)
    _free(dialog)
    chosen.append(fresh)
    dialog.choose_button.click()  # no note of its own: the put-back note of the folder before stayed
    _no_note(dialog)
    _free(dialog)
    chosen.append(thesis)
    dialog.choose_button.click()
    _refused(dialog, thesis)
    chosen.append(fresh)
    dialog.choose_button.click()
    _no_note(dialog)
    _free(dialog)


def test_the_proposal_that_follows_the_kind_gets_its_own_note(qtbot: Any, tmp_path: Path) -> None:
    """Merged model picked: the proposed folder becomes export-merged, checked as the dialog checks the folder it
    opens on (what a killed replace left beside it put back and said); export-adapter's note went with it."""
    run = _adapter_run(tmp_path / "runs")
    adapter_out, merged_out = run / "export-adapter", run / "export-merged"
    adapter_aside = _killed_mid_replace(run, adapter_out)
    dialog = _open(qtbot, run)
    assert dialog.out_edit.text() == str(adapter_out)
    assert dialog.message.property("kind") == "info" and dialog.message.text() == _put_back(adapter_out, adapter_aside)

    dialog.merged_radio.click()  # nothing beside export-merged: no note
    assert dialog.out_edit.text() == str(merged_out)
    _no_note(dialog)
    _free(dialog)

    merged_aside = _killed_mid_replace(run, merged_out, token="4e5f6a7b")
    dialog.adapter_radio.click()
    _no_note(dialog)
    dialog.merged_radio.click()
    assert dialog.out_edit.text() == str(merged_out)
    assert dialog.message.property("kind") == "info" and dialog.message.text() == _put_back(merged_out, merged_aside)
    assert (merged_out / WEIGHTS).read_bytes() == b"the earlier export's weights 4e5f6a7b"
    _free(dialog)


def test_the_pause_check_leaves_the_text_being_typed_as_it_is(qtbot: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """It judges the folder the text names (~ expanded, spaces around it dropped) and rewrites nothing in the field."""
    monkeypatch.setenv("HOME", str(tmp_path))
    _thesis(tmp_path / "thesis")
    dialog = _open(qtbot, _adapter_run(tmp_path / "runs"))
    for written in ("~/thes", "~/thesis ", "~/thesis/"):
        _type_watching(dialog, written)
        _checked(qtbot)
        assert dialog.out_edit.text() == written and dialog.out_edit.cursorPosition() == len(written)
    _refused(dialog, tmp_path / "thesis")
