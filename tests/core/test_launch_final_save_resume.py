"""A multi-process run whose training had ended with only its final save left (the save cut short), resumed for
more epochs and stopped: it ends stopped at its step, of the new end, and the next Resume trains the epochs asked
for. A Stop as that resume began (before its first step) used to record 'step 23 of 23', the checkpoint's old end,
and the next Resume then only completed the old final save and ended "Finished" at step 23, the added epoch never
trained."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import load_config
from finetune_studio.core.distributed import read_heartbeats, stop_path
from finetune_studio.core.runs import RunFolder
from tests.core.test_launch_processes import _config, run_processes
from tests.helpers import read_events

pytestmark = pytest.mark.slow


def _stop_at(step: int, stop: threading.Event):
    def sink(event: dict) -> None:
        if event.get("event") == "step" and event["step"] >= step:
            stop.set()

    return sink


def test_a_resume_for_more_epochs_of_a_run_left_at_its_final_save_stops_and_then_trains_them(
        demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    config = _config(small_dataset, runs_dir, "final-save", max_steps=-1, num_train_epochs=1, eval_strategy="no",
                     load_best_model_at_end=False, save_strategy="epoch", logging_steps=1)
    run_dir = runs_dir / "final-save"
    first = launch.run(config)
    assert first.state == "finished", first.message
    end = first.step  # one epoch
    folder = RunFolder(run_dir)
    assert folder.latest_checkpoint().name == f"checkpoint-{end}"
    shutil.rmtree(folder.model_dir)  # the final save cut short (a kill): only it is left
    folder.write_status("failed", "Interrupted.", step=end, max_steps=end)

    stop = threading.Event()
    stop.set()  # Stop pressed as the resume for one more epoch starts: every rank ends before its first step
    result = launch.resume(run_dir, None, stop, extra_epochs=1)
    assert (result.state, result.step, result.max_steps) == ("stopped", end, 2 * end), result.message
    assert result.message == (f"Stopped before training resumed: the run is still at step {end} of {2 * end}; "
                              f"Resume continues from checkpoint-{end}.")
    status = folder.read_status()
    assert (status["state"], status["step"], status["max_steps"]) == ("stopped", end, 2 * end)
    assert load_config(folder.config_path)[0].training["num_train_epochs"] == 2
    assert {b["state"] for b in read_heartbeats(run_dir).values()} == {"stopped"}

    stop = threading.Event()  # Resume again: it trains the added epoch (it used to end "Finished" at `end`)
    result = launch.resume(run_dir, _stop_at(end + 2, stop), stop)
    assert result.state == "stopped", result.message
    assert end + 2 <= result.step < 2 * end and result.max_steps == 2 * end
    assert [(b["state"], b["step"]) for _, b in sorted(read_heartbeats(run_dir).items())] == [
        ("stopped", result.step)] * 2
    assert (run_dir / f"checkpoint-{result.step}" / "trainer_state.json").is_file()
    assert not folder.model_dir.exists() and not stop_path(run_dir).exists()
    assert read_events(run_dir, "end")[-1]["state"] == "stopped"

    result = launch.resume(run_dir)
    assert (result.state, result.step) == ("finished", 2 * end), result.message
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, 2 * end + 1))  # each step once
    assert (folder.model_dir / "config.json").is_file()
    assert run_processes(run_dir) == []
