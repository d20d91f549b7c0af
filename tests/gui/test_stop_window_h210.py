"""Issue 12 item 9 through the real window: Stop pressed during optimizer step k ends the run at that step (k+1 at
the latest) with one resumable checkpoint, no evaluation, and "Checkpoint saved" once in the log; Resume goes on
from it. The tutorial's per-epoch evaluation and save, so no checkpoint is due when Stop comes: the Stop before
6dc7c00 ran the epoch's evaluation on the way out and saved the same step twice.

Where the run is, is the test's to say: a TrainerCallback the core adds to the Trainer (through
core.distributed.trainer_callbacks, the hook the core adds its own callbacks by) holds step k before it trains,
until the window's Stop has been pressed. Steps and events are asserted, never seconds (the time is
benchmarks/stop_latency.py's)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.runs import RunFolder
from finetune_studio.gui.run_header import RunState
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, start_run, wait_idle, wait_state, window
from tests.helpers import read_events, small_config

__all__ = ["dialog_log", "make_window", "window"]  # fixtures, used by name

STEPS_PER_EPOCH = 23  # 200 sample rows, the eval split left out, in batches of 8


class StepGate:
    """Holds optimizer step `k` before it trains (on_step_begin) until released, and says when it got there."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.reached = threading.Event()
        self.release = threading.Event()
        self.begun: list[int] = []  # every step whose training began, in order

    def callback(self) -> Any:
        from transformers import TrainerCallback

        gate = self

        class Gate(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                step = state.global_step + 1  # the step about to be trained
                gate.begun.append(step)
                if step == gate.k and not gate.release.is_set():
                    gate.reached.set()
                    assert gate.release.wait(60), "the test never released the held step"
                return control

        return Gate()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> StepGate:
    from finetune_studio.core import distributed

    held = StepGate(k=5)
    real = distributed.trainer_callbacks
    monkeypatch.setattr(distributed, "trainer_callbacks",
                        lambda run_dir, stop: [*real(run_dir, stop), held.callback()])
    return held


@pytest.mark.slow
def test_stop_during_a_step_saves_it_once_without_evaluating_and_resumes(qtbot: Any, window: Any,
                                                                         small_dataset: Path, runs_dir: Path,
                                                                         dialog_log: DialogLog,
                                                                         gate: StepGate) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=-1, num_train_epochs=1, eval_strategy="epoch",
                          save_strategy="epoch", load_best_model_at_end=True)
    config.name = "stopped"
    k = gate.k
    start_run(qtbot, window, config)
    qtbot.waitUntil(gate.reached.is_set, timeout=LONG)  # step k is being trained (held before its work)
    qtbot.waitUntil(lambda: window.state is RunState.RUNNING, timeout=LONG)
    window.stop_action.trigger()
    assert window.runner.stopping
    gate.release.set()
    wait_state(qtbot, window, RunState.STOPPED)
    wait_idle(qtbot, window)
    run_dir = runs_dir / "stopped"
    assert dialog_log.errors == []

    end = read_events(run_dir, "end")[-1]
    stopped = end["step"]
    assert end["state"] == "stopped" and stopped in (k, k + 1)
    assert end["message"] == f"Stopped at step {stopped} of {STEPS_PER_EPOCH}, resumable."
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, stopped + 1))
    assert gate.begun == list(range(1, stopped + 1))  # no step began after the one Stop ended
    assert [e["step"] for e in read_events(run_dir, "checkpoint")] == [stopped]  # one save, at the step
    assert sorted(p.name for p in run_dir.glob("checkpoint-*")) == [f"checkpoint-{stopped}"]
    assert read_events(run_dir, "eval") == []  # the epoch's evaluation was not run on the way out
    log = window.log.toPlainText()
    assert log.count("Checkpoint saved") == 1
    assert f"Checkpoint saved at step {stopped}: {run_dir / f'checkpoint-{stopped}'}" in log
    assert "eval loss" not in log
    assert window.resumable == run_dir
    assert RunFolder(run_dir).resumable_checkpoint().name == f"checkpoint-{stopped}"  # what Resume continues from
    assert window.resume_action.isEnabled()

    window.resume_action.trigger()
    wait_state(qtbot, window, RunState.FINISHED)
    wait_idle(qtbot, window)
    assert dialog_log.errors == []
    begins = read_events(run_dir, "train_begin")
    assert [b["start_step"] for b in begins] == [0, stopped]  # resumed from the Stop's checkpoint
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, STEPS_PER_EPOCH + 1))
    assert [e["step"] for e in read_events(run_dir, "eval")] == [STEPS_PER_EPOCH]  # the epoch's own, once
    assert read_events(run_dir, "end")[-1]["state"] == "finished"
