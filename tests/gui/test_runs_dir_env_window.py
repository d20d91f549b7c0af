"""A runs folder FINETUNE_STUDIO_RUNS names that is one run's own folder, in the window: Start is disabled with a
fix the window's user can make. The refusal told them to "pass that folder with --runs-dir", a flag the window
has no place for; the Training tab's Runs folder is where the config's runs_dir is set, and setting it there
enables Start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, window
from tests.gui.test_typed_values import _settled, error_line, retype
from tests.helpers import small_config


def test_a_run_folder_named_by_the_variable_is_refused_with_the_windows_fix(
        qtbot: Any, window: Any, small_dataset: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = runs_dir / "envrun"
    run.mkdir(parents=True)
    (run / "status.json").write_text('{"state": "finished"}')
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(run))
    config = small_config(small_dataset, runs_dir)
    config.runs_dir = ""  # the variable names the runs folder
    window.set_config(config)
    _settled(qtbot, window)
    qtbot.waitUntil(lambda: "envrun" in window.start_action.toolTip(), timeout=LONG)
    assert not window.start_action.isEnabled()
    form = window.training_form
    said = error_line(form, "runs_dir").text()
    assert said.startswith(f"Runs folder unusable (FINETUNE_STUDIO_RUNS names it): {run} is the folder of the run "
                           "envrun, not a runs folder")
    assert said.endswith(f"or pass that folder with --runs-dir {runs_dir} (in the window: the Training tab's Runs "
                         "folder).")
    assert said in window.start_action.toolTip()

    window.tabs.setCurrentWidget(window.pages[form])
    retype(qtbot, form.runs_dir_edit, str(runs_dir))  # the fix it names, made where it says
    _settled(qtbot, window)
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    assert window.config.runs_dir == str(runs_dir)
    assert error_line(form, "runs_dir").text() == ""
