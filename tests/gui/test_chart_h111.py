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

from finetune_studio.core.metrics import read_metrics
from finetune_studio.gui.chart import LossChart, steady_range
from tests.helpers import shown


@pytest.fixture
def chart(qtbot: Any) -> LossChart:
    return shown(qtbot, LossChart(), 900, 500)


def begin(max_steps: int = 20) -> dict:
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
