"""Train N more steps of a capped run that stopped short of its max_steps (helper-223's hostile pass): the resume
raises max_steps by N and trains from its latest checkpoint to the new max_steps, the steps it had left included, so
"Train 6 more steps" on a run stopped at step 3 of 6 trained 9. Its button and the header name the step it trains to.
A finished capped run keeps "Train N more steps" (test_more_steps_h219)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import save_config
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window, window
from tests.gui.test_history import wait_rows
from tests.helpers import checkpoint, small_config


def _capped(runs_dir: Path, name: str, step: int, cap: int, state: str) -> Path:
    path = fab.make_run(runs_dir, name, fab.segment(1, step, max_steps=cap, end=state),
                        {"state": state, "step": step, "max_steps": cap})
    save_config(small_config(Path("data.jsonl"), runs_dir, max_steps=cap), path / "config.yaml")
    checkpoint(path, step)
    return path


def test_more_steps_of_a_run_stopped_short_of_its_cap_name_the_step_it_trains_to(
        qtbot: Any, window: Any, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = _capped(runs_dir, "stopped", 3, 6, "stopped")
    finished = _capped(runs_dir, "finished", 6, 6, "finished")
    asked: list[tuple] = []
    monkeypatch.setattr(window.runner, "resume", lambda run_dir, extra_epochs=None, extra_steps=None: asked.append(
        (Path(run_dir).name, extra_epochs, extra_steps)))
    panel = window.history
    rows = wait_rows(qtbot, panel, lambda r: "stopped" in r and "finished" in r)
    assert rows["stopped"]["steps"] == "3 / 6"

    panel.select([stopped])
    assert panel.continue_button.isEnabled() and panel.continue_steps.value() == 6
    assert panel.continue_button.text() == "Train to step 12 (max_steps + 6)"  # it was "Train 6 more steps": 9 trained
    assert panel.continue_button.toolTip() == (
        "stopped is stopped at step 3 of its max_steps = 6 (config.yaml): max_steps is raised by the steps in the box, "
        "and it trains from its latest checkpoint on to the new max_steps, the 3 steps it had left included, in the "
        "same folder. To train to step 6 alone, resume it instead")
    panel.continue_steps.setValue(1)
    assert panel.continue_button.text() == "Train to step 7 (max_steps + 1)"

    panel.select([finished])  # at its cap: N more steps are N more
    assert panel.continue_button.text() == "Train 6 more steps"
    assert panel.continue_button.toolTip().startswith("max_steps = 6 in its config.yaml caps this run")

    panel.select([stopped])
    panel.continue_steps.setValue(4)
    panel.continue_button.click()
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert asked == [("stopped", None, 4)]  # the box's steps, added to max_steps by the resume (as --steps 4)
    assert "Resuming stopped to step 10 (max_steps 6 + 4)…" in window.header.state_label.text()


@pytest.mark.slow
def test_stop_during_more_steps_then_resume_ends_at_the_raised_max_steps(qtbot: Any, window: Any,
                                                                         small_dataset: Path, runs_dir: Path) -> None:
    """Stop during the more steps: the run is stopped short of its raised max_steps, its row says so, the button
    names the step a further Train would reach, and Resume trains on to the raised max_steps, one schedule."""
    from finetune_studio.core.config import load_config
    from finetune_studio.gui.run_header import RunState
    from tests.gui.test_app import LONG, start_run
    from tests.helpers import read_events

    start_run(qtbot, window, small_config(small_dataset, runs_dir, max_steps=2, save_steps=2, eval_steps=2,
                                          logging_steps=1))
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    run_dir, panel = window.run_dir, window.history
    wait_rows(qtbot, panel, lambda r: r.get(run_dir.name, {}).get("steps") == "2 / 2")
    panel.select([run_dir])
    panel.continue_steps.setValue(4)
    assert panel.continue_button.text() == "Train 4 more steps"
    stopped: list[int] = []
    window.runner.event.connect(lambda e: e.get("event") == "step" and e.get("step") == 4 and not stopped and (
        stopped.append(4), window.stop()))
    panel.continue_button.click()
    qtbot.waitUntil(lambda: window.state is RunState.STOPPED and not window.runner.running, timeout=LONG)
    assert load_config(run_dir / "config.yaml")[0].training["max_steps"] == 6
    rows = wait_rows(qtbot, panel, lambda r: r[run_dir.name]["state"] == "stopped")
    step = int(rows[run_dir.name]["steps"].split(" / ")[0])
    assert rows[run_dir.name]["steps"] == f"{step} / 6" and 4 <= step < 6
    panel.select([])
    panel.select([run_dir])
    assert panel.continue_button.text() == "Train to step 12 (max_steps + 6)"

    qtbot.waitUntil(window.resume_action.isEnabled, timeout=LONG)
    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert read_events(run_dir, "end")[-1]["step"] == 6
    assert load_config(run_dir / "config.yaml")[0].training["max_steps"] == 6
    lrs = {e["step"]: e["learning_rate"] for e in read_events(run_dir, "log") if "learning_rate" in e}
    # The schedule for the raised end (6 steps) from step 3 on, across the stop: no step at 0.
    assert [lrs[s] for s in (3, 4, 5, 6)] == [pytest.approx(1e-3 * k / 6) for k in (4, 3, 2, 1)]
    wait_rows(qtbot, panel, lambda r: r[run_dir.name]["steps"] == "6 / 6")


def test_more_epochs_of_a_run_stopped_short_of_its_epochs_name_the_epoch_it_trains_to(
        qtbot: Any, window: Any, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same undercount for a run that trains by epochs: stopped at step 3 of 6 (1 epoch), "Train 1 more epoch"
    trained 1.5. Its button names the epoch it trains to; a finished one keeps "Train N more epochs"."""
    path = fab.make_run(runs_dir, "by-epochs", fab.segment(1, 3, max_steps=6, end="stopped"),
                        {"state": "stopped", "step": 3, "max_steps": 6})
    save_config(small_config(Path("data.jsonl"), runs_dir, max_steps=-1, num_train_epochs=1), path / "config.yaml")
    checkpoint(path, 3)
    done = fab.make_run(runs_dir, "done", fab.segment(2, 6, max_steps=6), {"state": "finished", "step": 6,
                                                                           "max_steps": 6})
    save_config(small_config(Path("data.jsonl"), runs_dir, max_steps=-1, num_train_epochs=1), done / "config.yaml")
    checkpoint(done, 6)
    asked: list[tuple] = []
    monkeypatch.setattr(window.runner, "resume", lambda run_dir, extra_epochs=None, extra_steps=None: asked.append(
        (Path(run_dir).name, extra_epochs, extra_steps)))
    panel = window.history
    wait_rows(qtbot, panel, lambda r: "by-epochs" in r and "done" in r)
    panel.select([path])
    assert panel.continue_button.isEnabled() and panel.continue_epochs.isVisibleTo(panel)
    assert panel.continue_button.text() == "Train to epoch 2 (num_train_epochs + 1)"  # it said "Train 1 more epoch"
    assert "is stopped at step 3 of 6, short of its num_train_epochs = 1" in panel.continue_button.toolTip()
    panel.continue_epochs.setValue(2)
    assert panel.continue_button.text() == "Train to epoch 3 (num_train_epochs + 2)"
    panel.select([done])
    assert panel.continue_button.text() == "Train 2 more epochs"
    panel.select([path])
    panel.continue_button.click()
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert asked == [("by-epochs", 2.0, None)]
    assert "Resuming by-epochs to epoch 3 (num_train_epochs 1 + 2)…" in window.header.state_label.text()
