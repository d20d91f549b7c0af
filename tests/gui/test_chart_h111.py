"""The loss chart on odd metrics logs (helper-111's findings): flat and absurd losses, runs with no loss to draw.

Each run is a metrics.jsonl read by core.metrics and loaded as the window loads a recorded run; the assertions are
on what is drawn (the curves' data), the axes' ranges and the words on the plot.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from finetune_studio.core.metrics import read_metrics
from finetune_studio.gui.chart import LossChart, steady_range
from tests.helpers import shown


@pytest.fixture
def chart(qtbot: Any) -> LossChart:
    return shown(qtbot, LossChart(), 900, 500)


def begin(max_steps: float = 20) -> dict:
    return {"event": "train_begin", "step": 0, "start_step": 0, "max_steps": max_steps}


def log(step: int, loss: Any, **extra: Any) -> dict:
    return {"event": "log", "step": step, "loss": loss, "learning_rate": 1e-3, "grad_norm": 1.0, **extra}


def load(chart: LossChart, tmp_path: Path, events: list[dict]) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    chart.load_events(read_metrics(path)[0])


def loss_range(chart: LossChart) -> tuple[float, float]:
    low, high = chart.loss_plot.vb.viewRange()[1]
    return low, high


def test_a_flat_loss_keeps_a_readable_axis(chart: LossChart, tmp_path: Path) -> None:
    # Every loss 0.5: the smoothed curve wobbles by rounding (0.49999999999999983 .. 0.5), and the axis was fitted
    # to that, 3e-15 high: no tick label left on it, and the rounding drawn as a zigzag across the plot.
    load(chart, tmp_path, [begin()] + [log(step, 0.5) for step in range(1, 20)])
    assert list(chart.raw_curve.getOriginalDataset()[1]) == [0.5] * 19
    assert loss_range(chart) == pytest.approx((0.4975, 0.5025))
    assert steady_range((2.0, 3.0), 0.0, 0.0) == pytest.approx((-0.05, 0.05))  # every loss 0: not +-5e-14


def test_a_constant_zero_loss_keeps_a_readable_axis(chart: LossChart, tmp_path: Path) -> None:
    load(chart, tmp_path, [begin()] + [log(step, 0.0) for step in range(1, 20)])
    assert loss_range(chart) == pytest.approx((-0.05, 0.05))


def test_losses_near_the_float_limit_are_drawn_without_an_error(chart: LossChart, tmp_path: Path) -> None:
    # A hand-edited (or garbled) log with losses of 1e300 and -1e308 .. 1e308: the smoothing overflowed to inf
    # (values times weight^-block), and pyqtgraph raised "Cannot set range [-inf, inf]" out of load_events.
    load(chart, tmp_path, [begin(), log(1, -1e308), log(2, 1e308), log(3, 1e300)])
    x, y = chart.raw_curve.getOriginalDataset()
    assert list(x) == [1, 2, 3] and list(y) == [-1e308, 1e308, 1e300]
    assert np.isfinite(chart.smoothed_loss).all()
    low, high = loss_range(chart)
    assert low == pytest.approx(-1e307) and high == pytest.approx(1e307)


def test_a_huge_loss_is_smoothed_like_any_other(chart: LossChart, tmp_path: Path) -> None:
    # 1,000 logged losses of 1e200: the smoothing's blocks multiplied them by up to 0.6^-978 (1e217), to inf.
    losses = [1.0 + step % 7 for step in range(1, 1001)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "overflow encountered in multiply" was the first sign
        load(chart, tmp_path, [begin(1000)] + [log(step, 1e200 * loss) for step, loss in enumerate(losses, 1)])
    smoothed = chart.smoothed_loss.copy()
    assert loss_range(chart) == pytest.approx((0.7e200, 7.3e200))
    load(chart, tmp_path, [begin(1000)] + [log(step, loss) for step, loss in enumerate(losses, 1)])
    np.testing.assert_allclose(smoothed, chart.smoothed_loss * 1e200, rtol=1e-12)


def legend_texts(chart: LossChart) -> list[str]:
    return [label.text for _, label in chart.legend.items]


def test_a_run_whose_only_loss_was_nan_says_so_on_the_plot(chart: LossChart, tmp_path: Path) -> None:
    # A run that diverged before its first log (core.training writes the loss as "nan", then stops): the plot was
    # blank, its hint ("Press Start") placed at step 50 of a 1-step axis, off the plot.
    load(chart, tmp_path, [begin(), log(1, "nan", grad_norm="nan")])
    assert chart.raw_curve.getOriginalDataset()[0] is None and chart.empty_text.isVisible()
    assert chart.empty_text.toPlainText() == (
        "Nothing to draw: the train loss logged at step 1 was NaN. The run diverged. To fix: lower the learning "
        "rate (or raise the warmup) and start the run again.")
    assert chart.loss_plot.vb.viewRange()[0] == pytest.approx((0.0, 1.275))  # the steps of its learning rate
    chart.grab()  # the text is placed as the scene paints
    hint = chart.empty_text.mapRectToScene(chart.empty_text.boundingRect())
    assert chart.loss_plot.vb.sceneBoundingRect().contains(hint)


def test_nan_and_infinite_losses_everywhere_are_counted_in_the_hint(chart: LossChart, tmp_path: Path) -> None:
    events = [begin()] + [log(step, "nan" if step % 2 else "inf") for step in range(1, 10)]
    load(chart, tmp_path, events + [{"event": "eval", "step": 9, "eval_loss": "-inf"}])
    assert chart.empty_text.toPlainText() == (
        "Nothing to draw: the train loss was NaN or infinite at each of the 9 steps it was logged (steps 1 to 9); "
        "the eval loss logged at step 9 was infinite. The run diverged. To fix: lower the learning rate (or raise "
        "the warmup) and start the run again.")


def test_a_run_with_a_learning_rate_and_no_loss_says_so_on_the_plot(chart: LossChart, tmp_path: Path) -> None:
    load(chart, tmp_path, [begin()] + [{"event": "log", "step": step, "learning_rate": 1e-3} for step in range(1, 20)])
    assert chart.empty_text.isVisible() and chart.empty_text.toPlainText() == (
        "This run logged no train or eval loss, only its learning rate or gradient norm: no loss curve to draw.")
    assert chart.lr.size == 19
    chart.grab()
    hint = chart.empty_text.mapRectToScene(chart.empty_text.boundingRect())
    assert chart.loss_plot.vb.sceneBoundingRect().contains(hint)


def test_the_legend_names_the_losses_it_did_not_draw(chart: LossChart, tmp_path: Path) -> None:
    # The curve of a run that diverged stopped two steps short of its end, and nothing said why.
    events = [begin()] + [log(step, 2 - step / 40) for step in range(2, 31, 2)]
    load(chart, tmp_path, events + [log(32, "nan"), {"event": "eval", "step": 32, "eval_loss": "inf"}])
    assert list(chart.raw_curve.getOriginalDataset()[0]) == list(range(2, 31, 2))
    assert legend_texts(chart) == ["train loss (step 32 not drawn: NaN)", "eval loss (step 32 not drawn: infinite)"]
    assert chart.legend.isVisible()
    # A resume from step 20 drops them with the rest of the attempt cut short; the legend says only the names.
    chart.add_event({"event": "train_begin", "step": 20, "start_step": 20, "max_steps": 40})
    chart.add_event(log(22, 1.0))
    chart._redraw()
    assert legend_texts(chart) == ["train loss", "eval loss"]
    assert list(chart.raw_curve.getOriginalDataset()[0]) == list(range(2, 21, 2)) + [22]


def test_the_next_run_starts_with_a_clean_legend_and_hint(chart: LossChart, tmp_path: Path) -> None:
    load(chart, tmp_path, [begin(), log(1, 1.0), log(2, "nan")])
    assert legend_texts(chart)[0] == "train loss (step 2 not drawn: NaN)"
    chart.clear()
    assert chart.empty_text.toPlainText() == "Press Start: the loss appears here as the model trains."
    chart.add_event(log(1, 3.0))
    chart._redraw()
    assert legend_texts(chart) == ["train loss", "eval loss"] and chart.curves.max_steps is None


def test_in_log_scale_the_legend_names_the_losses_at_or_below_zero(chart: LossChart, tmp_path: Path) -> None:
    # Every loss 0: in log scale nothing was drawn, under a legend that said "train loss" as if it were there.
    load(chart, tmp_path, [begin()] + [log(step, 0.0) for step in range(1, 20)])
    assert legend_texts(chart) == ["train loss", "eval loss"]
    chart.log_scale.setChecked(True)
    assert legend_texts(chart) == ["train loss (19 steps at or below 0, not drawn in log scale)", "eval loss"]
    assert chart.legend.isVisible()
    chart.log_scale.setChecked(False)
    assert legend_texts(chart) == ["train loss", "eval loss"]
    # With NaN steps too, at the 900 px the chart has beside the forms, the legend still fits and says both.
    load(chart, tmp_path, [begin(), log(1, 2.0), log(2, "nan"), log(3, "inf"), log(4, -1.0), log(5, 1.5)])
    chart.log_scale.setChecked(True)
    assert legend_texts(chart)[0] == ("train loss (2 steps not drawn: NaN or infinite; 1 step at or below 0, not "
                                      "drawn in log scale)")
    assert chart.legend.isVisible()


def hover(chart: LossChart, qtbot: Any, step: float) -> list[str]:
    qtbot.waitUntil(lambda: chart.loss_plot.vb.sceneBoundingRect().width() > 100, timeout=2_000)
    chart._mouse_moved((chart.loss_plot.vb.mapViewToScene(QPointF(step, 0.0)),))
    return chart.readout_text.splitlines()


def test_the_hover_readout_writes_huge_and_tiny_figures_short(chart: LossChart, qtbot: Any, tmp_path: Path) -> None:
    # A loss of 1e30 read "loss 1000000000000000019884624838656.0000", one of 1e300 a 300-digit line as wide as
    # the screen, and one of 1e-7 "loss 0.0000".
    load(chart, tmp_path, [begin(), log(1, 2.0), log(2, 1e30, grad_norm=3e12), log(3, 1e-7),
                           {"event": "eval", "step": 2, "eval_loss": 1e300}])
    assert hover(chart, qtbot, 2) == ["step 2", "loss 1e+30 (smoothed 6.25e+29)", "eval loss 1e+300",
                                      "learning rate 0.001", "grad norm 3e+12"]
    assert hover(chart, qtbot, 3)[1] == "loss 1e-07 (smoothed 3.061e+29)"
    assert hover(chart, qtbot, 1)[1] == "loss 2.0000 (smoothed 2.0000)"  # ordinary figures as before
    chart.set_overlays({"huge": (np.array([1.0, 2.0]), np.array([-1e308, 1e308]))})
    assert hover(chart, qtbot, 2) == ["step 2", "huge: loss 1e+308"]


def test_a_run_with_no_loss_to_draw_is_not_redrawn_while_it_is_shown(chart: LossChart, qtbot: Any,
                                                                     tmp_path: Path) -> None:
    # Each redraw of the empty plot set its step axis to 0 .. 100, then back to the learning rate's steps; each move
    # asked for the next frame, so the chart moved its axes (and re-rendered them) 15 times a second, for good.
    load(chart, tmp_path, [begin()] + [{"event": "log", "step": step, "learning_rate": 1e-3} for step in range(1, 20)])
    moves: list[object] = []
    chart.loss_plot.vb.sigXRangeChanged.connect(lambda *args: moves.append(args))

    def quiet(ms: int) -> bool:
        before = len(moves)
        qtbot.wait(ms)
        return len(moves) == before

    # Once what the load asked for is drawn (a frame, and the layout on a busy machine), nothing moves any more.
    assert any(quiet(400) for _ in range(8)), f"{len(moves)} moves of the step axis"
    assert chart.loss_plot.vb.viewRange()[0] == pytest.approx((0.0, 20.4))
    assert chart.empty_text.isVisible() and chart.empty_text.pos().x() == pytest.approx(10.2)
    # A new run (clear) gets the empty view of 0 .. 100 steps again, its hint in the middle.
    chart.clear()
    assert chart.loss_plot.vb.viewRange()[0] == pytest.approx((0.0, 100.0))
    assert chart.empty_text.pos().x() == pytest.approx(50.0)


def test_a_step_near_the_float_limit_does_not_stop_the_chart(chart: LossChart, tmp_path: Path) -> None:
    # steady_upper raised OverflowError ('cannot convert float infinity to integer') for a step of 1.79e308: the
    # axis's end, 2 % past it, was inf. A run length (max_steps) that large made run_upper return inf too.
    load(chart, tmp_path, [log(1, 1.0), log(1.79e308, 0.5)])
    assert list(chart.raw_curve.getOriginalDataset()[0]) == [1.0, 1.79e308]
    assert chart.loss_plot.vb.viewRange()[0] == pytest.approx((0.0, 1e307))
    load(chart, tmp_path, [begin(max_steps=1.7e308), log(1, 1.0), log(1e308, 0.5)])
    assert chart.loss_plot.vb.viewRange()[0] == pytest.approx((0.0, 1e307))
