"""Issue 12, items 1 (the failure dialog) and 7, through the real window.

1. The failure dialog never guesses a cause it has not established: an error raised beside the model (here the
   issue's own, accelerate's shared state reset under the run while the model computed a step, so the next read
   of it in Trainer.compute_loss fails) says what it was and where it was raised, and is not blamed on the
   model's forward pass; an error raised inside the model's forward is. Either way the window can start again.
7. Resume of a finished run trains nothing and the window says so; a run killed while it saved its final model,
   reopened and resumed, finishes the save without training a step more.

The core's and CLI's side of both: tests/core/test_failure_site.py, tests/core/test_run_lifecycle.py."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.run_header import RunState
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, start_run, status_of, window
from tests.helpers import read_events, small_config

FORWARD_ERROR = "shapes (8, 64) and (8, 65) do not match"


def _after_training_forward(monkeypatch: pytest.MonkeyPatch, call: int, action: Callable[[], None]) -> list[bool]:
    """Run `action` right after the model's `call`-th forward pass in training (step `call`, with no gradient
    accumulation), from a hook on the model the run loads; an action that raises raises inside the model's call.
    Returns a switch: append to it and the hook does nothing more (a later run in the same window)."""
    from finetune_studio.core import model as models

    real, calls, off = models.load_model, [], []

    def after_forward(module: Any, args: Any, output: Any) -> None:
        if module.training and not off:
            calls.append(True)
            if len(calls) == call:
                action()

    def load_model(*args: Any, **kwargs: Any) -> Any:
        model = real(*args, **kwargs)
        model.register_forward_hook(after_forward)
        return model

    monkeypatch.setattr(models, "load_model", load_model)
    return off


def _reset_accelerate() -> None:
    """What the window's live validation did while a run trained (issue 12 item 1): TrainingArguments' device
    set-up reset accelerate's process-wide state, which the running Trainer reads."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)


def _raise_in_forward() -> None:
    raise ValueError(FORWARD_ERROR)


def _failed(qtbot: Any, window: Any, dialog_log: DialogLog) -> tuple[str, str]:
    qtbot.waitUntil(lambda: window.state is RunState.FAILED and not window.runner.running, timeout=LONG)
    assert len(dialog_log.errors) == 1, dialog_log.errors
    title, message, details = dialog_log.errors[0]
    assert title == "Training failed"
    return message, details or ""


def _header(window: Any) -> str:
    return window.header.state_label.text() + "\n" + window.header.state_label.toolTip()


@pytest.mark.slow  # two runs in the window (6-16 s on 2 busy cores)
def test_an_error_beside_the_model_is_not_blamed_on_it_in_the_window(qtbot: Any, window: Any, small_dataset: Path,
                                                                     runs_dir: Path, dialog_log: DialogLog,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    off = _after_training_forward(monkeypatch, 3, _reset_accelerate)
    config = small_config(small_dataset, runs_dir, max_steps=6, eval_steps=6, save_steps=6)
    config.name = "beside"
    start_run(qtbot, window, config)
    message, details = _failed(qtbot, window, dialog_log)
    # What is established: the error, its text, and the module that raised it; no cause is guessed.
    assert message.startswith("Training failed: AttributeError: `AcceleratorState` object has no attribute `")
    assert "`AcceleratorState._reset_state()` was called" in message
    assert message.endswith(" (raised in accelerate.state)")
    for guess in ("forward pass", "Qwen3ForCausalLM", "Check the model", "the data it was fed"):
        assert guess not in message and guess not in _header(window)
    # It was raised inside Trainer.compute_loss, after the model had returned: the case a guess would blame.
    frames = [line for line in details.splitlines() if line.lstrip().startswith("File ")]
    assert any(line.endswith("in compute_loss") for line in frames) and "accelerate/state.py" in frames[-1]
    run_dir = runs_dir / "beside"
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2]  # step 3's forward ran, its loss did not
    status = status_of(run_dir)
    assert status["state"] == "failed" and "forward pass" not in status["message"]
    assert "raised in accelerate.state" in window.log.toPlainText()

    # The window is usable again: Start is offered, and a run started from it trains to its end.
    off.append(True)
    config.name = "after"
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    start_run(qtbot, window, config)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert [e["step"] for e in read_events(runs_dir / "after", "step")] == [1, 2, 3, 4, 5, 6]
    assert len(dialog_log.errors) == 1


