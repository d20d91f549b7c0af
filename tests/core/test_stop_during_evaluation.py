"""A Stop pressed while the Trainer evaluates (eval_strategy "steps" or "epoch") ends the run right after that
evaluation, at its step, with that step's checkpoint, in one process and on every rank under torchrun. It used to
train one more optimizer step first (the look at Stop is at a step's end, and the evaluation follows it), and the
checkpoint Resume continued from was that later step's."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.distributed import read_heartbeats, stop_path
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import resume, run
from tests.core.test_launch_processes import _config, run_processes
from tests.helpers import ROOT, read_events, small_config

pytestmark = pytest.mark.slow


def _stop_in_eval_at(step: int, stop: threading.Event):
    def sink(event: dict) -> None:
        if event["event"] == "eval" and event["step"] == step:
            stop.set()  # the eval event is logged inside the evaluation, before it returns to the Trainer

    return sink


def test_a_stop_during_a_step_evaluation_stops_at_that_step_and_resumes_from_it(
        demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=9, eval_steps=3, save_steps=100, logging_steps=1,
                          load_best_model_at_end=False)
    result = run(config, _stop_in_eval_at(3, stop), stop)
    assert (result.state, result.step, result.max_steps) == ("stopped", 3, 9), result.message
    folder = RunFolder(result.run_dir)
    assert [e["step"] for e in read_events(folder.path, "step")] == [1, 2, 3]
    assert [e["step"] for e in read_events(folder.path, "eval")] == [3]
    assert [c.name for c in folder.checkpoints()] == ["checkpoint-3"]
    assert [e["step"] for e in read_events(folder.path, "checkpoint")] == [3]
    assert (folder.read_status()["state"], folder.read_status()["step"]) == ("stopped", 3)

    again = resume(folder.path)
    assert (again.state, again.step) == ("finished", 9), again.message
    assert [e["step"] for e in read_events(folder.path, "step")] == list(range(1, 10))  # each step once
    assert [e["start_step"] for e in read_events(folder.path, "train_begin")] == [0, 3]
    assert [e["step"] for e in read_events(folder.path, "eval")] == [3, 6, 9]


def test_a_stop_during_an_epoch_evaluation_stops_at_the_epochs_end_with_a_checkpoint(
        demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=-1, num_train_epochs=2, eval_strategy="epoch",
                          save_strategy="no", load_best_model_at_end=False, logging_steps=5)
    seen: list[int] = []

    def sink(event: dict) -> None:
        if event["event"] == "eval" and not seen:
            seen.append(event["step"])
            stop.set()

    result = run(config, sink, stop)
    epoch_end = seen[0]
    assert (result.state, result.step) == ("stopped", epoch_end), result.message
    assert result.max_steps == 2 * epoch_end
    folder = RunFolder(result.run_dir)
    assert read_events(folder.path, "step")[-1]["step"] == epoch_end
    assert [c.name for c in folder.checkpoints()] == [f"checkpoint-{epoch_end}"]  # saved once, though "no"
    assert [e["step"] for e in read_events(folder.path, "checkpoint")] == [epoch_end]
    assert [e["step"] for e in read_events(folder.path, "eval")] == [epoch_end]


SITECUSTOMIZE = '''
import os

if os.environ.get("RANK") == "0" and os.environ.get("FS_TEST_STOP_IN_EVAL"):
    import finetune_studio.core.distributed as distributed

    run_dir, step = os.environ["FS_TEST_STOP_IN_EVAL"].rsplit(":", 1)
    made = distributed.trainer_class

    def trainer_class(base):
        class StopInEval(made(base)):
            def evaluation_loop(self, *args, **kwargs):
                output = super().evaluation_loop(*args, **kwargs)
                if self.state.global_step == int(step):  # the window's Stop, pressed during this evaluation
                    distributed.request_stop(run_dir)
                return output

        return StopInEval

    distributed.trainer_class = trainer_class
'''


def test_two_processes_stopped_during_an_evaluation_stop_together_right_after_it(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, tmp_path: Path, monkeypatch) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    run_dir = runs_dir / "stop-in-eval"
    monkeypatch.setenv("PYTHONPATH", f"{hook}:{ROOT}")
    monkeypatch.setenv("FS_TEST_STOP_IN_EVAL", f"{run_dir}:3")
    config = _config(small_dataset, runs_dir, "stop-in-eval", max_steps=9, eval_steps=3, save_steps=100,
                     logging_steps=1, load_best_model_at_end=False)
    result = launch.run(config)
    assert (result.state, result.step, result.max_steps) == ("stopped", 3, 9), result.message
    beats = read_heartbeats(run_dir)
    assert [(b["state"], b["step"]) for _, b in sorted(beats.items())] == [("stopped", 3)] * 2  # the same step
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3]
    assert [p.name for p in RunFolder(run_dir).checkpoints()] == ["checkpoint-3"]
    trainer_state = json.loads((run_dir / "checkpoint-3" / "trainer_state.json").read_text())
    assert trainer_state["global_step"] == 3
    assert not stop_path(run_dir).exists()
    assert run_processes(run_dir) == []


def test_a_stop_with_save_strategy_best_still_saves_its_step(demo_cache: Path, small_dataset: Path,
                                                             runs_dir: Path) -> None:
    """save_strategy "best": after an evaluation the Trainer replaces the save a Stop asked for with "is this a new
    best", so a Stop during (or at the step of) an evaluation that was no new best ended without a checkpoint at
    its step: "Stopped at step 6, resumable" while Resume went back to step 3 (helper-47 noticed)."""
    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=12, eval_steps=3, save_strategy="best",
                          metric_for_best_model="eval_loss", greater_is_better=True,  # only the first eval is best
                          logging_steps=1, load_best_model_at_end=False)
    result = run(config, _stop_in_eval_at(6, stop), stop)
    assert (result.state, result.step) == ("stopped", 6), result.message
    folder = RunFolder(result.run_dir)
    assert [c.name for c in folder.checkpoints()] == ["checkpoint-3", "checkpoint-6"]  # the best, and the Stop's
    assert [e["step"] for e in read_events(folder.path, "checkpoint")] == [3, 6]
    again = resume(folder.path)
    assert (again.state, again.step) == ("finished", 12), again.message
    assert [e["start_step"] for e in read_events(folder.path, "train_begin")] == [0, 6]
    assert [e["step"] for e in read_events(folder.path, "step")] == list(range(1, 13))


def test_two_processes_stopped_with_save_strategy_best_save_the_stops_step_and_resume_from_it(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """The save_strategy "best" Stop save (553755a) under torchrun: every rank saves the Stop's checkpoint (the
    Trainer's save is collective), the run ends stopped at that step on both ranks, and Resume with the same two
    processes goes on from it, each step once."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    run_dir = runs_dir / "stop-best"
    monkeypatch.setenv("PYTHONPATH", f"{hook}:{ROOT}")
    monkeypatch.setenv("FS_TEST_STOP_IN_EVAL", f"{run_dir}:6")
    config = _config(small_dataset, runs_dir, "stop-best", max_steps=12, eval_steps=3, save_strategy="best",
                     metric_for_best_model="eval_loss", greater_is_better=True,  # only the first eval is best
                     logging_steps=1, load_best_model_at_end=False)
    result = launch.run(config)
    assert (result.state, result.step, result.max_steps) == ("stopped", 6, 12), result.message
    beats = read_heartbeats(run_dir)
    assert [(b["state"], b["step"]) for _, b in sorted(beats.items())] == [("stopped", 6)] * 2
    assert [p.name for p in RunFolder(run_dir).checkpoints()] == ["checkpoint-3", "checkpoint-6"]
    assert [e["step"] for e in read_events(run_dir, "checkpoint")] == [3, 6]
    assert json.loads((run_dir / "checkpoint-6" / "trainer_state.json").read_text())["global_step"] == 6
    assert run_processes(run_dir) == []

    monkeypatch.delenv("FS_TEST_STOP_IN_EVAL")
    again = launch.resume(run_dir)
    assert (again.state, again.step) == ("finished", 12), again.message
    assert [e["start_step"] for e in read_events(run_dir, "train_begin")] == [0, 6]
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, 13))  # each step once
    assert run_processes(run_dir) == []
