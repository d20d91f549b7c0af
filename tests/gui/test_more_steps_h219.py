"""The Runs tab trains a run its config.yaml's max_steps caps further by steps: "Train N more steps" (its box starting
at the run's max_steps) where "Train N more epochs" refused it ("more epochs would not train any further"); a run that
trains by epochs keeps "Train N more epochs". Pressing it resumes through MainWindow.resume_run, and the run ends at
max_steps + N, with max_steps raised in its config.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import load_config, save_config
from finetune_studio.gui.run_header import RunState
from tests.core import test_runs_history as fab
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, start_run, window
from tests.gui.test_history import train_to_the_runs_tab, wait_rows
from tests.helpers import checkpoint, read_events, small_config

SLOW = 300_000  # ms: two processes each import the training stack on a shared 2-core machine


def _fabricated(runs_dir: Path, name: str, max_steps: int) -> Path:
    path = fab.make_run(runs_dir, name, fab.segment(2, 12, max_steps=12), {"state": "finished"})
    save_config(small_config(Path("data.jsonl"), runs_dir, max_steps=max_steps), path / "config.yaml")
    checkpoint(path, 12)  # one Resume can load (core.runs' resume_point)
    return path


def test_the_runs_tab_offers_steps_for_a_capped_run_and_epochs_for_one_by_epochs(
        qtbot: Any, window: Any, runs_dir: Path) -> None:
    capped, by_epochs = _fabricated(runs_dir, "capped", 12), _fabricated(runs_dir, "by-epochs", -1)
    panel = window.history
    wait_rows(qtbot, panel, lambda r: "capped" in r and "by-epochs" in r)

    panel.select([capped])
    assert panel.continue_button.isEnabled()
    assert panel.continue_button.text() == "Train 12 more steps"  # its max_steps: twice as long
    assert panel.continue_steps.isVisibleTo(panel) and not panel.continue_epochs.isVisibleTo(panel)
    assert panel.continue_steps.value() == 12
    assert "max_steps = 12 in its config.yaml caps this run" in panel.continue_button.toolTip()
    panel.continue_steps.setValue(1)
    assert panel.continue_button.text() == "Train 1 more step"
    panel.continue_steps.setValue(1500)
    assert panel.continue_button.text() == "Train 1,500 more steps"

    panel.select([by_epochs])
    assert panel.continue_button.text() == "Train 1 more epoch"
    assert panel.continue_epochs.isVisibleTo(panel) and not panel.continue_steps.isVisibleTo(panel)
    assert panel.continue_button.toolTip() == "Train the run further, from its latest checkpoint, in the same folder"

    panel.select([capped])  # back: its own max_steps again, not the 1,500 typed before
    assert panel.continue_button.text() == "Train 12 more steps"

    # max_steps edited in its config.yaml while selected: the box follows at the next look (a listing's poll)
    config, _ = load_config(capped / "config.yaml")
    config.training["max_steps"] = 30
    save_config(config, capped / "config.yaml")
    # (its box at 30; finished at step 12, short of the new 30, it trains those 18 too: helper-223's wording)
    qtbot.waitUntil(lambda: panel.continue_button.text() == "Train to step 60 (max_steps + 30)", timeout=10_000)


def test_pressing_train_more_steps_asks_the_window_for_steps(qtbot: Any, window: Any, runs_dir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    capped = _fabricated(runs_dir, "capped", 12)
    asked: list[tuple] = []
    monkeypatch.setattr(window.runner, "resume", lambda run_dir, extra_epochs=None, extra_steps=None: asked.append(
        (Path(run_dir).name, extra_epochs, extra_steps)))
    panel = window.history
    wait_rows(qtbot, panel, lambda r: "capped" in r)
    panel.select([capped])
    panel.continue_steps.setValue(5)
    panel.continue_button.click()
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert asked == [("capped", None, 5)]
    assert "Resuming capped for 5 more steps…" in window.header.state_label.text()


@pytest.mark.slow
def test_train_more_steps_ends_the_capped_run_at_max_steps_plus_n(qtbot: Any, window: Any, small_dataset: Path,
                                                                   runs_dir: Path) -> None:
    run_dir, panel = train_to_the_runs_tab(
        qtbot, window, small_config(small_dataset, runs_dir, max_steps=4, save_steps=2, eval_steps=2), "4 / 4")
    assert panel.continue_button.text() == "Train 4 more steps" and panel.continue_button.isEnabled()
    panel.continue_steps.setValue(3)
    panel.continue_button.click()
    assert window.runner.running and window.state is RunState.PREPARING
    assert "for 3 more steps" in window.header.state_label.text()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert [(b["step"], b["max_steps"]) for b in read_events(run_dir, "train_begin")] == [(0, 4), (4, 7)]
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3, 4, 5, 6, 7]
    assert read_events(run_dir, "end")[-1]["step"] == 7
    assert load_config(run_dir / "config.yaml")[0].training["max_steps"] == 7
    table = wait_rows(qtbot, panel, lambda r: r[run_dir.name]["steps"] == "7 / 7")
    assert table[run_dir.name]["state"] == "finished"
    # Selected again, it offers 7 more (its new max_steps).
    panel.select([])
    panel.select([run_dir])
    qtbot.waitUntil(lambda: panel.continue_button.text() == "Train 7 more steps", timeout=10_000)


@pytest.mark.slow
def test_train_more_steps_of_a_run_of_two_processes_ends_it_at_max_steps_plus_n(qtbot: Any, window: Any,
                                                                              small_dataset: Path,
                                                                              runs_dir: Path) -> None:
    """A run of two processes (torchrun, CPU, gloo) trains its more steps with the same two: the window's detached
    supervisor is given --steps (core.launch.supervisor_command), as it is given --epochs. It was refused: the
    supervisor took more epochs only."""
    from finetune_studio.core.distributed import read_heartbeats
    from tests.core.test_launch_processes import run_processes

    config = small_config(small_dataset, runs_dir, per_device_train_batch_size=4, logging_steps=1, max_steps=3,
                          save_steps=3, eval_steps=3)
    config.launch.processes, config.name = 2, "two-procs"
    start_run(qtbot, window, config)
    run_dir = runs_dir / "two-procs"
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=SLOW)
    panel = window.history
    wait_rows(qtbot, panel, lambda r: r.get("two-procs", {}).get("state") == "finished")
    panel.select([run_dir])
    assert panel.continue_button.text() == "Train 3 more steps" and panel.continue_button.isEnabled()
    panel.continue_steps.setValue(2)
    panel.continue_button.click()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=SLOW)
    assert [(b["step"], b["max_steps"]) for b in read_events(run_dir, "train_begin")] == [(0, 3), (3, 5)]
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3, 4, 5]
    assert load_config(run_dir / "config.yaml")[0].training["max_steps"] == 5
    beats = read_heartbeats(run_dir)
    assert [(b["state"], b["step"], b["world_size"]) for b in beats.values()] == [("finished", 5, 2)] * 2
    assert run_processes(run_dir) == []