def test_an_error_inside_the_models_forward_is_said_to_be_the_models(qtbot: Any, window: Any, small_dataset: Path,
                                                                     runs_dir: Path, dialog_log: DialogLog,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _after_training_forward(monkeypatch, 3, _raise_in_forward)
    config = small_config(small_dataset, runs_dir, max_steps=6, eval_steps=6, save_steps=6)
    config.name = "inside"
    start_run(qtbot, window, config)
    message, _ = _failed(qtbot, window, dialog_log)
    assert message == (f"The model's forward pass (Qwen3ForCausalLM) raised ValueError at step 3: {FORWARD_ERROR}. "
                       "Check the model (and its own code, if it needs trust_remote_code) and the data it was fed; "
                       "no checkpoint had been saved yet, so start the run again once it is fixed.")
    assert "raised in" not in message
    assert [e["step"] for e in read_events(runs_dir / "inside", "step")] == [1, 2]
    assert status_of(runs_dir / "inside")["state"] == "failed"
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    assert not window.resume_action.isEnabled()  # no checkpoint: nothing to resume


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kinds_of(metrics: bytes) -> list[str]:
    return [json.loads(line)["event"] for line in metrics.decode().splitlines()]


def _kinds(run_dir: Path) -> list[str]:
    return _kinds_of((run_dir / "metrics.jsonl").read_bytes())


def test_resume_of_a_finished_run_trains_nothing_and_the_window_says_so(qtbot: Any, window: Any,
                                                                        small_dataset: Path, runs_dir: Path,
                                                                        dialog_log: DialogLog) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=3, eval_steps=3, save_steps=3)
    config.name = "three"
    start_run(qtbot, window, config)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    run_dir = window.run_dir
    assert run_dir == runs_dir / "three"
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3]
    metrics = (run_dir / "metrics.jsonl").read_bytes()
    weights, status = _sha256(run_dir / "model" / "model.safetensors"), status_of(run_dir)
    assert (status["state"], status["step"], status["max_steps"]) == ("finished", 3, 3)
    assert not window.resume_action.isEnabled()  # a finished run is not offered Resume

    window.resume_run(run_dir)  # what Resume and the Runs tab's "Train N more epochs" run, here with no epochs
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3]  # no 4th step
    assert _kinds(run_dir) == _kinds_of(metrics)  # no event at all (no run_start, phase or end): nothing ran
    assert (run_dir / "metrics.jsonl").read_bytes() == metrics
    assert _sha256(run_dir / "model" / "model.safetensors") == weights
    assert status_of(run_dir) == status
    assert dialog_log.errors == []
    bar = window.statusBar()  # the message, elided in the middle to the room there is; the whole of it as tooltip
    assert bar.currentMessage().startswith("The run three already trained all 3 of its 3 steps: nothing to resume")
    assert bar.full_message.startswith("The run three already trained all 3 of its 3 steps: nothing to resume, so "
                                       f"no step was trained; its final model is in {run_dir / 'model'}, unchanged.")
    assert bar.toolTip() in ("", bar.full_message)
    # and in the log, which keeps it (the status bar's message goes after 10 s, cut in the middle at this width)
    assert window.log.toPlainText().rstrip().endswith(bar.full_message)
    assert window.header.state_label.text().startswith("Finished")
    assert not window.resume_action.isEnabled()


def _dead_pid() -> int:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


def _weights(path: Path) -> dict:
    from safetensors.torch import load_file

    # Copies: load_file's tensors are backed by the file's mmap, which a file cut short then faults on (SIGBUS).
    return {name: tensor.clone() for name, tensor in load_file(str(path)).items()}


