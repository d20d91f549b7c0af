"""A selected run's summary above its config in the Runs tab: when it ran, steps done of planned, final train loss,
best eval loss (the losses through core.metrics, as the table reads them), training time, and where the saved model
or adapter is, or why there is none yet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.runs import summarize
from finetune_studio.gui import history
from finetune_studio.gui.history import run_facts
from finetune_studio.gui.progress import format_duration
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import wait_rows


@pytest.fixture
def cold_window(make_window: Any) -> Any:
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def _adapter_run(runs_dir: Path, name: str) -> Path:
    """A finished LoRA run of 30 steps whose last evaluation (0.5) is worse than its best (0.2 at step 20), with
    its adapter saved in model/."""
    events = fab.segment(2, 30, max_steps=30)
    for event in events:
        if event["event"] == "eval" and event["step"] == 30:
            event["eval_loss"] = 0.5
    path = fab.make_run(runs_dir, name, events, {"state": "finished", "message": "Finished 30 steps.",
                                                 "model": "builtin:demo", "dataset": "builtin:sample",
                                                 "method": "lora"})
    (path / "model").mkdir()
    (path / "model" / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "demo"}))
    return path


def _facts(run: Any) -> dict[str, str]:
    return {fact.label: fact.text for fact in run_facts(run)}


def test_the_facts_of_a_finished_adapter_run_and_a_stopped_one(tmp_path: Path) -> None:
    path = _adapter_run(tmp_path, "lora-run")
    run = summarize(path)
    model = str(path / "model")
    cut = history._middle_cut(model, history.FACT_PATH_CHARS)
    assert _facts(run) == {"When": history.when_text(run), "Steps": "30 / 30 (100%)", "Final train loss": "0.1000",
                           "Best eval loss": "0.2000 at step 20 (the last: 0.5000)",
                           "Time": format_duration(run.duration_s), "Saved model": f"{cut} (LoRA adapter)"}
    assert [fact.tip for fact in run_facts(run) if fact.label == "Saved model"] == [model if cut != model else ""]
    stopped = summarize(fab.make_run(tmp_path, "stopped", fab.segment(2, 12, end="stopped", max_steps=40),
                                     {"state": "stopped", "message": "Stopped at step 12 of 40, resumable."}))
    assert _facts(stopped)["Steps"] == "12 / 40 (30%)"
    assert _facts(stopped)["Best eval loss"] == "0.4000 at step 10"
    assert _facts(stopped)["Saved model"] == "none: a run saves its model when it finishes (this one is stopped)"
    bare = summarize(fab.make_run(tmp_path, "no-evals", [{"event": "run_start"}], {"state": "finished"}))
    assert _facts(bare)["Best eval loss"] == "— (no evaluation logged)"
    assert _facts(bare)["Saved model"].startswith("missing: model/ is gone or empty (moved or deleted since). To fix:")


def test_the_details_show_the_summary_above_the_config(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    runs_dir.mkdir(parents=True)
    path = _adapter_run(runs_dir, "lora-run")
    other = fab.make_run(runs_dir, "other-run", fab.segment(2, 20), {"state": "finished", "message": "Done."})
    panel = cold_window.history
    wait_rows(qtbot, panel, lambda r: len(r) == 2)
    assert not panel.details_summary.isVisible()
    panel.select([path])
    label = panel.details_summary
    assert label.isVisible() and label.objectName() == "run_summary"
    layout = label.parentWidget().layout()
    assert layout.indexOf(panel.details_title) < layout.indexOf(label) < layout.indexOf(panel.details)  # above
    shown = label.text()
    for fact in run_facts(panel.model.summary(path)):
        assert f"<td>{fact.label}:&nbsp;&nbsp;</td><td>{history._escape(fact.text)}</td>" in shown
    assert "Best eval loss:&nbsp;&nbsp;</td><td>0.2000 at step 20 (the last: 0.5000)" in shown
    assert "(LoRA adapter)" in shown
    assert panel.details.toPlainText() == (path / "config.yaml").read_text()  # the config stays below
    assert label.minimumSizeHint().width() <= label.width()  # a long model path does not widen the tab
    panel.select([path, other])  # two compared: their facts are the comparison's rows
    assert not label.isVisible()
    panel.select([other])
    assert label.isVisible() and "none: a run saves its model" not in label.text()
    assert "missing: model/ is gone or empty" in label.text()
