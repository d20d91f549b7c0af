"""The desktop app end to end: launch, forms, real training runs, stop/resume, errors, closing, start-up cost.

Runs train the built-in demo model on 200 sample rows for a few steps (a second or two each on a CPU). Modal
dialogs are replaced by recorders (`dialog_log`) so nothing blocks; every test that starts a run leaves no thread
behind (the `window` fixture stops and waits for it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QGuiApplication

from finetune_studio.core.config import RunConfig, default_config, load_config, save_config
from finetune_studio.core.errors import Problem
from finetune_studio.gui import dialogs
from finetune_studio.gui.run_header import RunState
from tests.helpers import app_env, launched_app, small_config

ROOT = Path(__file__).resolve().parents[2]
LONG = 120_000  # ms; generous: the first run in a session also imports the training stack


class DialogLog:
    """Stands in for gui.dialogs: records every question and error, answers with preset choices."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str, str | None]] = []
        self.confirms = 0
        self.confirm_answer: Any = True  # a dialogs.CloseChoice, or True/False for stop/keep
        self.confirm_unsaved: list[str | None] = []  # what each close-during-a-run question named as unsaved
        self.asked: list[str] = []  # every question, in order
        self.save_answer = dialogs.SaveChoice.DISCARD
        self.cli_answer = dialogs.CliChoice.FLAGS
        self.save_path: str | None = None
        self.open_path: str | None = None

    def show_error(self, parent: Any, title: str, message: str, details: str | None = None) -> None:
        self.errors.append((title, message, details))

    def confirm_stop_and_close(self, parent: Any, unsaved: str | None = None) -> Any:
        self.confirms += 1
        self.confirm_unsaved.append(unsaved)
        self.asked.append("confirm_stop_and_close")
        return self.confirm_answer

    def ask_save_changes(self, parent: Any, name: str) -> dialogs.SaveChoice:
        self.asked.append("ask_save_changes")
        return self.save_answer

    def ask_cli_form(self, parent: Any) -> dialogs.CliChoice:
        return self.cli_answer

    def choose_save_path(self, *args: Any) -> str | None:
        return self.save_path

    def choose_open_path(self, *args: Any) -> str | None:
        return self.open_path

    def choose_folder(self, *args: Any) -> str | None:
        return None


@pytest.fixture
def dialog_log(monkeypatch: pytest.MonkeyPatch) -> DialogLog:
    log = DialogLog()
    for name in ("show_error", "confirm_stop_and_close", "ask_save_changes", "ask_cli_form", "choose_save_path",
                 "choose_open_path", "choose_folder"):
        monkeypatch.setattr(dialogs, name, getattr(log, name))
    return log


def _settle(window: Any) -> None:
    if window.runner.running:
        window.runner.stop()
        assert window.runner.wait(60_000), "the training thread did not end"
    window.validator.wait()
    from finetune_studio.gui import background

    background.wait_idle()


UNLOADED_INSPECTOR = (
    "This window's forms were never loaded: make_window(create=False) builds a bare MainWindow(), with no "
    "set_config, so its Dataset tab holds each box's floor (max_length 2) and the Inspector would check the rows "
    "cut to 2 tokens. To fix: window.set_config(config) first (start_run does), or make_window(create=True).")


def _refuse_inspector_until_loaded(form: Any) -> None:
    """A bare MainWindow()'s Dataset tab was never loaded (the app always sets a config: gui.app.create_window),
    and DatasetForm.open_inspector reads the tab's boxes, not window.config. Until the form's load runs, opening
    the Inspector (open_inspector() or its button) fails with UNLOADED_INSPECTOR instead."""
    loaded: list[bool] = []
    real_load, real_open = form.load, form.open_inspector

    def load(config: RunConfig) -> None:
        loaded.append(True)
        real_load(config)

    def open_inspector() -> None:
        assert loaded, UNLOADED_INSPECTOR
        real_open()

    form.load, form.open_inspector = load, open_inspector
    form.inspect_button.clicked.disconnect(real_open)
    form.inspect_button.clicked.connect(open_inspector)


