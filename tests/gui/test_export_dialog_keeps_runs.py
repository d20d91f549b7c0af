"""The export dialog with "Replace what the folder holds" ticked and the runs folder chosen deleted every run and
said it had exported (helper-65): core.export refuses it, and the dialog shows that refusal with every run kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_cli_push_export_input import _adapter_run
from tests.hub_fixtures import make_finished_run


def test_replacing_the_runs_folder_is_refused_in_the_dialog(qtbot: Any, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run = _adapter_run(runs)
    make_finished_run(runs, "other")
    before = sorted(str(p.relative_to(runs)) for p in runs.rglob("*"))
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.out_edit.setText(str(runs))
    dialog.out_edit.textEdited.emit(str(runs))
    dialog.overwrite_check.setChecked(True)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=30_000)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        f"Refused to export into {runs}: it holds the run folder {run}, and an export replaces everything its folder "
        "holds, which would delete runs (their checkpoints, metrics and models). Nothing was changed. To fix: choose "
        f"an empty folder or a new name, or use the default folder, {run / 'export-adapter'}.")
    assert dialog.result is None and not dialog.open_button.isVisible()
    assert sorted(str(p.relative_to(runs)) for p in runs.rglob("*")) == before
    assert (run / "model" / "adapter_model.safetensors").is_file() and (runs / "other" / "config.yaml").is_file()
