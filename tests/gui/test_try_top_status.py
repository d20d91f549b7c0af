"""The Try tab's top status and the last comparison's answers file. The top line used to repeat the comparison's
end ("Comparison done: … kept in …answers.jsonl") and had to drop it, as the Compare page drops its own "Done: …"
line (commit 0db555f), once the file was gone or could not be read. Since 9c0ed45 the end is said once, on the page;
the top line says what became of the Chat page's models, which the file going leaves true: it stays, and says
nothing of the file. Another word said since is left alone.

The runs, the fake comparison and the tab are tests/gui/test_try_tab_states.py's (the demo model's real files,
core.generate's jobs replaced by fakes); everything asserted is the real TryTab's and CompareView's widgets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gui.test_compare_answers import compared, shown_cells
from tests.gui.test_try_tab_states import Fakes, fakes, idle, runs, tab  # noqa: F401 - fixtures

WHERE = "newer/answers.jsonl"
NOTE = "newer · final model is picked; its models load at the next Send (a comparison loads its own, one at a time)."


def test_the_top_status_keeps_the_models_state_when_the_answers_file_is_gone_or_unreadable(
        qtbot: Any, tab: Any, fakes: Fakes, runs: Path) -> None:
    """Before 9c0ed45: the top line said "Comparison done: 4 answers kept in newer/answers.jsonl." and was emptied
    when the file went. Now the page alone says where the answers are kept, and drops it with the file; the top line
    says the Chat page's models (released for the comparison) load at the next Send, true before and after."""
    view = compared(qtbot, tab, ["Leo"])
    assert view.status.text() == f"Done: 4 answers, kept in {WHERE}."
    assert tab.status_label.text() == NOTE and tab.loaded is None
    tab.refresh_button.click()  # the file as it was: both lines stay
    idle(qtbot, tab)
    assert view.status.text() == f"Done: 4 answers, kept in {WHERE}." and tab.status_label.text() == NOTE
    path = runs / "newer" / "answers.jsonl"
    path.unlink()
    path.mkdir()
    tab.refresh_button.click()
    idle(qtbot, tab)
    assert not view.read_note.isHidden() and view.read_note.text().startswith("Cannot read the saved answers: ")
    assert view.status.text() == ""
    assert tab.status_label.text() == NOTE and tab.loaded is None  # no word of the file: still true of the models
    path.rmdir()
    view = compared(qtbot, tab, ["Leo"])
    assert tab.status_label.text() == NOTE
    path.unlink()
    tab.pages.setCurrentIndex(0)
    tab.pages.setCurrentWidget(view)  # the page shown again reads the file again
    assert shown_cells(view) == {} and view.status.text() == ""
    assert tab.status_label.text() == NOTE and tab.loaded is None
    assert fakes.loads == ["newer · final model"]  # nothing loaded the models the line says the next Send loads


def test_a_word_said_since_the_comparison_stays_when_its_file_goes(qtbot: Any, tab: Any, runs: Path) -> None:
    compared(qtbot, tab, ["Leo"])
    tab.prompt_edit.clear()
    tab.send_button.click()  # says the prompt is empty: the comparison's line is no longer shown
    said = tab.status_label.text()
    assert said == "The prompt is empty: type something for the models to answer or continue."
    (runs / "newer" / "answers.jsonl").unlink()
    tab.refresh_button.click()
    assert tab.status_label.text() == said
