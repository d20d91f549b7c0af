"""The loss chart on its own: resumed runs draw one clean curve, smoothing is incremental and exact, overlays.

The chart is built standalone (no main window, no training stack); data is fabricated events, as a run's
metrics.jsonl holds them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from finetune_studio.core.runs import read_metrics
from finetune_studio.gui import chart as chart_module
from finetune_studio.gui.chart import (
    OVERLAY_COLORS,
    LossChart,
    Series,
    debiased,
    ema,
    run_upper,
    steady_range,
    steady_upper,
)
from finetune_studio.gui.decimation import PeakLevels
from tests.helpers import shown


@pytest.fixture
def chart(qtbot: Any) -> LossChart:
    return shown(qtbot, LossChart(), 900, 500)


def reference_ema(y: np.ndarray, weight: float, start: float = 0.0) -> np.ndarray:
    out, value = [], start
    for v in y:
        value = weight * value + (1 - weight) * v
        out.append(value)
    return np.array(out)


def log(step: int, loss: float, **extra: Any) -> dict:
    return {"event": "log", "step": step, "loss": loss, "learning_rate": 1e-3, "grad_norm": 1.0, **extra}


@pytest.mark.parametrize("weight", [0.0, 0.01, 0.3, 0.6, 0.9, 0.99])
def test_vectorized_ema_matches_the_recurrence(weight: float) -> None:
    rng = np.random.default_rng(1)
    y = 3 * np.exp(-np.arange(20_000) / 5_000) + rng.random(20_000)
    np.testing.assert_allclose(ema(y, weight, 0.7), reference_ema(y, weight, 0.7), rtol=1e-12)
    np.testing.assert_allclose(ema(y[:3], weight, 2.0), reference_ema(y[:3], weight, 2.0), rtol=1e-12)
    assert len(ema(np.empty(0), weight)) == 0


def test_series_replaces_repeated_steps_and_tracks_the_cut() -> None:
    series = Series(capacity=4)
    for step in (2, 4, 6, 8, 10):
        series.append(step, step / 10)
    series.take_changed_from()
    series.append(6, 99.0)  # a resumed run logs step 6 again: 6, 8, 10 go, the new 6 stays
    x, y = series.view()
    assert list(x) == [2, 4, 6] and list(y) == [0.2, 0.4, 99.0]
    assert series.take_changed_from() == 2 and series.take_changed_from() == 3  # reset after reading
    series.truncate_after(4)
    assert list(series.view()[0]) == [2, 4] and series.take_changed_from() == 2


def write_metrics(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_a_killed_and_resumed_run_loads_as_one_clean_curve(chart: LossChart, tmp_path: Path) -> None:
    # Segment 1 logs to step 40 and is killed (no end event); its last checkpoint is step 30. Segment 2 resumes
    # from checkpoint-30, logs 32..40 again with other values, then stops at 50. Segment 3 resumes from 50.
    first = [{"event": "run_start", "resume_from": None}, {"event": "train_begin", "step": 0, "start_step": 0}]
    first += [log(s, 10.0 / s) for s in range(2, 41, 2)]
    first += [{"event": "eval", "step": 20, "eval_loss": 0.6}, {"event": "checkpoint", "step": 30},
              {"event": "eval", "step": 40, "eval_loss": 0.5}]
    second = [{"event": "run_start", "resume_from": "checkpoint-30"},
              {"event": "train_begin", "step": 30, "start_step": 30}]
    second += [log(s, 20.0 / s) for s in range(32, 51, 2)]
    second += [{"event": "eval", "step": 50, "eval_loss": 0.4},
               {"event": "end", "state": "stopped", "step": 50}]
    third = [{"event": "run_start", "resume_from": "checkpoint-50"},
             {"event": "train_begin", "step": 50, "start_step": 50}]
    third += [log(s, 20.0 / s) for s in range(52, 61, 2)] + [{"event": "end", "state": "finished", "step": 60}]
    path = write_metrics(tmp_path / "metrics.jsonl", first + second + third)

    chart.load_events(read_metrics(path)[0])
    x, y = chart.raw_curve.getOriginalDataset()
    assert list(x) == list(range(2, 61, 2))  # strictly increasing: nothing drawn twice, nothing lost
    expected = [10.0 / s if s <= 30 else 20.0 / s for s in range(2, 61, 2)]
    np.testing.assert_allclose(y, expected)  # 32..40 come from the resumed attempt
    ex, ey = chart.eval_points.getOriginalDataset()
    assert list(ex) == [20, 50] and list(ey) == [0.6, 0.4]  # the killed attempt's eval at 40 is gone
    assert list(chart.lr.view()[0]) == list(range(2, 61, 2)) and chart.grad.size == 30
    weight = chart.smoothing.value() / 100
    np.testing.assert_allclose(chart.smooth_curve.getOriginalDataset()[1],
                               debiased(reference_ema(np.array(expected), weight), weight), rtol=1e-12)


def test_repeated_steps_without_a_train_begin_replace_the_old_ones(chart: LossChart, qtbot: Any) -> None:
    for step in range(1, 11):
        chart.add_event(log(step, 1.0))
    for step in range(6, 13):  # re-logged after a kill, as a follower reading the file sees it
        chart.add_event(log(step, 2.0))
    qtbot.waitUntil(lambda: chart.point_count == 12, timeout=2_000)
    x, y = chart.raw_curve.getOriginalDataset()
    assert list(x) == list(range(1, 13)) and list(y) == [1.0] * 5 + [2.0] * 7


class Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        self.count += event.type() == QEvent.Type.Paint
        return False


def test_a_log_event_that_moves_the_axes_paints_the_chart_once(chart: LossChart, qtbot: Any) -> None:
    """Live training draws every logged point as it comes; each paint is GUI-thread time taken from training."""
    chart.add_event({"event": "train_begin", "step": 0, "max_steps": 2_000, "start_step": 0})
    for step in range(10, 60, 10):
        chart.add_event(log(step, 3.0 - step / 100))
    qtbot.wait(200)
    paints = Paints()
    chart.plots.viewport().installEventFilter(paints)
    before = (chart.loss_plot.vb.viewRange(), chart.lower_plot.vb.viewRange())
    chart.add_event(log(70, 0.5, learning_rate=5.0, grad_norm=9.0))  # new x, loss, lr and grad-norm ranges
    qtbot.wait(200)
    assert (chart.loss_plot.vb.viewRange(), chart.lower_plot.vb.viewRange()) != before
    assert chart.loss_plot.vb.viewRange()[0] == pytest.approx([0, 127.5])  # 2,000 steps halved 4 times, + 2 %
    assert paints.count == 1


def test_smoothing_is_extended_not_recomputed_each_frame(chart: LossChart, qtbot: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lengths: list[int] = []
    real = chart_module.ema
    monkeypatch.setattr(chart_module, "ema", lambda y, *a: lengths.append(len(y)) or real(y, *a))
    rng = np.random.default_rng(2)
    losses = 2 + rng.random(10_003)
    chart.load_events(log(s, float(losses[s - 1])) for s in range(1, 10_001))
    assert lengths == [10_000]
    for s in (10_001, 10_002, 10_003):
        chart.add_event(log(s, float(losses[s - 1])))
    chart._redraw()
    assert lengths == [10_000, 3]  # a frame smooths only the new points
    chart.add_event({"event": "train_begin", "step": 9_990, "start_step": 9_990})  # resumed from 9990
    chart.add_event(log(9_991, 5.0))
    chart._redraw()
    assert lengths[-1] == 1  # from the first replaced point on, not from the start
    weight = chart.smoothing.value() / 100
    y = np.append(losses[:9_990], 5.0)
    np.testing.assert_allclose(chart.smoothed_loss, debiased(reference_ema(y, weight), weight), rtol=1e-10)
    chart.smoothing.setValue(90)  # the slider recomputes everything, once
    assert lengths[-1] == 9_991
    np.testing.assert_allclose(chart.smoothed_loss, debiased(reference_ema(y, 0.9), 0.9), rtol=1e-10)


def test_overlays_draw_each_run_in_its_colour_with_a_legend(chart: LossChart, qtbot: Any) -> None:
    chart.load_events([log(s, 1.0) for s in range(1, 5)] + [{"event": "eval", "step": 4, "eval_loss": 1.1}])
    assert [label.text for _, label in chart.legend.items] == ["train loss", "eval loss"]
    curves = {f"run-{i}": (np.arange(1.0, 11.0), np.linspace(3, 1, 10) + i) for i in range(3)}
    evals = {"run-0": (np.array([5.0, 10.0]), np.array([2.5, 1.5]))}
    chart.set_overlays(curves, evals)

    assert list(chart.overlays) == ["run-0", "run-1", "run-2"]
    assert [label.text for _, label in chart.legend.items] == ["run-0", "run-1", "run-2"]
    for i, overlay in enumerate(chart.overlays.values()):
        x, y = overlay.raw.getOriginalDataset()
        np.testing.assert_array_equal(x, curves[overlay.name][0])
        np.testing.assert_array_equal(y, curves[overlay.name][1])
        weight = chart.smoothing.value() / 100
        np.testing.assert_allclose(overlay.smooth.getOriginalDataset()[1],
                                   debiased(reference_ema(y, weight), weight))
        assert overlay.color == OVERLAY_COLORS[i] and overlay.smooth.opts["pen"].color().name() == OVERLAY_COLORS[i]
        assert overlay.smooth.isVisible()
    assert list(chart.overlays["run-0"].evals.getOriginalDataset()[1]) == [2.5, 1.5]
    assert chart.overlays["run-1"].evals.getOriginalDataset()[0] is None or \
        len(chart.overlays["run-1"].evals.getOriginalDataset()[0]) == 0
    # The shown run and its lower plot step aside while runs are compared.
    assert not chart.smooth_curve.isVisible() and not chart.eval_points.isVisible()
    assert not chart.lower_plot.isVisible() and not chart.empty_text.isVisible()

    # Hover: the box lists every run at the nearest step.
    qtbot.waitUntil(lambda: chart.loss_plot.vb.sceneBoundingRect().width() > 100, timeout=2_000)
    chart._mouse_moved((chart.loss_plot.vb.mapViewToScene(QPointF(5.2, 2.0)),))
    assert chart.readout_text.splitlines()[0] == "step 5"
    assert "run-2: loss 4.1111" in chart.readout_text

    # Updating one run's data keeps the items; removing a run removes its items and legend entry.
    item = chart.overlays["run-1"].raw
    removed = chart.overlays["run-2"]
    curves["run-1"] = (np.arange(1.0, 12.0), np.linspace(3, 1, 11))
    chart.set_overlays({k: curves[k] for k in ("run-0", "run-1")})
    assert chart.overlays["run-1"].raw is item and len(item.getOriginalDataset()[0]) == 11
    assert [label.text for _, label in chart.legend.items] == ["run-0", "run-1"]
    assert item in chart.loss_plot.items
    assert not {removed.raw, removed.smooth, removed.evals} & set(chart.loss_plot.items)

    chart.clear_overlays()
    assert chart.overlays == {} and item not in chart.loss_plot.items
    assert [label.text for _, label in chart.legend.items] == ["train loss", "eval loss"]
    assert chart.smooth_curve.isVisible() and chart.lower_plot.isVisible() and chart.point_count == 4


def test_clear_also_ends_a_comparison(chart: LossChart) -> None:
    chart.set_overlays({"a": (np.arange(3.0), np.ones(3)), "b": (np.arange(3.0), np.ones(3))})
    assert not chart.empty_text.isVisible()
    chart.clear()
    assert chart.overlays == {} and chart.empty_text.isVisible()
    assert [label.text for _, label in chart.legend.items] == ["train loss", "eval loss"]


def test_peak_levels_hold_block_extremes_and_update_only_from_the_change() -> None:
    rng = np.random.default_rng(3)
    x = np.arange(1.0, 5_001.0)
    y = rng.random(5_000)
    levels = PeakLevels()
    levels.update(x[:3_000], y[:3_000], 0)
    levels.update(x, y, 3_000)  # points appended
    y2 = y.copy()
    y2[2_500:] = y2[2_500:] + 10  # a resume replaced the points from index 2500 on
    levels.update(x, y2, 2_500)
    for factor in (16, 256, 4096):
        lx, ly = levels.view(factor)
        blocks = -(-5_000 // factor)
        assert len(lx) == 2 * blocks
        np.testing.assert_array_equal(lx[::2], x[::factor])
        for b in (0, blocks // 2, blocks - 1):
            chunk = y2[b * factor: (b + 1) * factor]
            assert (ly[2 * b], ly[2 * b + 1]) == (chunk.min(), chunk.max())
    assert levels.bounds() == (y2.min(), y2.max())
    assert levels.choose(visible_points=100_000, pixels=900) == 16  # blocks at most half a pixel column wide
    assert levels.choose(visible_points=100_000, pixels=400) == 64
    assert levels.choose(visible_points=1_000, pixels=900) == 1  # few points in view: the raw curve


def test_steady_axes_move_in_steps_not_with_every_point() -> None:
    assert steady_upper(339) == 350 and steady_upper(100_001) == 110_000 and steady_upper(5) == 6
    # A run of known length: the step axis halves down from the whole run, so it moves 4 times in 200 steps.
    uppers = [run_upper(step, 200) / 1.02 for step in range(10, 201, 10)]  # 2 % of room past each
    assert sorted(set(uppers)) == [12.5, 25, 50, 100, 200] and uppers[-1] == 200 and uppers == sorted(uppers)
    assert run_upper(100, 200) == 102 and run_upper(101, 200) == 204
    assert run_upper(250, 200) == steady_upper(250)  # past its end (a log from before a shorter resume)
    assert steady_range((0.4, 3.2), 0.5, 3.0) is None  # data inside and filling the range: keep it
    low, high = steady_range((0.4, 3.2), 0.3, 3.0)  # a new lowest loss: 5 % of room below and above
    assert low == pytest.approx(0.3 - 0.135) and high == pytest.approx(3.0 + 0.135)
    assert steady_range((0.0, 30.0), 1.0, 2.0) == pytest.approx((0.95, 2.05))  # data shrank (a new run)


def double_click(widget: QWidget, pos: QPoint) -> None:
    """What a window system sends: press, release, double-click, release. (QTest.mouseDClick sends a second press
    before the double-click, which pyqtgraph's scene takes for a single click.)"""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, buttons in ((QEvent.Type.MouseButtonPress, left), (QEvent.Type.MouseButtonRelease, none),
                          (QEvent.Type.MouseButtonDblClick, left), (QEvent.Type.MouseButtonRelease, none)):
        QApplication.sendEvent(widget, QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), left,
                                                   buttons, Qt.KeyboardModifier.NoModifier))


