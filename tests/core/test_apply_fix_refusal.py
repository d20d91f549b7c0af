"""`resume --apply-fix` on a run with no fix to apply says what happened and the next step once: the refusal
quoted the run's whole status message, whose own next step ("Resume continues from checkpoint-5.", "No checkpoint
was saved, so it cannot resume …") the refusal then said again in its own words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.runs import NO_CHECKPOINT_TEXT
from tests.core.test_advice_no_fix import diverged_run


def set_status(run_dir: Path, **changes: object) -> None:
    path = run_dir / "status.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def refusal(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["resume", str(run_dir), "--apply-fix"]) == 2  # bad input: no fix to apply (8cbe89d)
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_a_fix_applied_already_is_said_once_with_one_next_step(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_studio.core.advice import apply_fix

    run_dir = diverged_run(tmp_path / "runs", checkpoint=True)
    set_status(run_dir, fix={"description": "Halve the batch to 1",
                             "overrides": {"training.per_device_train_batch_size": 1}})
    apply_fix(run_dir)  # the status now says "Fix applied: … Resume continues from checkpoint-5."
    assert "Resume continues from checkpoint-5." in json.loads((run_dir / "status.json").read_text())["message"]
    said = refusal(run_dir, capsys)
    assert said == (f"error: The run div1 has no proposed fix to apply (it is failed: Fix applied: Halve the batch "
                    f"to 1). To fix: resume it from checkpoint-5 with 'finetune-studio resume {run_dir}'.\n")
    assert said.count("checkpoint-5") == 1


def test_no_checkpoint_is_said_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = diverged_run(tmp_path / "runs")  # two steps trained, no checkpoint
    set_status(run_dir, message=f"Interrupted. {NO_CHECKPOINT_TEXT}.")  # core.training.resume_advice's words
    said = refusal(run_dir, capsys)
    assert said.startswith("error: The run div1 has no proposed fix to apply (it is failed: Interrupted). No "
                           "checkpoint was saved, so it cannot resume. To fix: start it again under another name: "
                           "'finetune-studio train ")
    assert said.count("No checkpoint was saved") == 1 and said.count("cannot resume") == 1


def test_a_stop_before_the_resume_trained_says_resume_once(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = diverged_run(tmp_path / "runs", checkpoint=True)
    set_status(run_dir, state="stopped", message="Stopped before training resumed: the run is still at step 5 of 20; "
                                                 "Resume continues from checkpoint-5.")
    said = refusal(run_dir, capsys)
    assert said == ("error: The run div1 has no proposed fix to apply (it is stopped: Stopped before training "
                    "resumed: the run is still at step 5 of 20). To fix: resume it from checkpoint-5 with "
                    f"'finetune-studio resume {run_dir}'.\n")
