"""The Try tab, loading a real model whose generation_config.json sets values outside core.generate.LIMITS, says so
in its message line (the value, the rule, the default used) and shows the app's defaults in the settings instead.

The run is tests/gui/test_try_tab_states.py's make_run (no training) over a copy of the demo model's real files with
a damaged generation_config.json, its base that same copy; the models really load (core.generate.load, no fakes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.gui.test_try_tab_states import make_run

LOAD_WAIT = 120_000  # two tiny models on a small shared machine


@pytest.fixture
def bad_defaults_runs(demo_cache: Path, tmp_path: Path) -> Path:
    """A runs folder with one run whose model (and base) sets temperature -1 and top_p 5, and a valid top_k 40."""
    from finetune_studio.core.demo import demo_model_path

    model = tmp_path / "bad-defaults-model"
    shutil.copytree(demo_model_path(), model)
    path = model / "generation_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(do_sample=True, temperature=-1.0, top_p=5.0, top_k=40)
    path.write_text(json.dumps(config), encoding="utf-8")
    make_run(tmp_path / "runs", "bad-defaults", model, steps=())
    return tmp_path / "runs"


def test_a_loaded_models_out_of_range_defaults_are_named_and_the_apps_are_shown(qtbot: Any,
                                                                               bad_defaults_runs: Path) -> None:
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import TryTab

    session = Session()
    session.config.runs_dir = str(bad_defaults_runs)
    tab = TryTab(session, lambda _text, _ms=0: None)
    qtbot.addWidget(tab)
    tab.resize(1100, 760)
    tab.show()  # the user opens the tab: it picks the newest run and loads its models
    qtbot.waitExposed(tab)
    try:
        qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=LOAD_WAIT)
        assert tab.run_combo.currentText() == "bad-defaults" and tab.target_combo.currentText() == "final model"
        assert tab.loaded.mode == "both" and not tab.loaded.failed
        assert tab.status_label.text() == (
            "Both models are loaded and answer at the same time. "
            "The model's generation_config.json sets temperature -1.0, but it must be a finite number above 0: "
            "using 1.0 instead. To fix: correct it in that file. "
            "The model's generation_config.json sets top_p 5.0, but it must be above 0 and at most 1: using 1.0 "
            "instead. To fix: correct it in that file.")
        box = tab.settings_box
        assert box.sample.isChecked() and box.temperature.isEnabled(), "the model's valid do_sample is followed"
        assert box.temperature.value() == 1.0, "the app's default, not -1 (nor the field's floor 0.01)"
        assert box.top_p.value() == 1.0
        assert box.top_k.value() == 40, "the model's valid top_k is still its default"
        assert box.settings().temperature == 1.0 and not box.defaults_button.isEnabled()
    finally:
        tab.shutdown()
