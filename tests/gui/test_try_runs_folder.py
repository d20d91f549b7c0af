"""The Try tab and the runs folder as it really is: entries that cannot be read (a dangling symlink, a run deleted
while the list is made) and runs deleted from the Runs tab while the Try tab holds their models.

The runs, the fake loads and answers and the tab are tests/gui/test_try_tab_states.py's (the demo model's real
files, core.generate's jobs replaced by fakes); everything asserted is the real widgets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.gui.test_try_tab_states import WAIT, Fakes, fakes, idle, runs, tab  # noqa: F401 - fixtures


def listed(tab: Any) -> list[str]:
    return [tab.run_combo.itemText(i) for i in range(tab.run_combo.count())]


def test_a_dangling_symlink_in_the_runs_folder_does_not_stop_the_window_from_opening(
        qtbot: Any, runs: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the Try tab sorted the folder by each entry's stat(), the symlink's raised FileNotFoundError in the
    window's constructor and `finetune-studio` exited 1. The Runs tab and the Try tab now list the same runs."""
    from tests.helpers import window_on_runs

    os.symlink(runs / "no-such-run", runs / "old-run")
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(runs))  # the folder the window opens on
    window = window_on_runs(qtbot, runs, monkeypatch)
    assert listed(window.try_tab) == ["newer", "older"]
    window.tabs.setCurrentWidget(window.history)
    qtbot.waitUntil(lambda: window.history.model.rowCount() == 2, timeout=WAIT)
    window.tabs.setCurrentWidget(window.try_tab)
    qtbot.waitUntil(lambda: window.try_tab.loaded is not None and not window.try_tab.runner.running, timeout=WAIT)
    assert window.try_tab.status_label.text() == "Both models are loaded and answer at the same time."
    window.try_tab.refresh_button.click()
    assert listed(window.try_tab) == ["newer", "older"]


def test_a_run_deleted_while_the_list_is_made_is_left_out(qtbot: Any, tab: Any, runs: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: Refresh raised FileNotFoundError out of the click when a run went between reading the folder and
    reading the run (the listing's iterdir still named it)."""
    real_iterdir = Path.iterdir

    def iterdir(self: Path) -> Any:
        yield from real_iterdir(self)
        if self == runs:
            yield runs / "deleted-meanwhile"

    monkeypatch.setattr(Path, "iterdir", iterdir)
    tab.refresh_button.click()
    assert listed(tab) == ["newer", "older"] and tab.run_combo.currentText() == "newer"
    assert tab.loaded is not None and tab.send_button.isEnabled()
