"""The Runs tab at the default window size (1280x800): every column that tells a run apart is in view without a
horizontal scroll (how far it got and how long it took first), long names are cut in the middle with the whole name
in the tooltip, a column the user widened keeps its width, and Continue reads as one button ("Train 2 more epochs").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import history
from finetune_studio.gui.history import COLUMN, COLUMNS
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import rows, wait_rows

LONG_NAME = "a-very-long-experiment-name-for-lora-on-the-horoscopes-" + "12345"  # 60 characters
TIP = history.Qt.ItemDataRole.ToolTipRole


@pytest.fixture
def cold_window(make_window: Any) -> Any:
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def _two_runs(runs_dir: Path) -> None:
    runs_dir.mkdir(parents=True)
    finished = {"state": "finished", "message": "Finished 20 steps.", "model": "builtin:demo",
                "dataset": "builtin:sample"}
    fab.make_run(runs_dir, "demo-sample-251205-0140", fab.segment(2, 20), finished)
    fab.make_run(runs_dir, LONG_NAME, fab.segment(2, 12, end="stopped", max_steps=1240),
                 {"state": "interrupted", "message": "Its process ended.", "model": "Qwen/Qwen3-0.6B",
                  "dataset": "/data/horoscopes-" + "x" * 40 + ".jsonl", "method": "lora"})


def _in_view(table: Any, key: str) -> bool:
    header, column = table.horizontalHeader(), COLUMN[key]
    left = header.sectionViewportPosition(column)
    return left >= 0 and left + header.sectionSize(column) <= table.viewport().width()


def test_every_column_is_in_view_at_the_default_size(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _two_runs(runs_dir)
    assert (cold_window.width(), cold_window.height()) == (1280, 800)
    panel, table = cold_window.history, cold_window.history.table
    wait_rows(qtbot, panel, lambda r: len(r) == 2)
    qtbot.waitUntil(lambda: table.viewport().width() > 300, timeout=5_000)
    qtbot.wait(50)
    bar = table.horizontalScrollBar()
    widths = {key: table.columnWidth(COLUMN[key]) for key, _, _ in COLUMNS}
    assert not bar.isVisible() or bar.maximum() == 0, (table.viewport().width(), widths)
    # Columns without a readable width give way whole (35c3500, helper-147); the rest are all in view.
    hidden = [key for key, _, _ in COLUMNS if table.isColumnHidden(COLUMN[key])]
    assert hidden == ["model", "method", "dataset"], (table.viewport().width(), widths)
    assert [key for key, _, _ in COLUMNS if key not in hidden and not _in_view(table, key)] == [], widths
    # How far it got comes before the losses.
    order = [key for key, _, _ in COLUMNS]
    assert order.index("steps") < order.index("train_loss") < order.index("eval_loss")
    # Each short column shows its text whole (as wide as Qt's own measure of its cells, dot included).
    metrics = table.fontMetrics()
    table_rows = rows(panel)
    for key in ("state", "steps", "train_loss", "eval_loss", "duration", "started"):
        assert table.columnWidth(COLUMN[key]) >= table.sizeHintForColumn(COLUMN[key]), key
    assert table_rows[LONG_NAME]["steps"] == "12 / 1,240" and table_rows[LONG_NAME]["method"] == "LoRA"
    # The long name is cut, whole in its tooltip, as are the hidden model and dataset in theirs.
    assert table.textElideMode() == history.Qt.TextElideMode.ElideMiddle
    assert table.columnWidth(COLUMN["name"]) < metrics.horizontalAdvance(LONG_NAME)
    row = table_rows[LONG_NAME]["row"]
    assert panel.proxy.index(row, COLUMN["name"]).data(TIP).startswith(LONG_NAME + "\n")
    assert panel.proxy.index(row, COLUMN["dataset"]).data(TIP) == "/data/horoscopes-" + "x" * 40 + ".jsonl"
    assert panel.proxy.index(row, COLUMN["model"]).data(TIP) == "Qwen/Qwen3-0.6B"


def test_a_column_the_user_widened_keeps_its_width(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _two_runs(runs_dir)
    panel, table = cold_window.history, cold_window.history.table
    wait_rows(qtbot, panel, lambda r: len(r) == 2)
    steps = table.columnWidth(COLUMN["steps"])
    table.horizontalHeader().resizeSection(COLUMN["steps"], steps + 40)  # as a drag of its edge does
    table.horizontalHeader().resizeSection(COLUMN["name"], 300)
    fab.make_run(runs_dir, "a-third-run-with-a-name-longer-than-the-others-by-far", fab.segment(2, 20),
                 {"state": "finished", "model": "builtin:demo", "dataset": "builtin:sample"})
    wait_rows(qtbot, panel, lambda r: len(r) == 3)
    cold_window.resize(1200, 800)  # a refit for the new width leaves them too
    qtbot.wait(100)
    table.sortByColumn(COLUMN["steps"], history.Qt.SortOrder.AscendingOrder)
    assert (table.columnWidth(COLUMN["steps"]), table.columnWidth(COLUMN["name"])) == (steps + 40, 300)


def test_the_start_time_is_short_with_the_full_date_in_its_tooltip(qtbot: Any, cold_window: Any,
                                                                  runs_dir: Path) -> None:
    from datetime import datetime

    now = datetime(2026, 12, 5, 14, 3)
    assert history._started_text(datetime(2026, 12, 5, 9, 7).timestamp(), now) == "09:07"
    assert history._started_text(datetime(2026, 1, 9, 23, 59).timestamp(), now) == "Jan 9 23:59"
    assert history._started_text(datetime(2025, 12, 31, 8, 0).timestamp(), now) == "2025-12-31"
    assert history._started_text(None, now) == "—"
    _two_runs(runs_dir)
    panel = cold_window.history
    table = wait_rows(qtbot, panel, lambda r: len(r) == 2)
    started = datetime.fromtimestamp(fab.T0)
    assert table[LONG_NAME]["started"] == started.strftime("%Y-%m-%d")  # T0 is in 2023
    tip = panel.proxy.index(table[LONG_NAME]["row"], COLUMN["started"]).data(TIP)
    assert tip == started.strftime("%Y-%m-%d %H:%M")


def test_continue_is_one_button_that_says_how_many_epochs(qtbot: Any, cold_window: Any) -> None:
    panel = cold_window.history
    assert panel.continue_button.text() == "Train 1 more epoch"
    panel.continue_epochs.setValue(2)
    assert panel.continue_button.text() == "Train 2 more epochs"
    panel.continue_epochs.setValue(1)
    assert panel.continue_button.text() == "Train 1 more epoch"
    assert not hasattr(panel, "continue_unit")  # no label after the spin box ending the sentence


def _shown_whole(table: Any, index: Any) -> bool:
    """Whether the view draws the cell's text whole: Qt's delegate elides text whose unrounded width is more than
    the item's text rect less its margins (QCommonStyle's viewItemDrawText lays it out in floating point)."""
    from PySide6.QtGui import QFontMetricsF
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    option = QStyleOptionViewItem()
    table.initViewItemOption(option)
    table.itemDelegate().initStyleOption(option, index)
    option.rect = table.visualRect(index)
    style = table.style()
    rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, table)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1
    return QFontMetricsF(option.font).horizontalAdvance(option.text) <= rect.width() - 2 * margin  # unrounded


def test_the_short_columns_show_their_text_whole(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    """The status word beside its dot was cut ('fi…ed' for finished on the screen at 1280x800)."""
    runs_dir.mkdir(parents=True)
    fab.make_run(runs_dir, "first", fab.segment(2, 4, max_steps=4), {"state": "finished", "model": "builtin:demo",
                                                                     "dataset": "builtin:sample"})
    panel, table = cold_window.history, cold_window.history.table
    wait_rows(qtbot, panel, lambda r: len(r) == 1)
    qtbot.wait(50)
    for row in range(panel.proxy.rowCount()):
        for key in ("state", "steps", "train_loss", "eval_loss", "duration", "started"):
            index = panel.proxy.index(row, COLUMN[key])
            assert _shown_whole(table, index), (key, index.data(), table.columnWidth(COLUMN[key]))


def test_widths_set_by_hand_are_kept_for_the_next_session(qtbot: Any, make_window: Any,
                                                          runs_dir: Path) -> None:
    from finetune_studio.gui.settings import settings

    _two_runs(runs_dir)
    first = make_window(warm=False)
    first.tabs.setCurrentWidget(first.history)
    wait_rows(qtbot, first.history, lambda r: len(r) == 2)
    table = first.history.table
    fitted = table.columnWidth(COLUMN["steps"])
    assert settings().value(history.COLUMN_WIDTHS_KEY) is None  # fitting is not the user's hand
    table.horizontalHeader().resizeSection(COLUMN["steps"], fitted + 30)  # as a drag of its edge does
    assert settings().value(history.COLUMN_WIDTHS_KEY) == '{"steps": %d}' % (fitted + 30)

    second = make_window(warm=False)  # the next session
    second.tabs.setCurrentWidget(second.history)
    wait_rows(qtbot, second.history, lambda r: len(r) == 2)
    qtbot.wait(50)
    table = second.history.table
    assert table.columnWidth(COLUMN["steps"]) == fitted + 30
    assert second.history.fit_action in table.horizontalHeader().actions()
    second.history.fit_action.trigger()  # the header's context menu: fit the columns to the tab again
    assert table.columnWidth(COLUMN["steps"]) == fitted
    assert settings().value(history.COLUMN_WIDTHS_KEY) is None
    bar = table.horizontalScrollBar()
    assert not bar.isVisible() or bar.maximum() == 0
