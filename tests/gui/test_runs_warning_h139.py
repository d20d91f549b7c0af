"""A run whose state is fine but whose files are not (config.yaml missing or invalid, metrics.jsonl gone or cut short)
shows a warning sign instead of its state's dot in the Runs tab's Status column: 'finished' with a green dot gave no
hint that it cannot be resumed or that its curve stops early, until its tooltip was hovered by chance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QStyle

from finetune_studio.core.runs import summarize
from finetune_studio.gui.history import COLUMN, COLUMNS, RunTableModel
from tests.core.test_runs_history import make_run, segment

FINISHED = {"state": "finished", "message": "Finished 20 steps.", "step": 20, "max_steps": 20}


def image(icon: Any) -> Any:
    return icon.pixmap(16, 16).toImage()


def test_a_run_with_damaged_files_shows_a_warning_sign_and_says_why(qtbot: Any, tmp_path: Path) -> None:
    healthy = summarize(make_run(tmp_path, "healthy", segment(2, 20), FINISHED))
    no_config = summarize(make_run(tmp_path, "no-config", segment(2, 20), FINISHED, config=False))
    no_log = make_run(tmp_path, "no-log", segment(2, 20), FINISHED)
    (no_log / "metrics.jsonl").unlink()
    no_log = summarize(no_log)
    broken = summarize(make_run(tmp_path, "broken", segment(2, 20)))  # no status.json
    model = RunTableModel()
    model.upsert([healthy, no_config, no_log, broken])
    warning = image(QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
    column = COLUMN["state"]
    shown = {model.index(row, 0).data(): model.index(row, column).data(Qt.ItemDataRole.DecorationRole)
             for row in range(4)}
    assert [name for name, icon in shown.items() if image(icon) == warning] == ["no-config", "no-log"]
    assert {model.index(row, column).data() for row in range(3)} == {"finished"}
    assert model.index(1, column).data(Qt.ItemDataRole.ToolTipRole) == no_config.message
    assert "config.yaml is missing" in no_config.message and "metrics.jsonl is missing" in no_log.message
    assert "warning sign" in COLUMNS[column][2]
