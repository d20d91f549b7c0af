"""The export dialog refuses a folder that holds files and no earlier export as soon as it is in the field, before
Export is pressed (helper-126): its "Delete what the folder holds, then export" deleted any folder's contents. The
box is unticked and disabled, Export is disabled, and the message line says core.export's refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_cli_push_export_input import _adapter_run
from tests.core.test_export_replace_only_exports_h126 import _refusal, _thesis, _tree
from tests.gui.test_export_dialog_width_h115 import _export_into


def _type(dialog: ExportDialog, folder: Path) -> None:
    dialog.out_edit.setText(str(folder))
    dialog.out_edit.textEdited.emit(str(folder))


def test_a_folder_of_documents_is_refused_before_export_is_pressed(qtbot: Any, tmp_path: Path) -> None:
    dialog = ExportDialog(_adapter_run(tmp_path / "runs"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    thesis = tmp_path / "Documents" / "thesis"
    before = _thesis(thesis)
    earlier = tmp_path / "earlier"
    _export_into(dialog, qtbot, earlier)

    dialog.overwrite_check.click()  # ticked for the earlier export, then the thesis is picked
    assert dialog.overwrite_check.isChecked() and dialog.delete_warning.isVisible()
    _type(dialog, thesis)
    assert dialog.message.isVisible() and dialog.message.property("kind") == "error"
    assert dialog.message.text() == _refusal(thesis)
    assert not dialog.overwrite_check.isChecked() and not dialog.overwrite_check.isEnabled()
    assert not dialog.export_button.isEnabled() and dialog.export_button.toolTip() == _refusal(thesis)
    assert not dialog.delete_warning.isVisible()
    dialog.overwrite_check.click()  # disabled: stays unticked
    dialog.export_button.click()
    dialog.start_export()  # Enter, or a caller: refused the same
    assert not dialog.exporting and not dialog.overwrite_check.isChecked()
    assert _tree(thesis) == before

    _type(dialog, earlier)  # an earlier export: the box is offered again, the refusal is gone
    assert not dialog.message.isVisible() and dialog.message.text() == ""
    assert dialog.overwrite_check.isEnabled() and dialog.export_button.isEnabled()
    dialog.overwrite_check.click()
    assert dialog.delete_warning.text() == ("Exporting will delete what this folder holds now: adapter_config.json, "
                                            "adapter_model.safetensors, tokenizer_config.json.")
    _export_into(dialog, qtbot, earlier)
    _type(dialog, tmp_path / "new")  # a new name: exported into
    assert dialog.overwrite_check.isEnabled() and dialog.export_button.isEnabled()
    assert dialog.message.property("kind") == "success"  # the last export's message is not cleared by typing


def test_the_runs_folder_is_refused_before_pressing_in_its_own_words(qtbot: Any, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run = _adapter_run(runs)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    _type(dialog, runs)
    assert dialog.message.property("kind") == "error" and not dialog.message.isHidden()
    assert dialog.message.text().startswith(f"Refused to export into {runs}: it holds the run folder {run}, ")
    assert not dialog.overwrite_check.isEnabled() and not dialog.export_button.isEnabled()
