"""A run its config.yaml's max_steps caps trains further by steps: resume(..., extra_steps=K) raises max_steps by K in
config.yaml (as extra_epochs raises num_train_epochs), continues from the latest checkpoint and trains exactly K
optimizer steps more. Bad K, K with more epochs, and K for a run that trains by epochs are refused, changing nothing.
The advice for a capped run names `--steps` and the Runs tab's Train N more steps, where it said to edit config.yaml."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from finetune_studio.core.config import load_config
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import resume, run, run_steps_cap, train_further_text
from tests.helpers import small_config


def _events(run_dir: Path, kind: str) -> list[dict]:
    lines = (Path(run_dir) / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [event for event in map(json.loads, lines) if event.get("event") == kind]


def _weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(next(Path(model_dir).glob("*.safetensors"))))


@pytest.mark.slow
def test_more_steps_of_a_capped_finished_run_train_exactly_that_many(demo_cache: Path, small_dataset: Path,
                                                                      runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=4, num_train_epochs=3, save_steps=2, eval_steps=2,
                          logging_steps=1)
    first = run(config)
    assert (first.state, first.step, first.max_steps) == ("finished", 4, 4)
    run_dir = Path(first.run_dir)
    assert run_steps_cap(run_dir) == 4
    before = _weights(run_dir / "model")
    config_before = (run_dir / "config.yaml").read_bytes()

    # Refused, with nothing changed: no steps, a fraction, both at once.
    for bad, words in ((0, "(got 0)"), (-3, "(got -3)"), (1.5, "(got 1.5)")):
        with pytest.raises(ConfigError) as refused:
            resume(run_dir, extra_steps=bad)
        said = str(refused.value.problems[0])
        assert "must be a whole number above 0" in said and words in said and "To fix: give how many" in said
    with pytest.raises(ConfigError) as both:
        resume(run_dir, extra_epochs=1, extra_steps=3)
    assert "Both more epochs (--epochs 1) and more steps (--steps 3) were asked" in str(both.value.problems[0])
    assert "To fix: give --steps alone" in str(both.value.problems[0])
    assert (run_dir / "config.yaml").read_bytes() == config_before
    assert len(_events(run_dir, "run_start")) == 1

    # More epochs are refused for it, pointing at more steps.
    capped = resume(run_dir, extra_epochs=1)
    assert capped.untrained == "epochs capped" and capped.step == 4
    assert (f"To fix: train more steps instead: 'finetune-studio resume {run_dir} --steps 4' (in the app: Runs tab, "
            f"Train N more steps), which raises max_steps to 8.") in capped.message

    result = resume(run_dir, extra_steps=3)
    assert (result.state, result.step, result.max_steps) == ("finished", 7, 7), result.message
    assert load_config(run_dir / "config.yaml")[0].training["max_steps"] == 7
    assert run_steps_cap(run_dir) == 7
    status = json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
    assert (status["state"], status["step"], status["max_steps"]) == ("finished", 7, 7)
    begins = _events(run_dir, "train_begin")
    assert [(b["step"], b["max_steps"]) for b in begins] == [(0, 4), (4, 7)]
    assert begins[1]["epochs_total"] > begins[0]["epochs_total"]
    steps = [e["step"] for e in _events(run_dir, "step")]
    assert steps == [1, 2, 3, 4, 5, 6, 7]  # exactly 3 more, from checkpoint-4 on
    assert [e["resume_from"] for e in _events(run_dir, "run_start")] == [None, str(run_dir / "checkpoint-4")]
    # The learning rate, as for more epochs (below): the Trainer's linear schedule for the new end (7 steps), from
    # the checkpoint's step count on, the first step resumed included (it trained at the old schedule's end, 0, until
    # helper-223's core.training.schedule_rate_now).
    lrs = {e["step"]: e["learning_rate"] for e in _events(run_dir, "log") if "learning_rate" in e}
    assert [lrs[step] for step in (1, 4)] == [pytest.approx(1e-3), pytest.approx(2.5e-4)]
    assert [lrs[step] for step in (5, 6, 7)] == [pytest.approx(1e-3 * 3 / 7), pytest.approx(1e-3 * 2 / 7),
                                                 pytest.approx(1e-3 / 7)]
    after = _weights(run_dir / "model")
    assert any(not after[name].equal(before[name]) for name in before)
    assert math.isfinite(result.train_loss)

    # Finished again: the advice says more steps, with the doubled cap.
    folder = RunFolder(run_dir)
    advice = train_further_text(folder, load_config(folder.config_path)[0])
    assert advice == (f" max_steps = 7 in its config.yaml caps it, so more epochs (--epochs) would train nothing. To "
                      f"train it further: 'finetune-studio resume {run_dir} --steps 7' (in the app: Runs tab, Train N "
                      f"more steps), which raises max_steps to 14.")


@pytest.mark.slow
def test_more_steps_of_a_run_that_trains_by_epochs_are_refused(demo_cache: Path, small_dataset: Path,
                                                               runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=-1, num_train_epochs=1, save_strategy="epoch",
                          logging_steps=1, eval_strategy="no", load_best_model_at_end=False)
    first = run(config)
    run_dir = Path(first.run_dir)
    assert first.state == "finished" and run_steps_cap(run_dir) is None
    before = (run_dir / "config.yaml").read_bytes()
    with pytest.raises(ConfigError) as refused:
        resume(run_dir, extra_steps=5)
    assert str(refused.value.problems[0]) == (
        f"--steps: The run {run_dir.name} trains by epochs (its config.yaml sets no max_steps), so --steps 5 does not "
        f"apply; nothing was trained or changed. To fix: train it for more epochs: 'finetune-studio resume {run_dir} "
        "--epochs 1' (in the app: Runs tab, Train N more epochs).")
    assert (run_dir / "config.yaml").read_bytes() == before
    assert len(_events(run_dir, "run_start")) == 1

    # More epochs of it: the learning rate behaves as for more steps above (the linear schedule for the new end from
    # the checkpoint's step count, the first resumed step included: it was 0, the old schedule's end).
    more = resume(run_dir, extra_epochs=1)
    end = first.step
    assert (more.state, more.step) == ("finished", 2 * end)
    lrs = {e["step"]: e["learning_rate"] for e in _events(run_dir, "log") if "learning_rate" in e}
    assert lrs[end + 1] == pytest.approx(1e-3 * end / (2 * end))
    assert lrs[end + 2] == pytest.approx(1e-3 * (end - 1) / (2 * end))
