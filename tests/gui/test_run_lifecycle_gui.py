"""Issue 12, items 6-10, through the real window: a diverged run ends with the advice and nothing to resume into,
Resume of a run another process trains is refused, Continue is not offered without a checkpoint, and the progress
figures are right after Start, Stop, Resume and Continue."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.progress import ProgressWidget, format_duration
from finetune_studio.gui.run_header import RunState
from tests.core import test_runs_history as fab
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, start_run, window
from tests.gui.test_history import wait_rows
from tests.helpers import SAMPLE, checkpoint, hold_like_another_process, read_events, small_config


def figures(window: Any) -> dict[str, str]:
    return {key: field.text() for key, field in window.progress.values.items()}


def seconds(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def test_a_diverged_run_ends_with_the_advice_and_nothing_to_resume(qtbot: Any, window: Any, small_dataset: Path,
                                                                   runs_dir: Path, dialog_log: DialogLog,
                                                                   diverging_learning_rate: None) -> None:
    # An evaluation and a save are due at the step where it diverges.
    start_run(qtbot, window, small_config(small_dataset, runs_dir, learning_rate=1e9, eval_steps=2, save_steps=2))
    qtbot.waitUntil(lambda: window.state is RunState.FAILED and not window.runner.running, timeout=LONG)
    title, message, _ = dialog_log.errors[-1]
    assert title == "Training failed"
    assert "training diverged" in message and "Lower the learning rate (now 1e+09)" in message
    assert "diverged" in window.header.state_label.toolTip() + window.header.state_label.text()
    step = read_events(window.run_dir, "end")[-1]["step"]
    assert figures(window)["step"] == f"{step} / 12"
    # No checkpoint of the NaN weights was saved, so Resume is not offered into the same failure.
    assert not (window.run_dir / f"checkpoint-{step}").exists()
    assert window.resumable is None and not window.resume_action.isEnabled()


def test_stop_while_the_model_loads_trains_nothing_and_offers_start(qtbot: Any, window: Any, small_dataset: Path,
                                                                     runs_dir: Path, dialog_log: DialogLog,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop pressed while a run is set up (a big model loads for minutes) ends it before its first step: no step,
    no checkpoint, Start offered again under the same name, Resume not (there is nothing to resume)."""
    import threading

    from finetune_studio.core import model as models

    loading, pressed, real = threading.Event(), threading.Event(), models.load_model

    def slow_load(*args: Any, **kwargs: Any) -> Any:
        loading.set()
        pressed.wait(30)  # the model loads until the user has pressed Stop
        return real(*args, **kwargs)

    monkeypatch.setattr(models, "load_model", slow_load)
    config = small_config(small_dataset, runs_dir, max_steps=4)
    config.name = "cancelled"
    start_run(qtbot, window, config)
    qtbot.waitUntil(loading.is_set, timeout=LONG)
    window.stop_action.trigger()
    assert window.header.state_label.text() == "Stopping before the first step… (nothing will be trained)"
    pressed.set()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=LONG)
    assert dialog_log.errors == []
    assert window.state is RunState.IDLE
    assert window.header.state_label.text() == "Stopped before the first step — nothing was trained"
    assert read_events(runs_dir / "cancelled", "step") == []
    assert not any(p.name.startswith("checkpoint-") for p in (runs_dir / "cancelled").iterdir())
    assert window.resumable is None and not window.resume_action.isEnabled()
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    window.start_action.trigger()  # the same name takes the untrained folder over
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    assert [e["step"] for e in read_events(runs_dir / "cancelled", "step")] == [1, 2, 3, 4]


def _shown_stopped_run(window: Any, runs_dir: Path, name: str) -> Path:
    """A run stopped at step 12 of 40 with its checkpoint (made without training), shown with Resume offered."""
    path = fab.make_run(runs_dir, name, fab.segment(2, 12, end="stopped", max_steps=40),
                        {"state": "stopped", "message": "Stopped at step 12 of 40, resumable."})
    checkpoint(path, 12)  # one Resume can load (core.runs' resume_point)
    window.show_run(path)
    assert window.resume_action.isEnabled()
    return path


