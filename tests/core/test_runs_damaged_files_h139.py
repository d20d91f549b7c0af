"""What the Runs tab and `finetune-studio runs` say of a run whose own files are damaged in ways that listed it as
plain 'finished' (or told it to be deleted): its metrics.jsonl gone, empty or cut short while status.json says it
trained further, a status.json written by a newer version (a state this one does not know), and a message of the
wrong type. Each says what is wrong and what to do, and nothing in the folder is changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.runs import summarize
from tests.core.test_runs_history import make_run, segment
from tests.helpers import checkpoint

FINISHED = {"state": "finished", "message": "Finished 20 steps.", "step": 20, "max_steps": 20,
            "model": "builtin:demo", "dataset": "builtin:sample"}
FIX = ("To fix: put metrics.jsonl back from a copy of the run if there is one (its model and checkpoints do not need "
       "it).")


def files(path: Path) -> dict[str, bytes]:
    return {child.name: child.read_bytes() for child in sorted(path.iterdir()) if child.is_file()}


def test_a_finished_run_whose_log_was_cut_short_says_so(tmp_path: Path) -> None:
    path = make_run(tmp_path, "cut", segment(2, 20), FINISHED)
    log = path / "metrics.jsonl"
    text = log.read_text()
    cut = text.index('"step": 10, "max_steps"') + 4  # mid-line, in the step event of step 10
    log.write_text(text[:cut])
    before = files(path)
    run = summarize(path)
    torn = cut - (text.rfind("\n", 0, cut) + 1)
    said = (f"metrics.jsonl stops at step 8 though status.json says the run reached step 20, and ends in a cut-off "
            f"line of {torn} bytes: lines were lost, as a write or a copy cut short loses them, so its curve and "
            f"figures stop there. {FIX}")
    assert run.state == "finished" and (run.step, run.max_steps) == (8, 20)
    assert run.problems == (said[:-1],)
    assert run.message == f"Finished 20 steps. ({said.split(' To fix: ')[0]}) {FIX}"
    assert files(path) == before  # nothing rewritten


@pytest.mark.parametrize("how", ["missing", "empty"])
def test_a_finished_run_without_its_log_says_so(tmp_path: Path, how: str) -> None:
    path = make_run(tmp_path, "lost", segment(2, 20), FINISHED)
    if how == "missing":
        (path / "metrics.jsonl").unlink()
    else:
        (path / "metrics.jsonl").write_bytes(b"")
    run = summarize(path)
    said = f"metrics.jsonl is {how}, so the run has no loss curve and its training time is unknown"
    assert run.state == "finished" and (run.step, run.max_steps) == (20, 20) and run.duration_s is None
    assert run.message == f"Finished 20 steps. ({said}.) {FIX}"


def test_a_log_whose_steps_reach_the_status_or_a_live_or_interrupted_one_says_nothing(tmp_path: Path) -> None:
    whole = make_run(tmp_path, "whole", segment(2, 20), FINISHED, raw_tail='{"event": "phase", "ph')  # torn, no loss
    assert summarize(whole).problems == ()
    dead = make_run(tmp_path, "dead", segment(2, 6, end=None), {"state": "running", "pid": 999_999_999, "step": 8,
                                                                  "message": "Training"})
    run = summarize(dead)
    assert run.state == "interrupted" and run.problems == ()
    never = make_run(tmp_path, "never", [], {"state": "failed", "message": "Training failed: no data."})
    (never / "metrics.jsonl").unlink()
    assert summarize(never).problems == ()  # it trained no step: no log is expected


def test_a_status_from_a_newer_version_is_quoted_and_neither_resumed_nor_deleted(tmp_path: Path) -> None:
    status = {"name": "newer", "model": "builtin:demo", "dataset": "builtin:sample", "state": "paused",
              "schema": 3, "extra": {"kept": True}}
    path = make_run(tmp_path, "newer", segment(2, 10, end="stopped"), status)
    checkpoint(path, 10)
    before = files(path)
    run = summarize(path)
    said = ("status.json says its state is 'paused', which this version of Finetune Studio does not know (a newer "
            "version wrote it, or it was edited by hand)")
    assert run.state == "broken" and run.problems == (said,)
    fix = ("To fix: open it with the Finetune Studio that wrote it (pip install -U finetune-studio updates this "
           "one), or set its state in status.json to one of running, finished, stopped, failed, interrupted.")
    assert run.message == f"{said}. Its metrics log says it stopped at step 10. {fix}"
    assert "delete" not in run.message and "resume" not in run.message.lower()
    from finetune_studio.core.runs import unknown_state

    assert unknown_state(path) == f"{said}. {fix}"  # for core.session.can_resume to refuse it (see the report)
    assert unknown_state(tmp_path / "missing") is None
    assert files(path) == before


def test_a_status_message_that_is_not_text_is_not_shown_as_python(tmp_path: Path) -> None:
    path = make_run(tmp_path, "odd", segment(2, 20), {**FINISHED, "message": ["a", 1]})
    run = summarize(path)
    assert run.state == "finished" and run.message == "" and run.problems == ()
    (path / "status.json").write_text(json.dumps({**FINISHED, "message": {"text": "x"}}))
    assert summarize(path).message == ""


def test_a_log_that_cannot_be_read_or_holds_no_step_says_so_once(tmp_path: Path) -> None:
    path = make_run(tmp_path, "folder", segment(2, 20), FINISHED)
    (path / "metrics.jsonl").unlink()
    (path / "metrics.jsonl").mkdir()
    run = summarize(path)
    assert run.state == "finished" and run.problems == (
        "metrics.jsonl cannot be read (Is a directory), so the run shows no loss curve. To fix: make metrics.jsonl a "
        "file you can read, or put metrics.jsonl back from a copy of the run if there is one (its model and "
        "checkpoints do not need it)",)
    stepless = make_run(tmp_path, "stepless", [{"event": "run_start"}], FINISHED, raw_tail="garbage\n")
    assert summarize(stepless).problems == (
        "metrics.jsonl holds no step though status.json says the run reached step 20: lines were lost, as a write "
        f"or a copy cut short loses them, so its curve and figures stop there. {FIX[:-1]}",)
