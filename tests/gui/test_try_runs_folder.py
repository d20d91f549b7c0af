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
    window.tabs.setCurrentWidget(window.history)
    qtbot.waitUntil(lambda: window.history.model.rowCount() == 2, timeout=WAIT)
    window.tabs.setCurrentWidget(window.try_tab)  # the Try tab lists the folder when it first shows
    assert listed(window.try_tab) == ["newer", "older"]
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


def test_deleting_the_picked_run_in_the_runs_tab_lets_its_models_go(qtbot: Any, runs: Path, fakes: Fakes,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the Try tab kept the deleted run's models, its name in the list and on the panes, and Send answered
    as the deleted run. Now it lets them go, lists the runs left with nothing picked, and says so."""
    from finetune_studio.gui import history
    from tests.helpers import window_on_runs

    monkeypatch.setattr(history, "confirm_delete", lambda parent, names: True)
    window = window_on_runs(qtbot, runs, monkeypatch)
    try_tab, runs_tab = window.try_tab, window.history
    window.tabs.setCurrentWidget(try_tab)
    qtbot.waitUntil(lambda: try_tab.loaded is not None and not try_tab.runner.running, timeout=WAIT)
    assert try_tab.loaded.source.name == "newer · final model"
    window.tabs.setCurrentWidget(runs_tab)
    qtbot.waitUntil(lambda: runs_tab.model.rowCount() == 2, timeout=WAIT)
    runs_tab.select([runs / "newer"])
    runs_tab.delete_selected()
    assert not (runs / "newer").exists()
    assert try_tab.loaded is None, "the deleted run's models are let go at once, not when the tab shows"
    window.tabs.setCurrentWidget(try_tab)
    idle(qtbot, try_tab)
    assert try_tab.status_label.text() == ("newer was deleted, so the Try tab let go of its models. Pick another "
                                           "run above.")
    assert listed(try_tab) == ["older"] and try_tab.run_combo.currentIndex() == -1
    assert try_tab.target_combo.count() == 0 and try_tab.loaded is None and fakes.loads == ["newer · final model"]
    assert [try_tab.panes[side].title() for side in ("base", "tuned")] == ["Base model", "Fine-tuned"]
    assert not try_tab.send_button.isEnabled()
    try_tab.prompt_edit.setPlainText("Aries")
    try_tab.send()
    assert fakes.asked == [] and try_tab.prompt_edit.toPlainText() == "Aries"
    try_tab.run_combo.setCurrentIndex(0)  # the user picks the run left: it loads, as any pick does
    qtbot.waitUntil(lambda: try_tab.loaded is not None and not try_tab.runner.running, timeout=WAIT)
    assert try_tab.loaded.source.name == "older · final model" and try_tab.send_button.isEnabled()


def test_a_run_deleted_outside_the_app_is_let_go_at_send(qtbot: Any, tab: Any, runs: Path, fakes: Fakes) -> None:
    """Before: Send answered with the models in memory under the name of a run deleted by the CLI or a file
    manager."""
    import shutil

    shutil.rmtree(runs / "newer")
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    assert fakes.asked == [] and tab.loaded is None and tab.prompt_edit.toPlainText() == "Aries"
    assert tab.status_label.text() == ("newer is no longer in the runs folder (deleted or moved), so the Try tab "
                                       "let go of its models. Pick another run above.")
    assert listed(tab) == ["older"] and tab.run_combo.currentIndex() == -1 and not tab.send_button.isEnabled()


def test_refresh_keeps_the_picked_checkpoint_when_the_shown_run_moves_in_the_list(qtbot: Any, tab: Any,
                                                                                   runs: Path) -> None:
    """Before: a run whose folder changed since the list was made (a checkpoint saved, a file written) moved up
    the list at Refresh, and moving it counted as picking it anew: the checkpoint picked went back to the final
    model and the models loaded again."""
    import time

    tab.select_run(runs / "older", "checkpoint-8")
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    loaded = tab.loaded
    assert listed(tab) == ["newer", "older"] and tab.loaded.source.name == "older · checkpoint-8"
    later = time.time() + 60
    os.utime(runs / "older", (later, later))
    tab.refresh_button.click()
    idle(qtbot, tab)
    assert listed(tab) == ["older", "newer"] and tab.run_combo.currentText() == "older"
    assert tab.target_combo.currentText() == "checkpoint-8" and tab.loaded is loaded


def test_the_window_resolves_no_run_until_the_try_tab_shows(qtbot: Any, runs: Path, fakes: Fakes,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the Try tab listed the runs folder in its constructor and resolved the newest run there, which for a
    run of the default recipe (chat format 'auto') read its data's first rows with the datasets library: torch and
    datasets imported on the GUI thread while the window was built (create_window took 3.4 s instead of 0.15 s on
    this machine with one such run), before the window showed and before the warm-up began. Nothing of the runs is
    read until the tab shows; a run ending meanwhile lists it then too."""
    from finetune_studio.gui import try_tab
    from tests.helpers import window_on_runs

    resolved: list[Path] = []
    real = try_tab.resolve
    monkeypatch.setattr(try_tab, "resolve", lambda folder, *a, **k: resolved.append(Path(folder)) or real(folder, *a,
                                                                                                         **k))
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(runs))
    window = window_on_runs(qtbot, runs, monkeypatch)
    assert window.tabs.currentWidget() is not window.try_tab
    window.try_tab.run_finished(runs / "newer")  # a run ends while the tab is hidden: listed when it shows
    assert resolved == [] and listed(window.try_tab) == []
    window.tabs.setCurrentWidget(window.try_tab)
    assert listed(window.try_tab) == ["newer", "older"]
    assert resolved and all(runs in path.parents for path in resolved)  # the newest run, picked as it shows
    qtbot.waitUntil(lambda: window.try_tab.loaded is not None and not window.try_tab.runner.running, timeout=WAIT)


