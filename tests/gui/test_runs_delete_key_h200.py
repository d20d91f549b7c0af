"""The Runs tab by keyboard: the Delete key in the table deletes the selected runs as the Delete… button does,
asking first; on a run that trains it deletes nothing and the status bar says why. It did nothing at all.
Fabricated runs (tests/core/test_runs_history.py's builders)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import history
from finetune_studio.gui.history import Qt
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import rows, wait_rows

pytestmark = pytest.mark.usefixtures("drain_background")

DEMO = {"model": "builtin:demo", "dataset": "builtin:sample"}


def test_the_delete_key_deletes_the_selected_runs_after_asking(qtbot: Any, make_window: Any, runs_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a-run", "b-run"):
        fab.make_run(runs_dir, name, fab.segment(2, 20), {"state": "finished", "message": "Finished.", **DEMO})
    live = fab.make_run(runs_dir, "c-live", fab.segment(2, 4, end=None),
                        {"state": "running", "pid": os.getpid(), "message": "Training", **DEMO})
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    wait_rows(qtbot, panel, lambda r: sorted(r) == ["a-run", "b-run", "c-live"])
    panel.table.sortByColumn(history.COLUMN["name"], Qt.SortOrder.AscendingOrder)
    asked: list[list[str]] = []
    answer = [False]
    monkeypatch.setattr(history, "confirm_delete", lambda parent, names: asked.append(names) or answer[0])
    panel.table.setFocus()
    panel.table.setCurrentIndex(panel.proxy.index(0, 0))  # a-run, as a click or the arrow keys leave it
    assert [path.name for path in panel.selected_paths()] == ["a-run"]

    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)  # asked; cancelled: nothing deleted
    assert asked == [["a-run"]] and (runs_dir / "a-run").is_dir()
    answer[0] = True
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert asked[-1] == ["a-run"] and not (runs_dir / "a-run").exists()
    assert sorted(rows(panel)) == ["b-run", "c-live"]
    assert window.statusBar().currentMessage() == "Deleted a-run."

    panel.select([live])
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)  # training: not asked, not deleted, said why
    assert len(asked) == 2 and live.is_dir()
    assert window.statusBar().currentMessage() == "A run that is training cannot be deleted: stop it first."
