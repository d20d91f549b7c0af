"""The final train loss of a resumed run in the Runs tab's and `finetune-studio runs`' summary (core.runs.summarize)
said a figure that was not the loss at the run's last step without a word, where the model card (6eb059e) said what
it is: with no loss logged step by step (logging_strategy no), the Trainer's mean over the steps trained after the
resume alone; or the last loss logged, steps before the end. The summary now carries the card's words
(RunSummary.train_loss_note, from core.metrics.MetricsTally.train_loss_note, which the card uses too). Real
stop-and-resume runs of the demo LoRA recipe (the model card test's)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.core.test_model_card_resumed_loss import (  # noqa: F401 - logged, unlogged: fixtures
    _events,
    _loss_line,
    drop_the_last_loss,
    logged,
    unlogged,
)

pytestmark = pytest.mark.slow


MEAN_NOTE = ("the mean over step 6 alone: the run was resumed from step 5, and it logged no loss step by step, so "
             "the steps before are not in it")


def test_a_resumed_run_that_logged_no_loss_says_its_figure_is_the_resumed_steps_mean(unlogged: Path) -> None:
    from finetune_studio.core.runs import summarize

    before, after = (e["train_loss"] for e in _events(unlogged, "summary"))
    run = summarize(unlogged)
    assert (run.state, run.step, run.train_loss) == ("finished", 6, after) and after != before
    assert run.train_loss_note == MEAN_NOTE
    assert _loss_line(unlogged) == f"- Final train loss: {run.train_loss:.4f} ({run.train_loss_note})"  # one reading


def test_a_summary_continued_while_the_log_grows_says_the_same(unlogged: Path, tmp_path: Path) -> None:
    """The Runs tab reads a log as it grows (summarize(previous=...)): the stopped run's part first, which says its
    mean over all its steps plainly, then the rest."""
    from finetune_studio.core.runs import summarize

    copy = tmp_path / "grown"
    shutil.copytree(unlogged, copy)
    whole = (copy / "metrics.jsonl").read_text(encoding="utf-8")
    lines = whole.splitlines(keepends=True)
    first_end = next(i for i, line in enumerate(lines) if json.loads(line).get("event") == "end")
    (copy / "metrics.jsonl").write_text("".join(lines[: first_end + 1]), encoding="utf-8")
    status = json.loads((copy / "status.json").read_text(encoding="utf-8"))
    before = _events(copy, "summary")[0]["train_loss"]
    (copy / "status.json").write_text(json.dumps({**status, "state": "stopped", "step": 5, "train_loss": before}),
                                      encoding="utf-8")
    stopped = summarize(copy)
    assert (stopped.step, stopped.train_loss, stopped.train_loss_note) == (5, before, "")

    (copy / "metrics.jsonl").write_text(whole, encoding="utf-8")
    (copy / "status.json").write_text(json.dumps(status), encoding="utf-8")
    resumed = summarize(copy, previous=stopped)
    assert (resumed.step, resumed.train_loss_note) == (6, MEAN_NOTE)
    assert stopped.train_loss_note == "" and stopped.tally.summary_starts == {before: 0}  # the earlier one kept


def test_a_resumed_run_whose_last_steps_logged_no_loss_says_where_its_loss_was_logged(logged: Path) -> None:
    from finetune_studio.core.runs import summarize

    losses = {e["step"]: e["loss"] for e in _events(logged, "log") if "loss" in e}
    assert sorted(losses) == [4, 6]
    run = summarize(logged)
    assert (run.train_loss, run.train_loss_note) == (losses[6], "")  # the last step logged its loss: plain

    # As a resumed stretch whose windows trained no token leaves it (as the model card test does)
    status = json.loads((logged / "status.json").read_text(encoding="utf-8"))
    drop_the_last_loss(logged, status, losses[4])
    run = summarize(logged)
    assert (run.step, run.train_loss) == (6, losses[4])
    assert run.train_loss_note == "the last loss logged, at step 4; none was logged in the 2 steps after it"
    assert _loss_line(logged) == f"- Final train loss: {run.train_loss:.4f} ({run.train_loss_note})"


def test_finetune_studio_runs_marks_the_figure_and_says_it_below_the_table(unlogged: Path) -> None:
    from finetune_studio.core.cli import runs_table
    from finetune_studio.core.runs import summarize

    run = summarize(unlogged)
    lines = runs_table([run]).splitlines()
    assert lines[1].split()[:4] == ["unlogged", "finished", "6/6", f"{run.train_loss:.4f}*"]
    assert lines[2:] == [f"* unlogged: train loss {run.train_loss:.4f}: {MEAN_NOTE}."]
