"""Start is never blocked by the warm-up: pressed before the training libraries are loaded, the run is queued,
says so, and begins by itself once they are; Stop cancels it before it begins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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


def test_a_queued_run_draws_every_point_once_the_chart_is_built(qtbot: Any, make_window: Any,
                                                                small_dataset: Path, runs_dir: Path,
                                                                dialog_log: DialogLog) -> None:
    """The chart (pyqtgraph) is built after a starting run's first step, not before it; the events the run sent
    before then wait and are drawn, so the chart shows the same losses as the run's metrics.jsonl."""
    window = make_window(warm=False)
    window.chart = None  # as at launch: the chart is not built until pyqtgraph is in (gui.warmup.warm_chart)
    config = small_config(small_dataset, runs_dir, max_steps=6, logging_steps=1, eval_strategy="no",
                          save_strategy="no", load_best_model_at_end=False)
    config.name = "queued-chart"
    window.set_config(config)
    chart_at_first_event: list[bool] = []
    window.runner.event.connect(lambda event: chart_at_first_event.append(window.chart is not None)
                                if not chart_at_first_event else None)
    window.start_action.trigger()
    window.begin_warmup()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    assert dialog_log.errors == []
    assert chart_at_first_event == [False]  # the run began before the chart was built
    logged = [(e["step"], e["loss"]) for e in read_events(runs_dir / "queued-chart", "log") if "loss" in e]
    steps, losses = window.chart.train.view()
    assert len(logged) == 6
    assert steps.tolist() == [step for step, _ in logged]
    assert losses.tolist() == pytest.approx([loss for _, loss in logged])


def test_the_chart_area_says_what_comes_before_the_chart_is_built(qtbot: Any, make_window: Any,
                                                                   small_dataset: Path, runs_dir: Path,
                                                                   dialog_log: DialogLog) -> None:
    """At launch the chart is not built yet (pyqtgraph follows the training stack): its place says what the built
    chart's empty plot says, not "Loading the chart…" for a chart the user has not asked for; while a run starts
    it says the loss comes from the first step; from that step on the chart shows."""
    from finetune_studio.gui import chart_texts

    window = make_window(warm=False)
    window.chart = None  # as at launch
    assert window.chart_area.currentWidget() is window.chart_placeholder
    assert window.chart_placeholder.text() == "Press Start: the loss appears here as the model trains."
    config = small_config(small_dataset, runs_dir, max_steps=3, logging_steps=1, eval_strategy="no",
                          save_strategy="no", load_best_model_at_end=False)
    config.name = "placeholder"
    window.set_config(config)
    said_at_first_event: list[str] = []
    window.runner.event.connect(lambda event: said_at_first_event.append(window.chart_placeholder.text())
                                if not said_at_first_event else None)
    window.start_action.trigger()
    window.begin_warmup()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    assert dialog_log.errors == []
    assert said_at_first_event == ["Starting the run: the loss appears here from its first step."]
    assert window.chart_area.currentWidget() is window.chart
    assert window.chart.empty_text.toPlainText() == chart_texts.EMPTY  # the built chart's own empty words


def test_the_first_step_is_shown_before_the_checks_put_off_for_it(qtbot: Any, make_window: Any,
                                                                  small_dataset: Path, runs_dir: Path,
                                                                  dialog_log: DialogLog) -> None:
    """The window's checks and display jobs held for a starting run go after its first step is in the progress
    figures, not before (they take a few hundred ms of the GUI thread the user would wait through)."""
    window = make_window(warm=False)
    config = small_config(small_dataset, runs_dir, max_steps=3, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "shown-first"
    window.set_config(config)
    real_validate = window.validate_now
    step_shown_at_check: list[int] = []

    def validate_now() -> None:
        step_shown_at_check.append(window.progress.step)
        real_validate()

    window.validate_now = validate_now  # put off until the first step by _warm_ready for a queued start
    window.start_action.trigger()
    window.begin_warmup()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    assert dialog_log.errors == []
    assert step_shown_at_check[:1] == [1]


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


def test_a_queued_start_goes_before_the_windows_display_jobs(qtbot: Any, make_window: Any, small_dataset: Path,
                                                             runs_dir: Path, dialog_log: DialogLog,
                                                             monkeypatch: Any) -> None:
    """The memory estimate (a traced forward pass) and the token statistics only refresh what the window shows: a
    queued run's first step comes before them, as it is what the user waits for (issue 12 item 16). The one
    exception is the estimate Start itself waits for (no estimate of this config was shown yet): Start asks before
    a run that will not fit, so that one comes first, once, in its own thread."""
    import threading

    from finetune_studio.core import estimate
    from finetune_studio.gui.forms import dataset_form

    calls: list[tuple[str, list[int]]] = []  # (job, steps already in the run's metrics.jsonl when it began)

    def steps_so_far() -> list[int]:
        metrics = runs_dir / "queued-first" / "metrics.jsonl"
        return [e["step"] for e in read_events(runs_dir / "queued-first", "step")] if metrics.exists() else []

    real_preflight, real_statistics = estimate.preflight, dataset_form.compute_statistics

    def preflight(*args: Any, **kwargs: Any) -> Any:
        start_check = threading.current_thread().name == "start-estimate"
        calls.append(("start estimate" if start_check else "estimate", steps_so_far()))
        return real_preflight(*args, **kwargs)

    def statistics(*args: Any, **kwargs: Any) -> Any:
        calls.append(("statistics", steps_so_far()))
        return real_statistics(*args, **kwargs)

    monkeypatch.setattr(estimate, "preflight", preflight)
    monkeypatch.setattr(dataset_form, "compute_statistics", statistics)
    window = make_window(warm=False)
    config = small_config(small_dataset, runs_dir, max_steps=3, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "queued-first"
    window.set_config(config)
    window.start_action.trigger()
    window.begin_warmup()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    qtbot.waitUntil(lambda: window.hardware_panel.estimate_bar.result is not None, timeout=LONG)
    qtbot.waitUntil(lambda: any(job == "statistics" for job, _ in calls), timeout=LONG)
    assert dialog_log.errors == []
    assert calls[0] == ("start estimate", [])  # Start's own check, before the run
    assert {job for job, _ in calls[1:]} == {"estimate", "statistics"}  # both still ran, after the run's start
    assert all(steps for _, steps in calls[1:]), calls  # none began before the run's first step was written


def test_display_jobs_wait_for_a_starting_run_and_others_do_not(qtbot: Any) -> None:
    import threading

    from finetune_studio.gui import background

    ran: dict[str, threading.Event] = {"display": threading.Event(), "login": threading.Event()}
    display = background.BackgroundTask(yields_to_run_start=True)
    login = background.BackgroundTask()
    # The pool has 2 threads on this machine: jobs a test before left running would delay the login job for
    # reasons that have nothing to do with the gate.
    assert background.wait_idle(60_000)
    background.hold_for_run_start()
    try:
        display.submit(ran["display"].set)
        login.submit(ran["login"].set)
        assert ran["login"].wait(10)  # what the user asked for and waits on is not held
        assert not ran["display"].wait(0.5)  # a view's refresh waits for the run's first step
    finally:
        background.release_after_run_start()
    assert ran["display"].wait(10)
    assert background.wait_idle(10_000)
