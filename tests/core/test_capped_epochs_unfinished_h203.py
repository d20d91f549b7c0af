"""`finetune-studio resume RUN --epochs N` of an unfinished run that max_steps caps trained on to max_steps, silently,
and wrote the epochs into config.yaml: --epochs was ignored. It is refused as a finished run's is ("nothing trained:
…", exit 2, nothing changed), saying that max_steps caps the run and what to run instead; so is `resume --apply-fix
--epochs N`, before the fix is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.core.test_resume_trains_nothing_cli import ended_run


def stopped_run(runs: Path, state: str = "stopped") -> Path:
    """A run stopped at step 3 (checkpoint-3) of max_steps 10."""
    run = ended_run(runs, "part", state=state)
    config = run / "config.yaml"
    config.write_text(config.read_text().replace("max_steps: 3", "max_steps: 10"))
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "message": "Stopped at step 3 of 10.", "max_steps": 10}))
    return run


def test_more_epochs_of_an_unfinished_capped_run_are_refused_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = stopped_run(tmp_path)
    before = {name: (run / name).read_text() for name in ("config.yaml", "status.json", "metrics.jsonl")}
    assert cli.main(["resume", str(run), "--epochs", "0.5", "--quiet"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().out == (
        f"nothing trained: The run part is capped by max_steps = 10 in its config.yaml, so --epochs 0.5 does not "
        f"apply: a resume trains on to step 10 whatever the epochs say (its latest checkpoint, checkpoint-3, is at "
        f"step 3). No step was trained and nothing was changed. To fix: resume it without --epochs to train on to "
        f"step 10: 'finetune-studio resume {run}'; to train past it, give the steps to add instead: 'finetune-studio "
        f"resume {run} --steps 10' (in the app: Runs tab, Train N more steps), which raises max_steps to 20 (set "
        f"max_steps to -1 in {run / 'config.yaml'} to train by epochs).\n")
    assert {name: (run / name).read_text() for name in before} == before  # num_train_epochs not raised, no step
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-3"] and not (run / "model").exists()


def test_apply_fix_with_more_epochs_of_a_capped_run_is_refused_before_the_fix_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = stopped_run(tmp_path, state="failed")
    status = json.loads((run / "status.json").read_text())
    fix = {"description": "use batch size 1", "overrides": {"training.per_device_train_batch_size": 1}}
    (run / "status.json").write_text(json.dumps({**status, "message": "Ran out of memory.", "fix": fix}))
    config_before = (run / "config.yaml").read_text()
    assert cli.main(["resume", str(run), "--apply-fix", "--epochs", "1", "--quiet"]) == cli.EXIT_CONFIG
    assert "so --epochs 1 does not apply: a resume trains on to step 10" in capsys.readouterr().out
    assert (run / "config.yaml").read_text() == config_before
    assert not (run / "config.before-fix.yaml").exists()
    assert json.loads((run / "status.json").read_text())["fix"] == fix  # still there to apply
