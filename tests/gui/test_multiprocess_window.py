"""A run of two processes (torchrun, CPU, gloo) driven from the window: Start, the live chart, Stop of both ranks
at one step, Resume with the same two processes to the end; and closing the window, which leaves the run
training, then a new window that reattaches to it through the Runs tab and stops it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.distributed import read_heartbeats
from finetune_studio.core.runs import RunFolder, run_busy
from finetune_studio.gui.run_header import RunState
from tests.core.test_launch_processes import run_processes
from tests.gui.test_app import dialog_log, make_window, start_run  # make_window, dialog_log: fixtures
from tests.helpers import read_events, small_config

pytestmark = pytest.mark.slow

SLOW = 300_000  # ms: two processes each import the training stack on a shared 2-core machine


def _config(small_dataset: Path, runs_dir: Path, name: str, **training: Any):
    config = small_config(small_dataset, runs_dir, per_device_train_batch_size=4, logging_steps=1, **training)
    config.launch.processes = 2
    config.name = name
    return config


def test_two_processes_start_stop_and_resume_from_the_window(qtbot: Any, make_window: Any, small_dataset: Path,
                                                             runs_dir: Path) -> None:
    window = make_window()
    # Enough steps that Stop lands mid-run on an idle machine too (8 steps once ended before Stop was pressed).
    start_run(qtbot, window, _config(small_dataset, runs_dir, "window-two", max_steps=40, eval_steps=20,
                                     save_steps=100))
    assert window.runner.detachable  # trained by a supervisor and torchrun, followed by the runner's thread
    run_dir = runs_dir / "window-two"
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.point_count >= 2,  # rank 0's losses, live
                    timeout=SLOW)  # (the chart is built on an event-loop turn after the run starts)
    window.stop_action.trigger()
    assert window.state is RunState.STOPPING
    qtbot.waitUntil(lambda: window.state is RunState.STOPPED, timeout=SLOW)
    stopped = RunFolder(run_dir).read_status()["step"]
    assert [(b["state"], b["step"]) for b in read_heartbeats(run_dir).values()] == [("stopped", stopped)] * 2
    # STOPPED comes with the run's end event; Resume once the runner's thread has ended too (runner.idle).
    qtbot.waitUntil(window.resume_action.isEnabled, timeout=SLOW)
    assert window.resumable == run_dir

    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=SLOW)
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, 41))
    assert [e["start_step"] for e in read_events(run_dir, "train_begin")] == [0, stopped]
    logged = [(e["step"], e["loss"]) for e in read_events(run_dir, "log")]
    x, y = window.chart.train.view()
    assert list(zip(x, y)) == logged and [s for s, _ in logged] == list(range(1, 41))
    beats = read_heartbeats(run_dir)
    assert beats[0]["weights"] == beats[1]["weights"] and beats[0]["world_size"] == 2
    qtbot.waitUntil(lambda: not window.runner.running, timeout=SLOW)
    assert run_processes(run_dir) == []


def test_closing_the_window_leaves_the_run_training_and_a_new_window_reattaches_and_stops_it(
        qtbot: Any, make_window: Any, small_dataset: Path, runs_dir: Path) -> None:
    window = make_window()
    start_run(qtbot, window, _config(small_dataset, runs_dir, "outlives", max_steps=120, eval_steps=60,
                                     save_steps=60))
    run_dir = runs_dir / "outlives"
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.point_count >= 1, timeout=SLOW)
    window.close()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
    assert run_busy(run_dir) is not None  # the supervisor still holds the run
    assert RunFolder(run_dir).read_status()["state"] == "running"
    assert not (run_dir / "stop.request").exists()  # closing did not stop it

    again = make_window(warm=False)
    again.tabs.setCurrentWidget(again.history)
    panel = again.history
    qtbot.waitUntil(lambda: panel.model.summary(run_dir) is not None, timeout=30_000)
    panel.open_run(run_dir)
    assert panel.following == run_dir and again.state is RunState.RUNNING
    first = again.chart.point_count
    qtbot.waitUntil(lambda: again.chart.point_count > first, timeout=SLOW)  # followed live
    assert again.stop_action.isEnabled()  # Stop reaches a run this window did not start
    again.stop_action.trigger()
    assert again.state is RunState.STOPPING and (run_dir / "stop.request").exists()
    qtbot.waitUntil(lambda: panel.following is None, timeout=SLOW)
    status = RunFolder(run_dir).read_status()
    assert status["state"] == "stopped" and again.state is RunState.STOPPED
    assert [(b["state"], b["step"]) for b in read_heartbeats(run_dir).values()] == [("stopped", status["step"])] * 2
    assert again.resumable == run_dir and not again.stop_action.isEnabled()
    qtbot.waitUntil(lambda: run_processes(run_dir) == [], timeout=30_000)
