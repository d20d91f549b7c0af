"""The first step of N more trains (helper-223): a run resumed for more steps (or epochs) trained its first resumed
step at the rate the checkpoint's optimizer ended on, 0 at the end of a linear decay, so "Train 1 more step" left the
model's weights as they were and logged learning_rate 0.0. core.training.schedule_rate_now sets the rate to the new
schedule's for that step once the Trainer has loaded the checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.training import resume, run
from tests.helpers import small_config


def _weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(next(Path(model_dir).glob("*.safetensors"))))


@pytest.mark.slow
def test_one_more_step_of_a_finished_capped_run_changes_its_weights(demo_cache: Path, small_dataset: Path,
                                                                    runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=2, save_steps=2, eval_steps=2, logging_steps=1)
    first = run(config)
    run_dir = Path(first.run_dir)
    assert (first.state, first.step) == ("finished", 2)
    before = _weights(run_dir / "model")

    more = resume(run_dir, extra_steps=1)
    assert (more.state, more.step, more.max_steps) == ("finished", 3, 3), more.message
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    lrs = {e["step"]: e["learning_rate"] for e in map(json.loads, lines) if e.get("event") == "log"
           and "learning_rate" in e}
    assert lrs == {1: pytest.approx(1e-3), 2: pytest.approx(5e-4), 3: pytest.approx(1e-3 / 3)}  # step 3 was 0.0
    after = _weights(run_dir / "model")
    changed = [name for name in before if not after[name].equal(before[name])]
    assert len(changed) == len(before), f"{len(before) - len(changed)} of {len(before)} tensors unchanged"
