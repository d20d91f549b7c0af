"""Runs compared in the Runs tab while the warm-up still imports the training stack: the compare waits for the chart
the warm-up builds in steps (MainWindow._with_chart, as an opened run does), instead of importing pyqtgraph and
building the chart on the click, which froze the window 0.4-0.9 s (benchmarks/compare_latency.py, helper-213). What
is shown once the chart is in is what a compare shows: the runs' curves and eval points, one colour each, the legend,
and the side-by-side rows led by each run's line in its colour. A selection changed while the chart is built is the
one drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from finetune_studio.gui import chart_texts
from finetune_studio.gui.background import IMPORT_LOCK
from tests.core import test_runs_history as fab
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window

FINISHED = {"state": "finished", "message": "Finished.", "model": "builtin:demo", "dataset": "builtin:sample"}


def _runs_tab(qtbot: Any, make_window: Any, runs_dir: Path) -> tuple[Any, dict[str, Path]]:
    paths = {name: fab.make_run(runs_dir, name, fab.segment(2, last), FINISHED)
             for name, last in (("alpha", 20), ("beta", 12), ("gamma", 6))}
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 3 and not panel._task.busy, timeout=LONG)
    return window, paths


def _row_colours(panel: Any) -> dict[str, tuple[str, str]]:
    """Each side-by-side row's run name: (the text it leads with, that text's colour)."""
    document = panel.details.document()
    found = {}
    for row, line in enumerate(panel.details.toPlainText().splitlines()[1:], start=1):
        block = document.findBlockByNumber(row)
        fragment = block.begin().fragment()
        found[line.split()[1]] = (line[:2], fragment.charFormat().foreground().color().name())
    return found


@pytest.mark.slow
def test_runs_compared_during_the_warm_up_wait_for_its_chart(qtbot: Any, make_window: Any, runs_dir: Path,
                                                             dialog_log: DialogLog) -> None:
    window, paths = _runs_tab(qtbot, make_window, runs_dir)
    panel = window.history
    with IMPORT_LOCK:  # the warm-up is busy importing the stack: it waits for this lock
        window.begin_warmup()
        assert window.warmup.running
        panel.select([paths["alpha"], paths["gamma"]])
        assert window.chart is None  # not built on the click
        assert window.chart_placeholder.text() == chart_texts.WAITING
        assert window.warmup._chart_wanted.is_set()  # pyqtgraph is imported next, not after the whole stack
        assert panel.details_title.text() == "<b>2 runs</b> compared on the chart (train loss, with eval loss as dots)."
        panel.select([paths["alpha"], paths["beta"]])  # changed while the chart is built: this one is drawn
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.built and bool(window.chart.overlays),
                    timeout=LONG)
    chart = window.chart
    assert window.chart_area.currentWidget() is chart
    assert sorted(chart.overlays) == ["alpha", "beta"]
    names = [path.name for path in panel.selected_paths()]
    assert [label.text for _, label in chart.legend.items] == names
    from finetune_studio.gui.chart import OVERLAY_COLORS

    assert [chart.overlays[name].color for name in names] == list(OVERLAY_COLORS[:2])
    for name, last in (("alpha", 20), ("beta", 12)):
        x, y = chart.overlays[name].raw.getOriginalDataset()
        assert list(x) == list(range(2, last + 1, 2))
        np.testing.assert_allclose(y, [3.0 / step for step in range(2, last + 1, 2)])
        ex, ey = chart.overlays[name].evals.getOriginalDataset()
        assert list(ex) == [step for step in range(2, last + 1, 2) if step % 10 == 0]
        np.testing.assert_allclose(ey, [4.0 / step for step in ex])
    # The rows shown before the chart was in had no keys; now each leads with its run's line in its colour.
    assert _row_colours(panel) == {name: ("━━", chart.overlays[name].color) for name in ("alpha", "beta")}
    rows = {line.split()[1]: line.split()[2:] for line in panel.details.toPlainText().splitlines()[1:]}
    assert rows["alpha"] == ["finished", "20", "/", "20", "0.1500", "0.2000", "demo"]


@pytest.mark.slow
def test_a_compare_left_before_the_chart_is_in_draws_nothing(qtbot: Any, make_window: Any, runs_dir: Path,
                                                             dialog_log: DialogLog) -> None:
    window, paths = _runs_tab(qtbot, make_window, runs_dir)
    panel = window.history
    with IMPORT_LOCK:
        window.begin_warmup()
        panel.select([paths["alpha"], paths["beta"]])
        assert window.chart is None
        panel.select([paths["gamma"]])  # one run: its details, no comparison
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.built, timeout=LONG)
    qtbot.wait(200)
    assert window.chart.overlays == {}
    assert [label.text for _, label in window.chart.legend.items] == ["train loss", "eval loss"]
    assert panel.details.toPlainText() == (paths["gamma"] / "config.yaml").read_text()
