"""The end of a comparison is said once, on the Compare page. The Try tab's status line, two lines above the page,
repeated it ("Comparison stopped: 3 of 12 answers kept in newer/answers.jsonl." over "Stopped: 3 of 12 answers kept
in newer/answers.jsonl."); while the comparison ran it still said "Both models are loaded and answer at the same
time." over models the comparison had released. It now says what became of the Chat page's models, as it says
their state after a single answer (Loaded.describe).

The runs, the fake comparison and the tab are tests/gui/test_try_tab_states.py's (the demo model's real files,
core.generate's jobs replaced by fakes); everything asserted is the real TryTab's and CompareView's widgets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate
from finetune_studio.core.generate import GenerationError
from tests.gui.test_try_tab_states import Fakes, fakes, hold_a_comparison, idle, runs, save_prompts, tab  # noqa: F401

pytestmark = pytest.mark.usefixtures("drain_background")

WHERE = "newer/answers.jsonl"
NOTE = "newer · final model is picked; its models load at the next Send (a comparison loads its own, one at a time)."


def said_once(sentence: str, tab: Any) -> None:
    shown = [tab.compare.status.text(), tab.status_label.text()]
    assert sum(text.count(sentence) for text in shown) == 1, shown


def test_a_stopped_and_a_finished_comparison_are_said_on_the_page_only(qtbot: Any, tab: Any, fakes: Fakes,
                                                                       runs: Path) -> None:
    assert tab.status_label.text() == "Both models are loaded and answer at the same time."
    view = hold_a_comparison(qtbot, tab, fakes, ["Aries", "Leo", "Virgo"], 3)
    assert tab.loaded is None, "the comparison released the Chat page's models"
    assert view.status.text() == "Comparing…"
    assert tab.status_label.text() == NOTE  # not "Both models are loaded…" over released models
    view.stop_button.click()
    idle(qtbot, tab)
    stopped = "3 of 12 answers kept in newer/answers.jsonl."
    assert view.status.text() == f"Stopped: {stopped}"
    assert tab.status_label.text() == NOTE
    said_once(stopped, tab)
    assert not view.status.isHidden() and not tab.status_label.isHidden()

    (runs / "newer" / "answers.jsonl").unlink()
    fakes.compare_hold_after = None
    view.compare_button.click()
    idle(qtbot, tab)
    done = f"12 answers, kept in {WHERE}."
    assert view.status.text() == f"Done: {done}"
    assert tab.status_label.text() == NOTE
    said_once(f"12 answers, kept in {WHERE}", tab)
    said_once("12 answers", tab)

    tab.prompt_edit.setPlainText("Aries")  # what the status line says holds: the next Send loads the models
    with qtbot.waitSignal(tab.answered, timeout=10_000):
        tab.send_button.click()
    assert fakes.loads[-1] == "newer · final model" and tab.loaded is not None
    assert tab.status_label.text() == "Both models are loaded and answer at the same time."
    assert view.status.text() == f"Done: {done}"  # the page keeps its line


def test_a_failed_comparison_is_said_on_the_page_only(qtbot: Any, tab: Any, fakes: Fakes,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    message = ("newer has no checkpoint to compare: its checkpoints are incomplete. To fix: train it until it saves "
               "a checkpoint.")

    def fails(*_args: Any, **_kwargs: Any) -> Any:
        raise GenerationError(message)

    monkeypatch.setattr(generate, "compare_checkpoints", fails)
    save_prompts(tab, ["Aries"])
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    view.compare_button.click()
    idle(qtbot, tab)
    assert view.status.text() == message
    assert tab.status_label.text() == NOTE
    said_once(message, tab)
    assert view.compare_button.isEnabled() and not view.stop_button.isEnabled()


def test_a_comparison_stopped_for_training_says_why_once(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    view = hold_a_comparison(qtbot, tab, fakes, ["Aries", "Leo"], 2)
    tab.session.set_running(True)
    tab.release_for_training()
    idle(qtbot, tab)
    stopped = ("Stopped because training started and needs the memory (training always wins): 2 of 8 answers kept in "
               f"{WHERE}. To compare every checkpoint: press Compare checkpoints again once the run ends.")
    assert view.status.text() == stopped
    assert tab.status_label.text() == ("Training started, so the models were released to give it the memory "
                                       "(training always wins). They load again when it ends.")
    said_once("2 of 8 answers", tab)
    tab.session.set_running(False)
