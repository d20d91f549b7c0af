"""The Try tab's top status follows the Compare page's rule for the last comparison's line: once the answers file
it names is gone or cannot be read, "Comparison done: … kept in …answers.jsonl" goes, as the page's own "Done: …"
line does (commit 0db555f). Another word said since is left alone.

The runs, the fake comparison and the tab are tests/gui/test_try_tab_states.py's (the demo model's real files,
core.generate's jobs replaced by fakes); everything asserted is the real TryTab's and CompareView's widgets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gui.test_compare_answers import compared, shown_cells
from tests.gui.test_try_tab_states import fakes, idle, runs, tab  # noqa: F401 - fixtures

WHERE = "newer/answers.jsonl"


def test_the_top_status_drops_the_last_comparison_once_its_answers_file_is_gone_or_unreadable(
        qtbot: Any, tab: Any, runs: Path) -> None:
    """Before: the top line kept "Comparison done: 4 answers kept in newer/answers.jsonl." above an empty table
    after the file was deleted, and beside "Cannot read the saved answers" once a folder took its place."""
    view = compared(qtbot, tab, ["Leo"])
    done = f"Comparison done: 4 answers kept in {WHERE}."
    assert tab.status_label.text() == done
    tab.refresh_button.click()  # the file as it was: the line stays
    assert tab.status_label.text() == done
    path = runs / "newer" / "answers.jsonl"
    path.unlink()
    path.mkdir()
    tab.refresh_button.click()
    assert not view.read_note.isHidden() and view.status.text() == ""
    assert tab.status_label.text() == ""
    path.rmdir()
    view = compared(qtbot, tab, ["Leo"])
    assert tab.status_label.text() == done
    path.unlink()
    tab.pages.setCurrentIndex(0)
    tab.pages.setCurrentWidget(view)  # the page shown again reads the file again
    assert shown_cells(view) == {} and view.status.text() == ""
    assert tab.status_label.text() == ""


def test_a_word_said_since_the_comparison_stays_when_its_file_goes(qtbot: Any, tab: Any, runs: Path) -> None:
    compared(qtbot, tab, ["Leo"])
    tab.prompt_edit.clear()
    tab.send_button.click()  # says the prompt is empty: the comparison's line is no longer shown
    said = tab.status_label.text()
    assert said == "The prompt is empty: type something for the models to answer or continue."
    (runs / "newer" / "answers.jsonl").unlink()
    tab.refresh_button.click()
    assert tab.status_label.text() == said