def test_shown_before_the_warm_up_is_done_the_tab_lists_the_runs_once_the_stack_is_in(
        qtbot: Any, runs: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a user who opened the Try tab while the warm-up imported the stack froze the window ~2 s: resolving
    the newest run read its data with datasets on the GUI thread, which waited for the warm-up's import of it. The
    tab now says it waits and lists the runs when the window says the stack is in (session.set_stack_ready)."""
    from finetune_studio.gui import try_tab
    from tests.helpers import window_on_runs

    resolved: list[Path] = []
    real = try_tab.resolve
    monkeypatch.setattr(try_tab, "resolve", lambda folder, *a, **k: resolved.append(Path(folder)) or real(folder, *a,
                                                                                                         **k))
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(runs))
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.try_tab.waits_for_stack = True  # as the window sets it: its warm-up has not imported the stack yet
    assert not window.session.stack_ready
    window.tabs.setCurrentWidget(window.try_tab)
    assert resolved == [] and listed(window.try_tab) == []
    assert window.try_tab.status_label.text() == "Loading the training libraries… the runs are listed once they are in."
    window.try_tab.prompt_edit.setPlainText("Aries:")
    window.try_tab.send_button.click()  # nothing to answer with yet: said, the prompt kept
    assert window.try_tab.status_label.text() == ("The training libraries are still loading: the prompt is kept in "
                                                  "the box. Press Send once the runs are listed.")
    assert window.try_tab.prompt_edit.toPlainText() == "Aries:" and not window.try_tab.runner.running
    window.session.set_stack_ready()  # what the window's _warm_ready does
    assert listed(window.try_tab) == ["newer", "older"] and resolved
    qtbot.waitUntil(lambda: window.try_tab.loaded is not None and not window.try_tab.runner.running, timeout=WAIT)
    assert window.try_tab.status_label.text() == "Both models are loaded and answer at the same time."