@pytest.fixture
def make_window(qtbot: Any, demo_cache: Path, runs_dir: Path, dialog_log: DialogLog) -> Any:
    """Build (and warm) main windows; each is stopped, drained and closed while the dialog stand-ins are active.

    create=True builds the window as the app does (gui.app.create_window: the last config, else the demo preset,
    shown in every form). create=False, the default, builds a bare MainWindow(): its session holds RunConfig()
    but no form was ever loaded (the Dataset tab's max_length box reads 2, its floor) until the test calls
    window.set_config(...), as start_run does. Tests that read the forms set a config first; opening the
    Inspector before that fails with UNLOADED_INSPECTOR. Loading the default config here instead would start
    every form's jobs (preview, model layout) in each of the hundred-odd window tests before their own set_config."""
    made: list[Any] = []

    def make(warm: bool = True, create: bool = False) -> Any:
        if create:
            from finetune_studio.gui.app import create_window

            window = create_window()
        else:
            from finetune_studio.gui.main_window import MainWindow

            window = MainWindow()
            _refuse_inspector_until_loaded(window.dataset_form)
        qtbot.addWidget(window)
        made.append(window)
        window.show()
        qtbot.waitExposed(window)
        if warm:
            window.begin_warmup()
            qtbot.waitUntil(lambda: window.warm is not None, timeout=LONG)
        return window

    yield make
    for window in made:
        _settle(window)
        qtbot.waitUntil(lambda w=window: not w.runner.running, timeout=LONG)
        window.close()
        _settle(window)


@pytest.fixture
def window(make_window: Any) -> Any:
    return make_window()


def start_run(qtbot: Any, window: Any, config: RunConfig) -> None:
    window.set_config(config)
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    window.start_action.trigger()
    assert window.state is RunState.PREPARING
    qtbot.waitUntil(lambda: not window.checking_estimate, timeout=LONG)  # of a config just set: Start asks it first
    assert window.runner.running


def wait_state(qtbot: Any, window: Any, state: RunState) -> None:
    qtbot.waitUntil(lambda: window.state is state, timeout=LONG)


def wait_idle(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(lambda: not window.runner.running, timeout=LONG)


def status_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "status.json").read_text())


# ---------------------------------------------------------------------------------------------- launch & forms


def test_launch_opens_demo_preset_and_warms_up(qtbot: Any, make_window: Any) -> None:
    window = make_window(warm=False, create=True)
    assert window.windowTitle().startswith("Built-in demo")
    assert window.config.to_dict() == default_config().to_dict()
    assert window.stack_label.text().startswith("Loading the training stack")
    assert window.start_action.isEnabled()  # a press now queues the run (tests/gui/test_queued_start.py)
    assert "as soon as the training libraries are loaded" in window.start_action.toolTip()
    window.begin_warmup()
    qtbot.waitUntil(lambda: window.stack_label.text() == "Ready", timeout=LONG)
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.built, timeout=LONG)  # pyqtgraph comes last
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)  # the demo config validates: Start works offline
    assert not window.stop_action.isEnabled() and not window.resume_action.isEnabled()


def test_forms_show_a_loaded_config(qtbot: Any, window: Any, small_dataset: Path, runs_dir: Path,
                                    tmp_path: Path) -> None:
    config = small_config(small_dataset, runs_dir, learning_rate=3e-4, weight_decay=0.01)
    config.model.revision = "main"
    config.hub.repo_id = "me/horoscopes"
    path = tmp_path / "my-run.yaml"
    save_config(config, path)
    assert window.open_config(path)
    assert window.windowTitle() == "my-run.yaml[*] — Finetune Studio"
    assert not window.isWindowModified()
    assert window.dataset_form.source_edit.text() == str(small_dataset)
    assert window.training_form.lr_edit.text() == "0.0003"
    assert window.model_form.revision_edit.text() == "main"
    window.tabs.setCurrentWidget(window.pages[window.arguments_panel])  # builds the rows on first show
    assert window.arguments_panel.row("weight_decay") is not None
    rebuilt = RunConfig()
    for form in window.forms:
        form.store(rebuilt)
    assert rebuilt.to_dict() == config.to_dict()