def test_a_long_run_is_drawn_decimated_and_zooming_in_shows_every_point(chart: LossChart, qtbot: Any) -> None:
    rng = np.random.default_rng(4)
    losses = 2 + rng.random(100_000)
    chart.load_events(log(s, float(losses[s - 1])) for s in range(1, 100_001))
    x, y = chart.raw_curve.getOriginalDataset()
    assert 1_000 < len(x) < 20_000  # an envelope, not 100k points
    assert y.min() == losses.min() and y.max() == losses.max()  # every extreme is still on screen
    assert chart.loss_plot.vb.viewRange()[0] == [0.0, 110_000.0]
    low, high = chart.loss_plot.vb.viewRange()[1]
    assert low < losses.min() and high > losses.max()

    chart.loss_plot.vb.setXRange(50_000, 50_300, padding=0)  # as a mouse zoom does
    chart.loss_plot.vb.sigRangeChangedManually.emit([True, True])
    qtbot.waitUntil(lambda: len(chart.raw_curve.getOriginalDataset()[0]) == 100_000, timeout=2_000)
    for step in range(100_001, 100_011):  # the run goes on: a zoomed view stays where the user put it
        chart.add_event(log(step, 1.0))
    chart._redraw()
    assert chart.loss_plot.vb.viewRange()[0] == pytest.approx([50_000, 50_300])

    double_click(chart.plots.viewport(), chart.plots.mapFromScene(chart.loss_plot.vb.sceneBoundingRect().center()))
    assert chart.loss_plot.vb.viewRange()[0] == [0.0, 110_000.0]
    assert chart.loss_plot.vb.viewRange()[1][0] < 1.0


