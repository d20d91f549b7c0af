"""The header's words (Session.state_text) for a shown run whose folder went away, or whose status.json is gone
or damaged: what happened and what still works, as the Runs tab and `finetune-studio runs` say it, never "No
status recorded."."""

from __future__ import annotations

import os
from pathlib import Path

from finetune_studio.core.events import RunState
from finetune_studio.core.runs import summarize
from finetune_studio.core.session import Session
from tests.core.test_runs_history import make_run, segment
from tests.helpers import checkpoint


def stopped_run(runs: Path, name: str) -> Path:
    run = make_run(runs, name, segment(2, 12, end="stopped", max_steps=40),
                   {"state": "stopped", "message": "Stopped at step 12 of 40."})
    checkpoint(run, 12)  # one Resume can load (core.runs' resume_point)
    return run


def ready_session() -> Session:
    session = Session()
    session.set_stack_ready()
    return session


def test_a_run_renamed_while_shown_says_its_folder_is_gone(tmp_path: Path) -> None:
    session = ready_session()
    run = stopped_run(tmp_path, "good")
    session.show_recorded(run)
    assert session.resumable == run
    os.rename(run, tmp_path / "good-renamed")
    session.show_recorded(run)  # the follower reads the old path again
    assert (session.state, session.resumable, session.model_dir) == (RunState.IDLE, None, None)
    assert session.state_text == (
        f"good: folder gone (renamed, moved or deleted), so nothing is left at {run} to show or resume. If it was "
        "moved or renamed, open it from its new place in the Runs tab; Resume continues it from its last checkpoint "
        "there.")
    session.show_recorded(tmp_path / "good-renamed")  # opened from its new place: resumable again
    assert session.resumable == tmp_path / "good-renamed" and session.state is RunState.STOPPED


def test_a_missing_status_says_so_and_that_resume_works(tmp_path: Path) -> None:
    session = ready_session()
    run = stopped_run(tmp_path, "nostatus")
    (run / "status.json").unlink()
    session.show_recorded(run)
    said = summarize(run).message  # what the Runs tab and `runs` say
    assert "status.json is missing" in said and "it continues from checkpoint-12" in said
    assert (session.state, session.resumable, session.state_text) == (RunState.STOPPED, run, f"nostatus: {said}")
    assert "No status recorded" not in session.state_text


def test_a_damaged_status_says_so(tmp_path: Path) -> None:
    session = ready_session()
    run = stopped_run(tmp_path, "garbled")
    (run / "status.json").write_text("{not json")
    session.show_recorded(run)
    assert session.state_text.startswith("garbled: status.json is cut off or not JSON (it reads '{not json'; ")
    assert session.state_text.endswith("Its config and checkpoint-12 are intact. To fix: resume it (open it, then "
                                       f"Resume; or finetune-studio resume {run}): it continues from checkpoint-12 "
                                       "and writes a new status.json.")
    assert session.resumable == run
    bare = make_run(tmp_path, "bare", segment(2, 4, end=None), None)  # no status, no checkpoint
    session.show_recorded(bare)
    assert (session.state, session.resumable) == (RunState.IDLE, None)
    assert session.state_text.startswith("bare: status.json is missing")
    assert "To fix: start it again with its settings" in session.state_text
