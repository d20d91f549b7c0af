"""A metrics.jsonl line with a step that is no count ({"event": "step", "step": "abc"}, written by hand or damaged)
raised ValueError in ProgressWidget._refresh when the run was opened: an "Unexpected error" dialog. The value is
skipped, as `finetune-studio runs` skips it, and the figures read before stay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.metrics import read_metrics
from finetune_studio.gui.progress import ProgressWidget


@pytest.fixture
def widget(qtbot: Any) -> ProgressWidget:
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    return widget


def replay(widget: ProgressWidget, lines: list[dict], tmp_path: Path) -> None:
    """As the window shows a recorded run (MainWindow.show_run): every event of its metrics.jsonl, then a refresh
    (the throttle's timer calls _refresh)."""
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    widget.reset()
    for event in read_metrics(path)[0]:
        widget.add_event(event)
    widget._refresh()


@pytest.mark.parametrize("bad", ["abc", None, [3], {"n": 1}, "1.5", float("inf")])
def test_a_step_that_is_no_count_is_skipped(widget: ProgressWidget, tmp_path: Path, bad: Any) -> None:
    replay(widget, [{"event": "train_begin", "step": 0, "max_steps": 20},
                    {"event": "step", "step": 5, "max_steps": 20, "epoch": 0.5},
                    {"event": "step", "step": bad, "max_steps": 20, "epoch": 0.6}], tmp_path)
    assert widget.values["step"].text() == "5 / 20"
    assert widget.step == 5
    assert widget.bar.maximum() == 20 and widget.bar.value() == 5
    assert widget.values["epoch"].text() == "0.60"


def test_a_max_steps_that_is_no_count_is_skipped(widget: ProgressWidget, tmp_path: Path) -> None:
    replay(widget, [{"event": "train_begin", "step": 0, "max_steps": "twenty"},
                    {"event": "step", "step": 7}], tmp_path)
    assert widget.values["step"].text() == "7"
    replay(widget, [{"event": "train_begin", "step": 0, "max_steps": 20},
                    {"event": "step", "step": 7, "max_steps": "x"}], tmp_path)
    assert widget.values["step"].text() == "7 / 20"


def test_an_end_with_a_step_that_is_no_count_keeps_the_last_one(widget: ProgressWidget, tmp_path: Path) -> None:
    replay(widget, [{"event": "train_begin", "step": 0, "max_steps": 20},
                    {"event": "step", "step": 8, "max_steps": 20},
                    {"event": "end", "state": "stopped", "step": "abc"}], tmp_path)
    assert widget.values["step"].text() == "8 / 20"
    assert widget.step == 8