def test_editing_marks_modified_and_validates_inline(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    edit = window.training_form.lr_edit
    edit.selectAll()
    qtbot.keyClicks(edit, "0")
    assert window.isWindowModified()
    assert window.windowTitle() == "Built-in demo[*] — Finetune Studio"
    qtbot.waitUntil(lambda: not window.start_action.isEnabled(), timeout=5_000)  # after the 300 ms debounce
    assert window.config.training["learning_rate"] == 0
    assert window.header.problems_label.isVisible()
    assert "learning_rate must be above 0" in window.header.problems_label.text()
    assert window.start_action.toolTip().startswith("Fix 1 problem to start: learning_rate must be above 0")


def test_invalid_config_disables_start_with_the_reason(qtbot: Any, window: Any, small_dataset: Path,
                                                        runs_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    save_config(small_config(small_dataset, runs_dir, learning_rate=-1, per_device_train_batch_size=0), path)
    assert window.open_config(path)
    qtbot.waitUntil(lambda: len(window.problems) == 2, timeout=5_000)
    assert not window.start_action.isEnabled()
    label = window.header.problems_label
    assert label.isVisible() and "Fix 2 problems to start" in label.text()
    assert "learning_rate must be above 0" in label.text()
    assert window.start_action.toolTip().startswith("Fix 2 problems to start: ")
    lr = window.training_form.field_widget("training.learning_rate")
    assert lr.property("problem")
    window.show_field("training.per_device_train_batch_size")  # what clicking the problem's link does
    assert window.tabs.currentWidget() is window.pages[window.training_form]
    window.set_config(small_config(small_dataset, runs_dir))
    qtbot.waitUntil(window.start_action.isEnabled, timeout=5_000)
    assert not label.isVisible() and not lr.property("problem")


def test_validation_moves_off_the_gui_thread_when_slow(qtbot: Any, window: Any) -> None:
    from finetune_studio.gui.validator import ConfigValidator

    validator = ConfigValidator(budget_ms=0.0)  # every run counts as slow
    validator.last_ms = 1.0
    config = default_config()
    config.training["learning_rate"] = 0
    with qtbot.waitSignal(validator.validated, timeout=10_000) as blocker:
        validator.request(config)
    assert validator.off_thread_runs == 1
    assert [p.field for p in blocker.args[0]] == ["training.learning_rate"]
    validator.wait()


# ---------------------------------------------------------------------------------------------- runs


def test_start_trains_to_the_end_and_saves_the_model(qtbot: Any, window: Any, small_dataset: Path,
                                                      runs_dir: Path) -> None:
    start_run(qtbot, window, small_config(small_dataset, runs_dir))
    assert not window.start_action.isEnabled() and window.stop_action.isEnabled()
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.point_count > 0, timeout=LONG)  # live points
    wait_state(qtbot, window, RunState.FINISHED)
    wait_idle(qtbot, window)
    assert (window.model_dir / "config.json").is_file()
    assert window.header.state_label.text() == f"Finished — model saved to {window.model_dir}"
    assert window.header.open_folder.isVisible()
    qtbot.waitUntil(lambda: window.chart.point_count == 6, timeout=5_000)  # 12 steps, a loss every 2
    assert window.chart.evals.size == 2
    qtbot.waitUntil(lambda: window.progress.values["step"].text() == "12 / 12", timeout=5_000)
    assert "Finished 12 steps" in window.log.toPlainText()
    assert window.start_action.isEnabled() and not window.stop_action.isEnabled()
    assert not window.resume_action.isEnabled()

    run_dir = window.run_dir
    window.chart.clear()
    window.show_run(run_dir)  # File → Open run folder: the chart comes back from metrics.jsonl
    assert window.chart.point_count == 6 and window.chart.evals.size == 2
    assert window.state is RunState.FINISHED and window.model_dir == run_dir / "model"


def test_stop_then_resume_continues_the_same_run_to_the_end(qtbot: Any, window: Any, small_dataset: Path,
                                                             runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=60, eval_steps=30, save_steps=30)
    start_run(qtbot, window, config)
    qtbot.waitUntil(lambda: window.progress.step >= 2, timeout=LONG)
    window.stop_action.trigger()
    assert window.state is RunState.STOPPING
    assert window.header.state_label.text().startswith("Stopping…")
    assert not window.stop_action.isEnabled()
    wait_state(qtbot, window, RunState.STOPPED)
    wait_idle(qtbot, window)
    run_dir = window.run_dir
    status = status_of(run_dir)
    assert status["state"] == "stopped" and status["step"] < 60
    assert window.header.state_label.text().startswith(f"Stopped at step {status['step']} of 60 — Resume")
    assert (run_dir / f"checkpoint-{status['step']}" / "trainer_state.json").is_file()
    assert window.resume_action.isEnabled() and window.start_action.isEnabled()

    window.resume_action.trigger()
    assert window.runner.running and not window.resume_action.isEnabled()
    wait_state(qtbot, window, RunState.FINISHED)
    wait_idle(qtbot, window)
    assert window.run_dir == run_dir  # the same folder, not a new run
    final = status_of(run_dir)
    assert final["state"] == "finished" and final["step"] == final["max_steps"] == 60
    assert (run_dir / "model" / "config.json").is_file()
    qtbot.waitUntil(lambda: window.chart.train.view()[0][-1] == 60, timeout=5_000)
    steps = window.chart.train.view()[0]
    assert list(steps) == sorted(set(steps))  # the resumed part continues the curve without duplicates


def test_a_failing_run_shows_an_error_and_the_app_stays_usable(qtbot: Any, window: Any, small_dataset: Path,
                                                               runs_dir: Path, dialog_log: DialogLog,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import data as core_data
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tokenizer exploded")

    real = core_data.tokenize_and_split
    monkeypatch.setattr(core_data, "tokenize_and_split", explode)
    config = small_config(small_dataset, runs_dir)
    config.name = "first"
    start_run(qtbot, window, config)
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=LONG)
    title, message, details = dialog_log.errors[0]
    assert title == "Training failed"
    assert message == "Training failed: RuntimeError: tokenizer exploded (raised in tests.gui.test_app)"
    assert "Traceback" in details and "explode" in details
    assert window.state is RunState.FAILED
    wait_idle(qtbot, window)
    assert window.start_action.isEnabled()

    # Not monkeypatch.undo(): that also ended dialog_log's stand-ins, and pytest-qt closes the window before the
    # fixtures' teardown; a close while the finished run's thread was still ending then opened the real "Stop and
    # quit?" box, which nobody answers offscreen (a 660-s hang in teardown, seen on a loaded 2-core machine).
    monkeypatch.setattr(core_data, "tokenize_and_split", real)
    config.name = "second"
    start_run(qtbot, window, config)
    wait_state(qtbot, window, RunState.FINISHED)
    assert len(dialog_log.errors) == 1
    assert dialogs.confirm_stop_and_close == dialog_log.confirm_stop_and_close  # still answered at teardown


def test_a_rejected_config_at_start_lists_the_problems(qtbot: Any, window: Any, small_dataset: Path,
                                                       runs_dir: Path, dialog_log: DialogLog) -> None:
    config = small_config(small_dataset, runs_dir)
    config.name = "taken"
    (runs_dir / "taken").mkdir(parents=True)
    (runs_dir / "taken" / "config.yaml").write_text("{}")
    start_run(qtbot, window, config)  # validate() passes; the core refuses to reuse the run folder
    wait_idle(qtbot, window)
    assert window.state is RunState.IDLE
    assert dialog_log.errors and "already exists" in dialog_log.errors[0][1]
    assert any(p.field == "name" for p in window.problems)


def test_closing_during_a_run_asks_then_stops_cleanly(qtbot: Any, window: Any, small_dataset: Path,
                                                      runs_dir: Path, dialog_log: DialogLog) -> None:
    start_run(qtbot, window, small_config(small_dataset, runs_dir, max_steps=2000, eval_steps=1000,
                                          save_steps=1000))
    qtbot.waitUntil(lambda: window.progress.step >= 1, timeout=LONG)
    # The runner deleteLater's the QThread from its slot on finished, so the test records the signal instead of
    # keeping the thread. PySide gives a plain callable the sender as its context: connected the default way, the
    # call is queued to the GUI thread (the QThread's own) and dropped if the QThread is destroyed first. In
    # whole-file runs the niced training thread lost its core right after posting the runner's slot; the GUI thread
    # ran that slot, returned from close() and destroyed the QThread (its destructor waits for the ending thread)
    # before the test's call was posted, and the wait for it timed out. Called directly in the ending thread, the
    # record cannot be lost. The sleep connected before it makes that late post happen every time.
    thread = window.runner._thread
    thread.finished.connect(lambda: time.sleep(0.3), Qt.ConnectionType.DirectConnection)  # that late post, always
    ended: list[bool] = []
    thread.finished.connect(lambda: ended.append(True), Qt.ConnectionType.DirectConnection)
    del thread

    dialog_log.confirm_answer = False
    window.close()
    assert dialog_log.confirms == 1
    assert window.isVisible() and window.runner.running  # "Keep training"

    dialog_log.confirm_answer = True
    window.close()  # returns only once the thread has emitted finished and the runner is idle
    assert dialog_log.confirms == 2
    assert not window.isVisible()
    assert not window.runner.running  # the runner's own slot on the thread's finished signal has run
    # The runner's slot runs when the thread emits finished, which may be before the test's slots have run there.
    qtbot.waitUntil(lambda: ended == [True], timeout=5000)
    status = status_of(window.run_dir)
    assert status["state"] == "stopped"
    assert (window.run_dir / f"checkpoint-{status['step']}").is_dir()


def test_closing_with_unsaved_changes_during_a_run_asks_one_question(qtbot: Any, window: Any, small_dataset: Path,
                                                                      runs_dir: Path, dialog_log: DialogLog,
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 item 15: one question covers the run and the unsaved config; the run stops before anything else
    is asked, the config is saved, and the run ends with a checkpoint."""
    config_path = tmp_path / "mine.yaml"
    save_config(small_config(small_dataset, runs_dir, max_steps=2000, eval_steps=1000, save_steps=1000),
                config_path)
    assert window.open_config(config_path)
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    window.start_action.trigger()
    qtbot.waitUntil(lambda: window.progress.step >= 1, timeout=LONG)
    window.config.dataset.max_length = 48  # an edit made while it trains (the run trains a copy)
    window.setWindowModified(True)
    stopped_when_saving: list[bool] = []
    real_save = type(window).save
    monkeypatch.setattr(type(window), "save",
                        lambda self: (stopped_when_saving.append(self.runner.stopping), real_save(self))[1])

    dialog_log.confirm_answer = dialogs.CloseChoice.KEEP
    window.close()
    assert dialog_log.asked == ["confirm_stop_and_close"] and dialog_log.confirm_unsaved == ["mine.yaml"]
    assert window.isVisible() and window.runner.running and not window.runner.stopping  # "Keep training"

    dialog_log.asked.clear()
    dialog_log.confirm_answer = dialogs.CloseChoice.SAVE_AND_STOP
    window.close()
    assert dialog_log.asked == ["confirm_stop_and_close"]  # no second dialog
    assert stopped_when_saving == [True]  # the run was already stopping while the config was written
    assert not window.isVisible() and not window.runner.running
    assert not window.isWindowModified()
    assert load_config(config_path)[0].dataset.max_length == 48  # the edited config, saved
    status = status_of(window.run_dir)
    assert status["state"] == "stopped"
    assert (window.run_dir / f"checkpoint-{status['step']}").is_dir()


def test_close_question_offers_save_only_when_there_are_changes(qapp: Any) -> None:
    box, choices = dialogs.stop_and_close_box(None, "mine.yaml")
    assert sorted(b.text() for b in choices) == ["Keep training", "Save, stop and quit",
                                                 "Stop and quit without saving"]
    assert "mine.yaml has unsaved changes" in box.text()
    assert choices[box.defaultButton()] is dialogs.CloseChoice.KEEP
    assert not dialogs.CloseChoice.KEEP and dialogs.CloseChoice.STOP and dialogs.CloseChoice.SAVE_AND_STOP
    box, choices = dialogs.stop_and_close_box(None)
    assert sorted((b.text(), c.value) for b, c in choices.items()) == [("Keep training", "keep"),
                                                                       ("Stop and quit", "stop")]
    assert "unsaved" not in box.text()


# ---------------------------------------------------------------------------------------------- chart


def test_chart_buffers_smoothing_resume_and_hover(qtbot: Any, window: Any) -> None:
    chart = window.install_chart()  # the warm-up builds it after a run's first step, or never: built now
    window.splitter.setSizes([300, 980])
    events = [{"event": "log", "step": s, "loss": 3.0 / s, "learning_rate": 1e-3, "grad_norm": 1.5}
              for s in range(1, 601)]
    events.append({"event": "eval", "step": 300, "eval_loss": 0.02})
    chart.load_events(events)
    assert chart.point_count == 600 and len(chart.train._x) >= 600  # the buffer grew by doubling
    x, y = chart.raw_curve.getOriginalDataset()
    assert len(x) == 600
    smoothed = chart.smooth_curve.getOriginalDataset()[1]
    assert smoothed[-1] > y[-1]  # a falling curve smoothed lags above the raw one
    chart.smoothing.setValue(0)
    assert not chart.raw_curve.isVisible()
    chart.log_scale.setChecked(True)
    assert chart.loss_plot.ctrl.logYCheck.isChecked()

    chart.add_event({"event": "train_begin", "step": 400, "start_step": 400})  # resumed from checkpoint-400
    qtbot.waitUntil(lambda: chart.point_count == 400, timeout=2_000)

    qtbot.waitUntil(lambda: chart.loss_plot.vb.sceneBoundingRect().width() > 100, timeout=2_000)
    scene_pos = chart.loss_plot.vb.mapViewToScene(QPointF(300, -1.0))
    chart._mouse_moved((scene_pos,))
    assert chart.readout_text.startswith("step 300\nloss 0.0100")
    assert "eval loss 0.0200" in chart.readout_text and "learning rate 0.001" in chart.readout_text
    assert chart._vlines[0].isVisible() and chart._vlines[0].value() == 300 and chart.readout.isVisible()

    chart.clear()
    assert chart.point_count == 0 and chart.empty_text.isVisible()


# ---------------------------------------------------------------------------------------------- files & settings


def test_save_recent_and_reopen_last_config_on_start(qtbot: Any, make_window: Any, dialog_log: DialogLog,
                                                     small_dataset: Path, runs_dir: Path, tmp_path: Path) -> None:
    window = make_window(warm=False)
    window.set_config(small_config(small_dataset, runs_dir))
    window.setWindowModified(True)
    dialog_log.save_path = str(tmp_path / "saved")
    assert window.save()
    saved = tmp_path / "saved.yaml"
    assert saved.is_file() and not window.isWindowModified()
    assert window.windowTitle() == "saved.yaml[*] — Finetune Studio"
    assert [a.text() for a in window.recent_menu.actions()] == [str(saved)]

    window.close()
    again = make_window(warm=False, create=True)
    assert again.path == saved
    assert again.config.to_dict() == small_config(small_dataset, runs_dir).to_dict()

    saved.write_text("training: [not, a, mapping]\n")
    third = make_window(warm=False, create=True)  # the last config no longer loads: the demo preset instead
    assert third.path is None and third.config.to_dict() == default_config().to_dict()


def test_copy_cli_command(qtbot: Any, window: Any, dialog_log: DialogLog, tmp_path: Path) -> None:
    config = default_config()
    config.training["learning_rate"] = 1e-4
    config.training["hub_token"] = "hf_secret"
    window.set_config(config)
    window.setWindowModified(True)
    dialog_log.cli_answer = dialogs.CliChoice.FLAGS
    window.copy_cli_command()
    command = QGuiApplication.clipboard().text()
    assert command.startswith("finetune-studio train --preset demo ")
    assert "--set training.learning_rate=0.0001" in command and "hf_secret" not in command
    assert "hub_token" not in command

    dialog_log.cli_answer = dialogs.CliChoice.SAVE
    dialog_log.save_path = str(tmp_path / "cli run.yaml")
    window.copy_cli_command()
    assert QGuiApplication.clipboard().text() == f"finetune-studio train '{tmp_path / 'cli run.yaml'}'"


def test_unexpected_exceptions_on_any_thread_reach_a_dialog(qtbot: Any, window: Any, dialog_log: DialogLog,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.gui.app import CrashReporter, install_excepthooks

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    reporter = CrashReporter()
    install_excepthooks(reporter)

    def fail() -> None:
        raise ValueError("background oops")

    worker = threading.Thread(target=fail, name="helper")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=5_000)
    title, message, details = dialog_log.errors[0]
    assert title == "Unexpected error"
    assert "in helper: ValueError: background oops" in message and "Traceback" in details


# ---------------------------------------------------------------------------------------------- start-up


def test_importing_the_gui_does_not_import_the_training_stack() -> None:
    code = ("import sys; from finetune_studio.gui import app, main_window, runner, progress, log_panel, dialogs, "
            "validator, warmup, cli_command; "
            "heavy = [m for m in ('torch', 'transformers', 'datasets', 'peft', 'pyqtgraph', "
            "'finetune_studio.core.training', 'finetune_studio.core.validation', 'finetune_studio.core.data', "
            "'finetune_studio.core.model') if m in sys.modules]; "
            "assert not heavy, heavy")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, timeout=120)


def test_the_warm_up_begins_once_the_window_is_first_exposed(qtbot: Any) -> None:
    """gui.app.main starts the warm-up (torch's import) one event-loop turn after the window is first painted, not
    while it is still being laid out and painted, and only once."""
    from PySide6.QtWidgets import QLabel

    from finetune_studio.gui.app import WARMUP_START_FALLBACK_MS, AfterFirstExpose

    window = QLabel("window")
    qtbot.addWidget(window)
    window.show()
    exposed_when_called: list[bool] = []
    AfterFirstExpose(window, lambda: exposed_when_called.append(window.windowHandle().isExposed()))
    assert exposed_when_called == []  # not from show() itself
    qtbot.waitUntil(lambda: bool(exposed_when_called), timeout=WARMUP_START_FALLBACK_MS // 2)  # not the fallback
    assert exposed_when_called == [True]
    qtbot.wait(WARMUP_START_FALLBACK_MS + 200)
    assert exposed_when_called == [True]  # the fallback timer does not call it again


def test_the_window_shows_without_pyqtgraph(tmp_path: Path) -> None:
    """The window is built and painted before pyqtgraph is imported (the warm-up imports it once the window
    shows): the Dataset tab's token histogram builds its plot with the first histogram, not with the form."""
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication(sys.argv[:1]); "
            "from finetune_studio.gui.app import create_window; w = create_window(); w.show(); app.processEvents(); "
            "form = w.dataset_form; print('pyqtgraph' in sys.modules, form.histogram.built, "
            "form.histogram.height() >= form.histogram.MIN_HEIGHT)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=app_env(tmp_path), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "True"]


def test_main_opens_the_window_on_the_demo_preset(demo_cache: Path, tmp_path: Path) -> None:
    """`finetune-studio` with no arguments (gui.launcher -> gui.app.main([])): demo preset loaded, Start enabled
    once the stack is warm, torch not yet imported when the window first showed."""
    driver = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
seen = {}
def poll():
    windows = [w for w in app.topLevelWidgets() if w.objectName() == "main_window" and w.isVisible()]
    if windows and "torch_at_show" not in seen:
        seen["torch_at_show"] = "torch" in sys.modules
        seen["start_at_show"] = windows[0].start_action.isEnabled()  # a press queues the run until the stack is in
    if windows and windows[0].warm is not None and windows[0].start_action.isEnabled():
        w = windows[0]
        seen.update(title=w.windowTitle(), ready=w.stack_label.text(), hook=sys.excepthook.__name__)
        print(json.dumps(seen), flush=True)
        w.close()
        return
    QTimer.singleShot(20, poll)
QTimer.singleShot(0, poll)
from finetune_studio.gui.launcher import main
sys.exit(main([]))
"""
    seen = launched_app(driver, tmp_path)
    assert seen["title"] == "Built-in demo[*] — Finetune Studio"
    assert seen["ready"] == "Ready" and seen["torch_at_show"] is False and seen["start_at_show"] is True
    assert seen["hook"] == "excepthook"


def test_problem_summary_wording() -> None:
    from finetune_studio.gui.run_header import problems_summary

    one = [Problem("training.learning_rate", "learning_rate must be above 0 (got -1).")]
    assert problems_summary(one) == "Fix 1 problem to start: learning_rate must be above 0 (got -1)."
    three = one + [Problem("a", "A."), Problem("b", "B.")]
    assert problems_summary(three).endswith("; A.; and 1 more")
