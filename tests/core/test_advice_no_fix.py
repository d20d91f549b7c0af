"""`resume --apply-fix` on a failed run that proposed no fix: the advice names a next step that works. A run that
diverged before its first checkpoint cannot resume, so it is told to start again with a lower learning rate, as a
command (checked here with `validate`, which takes the same arguments) and in the window's words."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import demo_preset, save_config
from tests.helpers import checkpoint as make_checkpoint

DIVERGED = ("The grad norm became nan at step 2: training diverged, so the run was ended and no model was saved. "
            "Lower the learning rate (now 1e+09), raise warmup, or train in fp32/bf16 instead of fp16; then start "
            "again (checkpoints before this step are kept).")


def diverged_run(runs: Path, name: str = "div1", checkpoint: bool = False) -> Path:
    """A run folder as `train fast.yaml --name div1 --set learning_rate=1e9` leaves it: failed at step 2."""
    path = runs / name
    path.mkdir(parents=True)
    config = demo_preset()
    config.name = name
    config.training.update(learning_rate=1e9, max_steps=20, save_steps=5)
    save_config(config, path / "config.yaml")
    events = [{"event": "run_start", "run_dir": str(path), "name": name, "resume_from": None, "pid": 1},
              {"event": "train_begin", "step": 0, "start_step": 0, "max_steps": 20},
              {"event": "step", "step": 1, "max_steps": 20}, {"event": "step", "step": 2, "max_steps": 20},
              {"event": "end", "state": "failed", "message": DIVERGED, "step": 2, "max_steps": 20}]
    (path / "metrics.jsonl").write_text("".join(json.dumps({"time": 1.0 + i, **e}) + "\n"
                                                for i, e in enumerate(events)))
    (path / "status.json").write_text(json.dumps({"name": name, "state": "failed", "message": DIVERGED,
                                                  "step": 2, "max_steps": 20, "fix": None, "pid": 1}))
    if checkpoint:
        make_checkpoint(path, 5)  # one Resume can load (core.runs' resume_point)
    return path


def test_apply_fix_on_a_run_diverged_before_its_first_checkpoint_says_start_again(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_cache: Path) -> None:
    run_dir = diverged_run(tmp_path / "runs")
    assert main(["resume", str(run_dir), "--apply-fix"]) != 0
    said = capsys.readouterr().err
    # it has nothing to resume from
    assert "resume it with" not in said.lower() and "finetune-studio resume" not in said
    assert "No checkpoint was saved, so it cannot resume. To fix: start it again under another name with a lower " \
           "learning rate: 'finetune-studio train " in said
    assert "select the run in the Runs tab, press Use its settings, change them and press Start" in said
    command = shlex.split(said.split("'finetune-studio train ", 1)[1].split("'", 1)[0])
    assert command == [str(run_dir / "config.yaml"), "--runs-dir", str(run_dir.parent), "--name", "div1-2",
                       "--set", "training.learning_rate=2e-05"]  # not 1e+08: it diverges again
    assert main(["validate", *command]) == 0  # the command it names is one that starts
    assert "learning_rate: 1000000000.0\n" in (run_dir / "config.yaml").read_text()  # nothing was changed


def test_apply_fix_on_a_run_with_a_checkpoint_still_says_resume(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = diverged_run(tmp_path / "runs", checkpoint=True)
    assert main(["resume", str(run_dir), "--apply-fix"]) != 0
    said = capsys.readouterr().err
    assert f"To fix: resume it from checkpoint-5 with 'finetune-studio resume {run_dir}'." in said