def test_overlay_colours_stay_with_their_run_when_another_is_added(chart: LossChart) -> None:
    """Issue 12 item 14: the Runs tab lists the newest run first, so selecting one more run puts it ahead of the
    others; the runs already compared must keep their colours (and a freed colour is reused)."""
    curve = (np.arange(5.0), np.linspace(3, 1, 5))
    chart.set_overlays({"older": curve, "old": curve})
    before = {name: overlay.color for name, overlay in chart.overlays.items()}
    assert before == {"older": OVERLAY_COLORS[0], "old": OVERLAY_COLORS[1]}
    chart.set_overlays({"newest": curve, "older": curve, "old": curve})
    colours = {name: overlay.color for name, overlay in chart.overlays.items()}
    assert colours == {**before, "newest": OVERLAY_COLORS[2]}
    assert chart.overlays["older"].smooth.opts["pen"].color().name() == OVERLAY_COLORS[0]
    assert list(chart.overlays) == ["newest", "older", "old"]  # the legend still follows the table's order
    chart.set_overlays({"newest": curve, "old": curve})
    chart.set_overlays({"newest": curve, "old": curve, "other": curve})
    assert {n: o.color for n, o in chart.overlays.items()} == {"newest": OVERLAY_COLORS[2], "old": OVERLAY_COLORS[1],
                                                              "other": OVERLAY_COLORS[0]}


