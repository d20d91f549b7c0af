"""Issue 12 item 14, 'size the columns to be read': the Runs tab's run name is always readable. With 10,000-step
runs the Steps column ('10,000 / 10,000') and the others left the Run column 48 px in the ~596 px tab of a 1280x800
window ('Ll…11'). Now the name's column is never narrower than a generated name's date and time, a name too wide is
cut keeping its end (the date, the number), model and dataset (then method, eval, start) give way first, and past
that the table scrolls sideways; every cell's whole text is its tooltip. Checked in the real window at 900x600,
1280x800 and a wide tab, with short (20-step) and long (10,000-step) runs and a 66-character name."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from finetune_studio.gui import history
from finetune_studio.gui.history import CELL_PAD, COLUMN, COLUMNS
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window  # fixtures
from tests.gui.test_history import wait_rows

TIP = history.Qt.ItemDataRole.ToolTipRole
DATE = "…000000-0000"  # the floor of the name column: a generated name's date and time after an ellipsis
LONG = "Llama-3.2-1B-Instruct-support-tickets-2026-lr3e-4-r16-261204-0915"  # 66 characters
RUNS = (  # name, model, dataset, state, method
    ("Qwen3-0.6B-horoscopes-261203-1202", "Qwen/Qwen3-0.6B", "/data/horoscopes.jsonl", "interrupted", "lora"),
    ("demo-sample-261203-1430", "builtin:demo", "builtin:sample", "finished", "full"),
    (LONG, "meta-llama/Llama-3.2-1B-Instruct", "/data/support-tickets-2026.jsonl", "failed", "qlora"),
    ("Qwen3-0.6B-horoscopes-261203-1202-2", "Qwen/Qwen3-0.6B", "/data/horoscopes.jsonl", "stopped", "lora"),
)


@pytest.fixture
def cold_window(make_window: Any) -> Any:
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def _make_runs(runs_dir: Path, steps: int) -> None:
    runs_dir.mkdir(parents=True)
    for name, model, dataset, state, method in RUNS:
        fab.make_run(runs_dir, name, fab.segment(2, steps, end=state, max_steps=steps),
                     {"state": state, "message": f"The run is {state}.", "model": model, "dataset": dataset,
                      "method": method})


def _option(table: Any, index: Any) -> QStyleOptionViewItem:
    option = QStyleOptionViewItem()
    table.initViewItemOption(option)
    option.rect = table.visualRect(index)
    return option


def _text_room(table: Any, index: Any) -> float:
    """The width the view's style lays a cell's text out in (QCommonStyle: the text rect less its margins)."""
    option = _option(table, index)
    table.itemDelegateForIndex(index).initStyleOption(option, index)
    style = table.style()
    rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, table)
    return rect.width() - 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1)


def _shown(panel: Any) -> dict[str, str]:
    """Each run's name as the Run column draws it."""
    table, proxy = panel.table, panel.proxy
    out = {}
    for row in range(proxy.rowCount()):
        index = proxy.index(row, COLUMN["name"])
        delegate = getattr(panel, "name_delegate", None)  # (before it: Qt's own eliding in the middle)
        out[index.data()] = delegate.shown_text(_option(table, index), index) if delegate else \
            QFontMetricsF(table.font()).elidedText(index.data(), table.textElideMode(), _text_room(table, index))
    return out


def _settle(qtbot: Any, panel: Any, count: int) -> Any:
    wait_rows(qtbot, panel, lambda r: len(r) == count, timeout=20_000)
    qtbot.waitUntil(lambda: panel.table.viewport().width() > 300, timeout=5_000)
    qtbot.wait(100)
    return panel.table


def _floor(table: Any) -> int:
    return math.ceil(QFontMetricsF(table.font()).horizontalAdvance(DATE)) + CELL_PAD


def _check_names_readable(panel: Any) -> dict[str, str]:
    """Every name drawn whole, or cut keeping at least its last 11 characters (its date and time), within the
    room the style gives its text; the whole name in its tooltip."""
    table, proxy = panel.table, panel.proxy
    metrics = QFontMetricsF(table.font())
    shown = _shown(panel)
    for row in range(proxy.rowCount()):
        index = proxy.index(row, COLUMN["name"])
        name, text = index.data(), shown[index.data()]
        assert metrics.horizontalAdvance(text) <= _text_room(table, index), (name, text)
        assert text == name or (text.endswith(name[-11:]) and "…" in text), (name, text)
        assert index.data(TIP).startswith(name + "\n")
    return shown


def _check_tooltips(panel: Any) -> None:
    proxy = panel.proxy
    for row in range(proxy.rowCount()):
        for key in ("model", "dataset", "steps", "train_loss", "eval_loss", "duration"):
            index = proxy.index(row, COLUMN[key])
            if index.data() not in ("", "—"):
                assert index.data(TIP), key
        for key in ("steps", "eval_loss", "duration"):
            index = proxy.index(row, COLUMN[key])
            assert index.data(TIP) == index.data(), key  # the whole text, where the column may cut it