def test_resume_of_a_run_training_in_another_process_is_refused(qtbot: Any, window: Any, runs_dir: Path,
                                                                dialog_log: DialogLog) -> None:
    path = _shown_stopped_run(window, runs_dir, "elsewhere")
    fd = hold_like_another_process(path)  # meanwhile a terminal resumed it
    try:
        metrics = (path / "metrics.jsonl").read_text()
        window.resume_action.trigger()
        assert not window.runner.running
        title, message, _ = dialog_log.errors[-1]
        assert title == "Cannot resume"
        assert f"The run elsewhere is still training (process {os.getpid()}" in message and "Stop it first" in message
        assert json.loads((path / "status.json").read_text())["state"] == "running"  # not marked failed
        assert (path / "metrics.jsonl").read_text() == metrics
        assert window.state is RunState.RUNNING and not window.resume_action.isEnabled()
    finally:
        os.close(fd)


def test_resume_of_a_shown_run_deleted_or_moved_since_says_so_and_makes_nothing(qtbot: Any, window: Any,
                                                                              runs_dir: Path,
                                                                              dialog_log: DialogLog) -> None:
    """Resume of a run whose folder went away since it was shown said 'Training failed: … is not a run folder (it
    has no config.yaml)' with a traceback, and marked the window Failed (helper-44)."""
    import shutil

    path = _shown_stopped_run(window, runs_dir, "victim")
    shutil.move(path, runs_dir / "victim-renamed")
    window.resume_action.trigger()
    assert not window.runner.running
    title, message, details = dialog_log.errors[-1]
    assert title == "Cannot resume" and not details
    assert message.startswith(f"The run victim is no longer in {runs_dir} (deleted, moved or renamed since it was "
                              "shown), so there is nothing to resume there.")
    assert not path.exists()  # nothing made again under the old name
    assert window.state is RunState.IDLE and not window.resume_action.isEnabled()


def test_resume_says_the_run_keeps_its_own_settings_when_the_form_was_edited(qtbot: Any, window: Any,
                                                                             small_dataset: Path,
                                                                             runs_dir: Path) -> None:
    """Edits made in the form after a Stop do not apply to Resume (the run trains with its config.yaml): the log
    says so, naming the settings that differ (helper-44's hostile test found it said nothing)."""
    import threading

    from finetune_studio.core.training import run
    from tests.gui.test_typed_values import retype

    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=4)
    config.name = "keeps-its-own"
    first = run(config, lambda e: stop.set() if e["event"] == "step" and e["step"] == 2 else None, stop)
    assert first.state == "stopped"
    window.set_config(config)
    window.show_run(first.run_dir)
    form = window.training_form
    window.tabs.setCurrentWidget(window.pages[form])
    retype(qtbot, form.lr_edit, "0.5")
    qtbot.waitUntil(lambda: window.config.training["learning_rate"] == 0.5, timeout=LONG)
    before = (first.run_dir / "config.yaml").read_text()
    qtbot.waitUntil(window.resume_action.isEnabled, timeout=LONG)
    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert ("Resume continues keeps-its-own with the settings it was started with (its config.yaml), not the "
            "form's, which differs in learning_rate (form 0.5, run 0.001). The form's settings are for a new "
            "Start.") in window.log.toPlainText()
    assert (first.run_dir / "config.yaml").read_text() == before


def test_continue_is_not_offered_for_a_failed_run_without_a_checkpoint(qtbot: Any, window: Any,
                                                                      runs_dir: Path) -> None:
    bare = fab.make_run(runs_dir, "failed-bare", fab.segment(2, 4, end="failed"),
                        {"state": "failed", "message": "Training failed: RuntimeError: boom"})
    saved = fab.make_run(runs_dir, "failed-saved", fab.segment(2, 6, end="failed"),
                         {"state": "failed", "message": "Training failed: RuntimeError: boom"})
    checkpoint(saved, 6)
    panel = window.history
    window.tabs.setCurrentWidget(panel)
    wait_rows(qtbot, panel, lambda r: "failed-bare" in r and "failed-saved" in r)
    panel.select([bare])
    assert not panel.continue_button.isEnabled() and not panel.continue_epochs.isEnabled()
    assert "has no checkpoint to continue from" in panel.continue_button.toolTip()
    panel.select([saved])
    assert panel.continue_button.isEnabled()


