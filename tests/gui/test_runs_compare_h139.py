"""Comparing runs in the Runs tab with many selected: the chart draws the curves the listing already folded (each
run's summary, read off the GUI thread), and at most history.COMPARE_MAX runs, the first in the table's order, with
the title saying so. Before, every selection read each compared run's metrics.jsonl again on the GUI thread, and
Ctrl+A on 320 runs drew 320 lines (10.4 s with the window frozen, 5.7 s more to take them off)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from finetune_studio.gui import history
from tests.core import test_runs_history as fab
from tests.helpers import window_on_runs

FINISHED = {"state": "finished", "message": "Finished.", "model": "builtin:demo", "dataset": "builtin:sample"}


def listed_window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> tuple[Any, Path]:
    runs = tmp_path / "runs"
    for i in range(count):
        fab.make_run(runs, f"run-{i:02d}", fab.segment(2, 2 + 2 * (i % 5)), FINISHED)
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == count and not panel._task.busy, timeout=20_000)
    panel._poll.stop()
    return window, runs


def test_compared_curves_come_from_the_listing_not_a_read_on_the_gui_thread(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    window, runs = listed_window(qtbot, tmp_path, monkeypatch, 3)
    panel = window.history
    reads: list[Path] = []
    monkeypatch.setattr(history, "read_metrics", lambda path, *a: reads.append(path) or ([], 0))
    panel.select([runs / "run-00", runs / "run-02"])
    assert reads == []  # the GUI thread read no log
    chart = window.chart
    assert sorted(chart.overlays) == ["run-00", "run-02"]
    x, y = chart.overlays["run-02"].raw.getOriginalDataset()
    assert list(x) == [2, 4, 6] and np.allclose(y, [1.5, 0.75, 0.5])
    ex, ey = chart.overlays["run-02"].evals.getOriginalDataset()
    assert ex is None or list(ex) == []  # no eval before step 10
    assert list(chart.overlays["run-00"].raw.getOriginalDataset()[0]) == [2]  # one logged point


def test_at_most_compare_max_runs_are_compared_and_the_title_says_which(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    count = history.COMPARE_MAX + 5
    window, runs = listed_window(qtbot, tmp_path, monkeypatch, count)
    panel = window.history
    panel.table.selectAll()
    order = [Path(p).name for p in map(str, panel.selected_paths())]
    assert len(order) == count
    chart = window.chart
    assert list(chart.overlays) == order[:history.COMPARE_MAX]
    looks = {(overlay.color, overlay.style) for overlay in chart.overlays.values()}
    assert len(looks) == history.COMPARE_MAX  # no two compared runs share a line
    assert panel.details_title.text() == (
        f"<b>{count} runs</b> selected: the chart compares the first {history.COMPARE_MAX} in the table's order "
        f"(train loss, with eval loss as dots); past {history.COMPARE_MAX} runs would share a line's colour and "
        f"style. To compare others, select {history.COMPARE_MAX} or fewer.")
    rows = panel.details.toPlainText().splitlines()[1:]
    assert [row.split()[1] for row in rows] == order[:history.COMPARE_MAX]
    assert panel.delete_button.isEnabled()  # Delete still acts on every selected run
    panel.select([runs / "run-01", runs / "run-03"])
    assert sorted(chart.overlays) == ["run-01", "run-03"]
    assert panel.details_title.text() == "<b>2 runs</b> compared on the chart (train loss, with eval loss as dots)."


def test_the_comparison_follows_a_growing_run_and_stays_where_it_was_scrolled(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    window, runs = listed_window(qtbot, tmp_path, monkeypatch, 30)
    panel = window.history
    window.resize(900, 600)
    panel.table.selectAll()
    bar = panel.details.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=5_000)
    bar.setValue(bar.maximum())
    kept = bar.value()
    line = next(row for row in panel.details.toPlainText().splitlines() if " run-07 " in f" {row} ")
    assert line.split()[3:6] == ["6", "/", "20"]
    with open(runs / "run-07" / "metrics.jsonl", "a") as handle:  # another process still writing it
        handle.write(json.dumps({"event": "step", "step": 8, "max_steps": 20, "time": 2e9}) + "\n")
        handle.write(json.dumps({"event": "log", "step": 8, "loss": 0.125, "time": 2e9}) + "\n")
    panel._poll.start()
    qtbot.waitUntil(lambda: len(window.chart.overlays["run-07"].x) == 4, timeout=10_000)
    line = next(row for row in panel.details.toPlainText().splitlines() if " run-07 " in f" {row} ")
    assert line.split()[3:7] == ["8", "/", "20", "0.1250"]
    assert bar.value() == kept
