"""Issue 12 item 14, 'size the columns to be read', in a narrow Runs tab: columns that cannot get a readable width
give way whole (Dataset, Model, Method, then Time, Eval, Started) instead of being squeezed to 'm…t', so the run name
shows its start and its date; they come back when the tab widens. The header's context menu shows and hides columns
(Run always), remembered in the app's settings; what is hidden is in the Run cell's tooltip, the header's tooltip
and the menu. Checked in the real window at 900x600, 1280x800 and 1920x1080 (a default and a wide tab), with
20-step and 10,000-step runs and a 66-character name."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF

from finetune_studio.gui import history
from finetune_studio.gui.history import CELL_PAD, COLUMN, COLUMNS
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_runs_columns_h144 import LONG, RUNS, _make_runs, _option, _settle, _text_room

TIP = Qt.ItemDataRole.ToolTipRole
ALL = [key for key, _, _ in COLUMNS]


@pytest.fixture
def cold_window(make_window: Any) -> Any:
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def _hidden(table: Any) -> list[str]:
    return [key for key in ALL if table.horizontalHeader().isSectionHidden(COLUMN[key])]


def _check_view(panel: Any) -> None:
    """No sideways scrolling; every shown column in view; every name drawn as tail_elided cuts it, keeping its start
    (8 characters at least) and its date and time, within the style's room for its text."""
    table, proxy = panel.table, panel.proxy
    header = table.horizontalHeader()
    assert table.horizontalScrollBar().maximum() == 0
    for key in ALL:
        if not header.isSectionHidden(COLUMN[key]):
            assert header.sectionViewportPosition(COLUMN[key]) + header.sectionSize(COLUMN[key]) \
                <= table.viewport().width(), key
    metrics = QFontMetricsF(table.font())
    for row in range(proxy.rowCount()):
        index = proxy.index(row, COLUMN["name"])
        name, room = index.data(), _text_room(table, index)
        text = panel.name_delegate.shown_text(_option(table, index), index)
        assert text == history.tail_elided(name, metrics, room), name
        assert metrics.horizontalAdvance(text) <= room
        assert text == name or (text[:8] == name[:8] and text.endswith(name[-11:]) and "…" in text), (name, text)


def _menu(panel: Any) -> dict[str, tuple[str, bool]]:
    return {key: (action.text(), action.isChecked()) for key, action in panel.column_actions.items()}


