"""A new run under a name a trained run's folder holds is refused with what that run can do: 07b0703 said "delete
that run's folder first: it saved no checkpoint, so it cannot resume" wherever no checkpoint was found in the folder,
which was false for a finished run whose result is its model/ folder, and for a run whose config put its checkpoints
elsewhere (training.output_dir), which resume continues from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core.config import PRESETS, save_config
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.training import run
from tests.helpers import SAMPLE, checkpoint, small_config


def _recorded(runs: Path, name: str, state: str, step: int, max_steps: int, **training: object) -> Path:
    folder = runs / name
    folder.mkdir(parents=True)
    config = PRESETS["demo"]()
    config.name = name
    config.training.update({"max_steps": max_steps, **training})
    save_config(config, folder / "config.yaml")
    (folder / "metrics.jsonl").write_text(json.dumps({"time": 1e9, "event": "step", "step": step,
                                                      "max_steps": max_steps}) + "\n")
    (folder / "status.json").write_text(json.dumps({"state": state, "message": f"{state.title()}.", "step": step,
                                                    "max_steps": max_steps, "pid": 1}))
    return folder


def _refusal(runs: Path, name: str) -> str:
    config = small_config(SAMPLE, runs, max_steps=2)
    config.name = name
    trained: list[object] = []
    with pytest.raises(ConfigError) as refused:
        run(config, execute=lambda *args: trained.append(args))
    assert trained == []
    return str(refused.value)


def test_a_finished_run_with_its_model_and_no_checkpoint_is_kept(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    done = _recorded(runs, "done", "finished", 3, 3)
    checkpoint(done, 3)
    (done / "model").mkdir()
    shutil.move(str(done / "checkpoint-3" / "model.safetensors"), done / "model")
    shutil.rmtree(done / "checkpoint-3")
    said = _refusal(runs, "done")
    assert said.endswith(f"To fix: choose another name (name: in the config, or --name NEW), or keep it: it saved "
                         f"its trained model in {done / 'model'}."), said
    assert "delete" not in said


def test_a_run_whose_checkpoints_are_in_its_output_dir_is_told_to_resume(tmp_path: Path) -> None:
    runs, out = tmp_path / "runs", tmp_path / "elsewhere-out"
    out.mkdir()
    stopped = _recorded(runs, "elsewhere", "stopped", 5, 30, output_dir=str(out))
    checkpoint(out, 5)
    said = _refusal(runs, "elsewhere")
    assert said.endswith(f"or resume that run (finetune-studio resume {stopped}).") and "delete" not in said, said


def test_a_run_with_nothing_saved_is_still_told_to_delete_it_first(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _recorded(runs, "lost", "failed", 2, 30)
    said = _refusal(runs, "lost")
    assert said.endswith("or delete that run's folder first: it saved no checkpoint, so it cannot resume."), said
