"""The headless CLI: exit codes, one-line reasons, and the same run folder the GUI writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.config import load_config, save_config
from tests.helpers import read_events, small_config

ROOT = Path(__file__).resolve().parents[2]


def test_validate_ok_and_problems(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    assert main(["validate", str(path)]) == 0
    assert "ok: the config is valid." in capsys.readouterr().out
    assert main(["validate", str(path), "--set", "learning_rate=-1", "--set", "dataset.max_length=0"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert "problem: dataset.max_length: max_length must be a whole number above 0 (got 0); the seed uses 512." in out
    assert "problem: training.learning_rate: learning_rate must be above 0 (got -1); the seed uses 2e-5." in out


def test_unknown_key_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  nme_or_path: x\n")
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: model.nme_or_path: 'nme_or_path' is not a model setting. Did you mean 'name_or_path'?"]


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "exists.yaml"
    path.write_text("keep me")
    assert main(["init", str(path)]) == 1
    assert path.read_text() == "keep me"


def test_train_and_list_runs(demo_cache: Path, small_dataset: Path, runs_dir: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "small.yaml"
    save_config(small_config(small_dataset, runs_dir, max_steps=4, eval_steps=2, save_steps=2), path)
    assert main(["train", str(path), "--name", "cli-run", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("finished: Finished 4 steps. Model saved to ")
    assert load_config(runs_dir / "cli-run" / "config.yaml")[0].name == "cli-run"
    assert [e["step"] for e in read_events(runs_dir / "cli-run", "step")] == [1, 2, 3, 4]
    assert main(["runs", "--runs-dir", str(runs_dir)]) == 0
    assert "cli-run" in capsys.readouterr().out


def test_failed_run_exits_nonzero_with_reason(tmp_path: Path, runs_dir: Path, demo_cache: Path) -> None:
    bad = tmp_path / "empty.jsonl"
    bad.write_text("")
    result = subprocess.run([sys.executable, "-m", "core.cli", "train", "--set", f"dataset.source={bad}",
                             "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"error: {bad} is empty. Pick a file with data in it."
