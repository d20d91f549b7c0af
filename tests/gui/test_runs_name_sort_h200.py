"""The Runs tab sorted by its Run column lists names as a file manager does: numbers by their value and any case
('run-2' before 'run-10'), not 'run-1, run-10, run-11, run-2'. Fabricated runs (tests/core/test_runs_history.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.history import COLUMN, Qt
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import wait_rows

pytestmark = pytest.mark.usefixtures("drain_background")

FINISHED = {"state": "finished", "message": "Finished 4 steps.", "step": 4, "max_steps": 4,
            "model": "builtin:demo", "dataset": "builtin:sample"}
NAMES = ["run-1", "run-2", "run-10", "Run-11", "run-100", "lr-3e-5", "lr-1e-4", "qwen-0.6b-261205-0901",
         "qwen-0.6b-261205-1402", "qwen-14b-261204-2230"]


def test_the_run_column_sorts_numbers_by_their_value(qtbot: Any, make_window: Any, runs_dir: Path) -> None:
    for name in NAMES:
        fab.make_run(runs_dir, name, fab.segment(2, 4, max_steps=4), FINISHED)
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    wait_rows(qtbot, panel, lambda r: len(r) == len(NAMES))
    panel.table.sortByColumn(COLUMN["name"], Qt.SortOrder.AscendingOrder)
    shown = [panel.proxy.index(row, COLUMN["name"]).data() for row in range(panel.proxy.rowCount())]
    assert shown == ["lr-1e-4", "lr-3e-5", "qwen-0.6b-261205-0901", "qwen-0.6b-261205-1402", "qwen-14b-261204-2230",
                     "run-1", "run-2", "run-10", "Run-11", "run-100"]
    panel.table.sortByColumn(COLUMN["name"], Qt.SortOrder.DescendingOrder)
    shown = [panel.proxy.index(row, COLUMN["name"]).data() for row in range(panel.proxy.rowCount())]
    assert shown[:4] == ["run-100", "Run-11", "run-10", "run-2"]
