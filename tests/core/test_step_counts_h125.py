"""Step counts said to people in the loss note (core.metrics.train_loss_note: the model card, the Runs tab's tooltip
and the note under `finetune-studio runs`) are written as the runs table writes its steps column since b44dfb2:
1,234,567 with separators, and from 1e9 on in short. The note wrote a float's %g ('at step 1.23457e+06') and a
broken run's count in full ('none was logged in the 999999999999999998 steps after it')."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import runs_table, step_count
from finetune_studio.core.metrics import train_loss_note
from finetune_studio.core.runs import summarize
from tests.core.test_runs_history import make_run


@pytest.mark.parametrize("value, text", [(4, "4"), (4.0, "4"), (1500, "1,500"), (1234567.0, "1,234,567"),
                                         (999_999_999, "999,999,999"), (10**9, "1e9"), (1e18, "1e18"),
                                         (999999999999999998, "1e18"), (1234567890123, "1.23e12"), (4.5, "4.5")])
def test_count_text_writes_counts_as_the_runs_table_does(value: object, text: str) -> None:
    from finetune_studio.core.metrics import count_text

    assert count_text(value) == text == step_count(value)


def lossless_run(last_loss_at: int, end: int) -> list[dict]:
    """A run never resumed: a loss logged at `last_loss_at`, then a window that trained no token ending at `end`."""
    return [{"event": "run_start"}, {"event": "train_begin", "step": 0, "start_step": 0, "max_steps": end},
            {"event": "log", "step": last_loss_at, "loss": 0.5, "learning_rate": 1e-4},
            {"event": "log", "step": end, "learning_rate": 1e-4},
            {"event": "end", "state": "finished", "step": end, "max_steps": end}]


def test_the_loss_note_writes_large_steps_with_separators() -> None:
    note = train_loss_note(lossless_run(1_234_567, 1_234_600), 0.5, 1_234_600)
    assert note == "the last loss logged, at step 1,234,567; none was logged in the 33 steps after it"


def test_a_broken_runs_step_of_1e18_is_said_in_short_in_the_note_and_the_table(tmp_path: Path) -> None:
    make_run(tmp_path, "normal", [{"event": "train_begin", "step": 0, "start_step": 0, "max_steps": 40},
                                  {"event": "log", "step": 12, "loss": 0.25},
                                  {"event": "end", "state": "stopped", "step": 12, "max_steps": 40}],
             {"state": "stopped", "step": 12, "max_steps": 40})
    make_run(tmp_path, "broken", lossless_run(2, 10**18), {"state": "finished", "step": 10**18,
                                                           "max_steps": 10**18})
    runs = [summarize(tmp_path / "normal"), summarize(tmp_path / "broken")]
    assert runs[1].train_loss_note == "the last loss logged, at step 2; none was logged in the 1e18 steps after it"
    assert runs_table(runs).splitlines() == [
        "run     state         steps  train loss  eval loss  message",
        "normal  stopped       12/40      0.2500          -",
        "broken  finished  1e18/1e18     0.5000*          -",
        "* broken: train loss 0.5000: the last loss logged, at step 2; none was logged in the 1e18 steps after it."]
