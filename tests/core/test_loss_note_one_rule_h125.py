"""The model card's final train loss and the Runs tab's (and `finetune-studio runs`') mark say what the figure is
by one rule, core.metrics.MetricsTally.train_loss_note: the last loss logged is noted where the run was resumed, or
where logging windows after it ended with no loss (they trained no token), and not for a run never resumed that
stopped between two logging steps. Since 9931b81 the Runs tab asked for a resume first and the card did not, so a
run never resumed whose last windows trained no token was noted on its card and plain in the Runs tab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.metrics import train_loss_note
from finetune_studio.core.runs import summarize
from tests.core.test_runs_history import make_run

NOTE = "the last loss logged, at step 4; none was logged in the 4 steps after it"


def run_events(last_windows_loss: bool, end: str, last_step: int, resumed_at: int | None = None) -> list[dict]:
    """Loss logged every 2 steps; with last_windows_loss False the windows at steps 6 and 8 trained no token (a log
    event with a learning rate and no loss, as core.training writes it)."""
    events: list[dict] = [{"event": "run_start"}, {"event": "train_begin", "step": 0, "start_step": 0,
                                                   "max_steps": 8}]
    for step in range(1, last_step + 1):
        if resumed_at is not None and step == resumed_at + 1:
            events += [{"event": "run_start", "resume_from": f"checkpoint-{resumed_at}"},
                       {"event": "train_begin", "step": resumed_at, "start_step": resumed_at, "max_steps": 8}]
        events.append({"event": "step", "step": step, "max_steps": 8})
        if step % 2 == 0:
            log = {"event": "log", "step": step, "learning_rate": 1e-4}
            if step <= 4 or last_windows_loss:
                log["loss"] = 2.0 - step / 10
            events.append(log)
    events.append({"event": "end", "state": end, "step": last_step, "max_steps": 8})
    return events


def both_readers(tmp_path: Path, name: str, events: list[dict], state: str, step: int) -> tuple[str, str, str]:
    """(the Runs tab's note, the model card's note, the card's line) for a run folder holding `events`."""
    from finetune_studio.core.model_card import render_model_card

    path = make_run(tmp_path, name, events, {"state": state, "step": step, "max_steps": 8})
    written = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    summary = summarize(path)
    card_note = train_loss_note(written, summary.train_loss, step)
    card_line = next(line for line in render_model_card(path).splitlines() if line.startswith("- Final train loss"))
    return summary.train_loss_note, card_note, card_line


@pytest.mark.parametrize("state", ["finished", "stopped"])
def test_a_run_never_resumed_whose_last_windows_trained_no_token_is_noted_by_both(tmp_path: Path,
                                                                                 state: str) -> None:
    events = run_events(last_windows_loss=False, end=state, last_step=8)
    runs_tab, card, line = both_readers(tmp_path, "no-token", events, state, 8)
    assert runs_tab == card == NOTE
    assert line == f"- Final train loss: 1.6000 ({NOTE})"


def test_a_run_never_resumed_stopped_between_logging_steps_is_noted_by_neither(tmp_path: Path) -> None:
    events = run_events(last_windows_loss=True, end="stopped", last_step=5)  # loss at 4, stopped at 5
    runs_tab, card, line = both_readers(tmp_path, "between", events, "stopped", 5)
    assert runs_tab == card == ""
    assert line == "- Final train loss: 1.6000"


def test_a_resumed_run_that_logged_no_loss_since_is_noted_by_both(tmp_path: Path) -> None:
    events = run_events(last_windows_loss=True, end="stopped", last_step=5, resumed_at=4)
    runs_tab, card, _ = both_readers(tmp_path, "resumed", events, "stopped", 5)
    assert runs_tab == card == "the last loss logged, at step 4; none was logged in the 1 step after it"


def test_windows_without_loss_of_an_attempt_cut_short_do_not_count(tmp_path: Path) -> None:
    """The resume rule: a window past the checkpoint that the resumed run replays belongs to the attempt cut short."""
    events = run_events(last_windows_loss=False, end="stopped", last_step=8)[:-1]
    events = [e for e in events if e.get("step", 0) <= 6 or e["event"] in ("run_start", "train_begin")]
    # Resumed from checkpoint-4 (the lossless window at 6 was after it); stopped at 5, between logging steps
    events += [{"event": "run_start", "resume_from": "checkpoint-4"},
               {"event": "train_begin", "step": 4, "start_step": 4, "max_steps": 8},
               {"event": "step", "step": 5, "max_steps": 8},
               {"event": "end", "state": "stopped", "step": 5, "max_steps": 8}]
    written = [json.loads(json.dumps(e)) for e in events]
    from finetune_studio.core.metrics import MetricsTally

    tally = MetricsTally()
    for event in written:
        tally.add(event)
    assert tally.lossless_step is None and tally.begin_step == 4
    # resumed: noted all the same, as a resumed run whose steps after the resume logged no loss is
    assert train_loss_note(written, 1.6, 5) == "the last loss logged, at step 4; none was logged in the 1 step after it"