def test_each_figure_has_a_tooltip_that_says_what_it_means(qtbot: Any) -> None:
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    tips = [widget.values[key].toolTip() for key in widget.FIELDS]
    assert all(len(tip) > 40 for tip in tips) and len(set(tips)) == len(tips)
    assert "Duration" in widget.values["elapsed"].toolTip()
    # A large dataset's first steps: a tiny epoch, but the total is known from the start (not "0 / 0").
    widget.add_event({"event": "train_begin", "step": 0, "max_steps": 18750, "epoch": 0.0, "epochs_total": 3.0,
                      "elapsed_s": 12.0, "eta_s": None})
    widget.add_event({"event": "step", "step": 1, "max_steps": 18750, "epoch": 0.00016, "elapsed_s": 13.0,
                      "eta_s": None})
    widget._refresh()
    assert figures_of(widget) == {"step": "1 / 18,750", "epoch": "0.00 / 3", "elapsed": "0:13", "eta": "—",
                                  "tokens": "—"}
    # max_steps 20 on it: the run ends at epoch 0.0036, which is what it says.
    widget.add_event({"event": "train_begin", "step": 0, "max_steps": 20, "epoch": 0.0, "epochs_total": 0.00356,
                      "elapsed_s": 12.0, "eta_s": None})
    widget.add_event({"event": "step", "step": 10, "max_steps": 20, "epoch": 0.00178, "elapsed_s": 14.0,
                      "eta_s": 2.0})
    widget._refresh()
    assert widget.values["epoch"].text() == "0.0018 / 0.0036"


def figures_of(widget: ProgressWidget) -> dict[str, str]:
    return {key: field.text() for key, field in widget.values.items()}


@pytest.mark.slow
def test_figures_after_start_stop_resume_and_continue(qtbot: Any, window: Any, tmp_path: Path,
                                                      runs_dir: Path) -> None:
    rows = tmp_path / "sixty.jsonl"  # 4 optimizer steps per epoch with accumulation 2; 3 epochs are 12 steps
    rows.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:60]) + "\n", encoding="utf-8")
    config = small_config(rows, runs_dir, max_steps=-1, num_train_epochs=3, gradient_accumulation_steps=2,
                          eval_strategy="no", save_strategy="epoch", load_best_model_at_end=False)
    at_begin: list[dict[str, str]] = []

    def watch(event: dict) -> None:  # runs after the window's own handler: what the user sees at that moment
        if event.get("event") == "train_begin":
            at_begin.append(figures(window))
        elif event.get("event") == "step" and event["step"] >= 5 and window.state is RunState.RUNNING \
                and len(at_begin) == 1:
            window.stop_action.trigger()

    window.runner.event.connect(watch)
    start_run(qtbot, window, config)
    qtbot.waitUntil(lambda: window.state is RunState.STOPPED and not window.runner.running, timeout=LONG)
    run_dir = window.run_dir
    stopped = read_events(run_dir, "end")[-1]
    k = stopped["step"]
    assert at_begin[0]["step"] == "0 / 12" and at_begin[0]["epoch"] == "0.00 / 3"
    shown = figures(window)
    assert shown["step"] == f"{k} / 12" and shown["epoch"].endswith(" / 3") and shown["eta"] == "—"
    assert shown["elapsed"] == format_duration(stopped["elapsed_s"])
    log = window.log.toPlainText()  # Stop saved once (the epoch's own save came at step 4) and did not evaluate
    assert log.count(f"Checkpoint saved at step {k}:") == 1 and log.count("Checkpoint saved at step") == 1 + (k > 4)
    assert "eval loss" not in log

    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    resumed = at_begin[1]  # right after the resume began
    assert resumed["step"] == f"{k} / 12" and resumed["epoch"].endswith(" / 3") and resumed["eta"] == "—"
    assert seconds(resumed["elapsed"]) >= seconds(shown["elapsed"])  # it goes on; it does not restart
    done = figures(window)
    assert (done["step"], done["epoch"], done["eta"]) == ("12 / 12", "3.00 / 3", "0:00")
    from finetune_studio.core.runs import summarize

    assert abs(seconds(done["elapsed"]) - summarize(run_dir).duration_s) <= 1  # the Runs tab's Duration

    panel = window.history
    wait_rows(qtbot, panel, lambda r: r.get(run_dir.name, {}).get("state") == "finished", timeout=LONG)
    panel.select([run_dir])
    panel.continue_epochs.setValue(1)
    panel.continue_button.click()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    continued = at_begin[2]
    assert (continued["step"], continued["epoch"], continued["eta"]) == ("12 / 16", "3.00 / 4", "—")
    assert seconds(continued["elapsed"]) >= seconds(done["elapsed"])
    final = figures(window)
    assert (final["step"], final["epoch"], final["eta"]) == ("16 / 16", "4.00 / 4", "0:00")
    assert abs(seconds(final["elapsed"]) - summarize(run_dir).duration_s) <= 1