def _axis_labels(axis: Any) -> list[str]:
    """Every tick label the axis draws at its current range and size (all tick levels)."""
    low, high = axis.range
    size = axis.geometry().height() if axis.orientation in ("left", "right") else axis.geometry().width()
    return [text for spacing, values in axis.tickValues(low, high, size)
            for text in axis.tickStrings(values, 1.0, spacing)]


def test_a_run_with_one_logged_point_is_drawn(chart: LossChart, qtbot: Any) -> None:
    """Issue 12 item 13: a run stopped after its first log shows that point (a line needs two)."""
    chart.load_events([{"event": "train_begin", "step": 0, "start_step": 0, "max_steps": 10},
                       log(1, 2.5, learning_rate=2e-5, grad_norm=0.7)])
    assert not chart.empty_text.isVisible()
    for item, (x, y) in ((chart.smooth_curve, (1, 2.5)), (chart.lr_curve, (1, 2e-5))):
        assert item.opts["symbol"] == "o" and item.isVisible()
        assert list(item.getData()[0]) == [x]
        (x_low, x_high), (y_low, y_high) = item.getViewBox().viewRange()
        assert x_low <= x <= x_high and y_low < y < y_high
    assert chart.grad_curve.opts["symbol"] == "o"
    chart.add_event(log(2, 2.0))  # a second point: a line again, no dots
    qtbot.waitUntil(lambda: chart.point_count == 2, timeout=2_000)
    assert chart.smooth_curve.opts["symbol"] is None and chart.lr_curve.opts["symbol"] is None


