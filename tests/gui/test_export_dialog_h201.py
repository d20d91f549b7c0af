"""The export dialog refuses another run's model or checkpoint folder as the folder is chosen (helper-201): with
"Delete what the folder holds, then export" ticked, an export there replaced that run's trained model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.export_dialog import ExportDialog
from tests.core.test_export_other_run_h201 import _adapter_run, _digest

pytestmark = pytest.mark.usefixtures("drain_background")


def test_another_runs_model_folder_is_refused_before_export_is_pressed(qtbot: Any, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run = _adapter_run(runs, "lora-run", b"mine")
    other = _adapter_run(runs, "other-run", b"them")
    before = _digest(other)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.out_edit.setText(str(other / "model"))  # as the … button sets it
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        f"Refused to export into {other / 'model'}: it is inside the model folder of another run, other-run "
        f"({other}), which Resume, the Try tab and a push of that run read as they are; an export there would replace "
        "or mix into that run's saved model. Nothing was changed. To fix: export to a folder outside it, or use the "
        f"default folder, {run / 'export-adapter'}.")
    assert (dialog.export_button.isEnabled(), dialog.overwrite_check.isEnabled()) == (False, False)
    if os.environ.get("H201_SHOT"):
        dialog.resize(640, dialog.sizeHint().height())
        qtbot.wait(200)
        dialog.grab().save(os.environ["H201_SHOT"])
    dialog.start_export()  # Enter, or a caller: nothing starts
    assert not dialog.exporting and _digest(other) == before
    dialog.out_edit.setText(str(tmp_path / "exports" / "mine"))  # a folder of its own: offered again
    assert dialog.export_button.isEnabled() and not dialog.message.isVisible()