def test_tail_elided_keeps_the_end_of_a_name(qapp: Any) -> None:
    from PySide6.QtGui import QFont

    metrics = QFontMetricsF(QFont())
    tail_elided = history.tail_elided
    name = RUNS[0][0]
    assert tail_elided(name, metrics, metrics.horizontalAdvance(name)) == name
    assert history.NAME_FLOOR_SAMPLE == DATE
    floor = metrics.horizontalAdvance(DATE) + 1
    assert tail_elided(name, metrics, floor) == "…261203-1202"
    wider = tail_elided(name, metrics, 150)
    assert wider.startswith("Qwen") and wider.endswith("261203-1202") and metrics.horizontalAdvance(wider) <= 150
    half = tail_elided(LONG, metrics, 300)  # wide: the end keeps half the room
    assert metrics.horizontalAdvance(half) <= 300
    assert metrics.horizontalAdvance(half[half.index("…") + 1:]) >= 150 - metrics.horizontalAdvance("WW")


def test_long_runs_at_1280x800_keep_the_names_readable(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _make_runs(runs_dir, 10_000)
    assert (cold_window.width(), cold_window.height()) == (1280, 800)
    panel = cold_window.history
    table = _settle(qtbot, panel, len(RUNS))
    widths = {key: table.columnWidth(COLUMN[key]) for key, _, _ in COLUMNS}
    assert widths["name"] >= _floor(table) > 48, widths  # it was 48 px: 'Ll…11'
    hidden = [key for key, _, _ in COLUMNS if table.isColumnHidden(COLUMN[key])]
    assert hidden == ["model", "method", "dataset", "duration"], widths  # they give way whole (35c3500, helper-147)
    assert panel.proxy.index(0, COLUMN["steps"]).data() == "10,000 / 10,000"
    shown = _check_names_readable(panel)
    assert shown["Qwen3-0.6B-horoscopes-261203-1202"] != shown["Qwen3-0.6B-horoscopes-261203-1202-2"]
    assert shown[LONG].endswith("261204-0915")
    _check_tooltips(panel)
    model = panel.proxy.index(0, COLUMN["model"])
    assert model.data(TIP) in {run[1] for run in RUNS}


def test_long_runs_in_a_900x600_window_keep_the_name_and_hide_what_has_no_room(
        qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _make_runs(runs_dir, 10_000)
    cold_window.resize(900, 600)
    panel = cold_window.history
    table = _settle(qtbot, panel, len(RUNS))
    assert table.columnWidth(COLUMN["name"]) >= _floor(table)
    shown = [key for key, _, _ in COLUMNS if not table.isColumnHidden(COLUMN[key])]
    assert shown == ["name", "state", "steps", "train_loss"]  # the rest give way whole (35c3500, helper-147)
    assert table.horizontalScrollBar().maximum() == 0  # nothing left behind a sideways scroll
    assert table.horizontalScrollMode() == history.QAbstractItemView.ScrollMode.ScrollPerPixel
    assert table.horizontalHeader().sectionViewportPosition(COLUMN["name"]) == 0
    _check_names_readable(panel)


def test_short_runs_at_1280x800_keep_every_column_in_view(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _make_runs(runs_dir, 20)
    panel = cold_window.history
    table = _settle(qtbot, panel, len(RUNS))
    assert table.columnWidth(COLUMN["name"]) >= _floor(table)
    bar = table.horizontalScrollBar()
    assert not bar.isVisible() or bar.maximum() == 0, {k: table.columnWidth(COLUMN[k]) for k, _, _ in COLUMNS}
    _check_names_readable(panel)
    _check_tooltips(panel)


def test_a_wide_tab_shows_the_names_whole(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _make_runs(runs_dir, 10_000)
    cold_window.resize(1920, 1080)
    cold_window.splitter.setSizes([1100, 820])
    panel = cold_window.history
    table = _settle(qtbot, panel, len(RUNS))
    qtbot.waitUntil(lambda: table.viewport().width() > 1000, timeout=5_000)
    qtbot.wait(100)
    shown = _check_names_readable(panel)
    assert {name: text for name, text in shown.items() if name != LONG} == {run[0]: run[0] for run in RUNS[:2]} | {
        RUNS[3][0]: RUNS[3][0]}
    bar = table.horizontalScrollBar()
    assert not bar.isVisible() or bar.maximum() == 0


def test_a_name_column_the_user_narrowed_keeps_its_width(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _make_runs(runs_dir, 10_000)
    panel = cold_window.history
    table = _settle(qtbot, panel, len(RUNS))
    table.horizontalHeader().resizeSection(COLUMN["name"], 60)  # as a drag of its edge does
    cold_window.resize(1200, 800)
    qtbot.wait(100)
    assert table.columnWidth(COLUMN["name"]) == 60
    panel.fit_columns_to_tab()
    assert table.columnWidth(COLUMN["name"]) >= _floor(table)
