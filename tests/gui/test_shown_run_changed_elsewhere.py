"""A run the window shows (opened, not training here) that another process resumes: a terminal's `finetune-studio
resume`. The window kept showing what it had read: "stopped … Resume continues from the latest checkpoint", Resume
offered, for a run that was training elsewhere or had finished since (helper-209). The Runs tab's poll now shows it
again as it is: followed live while the other process trains it, finished (no Resume) once it has."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from finetune_studio.gui.run_header import RunState
from tests.core import test_runs_history as fab
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, window
from tests.gui.test_run_lifecycle_gui import _shown_stopped_run
from tests.helpers import hold_like_another_process


def _listed(qtbot: Any, window: Any, path: Path, state: str) -> None:
    """The Runs tab has polled the folder and lists the run in `state`."""
    window.history.refresh()
    qtbot.waitUntil(lambda: (summary := window.history.model.summary(path)) is not None and summary.state == state,
                    timeout=LONG)


def _append(path: Path, *events: dict) -> None:
    with (path / "metrics.jsonl").open("a") as log:
        for event in events:
            log.write(json.dumps({"time": 2e9, **event}) + "\n")


def _finish_elsewhere(path: Path, step: int) -> None:
    """What the other process leaves when its resume ends: the end event, the model, status.json finished."""
    _append(path, {"event": "end", "state": "finished", "step": step, "max_steps": 40})
    (path / "model").mkdir(exist_ok=True)
    (path / "model" / "config.json").write_text("{}")
    status = json.loads((path / "status.json").read_text())
    (path / "status.json").write_text(json.dumps({**status, "state": "finished", "step": step,
                                                  "message": f"Finished {step} steps."}))


def test_a_shown_run_resumed_elsewhere_is_followed_then_shown_finished(qtbot: Any, window: Any, runs_dir: Path,
                                                                       dialog_log: DialogLog) -> None:
    path = _shown_stopped_run(window, runs_dir, "elsewhere")
    _listed(qtbot, window, path, "stopped")
    assert window.state is RunState.STOPPED and window.resume_action.isEnabled()

    fd = hold_like_another_process(path)  # a terminal resumes it: its lock, status "running"
    try:
        _append(path, {"event": "run_start", "resume_from": "checkpoint-12"},
                {"event": "step", "step": 13, "max_steps": 40})
        _listed(qtbot, window, path, "running")
        qtbot.waitUntil(lambda: window.history.following == path, timeout=LONG)
        assert window.state is RunState.RUNNING and not window.resume_action.isEnabled()
        assert "training in another process" in window.header.state_label.text() + \
            window.header.state_label.toolTip()
        _append(path, {"event": "step", "step": 14, "max_steps": 40})
        qtbot.waitUntil(lambda: window.progress.values["step"].text() == "14 / 40", timeout=LONG)  # live
        _finish_elsewhere(path, 14)
    finally:
        os.close(fd)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    assert not window.resume_action.isEnabled() and window.history.following is None
    assert window.header.state_label.text().startswith("Finished")
    assert dialog_log.errors == []


def test_a_shown_run_finished_elsewhere_between_two_polls_is_shown_finished(qtbot: Any, window: Any,
                                                                            runs_dir: Path,
                                                                            dialog_log: DialogLog) -> None:
    """The other process trained it to its end between two polls: no poll saw it running, so nothing followed it."""
    path = _shown_stopped_run(window, runs_dir, "quick")
    _listed(qtbot, window, path, "stopped")
    _append(path, {"event": "run_start", "resume_from": "checkpoint-12"},
            *fab.segment(13, 14, end=None, max_steps=40)[2:])
    _finish_elsewhere(path, 14)
    _listed(qtbot, window, path, "finished")
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    assert not window.resume_action.isEnabled()
    assert window.header.state_label.text().startswith("Finished")
    assert window.progress.values["step"].text() == "14 / 40"  # the figures read its log again, to its end


def test_a_shown_stopped_run_is_not_shown_again_for_nothing(qtbot: Any, window: Any, runs_dir: Path,
                                                            monkeypatch: Any) -> None:
    """A poll that finds the shown run changed without a change of state (its files touched) does not redraw it."""
    path = _shown_stopped_run(window, runs_dir, "still")
    _listed(qtbot, window, path, "stopped")
    shown: list[Path] = []
    actions = window.history.actions
    monkeypatch.setattr(window.history, "actions", dataclasses.replace(
        actions, show_run=lambda p: shown.append(p) or actions.show_run(p)))
    status = json.loads((path / "status.json").read_text())
    (path / "status.json").write_text(json.dumps({**status, "message": "Stopped at step 12 of 40; kept."}))
    os.utime(path / "status.json", (2e9, 2e9))
    window.history.refresh()
    # the poll did see the run change (its row reads the new message), and the window was not redrawn for it
    qtbot.waitUntil(lambda: "kept" in window.history.model.summary(path).message, timeout=LONG)
    assert shown == [] and window.state is RunState.STOPPED and window.resume_action.isEnabled()