def test_a_constant_learning_rate_never_repeats_an_axis_label(chart: LossChart, qtbot: Any) -> None:
    """Issue 12 item 13: a flat learning rate of 2e-5 spans a tiny range; its ticks must not all read "2e-5"."""
    chart.load_events([log(s, 3.0 / s, learning_rate=2e-5) for s in range(1, 21)])
    axis = chart.lower_plot.getAxis("left")
    qtbot.waitUntil(lambda: axis.geometry().height() > 40, timeout=2_000)
    labels = _axis_labels(axis)
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    assert any(text in ("2e-5", "2.0e-5") for text in labels)
    assert chart_module.CompactAxis.format(5e-4) == "5e-4" and chart_module.CompactAxis.format(0.25) == "0.25"


def test_the_step_axes_of_both_plots_line_up(chart: LossChart, qtbot: Any) -> None:
    """Issue 12 item 13: the lower plot (with its grad-norm axis on the right) labels the whole run: its view box
    is as wide as the loss plot's, so a 20-step run is labelled up to 20, not cut at 18."""
    chart.load_events([{"event": "train_begin", "step": 0, "start_step": 0, "max_steps": 20}]
                      + [log(s, 3.0 / s) for s in range(1, 21)])
    loss, lower = chart.loss_plot.vb, chart.lower_plot.vb
    qtbot.waitUntil(lambda: lower.sceneBoundingRect().width() > 100, timeout=2_000)
    assert abs(loss.sceneBoundingRect().left() - lower.sceneBoundingRect().left()) <= 1
    assert abs(loss.sceneBoundingRect().right() - lower.sceneBoundingRect().right()) <= 1
    assert lower.viewRange()[0][1] >= 20
    assert "20" in _axis_labels(chart.lower_plot.getAxis("bottom"))


