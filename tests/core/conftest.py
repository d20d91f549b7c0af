"""Core tests share one demo-model build (a few seconds) and never touch the user's folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample_horoscopes.jsonl"


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(os.environ.get("FINETUNE_STUDIO_TEST_CACHE") or tmp_path_factory.mktemp("cache"))
    os.environ["FINETUNE_STUDIO_CACHE"] = str(path)
    from core.demo import demo_model_path

    demo_model_path()
    return path


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs"
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(path))
    return path


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    """200 rows of the sample data: enough for a few real optimizer steps in seconds."""
    path = tmp_path / "small.jsonl"
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:200]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def small_config(dataset: Path, runs: Path, **training: object):
    """The demo recipe shrunk to seconds: same collator, model and Trainer, fewer and bigger steps."""
    from core.config import default_config

    config = default_config()
    config.runs_dir = str(runs)
    config.dataset.source = str(dataset)
    config.dataset.max_length = 64
    config.training.update({
        "num_train_epochs": 1, "max_steps": 12, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1,
        "learning_rate": 1e-3, "logging_steps": 2, "eval_strategy": "steps", "save_strategy": "steps",
        "eval_steps": 6, "save_steps": 6, "activation_checkpointing": False, **training,
    })
    return config


def read_events(run_dir: Path, kind: str) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
            if json.loads(line)["event"] == kind]