def test_a_kill_during_the_final_save_reopened_and_resumed_in_the_window_finishes_the_save(
        qtbot: Any, window: Any, small_dataset: Path, runs_dir: Path, dialog_log: DialogLog) -> None:
    import torch

    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import run

    config = small_config(small_dataset, runs_dir, max_steps=6, eval_steps=3, save_steps=3)
    config.name = "cut"
    whole = run(config)
    assert whole.state == "finished"
    expected = _weights(whole.model_dir / "model.safetensors")
    # As a kill in the middle of saving the final model leaves it (tests/core/test_run_lifecycle.py): a half-written
    # model file, the status still "running" of a process that is gone, the metrics ending in the save phase.
    folder = RunFolder(whole.run_dir)
    (folder.model_dir / "model.safetensors").write_bytes(b"\0" * 100)
    status = json.loads(folder.status_path.read_text())
    folder.status_path.write_text(json.dumps({**status, "state": "running", "message": "Training",
                                              "pid": _dead_pid()}))
    lines = folder.metrics_path.read_text().splitlines()
    cut = max(i for i, line in enumerate(lines) if json.loads(line)["event"] == "phase")
    assert json.loads(lines[cut])["phase"] == "save"
    folder.metrics_path.write_text("\n".join(lines[:cut + 1]) + "\n")
    trained = json.loads((folder.path / "checkpoint-6" / "trainer_state.json").read_text())
    best = trained.get("best_global_step") if config.training.get("load_best_model_at_end") else None
    source = f"checkpoint-{best or 6}"

    window.show_run(folder.path)  # reopened (File → Open run folder, or the Runs tab)
    assert window.state is RunState.STOPPED and window.resume_action.isEnabled()
    assert "Resume continues from the latest checkpoint" in window.header.state_label.toolTip() + \
        window.header.state_label.text()
    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert dialog_log.errors == []
    assert [e["step"] for e in read_events(folder.path, "step")] == [1, 2, 3, 4, 5, 6]  # no 7th
    assert [e["step"] for e in read_events(folder.path, "end")] == [6]
    finished = status_of(folder.path)
    assert (finished["state"], finished["step"], finished["max_steps"]) == ("finished", 6, 6)
    saved = _weights(folder.model_dir / "model.safetensors")
    assert saved.keys() == expected.keys() and all(torch.equal(saved[k], expected[k]) for k in saved)
    assert window.statusBar().full_message == (
        f"Finished 6 steps: training had reached its last step before the run was cut off, so no step was trained "
        f"now; the final save was completed from {source}. Model saved to {folder.model_dir}.")
    assert f"Training had finished at step 6; saving the final model from {source}" in window.log.toPlainText()


@pytest.mark.slow  # a run stopped, then resumed to its end, before the window's Resume (about 9 s)
def test_resume_pressed_on_a_run_finished_elsewhere_since_trains_nothing(qtbot: Any, window: Any,
                                                                          small_dataset: Path, runs_dir: Path,
                                                                          dialog_log: DialogLog) -> None:
    """The window shows a stopped run and offers Resume; meanwhile a terminal's `finetune-studio resume` trains it to
    its end. The window still offers Resume (it shows what it read), and pressing it trains nothing and says so."""
    import threading

    from finetune_studio.core.training import resume, run

    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=4, eval_steps=4, save_steps=4)
    config.name = "elsewhere"
    first = run(config, lambda e: stop.set() if e["event"] == "step" and e["step"] == 2 else None, stop)
    assert first.state == "stopped" and first.step == 2
    window.show_run(first.run_dir)
    assert window.state is RunState.STOPPED and window.resume_action.isEnabled()
    done = resume(first.run_dir)
    assert done.state == "finished" and done.step == 4
    metrics = (first.run_dir / "metrics.jsonl").read_bytes()
    weights, status = _sha256(first.run_dir / "model" / "model.safetensors"), status_of(first.run_dir)
    assert [e["step"] for e in read_events(first.run_dir, "step")] == [1, 2, 3, 4]

    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert [e["step"] for e in read_events(first.run_dir, "step")] == [1, 2, 3, 4]  # no 5th step
    assert _kinds(first.run_dir) == _kinds_of(metrics)  # no event at all
    assert (first.run_dir / "metrics.jsonl").read_bytes() == metrics
    assert _sha256(first.run_dir / "model" / "model.safetensors") == weights
    assert status_of(first.run_dir) == status
    assert dialog_log.errors == []
    bar = window.statusBar()
    assert bar.currentMessage().startswith("The run elsewhere already trained all 4 of its 4 steps: nothing to resume")
    assert bar.full_message.startswith("The run elsewhere already trained all 4 of its 4 steps: nothing to resume, so "
                                       f"no step was trained; its final model is in {first.run_dir / 'model'}, "
                                       "unchanged.")
    assert not window.resume_action.isEnabled()  # finished now: Resume is no longer offered
