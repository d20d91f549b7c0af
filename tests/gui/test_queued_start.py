"""Start is never blocked by the warm-up: pressed before the training libraries are loaded, the run is queued,
says so, and begins by itself once they are; Stop cancels it before it begins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune_studio.gui.run_header import RunState
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window
from tests.helpers import read_events, small_config


def test_start_pressed_before_the_warm_up_queues_the_run(qtbot: Any, make_window: Any, small_dataset: Path,
                                                         runs_dir: Path, dialog_log: DialogLog) -> None:
    window = make_window(warm=False)
    config = small_config(small_dataset, runs_dir, max_steps=4, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "queued"
    window.set_config(config)
    assert window.warm is None and window.start_action.isEnabled()
    window.start_action.trigger()
    assert window.start_queued and not window.runner.running
    assert window.state is RunState.PREPARING
    assert window.header.state_label.text() == "Starting… loading the training libraries"
    assert not window.start_action.isEnabled()  # pressed once is enough
    assert window.stop_action.isEnabled()
    assert not (runs_dir / "queued").exists()

    window.begin_warmup()
    qtbot.waitUntil(lambda: window.runner.running or window.state is RunState.FINISHED, timeout=LONG)
    assert not window.start_queued
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    assert dialog_log.errors == []
    assert [e["step"] for e in read_events(runs_dir / "queued", "step")] == [1, 2, 3, 4]


def test_stop_cancels_a_queued_start(qtbot: Any, make_window: Any, small_dataset: Path, runs_dir: Path) -> None:
    window = make_window(warm=False)
    config = small_config(small_dataset, runs_dir, max_steps=4)
    config.name = "cancelled"
    window.set_config(config)
    window.start_action.trigger()
    assert window.start_queued
    window.stop_action.trigger()
    assert not window.start_queued and window.state is RunState.IDLE
    assert window.header.state_label.text() == "Start cancelled before the run began"
    window.begin_warmup()
    qtbot.waitUntil(lambda: window.warm is not None, timeout=LONG)
    qtbot.wait(200)
    assert not window.runner.running and window.state is RunState.IDLE
    assert not (runs_dir / "cancelled").exists()
    assert window.start_action.isEnabled()  # and a new Start works once the config validates


def test_a_queued_start_with_a_bad_config_says_why_and_starts_nothing(qtbot: Any, make_window: Any,
                                                                      small_dataset: Path, runs_dir: Path,
                                                                      dialog_log: DialogLog) -> None:
    window = make_window(warm=False)
    config = small_config(small_dataset, runs_dir, learning_rate=-1)
    config.name = "bad"
    window.set_config(config)
    window.start_action.trigger()
    window.begin_warmup()
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=LONG)
    title, message, _ = dialog_log.errors[0]
    assert title == "Cannot start" and "learning_rate must be above 0" in message
    qtbot.waitUntil(lambda: not window.runner.running, timeout=LONG)
    assert window.state is RunState.IDLE and not (runs_dir / "bad").exists()