def test_resume_of_a_shown_run_whose_config_was_deleted_says_its_settings_are_lost(qtbot: Any, window: Any,
                                                                                  runs_dir: Path,
                                                                                  dialog_log: DialogLog) -> None:
    """The folder is still there but its config.yaml is gone: before, 'no longer in … (deleted, moved or renamed)',
    which it is not; now the one wording of core.runs.run_folder_problem, with what to do."""
    path = _shown_stopped_run(window, runs_dir, "lost")
    (path / "config.yaml").unlink()
    window.resume_action.trigger()
    assert not window.runner.running
    title, message, _ = dialog_log.errors[-1]
    assert title == "Cannot resume"
    assert message.startswith(f"{path} holds a run whose config.yaml is missing (status.json and metrics.jsonl are "
                              "there), so its settings are lost")
    assert "To fix: put its config.yaml back" in message
    assert sorted(p.name for p in path.iterdir()) == ["checkpoint-12", "metrics.jsonl", "status.json"]


@pytest.mark.parametrize("kind", ["runs folder", "empty folder"])
def test_open_run_folder_of_something_else_says_what_to_open(qtbot: Any, window: Any, runs_dir: Path,
                                                            dialog_log: DialogLog, monkeypatch: pytest.MonkeyPatch,
                                                            kind: str) -> None:
    """File → Open run folder on the runs folder itself names one of its runs to open instead (it said only 'has no
    config.yaml, so it is not a run folder')."""
    from finetune_studio.gui import dialogs

    run = fab.make_run(runs_dir, "kept", fab.segment(2, 4, end="stopped", max_steps=8),
                       {"state": "stopped", "message": "Stopped."})
    chosen = runs_dir if kind == "runs folder" else runs_dir / "empty"
    chosen.mkdir(exist_ok=True)
    monkeypatch.setattr(dialogs, "choose_folder", lambda *args: str(chosen))
    shown = window.run_dir
    window.open_run_dialog()
    title, message, _ = dialog_log.errors[-1]
    assert title == "Not a run folder"
    if kind == "runs folder":
        assert message == (f"{runs_dir} is not a run folder: it holds runs (1, e.g. kept). To fix: give one run's "
                           f"folder, e.g. {run}; `finetune-studio runs --runs-dir {runs_dir}` lists them.")
    else:
        assert message == (f"{chosen} is not a run folder (it has no config.yaml). To fix: give a run's folder (the "
                           "one holding its config.yaml); `finetune-studio runs` lists the runs.")
    assert window.run_dir == shown


@pytest.mark.parametrize("several, said", [
    (True, "Stopping… (at the end of the current step, with a checkpoint, if training has begun; before that nothing "
           "is trained)"),
    (False, "Stopping before the first step… (nothing will be trained)"),
])
def test_stop_during_the_set_up_of_a_run_of_several_processes_promises_nothing_false(
        qtbot: Any, window: Any, several: bool, said: str) -> None:
    """A run of several processes reaches the window through metrics.jsonl, a poll late: it may be steps in while
    the window still reads 'preparing', and 'nothing will be trained' stayed up over the checkpoint its Stop saved
    (helper-169; the CLI's words were fixed in b988948). A run in this process says train_begin at once."""
    runner = window.runner
    runner._thread, runner.detachable = object(), several  # a run under way (running), without starting one
    try:
        window._set_state(RunState.PREPARING, "Starting…")
        window.stop()
        assert runner.stopping and window.state is RunState.STOPPING
        assert window.header.state_label.text() == said
    finally:
        runner._thread, runner.detachable = None, False
        runner._stop.clear()
        window._set_state(RunState.IDLE, "")
