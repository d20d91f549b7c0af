"""A Stop (the window's button, Ctrl-C or SIGTERM in the CLI) while a run is still being set up (tokenizer, data,
model: minutes for a big model) ends it before its first step: nothing trains and no checkpoint is written. It
used to train one step and save a full checkpoint first, which for a big model is minutes and gigabytes spent on
what the user asked to cancel."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.session import Session
from finetune_studio.core.training import RunResult, resume, run
from tests.helpers import read_events, small_config


def _stop_at_phase(name: str, stop: threading.Event):
    def sink(event: dict) -> None:
        if event["event"] == "phase" and event["phase"] == name:
            stop.set()  # asked while this phase works: the next look at Stop is before the next phase

    return sink


@pytest.mark.parametrize("phase", ["tokenizer", "data", "model"])
def test_a_stop_while_a_new_run_is_set_up_trains_nothing_and_the_name_starts_again(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, phase: str) -> None:
    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=4)
    config.name = "cancelled"
    result = run(config, _stop_at_phase(phase, stop), stop)
    assert (result.state, result.step) == ("stopped", 0)
    assert result.message.startswith("Stopped before training began: nothing was trained or saved.")
    folder = RunFolder(result.run_dir)
    assert folder.latest_checkpoint() is None
    assert read_events(folder.path, "step") == [] and read_events(folder.path, "train_begin") == []
    assert [p["phase"] for p in read_events(folder.path, "phase")][-1] == phase  # nothing set up after it
    assert not folder.model_dir.exists()
    status = folder.read_status()
    assert (status["state"], status["step"]) == ("stopped", 0)
    end = read_events(folder.path, "end")
    assert [(e["state"], e["step"]) for e in end] == [("stopped", 0)]
    again = run(config)  # what the message says: the same name takes the untrained folder over
    assert (again.state, again.step, again.run_dir) == ("finished", 4, folder.path)


def test_a_stop_while_the_trainer_sets_up_ends_the_run_as_training_begins(demo_cache: Path, small_dataset: Path,
                                                                           runs_dir: Path) -> None:
    """After the last phase (the Trainer is built and prepares the model) the look at Stop is at train begin."""
    stop = threading.Event()
    result = run(small_config(small_dataset, runs_dir, max_steps=4), _stop_at_phase("train", stop), stop)
    assert (result.state, result.step) == ("stopped", 0)
    assert RunFolder(result.run_dir).latest_checkpoint() is None
    assert read_events(result.run_dir, "train_begin") == [] and read_events(result.run_dir, "step") == []


def test_a_stop_while_a_resume_is_set_up_keeps_the_run_where_its_checkpoint_is(
        demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    stop = threading.Event()

    def stop_at_two(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 2:
            stop.set()

    config = small_config(small_dataset, runs_dir, max_steps=6)
    first = run(config, stop_at_two, stop)
    assert (first.state, first.step) == ("stopped", 2)
    stop.clear()
    second = resume(first.run_dir, _stop_at_phase("model", stop), stop)
    assert (second.state, second.step, second.max_steps) == ("stopped", 2, 6)
    assert second.message == ("Stopped before training resumed: the run is still at step 2 of 6; Resume continues "
                              "from checkpoint-2.")
    folder = RunFolder(first.run_dir)
    assert [c.name for c in folder.checkpoints()] == ["checkpoint-2"]
    assert [e["step"] for e in read_events(folder.path, "step")] == [1, 2]
    third = resume(first.run_dir)
    assert (third.state, third.step) == ("finished", 6)
    assert [e["step"] for e in read_events(folder.path, "step")] == list(range(1, 7))


def test_a_stop_at_the_last_step_still_saves_the_final_model(demo_cache: Path, small_dataset: Path,
                                                              runs_dir: Path) -> None:
    """The look at Stop is before training only: a Stop asked at the last step ends the run Finished, its model
    saved (the 'save' phase comes after training and must not read it as a cancel)."""
    stop = threading.Event()

    def stop_at_last(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 2:
            stop.set()

    result = run(small_config(small_dataset, runs_dir, max_steps=2), stop_at_last, stop)
    assert (result.state, result.step) == ("finished", 2)
    assert (RunFolder(result.run_dir).model_dir / "model.safetensors").is_file()


def _interrupted_run(run_dir: Path, step: int):
    def execute(printer: cli.ProgressPrinter, stop: threading.Event) -> RunResult:
        printer({"event": "run_start", "run_dir": str(run_dir)})
        if step:
            printer({"event": "train_begin", "step": 0, "max_steps": 4})
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: the CLI's handler sets the stop event
        assert stop.is_set()
        return RunResult("stopped", "said by the run", run_dir, step, 4 if step else 0)

    return execute


def test_the_cli_says_a_ctrl_c_before_the_first_step_trains_nothing(tmp_path: Path, capsys) -> None:
    assert cli._train(_interrupted_run(tmp_path, 0), quiet=False) == cli.EXIT_STOPPED
    out, err = capsys.readouterr()
    assert "Stopping before training begins (nothing will be trained or saved)… (Ctrl-C again to abort)" in err
    assert out.splitlines() == ["stopped: said by the run"]  # no "Resume with": there is nothing to resume


def test_the_cli_still_says_a_ctrl_c_during_training_saves_a_checkpoint(tmp_path: Path, capsys) -> None:
    assert cli._train(_interrupted_run(tmp_path, 3), quiet=True) == cli.EXIT_STOPPED
    assert capsys.readouterr().out.splitlines() == ["stopped: said by the run",
                                                    f"Resume with: finetune-studio resume {tmp_path}"]
    printer = cli.ProgressPrinter(quiet=True)
    printer({"event": "train_begin", "step": 0, "max_steps": 4})
    assert printer.training


def test_the_window_offers_start_not_resume_after_a_stop_before_the_first_step(tmp_path: Path) -> None:
    session = Session()
    session.run_stopped(tmp_path, 0, 0)
    assert (session.state.value, session.resumable) == ("idle", None)
    assert session.state_text == "Stopped before the first step — nothing was trained"


def test_a_stop_while_a_resume_for_more_epochs_is_set_up_leaves_them_to_the_next_resume(
        demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    """config.yaml holds the added epoch from that resume on: the stopped run's end is the new one, and the next
    Resume trains to it. It used to say 'step 23 of 23', and the next Resume took the checkpoint at the old end for a
    final save cut short: it ended "Finished" at step 23, the epoch never trained."""
    config = small_config(small_dataset, runs_dir, max_steps=-1, num_train_epochs=1, eval_strategy="no",
                          save_strategy="epoch", load_best_model_at_end=False)
    first = run(config)
    end = first.step
    assert (first.state, first.max_steps) == ("finished", end)
    stop = threading.Event()
    second = resume(first.run_dir, _stop_at_phase("model", stop), stop, extra_epochs=1)
    assert (second.state, second.step, second.max_steps) == ("stopped", end, 2 * end)
    assert second.message == (f"Stopped before training resumed: the run is still at step {end} of {2 * end}; "
                              f"Resume continues from checkpoint-{end}.")
    third = resume(first.run_dir)
    assert (third.state, third.step, third.max_steps) == ("finished", 2 * end, 2 * end), third.message
    assert [e["step"] for e in read_events(first.run_dir, "step")] == list(range(1, 2 * end + 1))