def test_the_chart_draws_what_core_metrics_reads_of_a_resumed_run(chart: LossChart, tmp_path: Path) -> None:
    """One reader per fact: the chart (a reattached run, a compared run) draws the curves core.metrics reads, the
    same the Runs tab, the model card and `finetune-studio runs` use (tests/core/test_metrics_reader.py)."""
    from finetune_studio.core import metrics
    from tests.core.test_metrics_reader import EXPECTED_EVAL, EXPECTED_TRAIN, resumed_run_events

    path = write_metrics(tmp_path / "metrics.jsonl", resumed_run_events())
    chart.load_events(read_metrics(path)[0])  # the window's reattach path
    x, y = chart.raw_curve.getOriginalDataset()
    assert list(zip(x.tolist(), y.tolist())) == EXPECTED_TRAIN == metrics.read_curves(path).train.pairs()
    ex, ey = chart.eval_points.getOriginalDataset()
    assert list(zip(ex.tolist(), ey.tolist())) == EXPECTED_EVAL
    compared = chart_module.RunCurves()  # the Runs tab's compare path: read in parts as the file grows
    assert compared.read_more(path) and not compared.read_more(path)
    assert list(zip(*(a.tolist() for a in compared.train.view()))) == EXPECTED_TRAIN
    assert list(zip(*(a.tolist() for a in compared.evals.view()))) == EXPECTED_EVAL


def test_twelve_compared_runs_each_have_a_look_of_their_own(qtbot: Any) -> None:
    """Past ten runs the colours came round again: runs 11 and 12 drew exactly as runs 1 and 2 (helper-50's
    overlay of 12 runs). Now they come round with a dashed line (the legend draws the line as the plot does)."""
    from PySide6.QtCore import Qt

    from finetune_studio.gui.chart import LossChart

    chart = LossChart()
    qtbot.addWidget(chart)
    curves = {f"run-{i}": (np.arange(1, 6, dtype=float), np.linspace(3, 1, 5) + i / 10) for i in range(12)}
    chart.set_overlays(curves)
    looks = [(o.color, o.smooth.opts["pen"].color().name(), o.smooth.opts["pen"].style())
             for o in chart.overlays.values()]
    assert len({(color, style) for color, _, style in looks}) == 12
    assert [style for _, _, style in looks] == [Qt.PenStyle.SolidLine] * 10 + [Qt.PenStyle.DashLine] * 2
    assert looks[10][:2] == (OVERLAY_COLORS[0],) * 2 and looks[11][:2] == (OVERLAY_COLORS[1],) * 2
    del curves["run-3"]  # a run leaves: the next one takes its free look, and the others keep theirs
    chart.set_overlays({**curves, "run-new": curves["run-0"]})
    assert (chart.overlays["run-new"].color, chart.overlays["run-new"].style) == (OVERLAY_COLORS[3],
                                                                                  Qt.PenStyle.SolidLine)
    assert chart.overlays["run-11"].style == Qt.PenStyle.DashLine


