"""The export dialog as a hostile user meets it (helper-161): core.export's fixes named the command line's --out
("choose a folder you can write to (--out DIR)", "leave --out out for the default …"), a flag the window has none
of; the dialog says them as its folder field and the run's default folder. Pressing Export twice, Escape and
closing while it exports start one export and keep the dialog until it is written."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

import finetune_studio.gui.export_dialog as export_dialog
from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_cli_push_export_input import _adapter_run
from tests.hub_fixtures import make_finished_run


def _dialog(qtbot: Any, run: Path) -> ExportDialog:
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _type(dialog: ExportDialog, folder: Path) -> None:
    dialog.out_edit.setText(str(folder))
    dialog.out_edit.textEdited.emit(str(folder))


def test_a_read_only_folder_is_said_without_the_command_lines_flag(qtbot: Any, tmp_path: Path, monkeypatch) -> None:
    run = _adapter_run(tmp_path / "runs")
    locked = tmp_path / "locked"
    locked.mkdir()
    made = tempfile.mkdtemp

    def read_only(*args: Any, **kwargs: Any) -> str:  # root writes anywhere: the disk's refusal, as EROFS gives it
        if str(kwargs.get("dir", "")).startswith(str(locked)):
            raise OSError(errno.EROFS, "Read-only file system")
        return made(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    dialog = _dialog(qtbot, run)
    _type(dialog, locked / "export")
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting and dialog.message.text() != "", timeout=30_000)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (f"Cannot write to {locked / 'export'}: the disk it is on is read-only. Nothing "
                                     "was written. To fix: choose a folder you can write to.")
    assert not (locked / "export").exists()
    assert dialog.export_button.isEnabled() and dialog.close_button.isEnabled()


def test_a_refused_folders_fix_names_this_kinds_default_folder(qtbot: Any, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run = _adapter_run(runs)
    make_finished_run(runs, "other")
    dialog = _dialog(qtbot, run)
    _type(dialog, runs)
    dialog._check_typed()  # the pause after typing
    said = (f"Refused to export into {runs}: it holds the run folder {run}, and an export replaces everything its "
            "folder holds, which would delete runs (their checkpoints, metrics and models). Nothing was changed. To "
            "fix: choose an empty folder or a new name, or use the default folder, ")
    assert dialog.message.text() == said + f"{run / 'export-adapter'}."
    assert dialog.export_button.toolTip() == said + f"{run / 'export-adapter'}."
    assert not dialog.export_button.isEnabled()
    dialog.merged_radio.setChecked(True)
    assert dialog.out_edit.text() == str(runs)  # typed: it stays
    assert dialog.message.text() == said + f"{run / 'export-merged'}."
    assert dialog.export_button.toolTip() == said + f"{run / 'export-merged'}."
    assert "--out" not in dialog.message.text()


def test_export_pressed_twice_escape_and_close_while_exporting(qtbot: Any, tmp_path: Path, monkeypatch) -> None:
    import threading

    run = _adapter_run(tmp_path / "runs")
    started, release = [], threading.Event()
    real = export_dialog._export

    def held(*args: Any) -> Any:
        started.append(args[1:4])
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(export_dialog, "_export", held)
    dialog = _dialog(qtbot, run)
    out = tmp_path / "out"
    _type(dialog, out)
    dialog.export_button.click()
    dialog.export_button.click()
    dialog.start_export()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    dialog.close()
    assert dialog.isVisible() and dialog.exporting
    assert not dialog.export_button.isEnabled() and not dialog.close_button.isEnabled()
    assert not dialog.out_edit.isEnabled() and not dialog.merged_radio.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert started == [("adapter", out, False)]
    assert dialog.message.property("kind") == "success"
    assert dialog.message.text().startswith("Exported the adapter (")
    assert sorted(p.name for p in out.iterdir()) == dialog.result.files
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert dialog.close_button.isEnabled()
    dialog.close()
    assert not dialog.isVisible()


def test_an_adapter_run_that_does_not_record_its_method_is_not_said_as_full_fine_tuning(qtbot: Any,
                                                                                        tmp_path: Path) -> None:
    """status.json without `method` and config.yaml without adapter.method (a run copied or written by hand):
    method_of_run answers 'full', and the header read 'Run lora-run: Full fine-tuning on org/base'."""
    import json

    run = _adapter_run(tmp_path / "runs")
    dialog = _dialog(qtbot, run)
    assert dialog.run_label.text() == "Run <b>lora-run</b>: LoRA on org/base"
    config = run / "model" / "adapter_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "use_dora": True}))
    assert _dialog(qtbot, run).run_label.text() == "Run <b>lora-run</b>: DoRA on org/base"


def test_cancel_export_stops_it_and_keeps_nothing(qtbot: Any, tmp_path: Path, monkeypatch) -> None:
    """Close is disabled while an export runs (a merge takes minutes for a big model): Cancel export stops it at its
    next stage, with nothing of it kept."""
    import threading

    run = _adapter_run(tmp_path / "runs")
    release = threading.Event()
    real = export_dialog._export

    def held(*args: Any) -> Any:
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(export_dialog, "_export", held)
    dialog = _dialog(qtbot, run)
    assert not dialog.cancel_button.isVisible()
    out = tmp_path / "out"
    _type(dialog, out)
    dialog.export_button.click()
    assert dialog.cancel_button.isVisible() and dialog.cancel_button.isEnabled()
    assert not dialog.close_button.isEnabled()
    dialog.cancel_button.click()
    assert not dialog.cancel_button.isEnabled()
    assert dialog.phase_label.text().startswith("Cancelling…")
    release.set()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "info"
    assert dialog.message.text() == (f"The export of the adapter to {out} was cancelled: nothing of it was written. To "
                                     "export it, press Export again.")
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert not dialog.cancel_button.isVisible() and dialog.close_button.isEnabled()
    assert dialog.export_button.isEnabled() and dialog.result is None
    dialog.export_button.click()  # a new export is not cancelled by the last one's Cancel
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "success" and out.is_dir()


def test_the_merged_tooltip_names_the_dtype_the_export_is_saved_in(qtbot: Any, tmp_path: Path) -> None:
    """It said "saved in the base model's dtype" for every run; the merge loads the base in the run's model.dtype."""
    from html import unescape

    run = _adapter_run(tmp_path / "runs")
    assert "saved in the base model's own dtype (the run's model.dtype is auto):" in \
        unescape(_dialog(qtbot, run).merged_radio.toolTip())
    config = run / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("  dtype: auto\n", "  dtype: bfloat16\n", 1),
                      encoding="utf-8")
    dialog = _dialog(qtbot, run)
    said = ("saved in bfloat16, the dtype the run loaded its base model in (model.dtype in its config.yaml): an "
            "ordinary model folder")
    assert said in unescape(dialog.merged_radio.toolTip()) and said in unescape(dialog.merged_hint.toolTip())
