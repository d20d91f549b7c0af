"""Stop at step N and resume: the same per-step losses from N on and the same final weights as a run that was
never interrupted (same seed, CPU)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import resume, run
from tests.helpers import small_config


def losses(run_dir: Path) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in RunFolder(run_dir).read_metrics() if e["event"] == "log"}


def weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


@pytest.mark.parametrize("stop_at", [3, 7])
def test_resume_matches_uninterrupted_run(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                          stop_at: int) -> None:
    import torch

    overrides = dict(logging_steps=1, max_steps=10, eval_steps=5, save_steps=5, load_best_model_at_end=False)
    straight = small_config(small_dataset, runs_dir, **overrides)
    straight.name = "straight"
    whole = run(straight)

    stop = threading.Event()
    interrupted = small_config(small_dataset, runs_dir, **overrides)
    interrupted.name = "interrupted"

    def sink(event: dict) -> None:
        if event["event"] == "step" and event["step"] == stop_at:
            stop.set()

    first = run(interrupted, sink, stop)
    assert first.state == "stopped" and first.step == stop_at
    second = resume(first.run_dir)
    assert second.state == "finished"

    expected, got = losses(whole.run_dir), losses(first.run_dir)
    assert sorted(got) == list(range(1, 11))
    for step in range(stop_at, 11):
        assert got[step] == pytest.approx(expected[step], rel=1e-6), step
    a, b = weights(whole.model_dir), weights(second.model_dir)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
