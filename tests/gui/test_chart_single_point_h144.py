"""A curve of one logged point is drawn as a dot in its run's colour (a line needs two points), for a compared run
on the Runs tab as for the live chart, and the dot goes once the curve has two points."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor

from finetune_studio.gui.chart import OVERLAY_COLORS, TRAIN_COLOR, LossChart
from tests.helpers import shown


@pytest.fixture
def chart(qtbot: Any) -> LossChart:
    return shown(qtbot, LossChart(), 900, 500)


def _look(item: Any) -> tuple[Any, str | None, list[float], list[float]]:
    x, y = item.getData()
    brush = item.opts.get("symbolBrush")
    color = None if brush is None else pg.mkBrush(brush).color().name()
    return item.opts.get("symbol"), color, [] if x is None else list(x), [] if y is None else list(y)


def test_a_compared_run_with_one_point_is_a_dot_until_it_has_two(chart: LossChart) -> None:
    chart.set_overlays({"one": (np.array([5.0]), np.array([2.0])), "two": (np.array([1.0, 2.0]), np.array([3.0, 2.5]))})
    one, two = chart.overlays["one"], chart.overlays["two"]
    assert (one.color, two.color) == OVERLAY_COLORS[:2]
    assert _look(one.smooth) == ("o", OVERLAY_COLORS[0], [5.0], [2.0])
    assert one.smooth.scatter.isVisible() and len(one.smooth.scatter.data) == 1  # drawn: one spot
    assert _look(two.smooth)[0] is None and not two.smooth.scatter.isVisible()
    # The run grows (still training): a line now, no dot.
    chart.set_overlays({"one": (np.array([5.0, 10.0]), np.array([2.0, 1.5])),
                        "two": (np.array([1.0, 2.0]), np.array([3.0, 2.5]))})
    assert chart.overlays["one"] is one and one.smooth.opts.get("symbol") is None
    assert list(one.smooth.getData()[0]) == [5.0, 10.0] and not one.smooth.scatter.isVisible()


def test_the_live_curve_with_one_point_is_a_dot_until_it_has_two(chart: LossChart) -> None:
    chart.add_event({"event": "log", "step": 3, "loss": 2.0, "learning_rate": 1e-4})
    chart._redraw()
    assert _look(chart.smooth_curve) == ("o", QColor(TRAIN_COLOR).name(), [3.0], [2.0])
    chart.add_event({"event": "log", "step": 6, "loss": 1.0, "learning_rate": 1e-4})
    chart._redraw()
    assert chart.smooth_curve.opts.get("symbol") is None and list(chart.smooth_curve.getData()[0]) == [3.0, 6.0]
