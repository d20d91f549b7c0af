"""The Try tab, loading a real model whose generation_config.json sets values outside core.generate.LIMITS, says so
in its message line (the value, the rule, the default used) and shows the app's defaults in the settings instead.

The run is tests/gui/test_try_tab_states.py's make_run (no training) over a copy of the demo model's real files with
a damaged generation_config.json, its base that same copy; the models really load (core.generate.load, no fakes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.test_try_tab_states import make_run, open_try_tab
from tests.helpers import demo_model_copy, update_json

LOAD_WAIT = 120_000  # two tiny models on a small shared machine


@pytest.fixture
def bad_defaults_runs(demo_cache: Path, tmp_path: Path) -> Path:
    """A runs folder with one run whose model (and base) sets temperature -1 and top_p 5, and a valid top_k 40."""

    model = tmp_path / "bad-defaults-model"
    demo_model_copy(model, do_sample=True, temperature=-1.0, top_p=5.0, top_k=40)
    make_run(tmp_path / "runs", "bad-defaults", model, steps=(4,))
    return tmp_path / "runs"


# Both models load (a full fine-tune): the note names the one whose file the settings' defaults come from.
TEMPERATURE_NOTE = ("The fine-tuned model's generation_config.json sets temperature -1.0, but it must be a finite "
                    "number above 0: using 1.0 instead. To fix: correct it in that file.")
TOP_P_NOTE = ("The fine-tuned model's generation_config.json sets top_p 5.0, but it must be above 0 and at most 1: "
              "using 1.0 instead. To fix: correct it in that file.")


@pytest.fixture
def tab(qtbot: Any, bad_defaults_runs: Path) -> Any:
    """The Try tab on that runs folder, opened as the user opens it (shown: it picks the newest run and loads its
    final model), once the models are in."""

    made = open_try_tab(qtbot, bad_defaults_runs, LOAD_WAIT)
    yield made
    made.shutdown()


def test_a_loaded_models_out_of_range_defaults_are_named_and_the_apps_are_shown(tab: Any) -> None:
    assert tab.run_combo.currentText() == "bad-defaults" and tab.target_combo.currentText() == "final model"
    assert tab.loaded.mode == "both" and not tab.loaded.failed
    both = "Both models are loaded and answer at the same time."
    assert tab.status_label.text() == f"{both} {TEMPERATURE_NOTE} {TOP_P_NOTE}"
    box = tab.settings_box
    assert box.sample.isChecked() and box.temperature.isEnabled(), "the model's valid do_sample is followed"
    assert box.temperature.value() == 1.0, "the app's default, not -1 (nor the field's floor 0.01)"
    assert box.top_p.value() == 1.0
    assert box.top_k.value() == 40, "the model's valid top_k is still its default"
    assert box.settings().temperature == 1.0 and not box.defaults_button.isEnabled()


def test_no_note_for_a_setting_the_user_changed(qtbot: Any, tab: Any) -> None:
    """Before: with the user's temperature 0.7 kept across a pick, the note still said 'using 1.0 instead'."""
    box = tab.settings_box
    box.temperature.setFocus()
    box.temperature.lineEdit().selectAll()
    QTest.keyClicks(box.temperature, "0.7")
    QTest.keyClick(box.temperature, Qt.Key.Key_Return)
    assert box.temperature.value() == 0.7 and box.touched == {"temperature"}
    tab.target_combo.setCurrentIndex(tab.target_combo.findText("checkpoint-4"))  # the same model files: loaded anew
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=LOAD_WAIT)
    assert tab.loaded.source.name == "bad-defaults · checkpoint-4"
    assert tab.status_label.text() == f"Both models are loaded and answer at the same time. {TOP_P_NOTE}"
    assert box.temperature.value() == 0.7 and box.top_p.value() == 1.0, "the user's temperature is kept"
    box.defaults_button.click()  # the model's defaults again: the app's 1.0 for its temperature -1
    assert box.temperature.value() == 1.0 and box.touched == set()


@pytest.fixture
def bad_tuned_runs(demo_cache: Path, tmp_path: Path) -> Path:
    """A runs folder with one run whose base (the demo model's real files) samples with valid defaults and whose
    fine-tuned model's generation_config.json sets temperature -1 (its top_k 40 valid), as the CLI reads it."""

    base = tmp_path / "good-base"
    demo_model_copy(base, do_sample=True, temperature=0.6, top_k=20)
    run = make_run(tmp_path / "runs", "bad-tuned", base, steps=(4,))
    update_json(run / "model" / "generation_config.json", temperature=-1.0, top_k=40)
    return tmp_path / "runs"


def test_the_defaults_and_note_come_from_the_fine_tuned_model_as_in_the_cli(qtbot: Any, bad_tuned_runs: Path) -> None:
    """Before: the base's file gave the defaults (temperature 0.6, top_k 20) and no note was shown, while
    `finetune-studio generate RUN` used the fine-tuned model's top_k 40 and noted its temperature -1."""

    tab = open_try_tab(qtbot, bad_tuned_runs, LOAD_WAIT, size=None)
    try:
        assert tab.target_combo.currentText() == "final model" and tab.loaded.mode == "both"
        assert tab.status_label.text() == f"Both models are loaded and answer at the same time. {TEMPERATURE_NOTE}"
        box = tab.settings_box
        assert box.sample.isChecked()
        assert (box.temperature.value(), box.top_k.value()) == (1.0, 40), "the fine-tuned model's, not the base's"
    finally:
        tab.shutdown()