def _long_names(count: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Runs named as the app names them (model, dataset, a setting, the date): long, like a user's."""
    return {f"demo-horoscopes-lr-{i + 1}e-4-2026-12-03-14{i:02d}":
            (np.arange(1, 201.0), np.linspace(4, 1, 200) + i / 10) for i in range(count)}


def test_a_legend_too_large_for_the_plot_gives_way_to_a_note_and_comes_back_when_there_is_room(qtbot: Any) -> None:
    """Twelve compared runs with dated names: the legend covered 89 % of the plot's height at the window's
    default size and ran out of the plot in a smaller one, hiding the curves it named. Now it keeps within its
    share (LEGEND_MAX_*) or gives way to a note that says where the key is, and returns once the plot is large."""
    chart = shown(qtbot, LossChart(), 760, 430)
    chart.set_overlays(_long_names(12))
    qtbot.waitUntil(lambda: chart.loss_plot.vb.width() > 500)
    view = chart.loss_plot.vb
    assert not chart.legend.isVisible()
    assert chart.legend_note.isVisible() and chart.legend_note.text == "12 runs: the Runs tab lists which line is which"

    chart.resize(1700, 1000)
    qtbot.waitUntil(lambda: view.height() > 800)
    assert chart.legend.isVisible() and not chart.legend_note.isVisible()
    assert chart.legend.width() * chart.legend.height() <= view.width() * view.height() / 3
    assert [label.text for _, label in chart.legend.items] == list(_long_names(12))

    chart.resize(760, 430)
    qtbot.waitUntil(lambda: view.height() < 400)
    assert not chart.legend.isVisible() and chart.legend_note.isVisible()

    chart.set_overlays(_long_names(3))  # three fit in one column: the legend as before, no note
    assert chart.legend.isVisible() and chart.legend.columnCount == 1 and not chart.legend_note.isVisible()
    assert chart.legend.height() <= 0.6 * view.height() and chart.legend.width() <= 0.75 * view.width()


def test_a_legend_too_tall_for_one_column_takes_two(qtbot: Any) -> None:
    chart = shown(qtbot, LossChart(), 760, 430)
    chart.set_overlays({f"run-{i}": (np.arange(1, 6.0), np.linspace(3, 1, 5)) for i in range(10)})
    qtbot.waitUntil(lambda: chart.loss_plot.vb.width() > 500)
    assert chart.legend.isVisible() and chart.legend.columnCount == 2 and not chart.legend_note.isVisible()
    chart.clear_overlays()  # the current run's two entries again, in one column; an empty chart shows none
    assert chart.legend.columnCount == 1 and not chart.legend.isVisible() and not chart.legend_note.isVisible()


def test_redraws_while_training_do_not_lay_the_legend_out_again(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """_set_empty runs at every redraw; the legend's layout depends only on the plot's size and its names."""
    chart = shown(qtbot, LossChart(), 300, 160)  # too small for the legend: the worst case tries every layout
    for step in range(1, 4):
        chart.add_event(log(step, 1.0 / step))
    chart._redraw()
    layouts: list[int] = []
    monkeypatch.setattr(chart.legend, "setColumnCount", layouts.append)
    for step in range(4, 40):
        chart.add_event(log(step, 1.0 / step))
        chart._redraw()
    assert layouts == []
