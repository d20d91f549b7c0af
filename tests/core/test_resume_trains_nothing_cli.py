"""`finetune-studio resume RUN` of a run that has nothing left to train printed "finished: …" and exited 0, which
read as if the resume had trained. It now says "nothing trained: …" with what the run holds and how to train
more: exit 0 when the run had trained all its steps (nothing failed, nothing to do), 2 when more epochs were asked
of a run its config's max_steps caps (the request cannot be met as the config stands; nothing was changed). A run
cut off during its final save is finished by that save, and the words say no step was trained.

Run folders are fabricated (no training): config.yaml of the demo preset, status.json, a loadable checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import PRESETS, save_config
from finetune_studio.core.runs import RunFolder
from tests.helpers import ROOT, checkpoint


def ended_run(runs: Path, name: str, state: str = "finished") -> Path:
    """A demo run capped at max_steps 3 that trained all 3 steps (checkpoint-3 saved), ended in `state`."""
    run = runs / name
    run.mkdir(parents=True)
    config = PRESETS["demo"]()
    config.name = name
    config.training["max_steps"] = 3
    save_config(config, run / "config.yaml")
    (run / "metrics.jsonl").write_text(json.dumps({"time": 1e9, "event": "step", "step": 3, "max_steps": 3}) + "\n")
    (run / "status.json").write_text(json.dumps({"state": state, "message": "Finished 3 steps.", "step": 3,
                                                 "max_steps": 3, "pid": 1}))
    checkpoint(run, 3)
    if state == "finished":
        (run / "model").mkdir()
        (run / "model" / "model.safetensors").write_bytes((run / "checkpoint-3" / "model.safetensors").read_bytes())
    return run


def test_a_finished_run_says_nothing_was_trained_and_exits_0(tmp_path: Path) -> None:
    run = ended_run(tmp_path, "three")
    status_before = (run / "status.json").read_text()
    done = subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", "resume", str(run), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"nothing trained: The run three already trained all 3 of its 3 steps: nothing to resume, so no step was "
        f"trained; its final model is in {run / 'model'}, unchanged. max_steps = 3 in its config.yaml caps it, so "
        f"more epochs (--epochs) would train nothing. To train it further: finetune-studio resume {run} --steps 3 (in "
        f"the app: Runs tab, Train N more steps), which raises max_steps to 6."]
    assert "finished:" not in done.stdout
    assert (run / "status.json").read_text() == status_before  # nothing was touched


def test_more_epochs_of_a_run_max_steps_caps_train_nothing_and_exit_2(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run = ended_run(tmp_path, "capped")
    config_before = (run / "config.yaml").read_text()
    assert cli.main(["resume", str(run), "--epochs", "1", "--quiet"]) == cli.EXIT_CONFIG
    out = capsys.readouterr().out
    assert out.startswith("nothing trained: The run capped already finished its 3 steps, and max_steps = 3 in its "
                          "config.yaml caps it, so more epochs would train nothing; no step was trained and nothing "
                          "was changed. ")
    assert "finished:" not in out
    assert (run / "config.yaml").read_text() == config_before


@pytest.mark.slow  # the final save goes through the training set-up (about 7 s)
def test_a_run_cut_off_in_its_final_save_is_finished_without_a_step(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run = ended_run(tmp_path, "cut", state="stopped")  # at step 3 of 3, its final model never saved
    assert cli.main(["resume", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "finished: Finished 3 steps: training had reached its last step before the run was cut off, so no step was "
        f"trained now; the final save was completed from checkpoint-3. Model saved to {run / 'model'}.")
    assert (run / "model" / "model.safetensors").read_bytes() == \
        (run / "checkpoint-3" / "model.safetensors").read_bytes()
    assert RunFolder(run).read_status()["state"] == "finished"
