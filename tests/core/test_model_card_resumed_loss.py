"""The model card's final train loss of a resumed run said a figure that was not the run's without a word (helper-93):
with no loss logged step by step (logging_strategy no) it was the Trainer's mean over the steps trained after the
resume alone (step 6 of 6 below), where an uninterrupted run's is the mean over all its steps; and a run whose steps
after the resume logged no loss (windows that trained no token) showed the last loss logged before it as final.
Both now say what the figure is. Real stop-and-resume runs of the demo LoRA recipe."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SAMPLE, small_config

pytestmark = pytest.mark.slow


def _stopped_and_resumed(root: Path, name: str, **training: Any) -> Path:
    """A 6-step LoRA run stopped at step 5 (its checkpoint-5 saved, as Stop saves it), then resumed to the end."""
    from finetune_studio.core.training import resume, run

    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:64]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=6, eval_strategy="no", save_strategy="steps",
                          save_steps=5, load_best_model_at_end=False, **training)
    config.name = name
    config.adapter.method = "lora"
    stop = threading.Event()

    def sink(event: Any) -> None:  # Stop pressed as step 5 ends
        said = event if isinstance(event, dict) else vars(event)
        if said.get("event") == "step" and said.get("step") == 5:
            stop.set()

    first = run(config, sink, stop)
    assert (first.state, first.step) == ("stopped", 5), first.message
    done = resume(Path(first.run_dir))
    assert (done.state, done.step) == ("finished", 6), done.message
    return Path(done.run_dir)


def _loss_line(run_dir: Path) -> str:
    from finetune_studio.core.model_card import render_model_card

    return next(line for line in render_model_card(run_dir).splitlines() if line.startswith("- Final train loss"))


def _events(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("event") == kind]


def drop_the_last_loss(run_dir: Path, status: dict, earlier: float) -> None:
    """The run's step-6 log event loses its loss and status.json holds `earlier`, the last loss of the restored
    history: what a resumed stretch whose windows trained no token leaves (training._losses_of_trained_tokens)."""
    lines = []
    for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("event") == "log" and event.get("step") == 6:
            del event["loss"]
        lines.append(json.dumps(event) + "\n")
    (run_dir / "metrics.jsonl").write_text("".join(lines), encoding="utf-8")
    (run_dir / "status.json").write_text(json.dumps({**status, "train_loss": earlier}), encoding="utf-8")


@pytest.fixture(scope="module")
def unlogged(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _stopped_and_resumed(tmp_path_factory.mktemp("unlogged"), "unlogged", logging_strategy="no")


@pytest.fixture(scope="module")
def logged(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _stopped_and_resumed(tmp_path_factory.mktemp("logged"), "logged", logging_steps=4)


def test_a_resumed_run_that_logged_no_loss_says_its_figure_is_the_resumed_steps_mean(unlogged: Path) -> None:
    status = json.loads((unlogged / "status.json").read_text(encoding="utf-8"))
    before, after = (e["train_loss"] for e in _events(unlogged, "summary"))  # the Trainer's mean of each stretch
    assert status["train_loss"] == after != before
    assert _loss_line(unlogged) == (f"- Final train loss: {after:.4f} (the mean over step 6 alone: the run was resumed "
                                    "from step 5, and it logged no loss step by step, so the steps before are not in "
                                    "it)")


def test_an_uninterrupted_stretch_says_its_mean_as_it_did(unlogged: Path, tmp_path: Path) -> None:
    """The run as it was when stopped (its log and status up to the first end): the Trainer's mean over all its
    steps from step 0, said as it was."""
    import shutil

    copy = tmp_path / "stopped"
    shutil.copytree(unlogged, copy)
    lines = (copy / "metrics.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    first_end = next(i for i, line in enumerate(lines) if json.loads(line).get("event") == "end")
    (copy / "metrics.jsonl").write_text("".join(lines[: first_end + 1]), encoding="utf-8")
    before = _events(copy, "summary")[0]["train_loss"]
    status = json.loads((copy / "status.json").read_text(encoding="utf-8"))
    (copy / "status.json").write_text(json.dumps({**status, "step": 5, "train_loss": before}), encoding="utf-8")
    assert _loss_line(copy) == f"- Final train loss: {before:.4f}"


def test_a_resumed_run_whose_last_steps_logged_no_loss_says_where_its_loss_was_logged(logged: Path) -> None:
    status = json.loads((logged / "status.json").read_text(encoding="utf-8"))
    losses = {e["step"]: e["loss"] for e in _events(logged, "log") if "loss" in e}
    assert sorted(losses) == [4, 6] and status["train_loss"] == losses[6]  # the last step logs as it ends
    assert _loss_line(logged) == f"- Final train loss: {losses[6]:.4f}"

    # As a resumed stretch whose windows trained no token leaves it (training._losses_of_trained_tokens): the log
    # event keeps its learning rate but has no loss, and status.json holds the last loss of the restored history.
    drop_the_last_loss(logged, status, losses[4])
    assert _loss_line(logged) == (f"- Final train loss: {losses[4]:.4f} (the last loss logged, at step 4; none was "
                                  "logged in the 2 steps after it)")