def test_long_runs_at_1280x800_hide_whole_columns_for_the_name(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _make_runs(runs_dir, 10_000)
    assert (cold_window.width(), cold_window.height()) == (1280, 800)
    panel = cold_window.history
    table = _settle(qtbot, panel, len(RUNS))
    assert _hidden(table) == ["model", "method", "dataset", "duration"]  # HIDE_ORDER's first four
    _check_view(panel)
    readable = math.ceil(QFontMetricsF(table.font()).horizontalAdvance(history.NAME_READABLE_SAMPLE)) + CELL_PAD
    assert table.columnWidth(COLUMN["name"]) >= readable > 101  # it was 101: '…261212-2111'
    shown = {panel.proxy.index(r, 0).data(): panel.name_delegate.shown_text(
        _option(table, panel.proxy.index(r, 0)), panel.proxy.index(r, 0)) for r in range(panel.proxy.rowCount())}
    assert shown[LONG].startswith("Llama-3.2-1B") and shown[LONG].endswith("-261204-0915"), shown[LONG]
    # What is hidden is reachable: the Run cell's tooltip, the header's tooltip, the menu.
    row = next(r for r in range(panel.proxy.rowCount()) if panel.proxy.index(r, 0).data() == LONG)
    tip = panel.proxy.index(row, COLUMN["name"]).data(TIP).split("\n")
    assert tip[0] == LONG and tip[1] == str(runs_dir / LONG)
    time = panel.proxy.index(row, COLUMN["duration"]).data()
    assert tip[2:] == ["Model: meta-llama/Llama-3.2-1B-Instruct", "Method: QLoRA",
                       "Dataset: support-tickets-2026.jsonl", f"Time: {time}"]
    header_tip = panel.proxy.headerData(COLUMN["name"], Qt.Orientation.Horizontal, TIP)
    assert header_tip.startswith("The run's folder name\n\nHidden for room: Model, Method, Dataset, Time (they show "
                                 "again when the tab is wider). Right-click the header")
    assert panel.proxy.headerData(COLUMN["steps"], Qt.Orientation.Horizontal, TIP).endswith(header_tip[23:])
    assert _menu(panel) == {
        "state": ("Status", True), "model": ("Model (hidden: no room)", False),
        "method": ("Method (hidden: no room)", False), "dataset": ("Dataset (hidden: no room)", False),
        "steps": ("Steps", True), "train_loss": ("Loss", True), "eval_loss": ("Eval", True),
        "duration": ("Time (hidden: no room)", False), "started": ("Started", True)}
    header_actions = table.horizontalHeader().actions()
    assert [a.text() for a in header_actions if not a.isSeparator()][-2:] == [
        "Show the columns that fit the tab", "Fit the columns to the tab"]
    # The details below a selected run: its config, with model, method and dataset.
    panel.select([runs_dir / LONG])
    qtbot.waitUntil(lambda: "model" in panel.details.toPlainText(), timeout=5_000)
    assert panel.details.toPlainText() == (runs_dir / LONG / "config.yaml").read_text()

    # A wide tab (1920x1080, the splitter moved): every column comes back and the notes go.
    cold_window.resize(1920, 1080)
    cold_window.splitter.setSizes([1100, 820])
    qtbot.waitUntil(lambda: _hidden(table) == [], timeout=5_000)
    _check_view(panel)
    assert panel.proxy.headerData(COLUMN["name"], Qt.Orientation.Horizontal, TIP) == "The run's folder name"
    assert all(checked for _, checked in _menu(panel).values())
    assert panel.proxy.index(row, COLUMN["name"]).data(TIP).split("\n")[-1] == "Dataset: support-tickets-2026.jsonl"
    assert min(table.columnWidth(COLUMN[k]) for k in ("model", "dataset")) > 100
    from finetune_studio.gui.settings import settings

    # Hiding and showing sections for room is not the user's hand: no width or choice was saved.
    assert (settings().value(history.COLUMN_WIDTHS_KEY), settings().value(history.COLUMNS_SHOWN_KEY)) == (None, None)
    cold_window.splitter.setSizes([700, 1220])  # narrower again: Dataset gives way first
    qtbot.waitUntil(lambda: "dataset" in _hidden(table), timeout=5_000)
    _check_view(panel)


@pytest.mark.parametrize("steps, size, hidden", [
    (20, (900, 600), ["model", "method", "dataset", "eval_loss", "duration", "started"]),
    (10_000, (900, 600), ["model", "method", "dataset", "eval_loss", "duration", "started"]),
    (20, (1280, 800), ["model", "method", "dataset"]),
    (20, (1920, 1080), []),  # the first split gives the forms half the width past 1280 px: every column whole
])
def test_sizes_and_run_lengths(qtbot: Any, cold_window: Any, runs_dir: Path, steps: int, size: tuple[int, int],
                               hidden: list[str]) -> None:
    _make_runs(runs_dir, steps)
    cold_window.resize(*size)
    panel = cold_window.history
    table = _settle(qtbot, panel, len(RUNS))
    assert _hidden(table) == hidden, {k: table.columnWidth(COLUMN[k]) for k in ALL}
    _check_view(panel)
    for key in ("state", "steps", "train_loss"):  # what stays is shown whole
        assert table.columnWidth(COLUMN[key]) >= table.sizeHintForColumn(COLUMN[key]), key


def test_the_menu_shows_and_hides_columns_for_this_session_and_the_next(qtbot: Any, make_window: Any,
                                                                        runs_dir: Path) -> None:
    from finetune_studio.gui.settings import settings

    _make_runs(runs_dir, 10_000)
    first = make_window(warm=False)
    first.tabs.setCurrentWidget(first.history)
    panel = first.history
    table = _settle(qtbot, panel, len(RUNS))
    assert "name" not in panel.column_actions  # the Run column always shows
    assert settings().value(history.COLUMNS_SHOWN_KEY) is None  # hiding for room is not a choice
    panel.column_actions["model"].trigger()  # checks it: shown though there is little room
    assert _hidden(table) == ["method", "dataset", "eval_loss", "duration", "started"]  # the others give way for it
    assert table.columnWidth(COLUMN["model"]) > history.MODEL_FLOOR
    panel.column_actions["eval_loss"].trigger()  # checks it: shown
    panel.column_actions["eval_loss"].trigger()  # and unchecks it: hidden by choice
    assert json.loads(settings().value(history.COLUMNS_SHOWN_KEY)) == {"model": True, "eval_loss": False}
    assert _hidden(table) == ["method", "dataset", "eval_loss", "duration", "started"]
    assert _menu(panel)["model"] == ("Model", True) and _menu(panel)["eval_loss"] == ("Eval", False)
    assert "Hidden by you: Eval." in panel.proxy.headerData(0, Qt.Orientation.Horizontal, TIP)
    assert table.columnWidth(COLUMN["model"]) >= history.MODEL_FLOOR
    cells = {key: panel.proxy.index(0, COLUMN[key]).data() for key in ("eval_loss", "duration")}
    started = panel.proxy.index(0, COLUMN["started"]).data(TIP)  # the full date and time
    assert panel.proxy.index(0, COLUMN["name"]).data(TIP).split("\n")[5:] == [
        f"Eval: {cells['eval_loss']}", f"Time: {cells['duration']}", f"Started: {started}"]
    assert len(started) == 16

    second = make_window(warm=False)  # the next session keeps the choice
    second.tabs.setCurrentWidget(second.history)
    table = _settle(qtbot, second.history, len(RUNS))
    assert _hidden(table) == ["method", "dataset", "eval_loss", "duration", "started"]
    assert _menu(second.history)["eval_loss"] == ("Eval", False)
    second.history.auto_columns_action.trigger()  # forget the choices: by the tab's width again
    assert settings().value(history.COLUMNS_SHOWN_KEY) is None
    assert _hidden(table) == ["model", "method", "dataset", "duration"]
    _check_view(second.history)
    settings().setValue(history.COLUMNS_SHOWN_KEY, "not json")  # unreadable: ignored
    assert second.history._chosen_columns() == {}
