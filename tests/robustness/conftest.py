"""Fixtures for the bad-input suite: an earlier run whose bytes must survive every failure, and a folder of
input files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.robustness.faults import Snapshot


@pytest.fixture
def earlier_run(runs_dir: Path) -> Path:
    """A finished run saved before the test: config, status, metrics, a checkpoint and a model, as bytes."""
    run = runs_dir / "earlier"
    (run / "checkpoint-3").mkdir(parents=True)
    (run / "model").mkdir()
    (run / "config.yaml").write_text("name: earlier\ntraining:\n  learning_rate: 2.0e-05\n", encoding="utf-8")
    (run / "status.json").write_text(json.dumps({"state": "finished", "message": "Finished 3 steps.", "step": 3,
                                                 "max_steps": 3}) + "\n", encoding="utf-8")
    (run / "metrics.jsonl").write_text('{"event": "step", "step": 3, "max_steps": 3}\n', encoding="utf-8")
    (run / "checkpoint-3" / "trainer_state.json").write_text('{"global_step": 3}', encoding="utf-8")
    (run / "checkpoint-3" / "model.safetensors").write_bytes(bytes(range(256)) * 8)
    (run / "model" / "model.safetensors").write_bytes(bytes(range(255, -1, -1)) * 8)
    return run


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    path = tmp_path / "inputs"
    path.mkdir()
    return path


@pytest.fixture
def saved(earlier_run: Path, small_dataset: Path) -> Snapshot:
    """A snapshot of the earlier run and the good dataset; tests add their own inputs with Snapshot(...)."""
    return Snapshot(earlier_run, small_dataset)
