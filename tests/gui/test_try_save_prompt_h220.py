"""The Try tab's Save prompt pressed with nothing to save, or with a prompt saved already, in the real window: it
did nothing and said nothing. Now the status bar says what happened and what to do, and a prompt saved already is
picked in Saved prompts; the config stays unmodified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import window_on_runs


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    runs = tmp_path / "runs"
    runs.mkdir()
    made = window_on_runs(qtbot, runs, monkeypatch)
    made.tabs.setCurrentWidget(made.try_tab)
    yield made
    made.try_tab.shutdown()
    made.close()


def test_save_prompt_with_an_empty_box_says_why_nothing_was_saved(window: Any) -> None:
    tab = window.try_tab
    tab.prompt_edit.setPlainText("  \n\t\n ")
    tab.save_prompt_button.click()
    assert window.statusBar().currentMessage() == (
        "No prompt saved: the prompt box is empty and nothing was asked yet. To fix: type a prompt in the box, then "
        "press Save prompt.")
    assert window.config.prompts == [] and tab.saved_combo.count() == 0
    assert not window.isWindowModified()


def test_save_prompt_twice_picks_the_saved_one_and_says_so(window: Any) -> None:
    tab = window.try_tab
    prompt = "مرحبا \u200fשלום 🌟 — Aries:\nthis week"
    tab.prompt_edit.setPlainText(f"{prompt}\n")
    tab.save_prompt_button.click()
    assert window.statusBar().currentMessage() == "Prompt saved with the config; save the config to keep it."
    assert window.config.prompts == [prompt] and tab.saved_combo.currentIndex() == -1
    window.session.set_modified(False)
    tab.save_prompt_button.click()
    assert window.statusBar().currentMessage() == ("This prompt is saved already: it is the one picked in Saved "
                                                   "prompts.")
    assert window.config.prompts == [prompt] and tab.saved_combo.count() == 1
    assert tab.saved_combo.currentIndex() == 0 and tab.saved_combo.currentData() == prompt
    assert not window.isWindowModified()
