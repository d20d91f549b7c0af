"""A run survives the user touching the window: every field of every tab edited while a demo run trains, and the
run ends with the same per-step losses as a run nobody touched.

The window validates each edit, and validation used to build TrainingArguments in the app's process, which resets
accelerate's shared state under the running Trainer ("AcceleratorState object has no attribute
distributed_type"). See core/shared_state.py.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QWidget,
)

from finetune_studio.gui.run_header import RunState
from tests.gui.test_app import DialogLog, dialog_log, make_window, start_run, window
from tests.helpers import read_events, small_config

pytestmark = pytest.mark.slow
STEPS = 30
HOLD = 10  # the touched run waits after this step until every field is edited, however slow the machine
WAIT = 900_000  # ms: the training thread runs at a lower priority, and a busy machine slows it a lot


def _losses(run_dir: Path) -> list[tuple[int, float]]:
    return [(e["step"], e["loss"]) for e in read_events(run_dir, "log")]


def _inside(widget: QWidget, kinds: tuple[type, ...]) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parentWidget()
    return False


def _edit(qtbot: Any, widget: QWidget) -> bool:
    """Change one editor the way a user would; False for widgets that are not editors."""
    if isinstance(widget, QLineEdit):
        if widget.isReadOnly() or _inside(widget, (QComboBox, QAbstractSpinBox)):
            return False
        widget.setFocus()
        widget.end(False)
        qtbot.keyClicks(widget, "7")
    elif isinstance(widget, QPlainTextEdit):
        if widget.isReadOnly():
            return False
        qtbot.keyClicks(widget, "7")
    elif isinstance(widget, QAbstractSpinBox):
        widget.stepBy(1)
    elif isinstance(widget, (QCheckBox, QRadioButton)):
        widget.click()
    elif isinstance(widget, QComboBox):
        if widget.count() < 2:
            return False
        widget.setCurrentIndex((widget.currentIndex() + 1) % widget.count())
    else:
        return False
    return True


def _validated(qtbot: Any, window: Any) -> None:
    """Let the debounced live validation run (on the GUI thread or the validator's pool)."""
    qtbot.wait(400)
    window.validator.wait()
    qtbot.wait(50)


def _hold_after_step(monkeypatch: pytest.MonkeyPatch, step: int, held: threading.Event,
                     gate: threading.Event) -> None:
    """Runs started from now on set `held` and wait on `gate` in the training thread after optimizer step `step`:
    the run is mid-training (its Trainer and accelerate state alive) for as long as the edits take, instead of
    racing them. The pause changes no number the run computes."""
    from finetune_studio.core import training as core_training
    real = core_training.make_progress_callback

    def gated(*args: Any, **kwargs: Any) -> Any:
        callback = real(*args, **kwargs)
        step_end = callback.on_step_end

        def on_step_end(args_: Any, state: Any, control: Any, **kw: Any) -> Any:
            result = step_end(args_, state, control, **kw)
            if state.global_step == step:
                held.set()
                gate.wait(WAIT / 1000)
            return result

        callback.on_step_end = on_step_end
        return callback

    monkeypatch.setattr(core_training, "make_progress_callback", gated)


def test_editing_every_field_during_a_run_changes_nothing_in_it(qtbot: Any, window: Any, small_dataset: Path,
                                                                runs_dir: Path, dialog_log: DialogLog,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=STEPS, logging_steps=1, eval_steps=STEPS // 2,
                          save_steps=STEPS // 2)

    config.name = "untouched"
    start_run(qtbot, window, config)
    qtbot.waitUntil(lambda: not window.runner.running, timeout=WAIT)
    assert window.state is RunState.FINISHED, (window.header.state_label.text(), dialog_log.errors)
    untouched = _losses(runs_dir / "untouched")
    assert len(untouched) == STEPS

    config.name = "touched"
    held, gate = threading.Event(), threading.Event()
    _hold_after_step(monkeypatch, HOLD, held, gate)
    try:
        _edit_everything_during(qtbot, window, config, held, gate)
    finally:
        gate.set()  # never leave the training thread waiting, whatever failed

    qtbot.waitUntil(lambda: not window.runner.running, timeout=WAIT)
    assert window.state is RunState.FINISHED, (window.header.state_label.text(), dialog_log.errors)
    assert dialog_log.errors == []
    touched = _losses(runs_dir / "touched")
    assert [step for step, _ in touched] == [step for step, _ in untouched]
    assert [loss for _, loss in touched] == pytest.approx([loss for _, loss in untouched], abs=1e-6)
    assert read_events(runs_dir / "touched", "end")[-1]["state"] == "finished"


def _edit_everything_during(qtbot: Any, window: Any, config: Any, held: threading.Event,
                            gate: threading.Event) -> None:
    """Start the run, wait until it holds at step HOLD, and edit every field of every tab."""
    start_run(qtbot, window, config)
    qtbot.waitUntil(held.is_set, timeout=WAIT)
    qtbot.waitUntil(lambda: window.state is RunState.RUNNING, timeout=WAIT)

    # A valid edit first: the whole config is validated, TrainingArguments checks included, while the run trains.
    lr = window.training_form.lr_edit
    lr.selectAll()
    qtbot.keyClicks(lr, "0.0002")
    _validated(qtbot, window)
    assert window.config.training["learning_rate"] == 0.0002
    assert window.problems == [] and window.runner.running

    edited: dict[str, int] = {}
    for form in window.forms:
        window.tabs.setCurrentWidget(window.pages[form])  # All arguments builds its rows when first shown
        qtbot.waitUntil(lambda f=form: not getattr(f, "building", False), timeout=WAIT)  # in steps (1c011a4)
        qtbot.wait(50)
        count = 0
        view_controls = {getattr(form, "filter_edit", None), getattr(form, "changed_only_check", None)}
        for widget in form.findChildren(QWidget):
            if isinstance(widget, QAbstractButton) and not isinstance(widget, (QCheckBox, QRadioButton)):
                continue  # buttons open dialogs or reset fields; the fields themselves are what is edited
            if widget in view_controls:
                continue  # All arguments' filter: typing there hides the rows instead of editing the config
            if widget.isVisibleTo(form) and widget.isEnabled() and _edit(qtbot, widget):
                count += 1
        edited[type(form).__name__] = count
        _validated(qtbot, window)
    assert window.state is RunState.RUNNING, window.header.state_label.text()  # the old code: "AcceleratorState …"
    assert window.runner.running and not gate.is_set()
    if not window.hardware_panel.table_data.gpus:  # no GPU here: the Hardware tab has no tick boxes to edit
        edited.pop("HardwarePanel")
    assert all(edited.values()) and sum(edited.values()) > 100, edited
