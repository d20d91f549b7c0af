"""The Runs tab's run summary no longer repeats the run's state: the title line above it says "name — finished:
Finished 30 steps.", and its first row said "Status: finished" again. That row now says what the title does not:
when the run started and ended (its last logged event) and how long ago, or that it is training now."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from finetune_studio.core.runs import RunSummary, summarize
from finetune_studio.gui import history
from finetune_studio.gui.history import run_facts
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import wait_rows

T0 = fab.T0  # the first event's time; make_run puts the events 10 s apart


def _stamp(seconds: float, form: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(seconds).strftime(form)


def test_the_summary_says_when_the_run_ended_not_its_state_again(tmp_path: Path) -> None:
    events = fab.segment(2, 30, max_steps=30)
    run = summarize(fab.make_run(tmp_path, "done", events, {"state": "finished", "message": "Finished 30 steps."}))
    end = T0 + 10 * (len(events) - 1)
    assert [fact.label for fact in run_facts(run)] == ["When", "Steps", "Final train loss", "Best eval loss", "Time",
                                                       "Saved model"]
    facts = run_facts(run, now=end + 2 * 3600 + 5)
    assert run.state not in facts[0].text
    when_text = history.when_text
    same_day = datetime.fromtimestamp(T0).date() == datetime.fromtimestamp(end).date()
    ended = _stamp(end, "%H:%M" if same_day else "%Y-%m-%d %H:%M")
    assert facts[0].text == f"{_stamp(T0)} → {ended} (ended 2 hours ago)"

    stopped = summarize(fab.make_run(tmp_path, "stopped", fab.segment(2, 12, end="stopped", max_steps=40),
                                     {"state": "stopped", "message": "Stopped at step 12 of 40, resumable."}))
    last = stopped.tally.last_time
    assert when_text(stopped, now=last + 3 * 86_400 + 60) == \
        f"{_stamp(T0)} → {_stamp(last, '%H:%M')} (ended 3 days ago)"
    cut = summarize(fab.make_run(tmp_path, "cut", fab.segment(2, 6, end=None), {"state": "interrupted"}))
    assert when_text(cut, now=cut.tally.last_time + 90) == \
        f"{_stamp(T0)} → {_stamp(cut.tally.last_time, '%H:%M')} (its last logged event, 1 minute ago)"
    live = history.dataclasses.replace(cut, state="running")
    assert when_text(live, now=cut.tally.last_time + 20) == f"started {_stamp(T0)}, training now (last logged just now)"
    assert when_text(RunSummary(tmp_path / "empty", "broken")) == "— (no time logged)"
    ages = [when_text(run, now=end + days * 86_400).rsplit("(", 1)[1] for days in (59, 61, 365 * 3 + 20)]
    assert ages == ["ended 59 days ago)", "ended 2 months ago)", "ended 3 years ago)"]


def test_the_panel_shows_the_state_once(qtbot: Any, make_window: Any, runs_dir: Path) -> None:
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    runs_dir.mkdir(parents=True)
    path = fab.make_run(runs_dir, "done", fab.segment(2, 30, max_steps=30),
                        {"state": "finished", "message": "Finished 30 steps."})
    panel = window.history
    wait_rows(qtbot, panel, lambda r: len(r) == 1)
    panel.select([path])
    assert panel.details_title.text() == "<b>done</b> — finished: Finished 30 steps."
    shown = panel.details_summary.text()
    assert "Status:" not in shown and ">finished<" not in shown
    assert f"<td>When:&nbsp;&nbsp;</td><td>{_stamp(T0)} → " in shown and "(ended " in shown
