"""The Try tab's Base model field says the base model the left pane answers with, and only that. A refused pick (a
checkpoint damaged after the list was made, a run whose every model is damaged) kept the last pick's base in the
field, enabled, as if it would answer; typing in it then did nothing. Loading and answering are core.generate's
functions replaced by test_try_tab_states' fakes; everything asserted is the real TryTab's widgets."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import try_tab as try_module
from tests.gui.test_try_tab_states import WAIT, Fakes, make_run, open_try_tab

NO_PICK = "No model is picked, so none can answer. To fix: pick one in the picker beside Run."


def settle(qtbot: Any, tab: Any) -> None:
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=WAIT)
    qtbot.wait(20)


@pytest.fixture
def model(demo_cache: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    return demo_model_path()


def test_a_checkpoint_damaged_after_listing_empties_and_disables_the_base_field(
        qtbot: Any, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes = Fakes(monkeypatch)
    run = make_run(tmp_path / "runs", "first", model, steps=(4, 8))
    tab = open_try_tab(qtbot, tmp_path / "runs")
    field = tab.base_edit
    assert field.text() == str(model) and field.isEnabled() and field.placeholderText() == ""
    (run / "checkpoint-4" / "model.safetensors").unlink()
    tab.target_combo.setCurrentIndex(tab.target_combo.findText("checkpoint-4"))
    settle(qtbot, tab)
    assert tab.status_label.text().startswith("first · checkpoint-4 is damaged: it holds no weights")
    assert not tab.send_button.isEnabled() and tab.loaded is None
    # was: the field still showed the base model, enabled, though nothing would answer with it
    assert field.text() == "" and not field.isEnabled()
    assert field.placeholderText() == "none: no model is picked"
    assert field.toolTip() == NO_PICK == tab.send_button.toolTip()
    # a whole model picked again: the field names its base, and can be changed
    tab.target_combo.setCurrentIndex(tab.target_combo.findText("checkpoint-8"))
    settle(qtbot, tab)
    assert fakes.loads[-1] == "first · checkpoint-8" and tab.send_button.isEnabled()
    assert field.text() == str(model) and field.isEnabled() and field.toolTip() == try_module.BASE_TIP
    tab.shutdown()


def test_a_run_with_no_usable_model_leaves_the_base_field_disabled_saying_why(
        qtbot: Any, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Fakes(monkeypatch)
    runs = tmp_path / "runs"
    make_run(runs, "good", model, steps=(4,))
    broken = make_run(runs, "broken", model, steps=(4,))
    (broken / "checkpoint-4" / "config.json").write_text("{ broken", encoding="utf-8")
    (broken / "model" / "model.safetensors").unlink()
    os.utime(broken, (time.time() - 60, time.time() - 60))  # "good" is the newest: the tab picks it first
    tab = open_try_tab(qtbot, runs)
    tab.select_run(broken)
    settle(qtbot, tab)
    why = tab.status_label.text()
    assert why.startswith("Every model broken saved is damaged, so none can answer")
    assert tab.base_edit.text() == "" and not tab.base_edit.isEnabled()
    assert tab.base_edit.toolTip() == why == tab.send_button.toolTip() and not tab.send_button.isEnabled()
    tab.shutdown()


def test_an_emptied_base_field_shows_the_base_that_still_answers_and_says_so(
        qtbot: Any, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes = Fakes(monkeypatch)
    make_run(tmp_path / "runs", "first", model, steps=(4,))
    tab = open_try_tab(qtbot, tmp_path / "runs")
    loads = len(fakes.loads)
    tab.base_edit.setText("   ")
    tab.base_edit.editingFinished.emit()
    settle(qtbot, tab)
    # was: the field stayed empty while the left pane went on answering with the run's base
    assert tab.base_edit.text() == str(model)
    assert tab.status_label.text() == (
        f"The Base model field was emptied, so the left pane still answers with {model}. To fix: to use another base "
        "model, write its Hub id or folder there, then press Enter.")
    assert len(fakes.loads) == loads and tab.loaded is not None and tab.send_button.isEnabled()
    tab.shutdown()


def test_before_anything_is_picked_the_base_field_says_so(qtbot: Any, tmp_path: Path) -> None:
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import TryTab

    session = Session()
    session.config.runs_dir = str(tmp_path / "none")
    tab = TryTab(session)
    qtbot.addWidget(tab)
    assert tab.base_edit.text() == "" and not tab.base_edit.isEnabled()
    assert tab.base_edit.placeholderText() == "none: no model is picked"
    assert tab.base_edit.toolTip().startswith("No run is picked, so no model can answer. To fix:")
