"""The empty chart's hint ("Press Start: …") stays inside the loss plot's view box at any width: it never runs over
the axes' tick labels (at 900×600 it covered the y axis' "2"), wrapping onto more lines where the plot is narrow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRectF

from finetune_studio.gui import chart_texts
from finetune_studio.gui.chart import LossChart
from tests.helpers import shown, window_on_runs


def hint_rect(chart: LossChart) -> QRectF:
    """The hint as drawn: pyqtgraph places a TextItem (which ignores the view's scaling) when the scene paints."""
    chart.grab()
    text = chart.empty_text
    return text.mapRectToScene(text.boundingRect())


def axes_rects(chart: LossChart) -> dict[str, QRectF]:
    """The loss plot's visible axes as drawn (their tick labels and tick marks) in scene coordinates."""
    plot = chart.loss_plot
    return {name: plot.getAxis(name).sceneBoundingRect() for name in ("left", "right", "bottom", "top")
            if plot.getAxis(name).isVisible()}


def assert_hint_clear_of_axes(chart: LossChart) -> None:
    hint = hint_rect(chart)
    assert chart.empty_text.isVisible() and chart.empty_text.toPlainText() == chart_texts.EMPTY
    assert chart.loss_plot.vb.sceneBoundingRect().contains(hint), (hint, chart.loss_plot.vb.sceneBoundingRect())
    for name, axis in axes_rects(chart).items():
        assert not hint.intersects(axis), (name, hint, axis)


@pytest.mark.parametrize(("width", "height"), [(437, 290), (330, 260), (600, 400), (1200, 700)])
def test_the_hint_stays_inside_the_plot_at_any_width(qtbot: Any, width: int, height: int) -> None:
    chart = shown(qtbot, LossChart(), width, height)
    qtbot.wait(10)  # the layout's resize has reached the view box
    assert_hint_clear_of_axes(chart)


def test_the_hint_keeps_clear_when_the_chart_narrows_and_widens(qtbot: Any) -> None:
    chart = shown(qtbot, LossChart(), 1000, 500)
    one_line = hint_rect(chart).height()
    chart.resize(340, 300)
    qtbot.waitUntil(lambda: chart.loss_plot.vb.sceneBoundingRect().width() < 300, timeout=2000)
    assert_hint_clear_of_axes(chart)
    assert hint_rect(chart).height() > one_line  # wrapped, not cut
    chart.resize(1000, 500)
    qtbot.waitUntil(lambda: chart.loss_plot.vb.sceneBoundingRect().width() > 600, timeout=2000)
    assert_hint_clear_of_axes(chart)
    assert hint_rect(chart).height() == one_line


def test_the_hint_clears_the_axes_in_a_900_by_600_window(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from finetune_studio.gui import background

    window = window_on_runs(qtbot, tmp_path / "runs", monkeypatch)
    try:
        window.resize(900, 600)
        chart = window.install_chart()
        qtbot.waitUntil(lambda: chart.isVisible() and chart.loss_plot.vb.sceneBoundingRect().width() > 100,
                        timeout=5000)
        qtbot.wait(20)
        assert window.size().width() == 900
        assert_hint_clear_of_axes(chart)
    finally:  # the window's checks and previews end before it closes, not in a later test
        window.validator.wait()
        background.wait_idle()
