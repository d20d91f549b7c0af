"""A folder typed without its whole path in the export dialog (helper-114): the export went into the folder the app
was started from, which the dialog shows nowhere, and said "Exported the adapter … to my-export". It is refused
before anything is written, with where it would have gone and the fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_cli_push_export_input import _adapter_run
from tests.core.test_export_replaced_left_h126 import WRITTEN


def press_export(dialog: ExportDialog, qtbot: Any, written: str) -> None:
    """The folder typed as a user types it, Export pressed, and the export (or its refusal) waited for."""
    dialog.out_edit.setText(written)
    dialog.out_edit.textEdited.emit(written)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)


@pytest.mark.parametrize("written", ["my-export", "exports/mine", "./here"])
def test_a_folder_without_its_whole_path_is_refused(written: str, qtbot: Any, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    run = _adapter_run(tmp_path / "runs")
    started_in = tmp_path / "started-in"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    press_export(dialog, qtbot, written)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        f"The folder {written} is not a whole path, so the export would go into the folder the app was started from "
        f"({started_in}), which you did not choose. Nothing was exported. To fix: write the whole path (for example "
        f"{run / written}, or one starting with ~/ for your home folder), or choose the folder with the … button.")
    assert list(started_in.iterdir()) == [] and dialog.result is None
    assert dialog.export_button.isEnabled() and not dialog.busy.isVisible() and dialog.out_edit.text() == written


def test_a_whole_path_and_one_from_home_still_export(qtbot: Any, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run = _adapter_run(tmp_path / "runs")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    for written, out in (("~/exports/mine", tmp_path / "home" / "exports" / "mine"),
                         (str(tmp_path / "with space é 模型"), tmp_path / "with space é 模型")):
        press_export(dialog, qtbot, written)
        assert dialog.message.property("kind") == "success", dialog.message.text()
        assert dialog.result.out_dir == out
        assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors",
                                                         "tokenizer_config.json"]


def test_a_folder_that_holds_files_is_refused_naming_them_and_the_checkbox(qtbot: Any, tmp_path: Path) -> None:
    """Its fix named the command line's --out DIR, and not the checkbox right under the field."""
    run = _adapter_run(tmp_path / "runs")
    taken = tmp_path / "taken"
    (taken / "photos").mkdir(parents=True)
    for name in ("notes.txt", "a.txt", "z.bin"):
        (taken / name).write_text("mine")
    (taken / "adapter_config.json").write_text('{"peft_type": "LORA"}')  # an earlier export: the box is offered
    os.utime(taken, (WRITTEN, WRITTEN))  # its time, said in the refusal
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    press_export(dialog, qtbot, str(taken))
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (f"{taken} exists already and holds a.txt, adapter_config.json, notes.txt and 2 "
                                     "more. It is an earlier export (written 2026-12-05 14:02): an adapter, which "
                                     "does not record which run or checkpoint it was exported from, and no model of "
                                     "the run lora-run has its weights now. Nothing was written. To fix: tick “Delete "
                                     "what the folder holds, then export” if you no longer need what it holds, or "
                                     "choose another folder.")
    assert sorted(p.name for p in taken.iterdir()) == ["a.txt", "adapter_config.json", "notes.txt", "photos", "z.bin"]


def test_the_runs_folder_is_still_refused_as_core_says_without_offering_the_checkbox(qtbot: Any, tmp_path: Path
                                                                                     ) -> None:
    runs = tmp_path / "runs"
    run = _adapter_run(runs)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    press_export(dialog, qtbot, str(runs))
    assert dialog.message.text().startswith(f"Refused to export into {runs}: it holds the run folder {run}, ")
    assert "tick" not in dialog.message.text()
