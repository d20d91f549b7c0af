"""The Runs tab on a wide (1920x1080) window: the table takes the tab's whole width, columns hidden for lack of
room come back when the tab gets the room (and give way again when it narrows), and the panel says how wide the tab
must be for every column (HistoryPanel.wanted_width), which the window's forms column can give it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.history import COLUMN, COLUMNS
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import wait_rows


@pytest.fixture
def cold_window(make_window: Any) -> Any:
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def _runs(runs_dir: Path, count: int = 30) -> None:
    runs_dir.mkdir(parents=True)
    for i in range(count):
        fab.make_run(runs_dir, f"Qwen3-0.6B-horoscopes-2612{i:02d}-1202", fab.segment(2, 20),
                     {"state": "finished", "message": "Finished 20 steps.", "model": "Qwen/Qwen3-0.6B",
                      "dataset": "/data/horoscopes-2026.jsonl", "method": "lora"})


def _hidden(table: Any) -> list[str]:
    return [key for key, _, _ in COLUMNS if table.isColumnHidden(COLUMN[key])]


def _settle(qtbot: Any, window: Any) -> None:
    qtbot.wait(50)
    window.history._fit_columns([])  # as the resize did; a second pass sees the scroll bar settled
    qtbot.wait(50)


def test_columns_hidden_for_room_come_back_on_a_wide_window(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _runs(runs_dir)
    panel, table, window = cold_window.history, cold_window.history.table, cold_window
    wait_rows(qtbot, panel, lambda r: len(r) == 30)
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.width() == 1920, timeout=5_000)
    page = panel.parentWidget()  # the tab widget's page stack: no maximum width between it and the table
    assert panel.maximumWidth() >= 16_777_215 and table.maximumWidth() >= 16_777_215
    frame = window.tabs.width() - page.width()

    window.splitter.setSizes([600, 1320])  # the tab of a 1280 px window's first split
    _settle(qtbot, window)
    assert panel.width() == page.width() and table.width() == panel.width() - 12  # the table spans the tab
    assert _hidden(table) == ["model", "method", "dataset"]
    narrow = page.width()
    wanted = panel.wanted_width()
    assert wanted > narrow

    window.splitter.setSizes([wanted + frame, 1920 - wanted - frame])  # the room every column needs
    _settle(qtbot, window)
    assert page.width() >= wanted
    assert _hidden(table) == []  # they came back
    header = table.horizontalHeader()
    for key, _, _ in COLUMNS:  # each whole and in view, with no sideways scroll
        assert table.columnWidth(COLUMN[key]) >= table.sizeHintForColumn(COLUMN[key]), key
        assert header.sectionViewportPosition(COLUMN[key]) + header.sectionSize(COLUMN[key]) \
            <= table.viewport().width(), key
    assert table.horizontalScrollBar().maximum() == 0
    assert "Hidden for room" not in panel.model.hidden_note

    window.splitter.setSizes([600, 1320])  # narrowed again: they give way again
    _settle(qtbot, window)
    assert _hidden(table) == ["model", "method", "dataset"]
    assert panel.column_actions["model"].text() == "Model (hidden: no room)"
