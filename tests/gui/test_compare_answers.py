"""The Try tab's Compare page shows the run's answers file as it is on disk: deleted or replaced since it was read,
it is read again when the run is picked again, refreshed, or the page shows; a file that cannot be read, or lines
that cannot, are said on the page with what to do.

The runs, the fake comparison and the tab are tests/gui/test_try_tab_states.py's (the demo model's real files,
core.generate's jobs replaced by fakes); everything asserted is the real CompareView's widgets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.gui.test_try_tab_states import fakes, idle, runs, save_prompts, tab  # noqa: F401 - fixtures


def shown_cells(view: Any) -> dict[tuple[str, str], str]:
    """(row header, column header) -> text of every filled cell of the Compare table."""
    table = view.table
    return {(table.verticalHeaderItem(row).text(), table.horizontalHeaderItem(col).text()): table.item(row, col).text()
            for row in range(table.rowCount()) for col in range(table.columnCount()) if table.item(row, col)}


def compared(qtbot: Any, tab: Any, prompts: list[str]) -> Any:
    """The newest run compared on `prompts` (the fake answers "<model> on <prompt>"), the Compare page showing."""
    save_prompts(tab, prompts)
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    view.compare_button.click()
    idle(qtbot, tab)
    assert shown_cells(view)[(prompts[-1], "Final model")] == f"final on {prompts[-1]}"
    return view


def record(prompt: str, model: str, answer: str) -> str:
    return json.dumps({"prompt": prompt, "model": model, "answer": answer}) + "\n"


def test_a_deleted_answers_file_empties_the_table_on_refresh(qtbot: Any, tab: Any, runs: Path) -> None:
    """Before: Refresh re-listed the run's checkpoints but the table kept the deleted file's 8 answers."""
    view = compared(qtbot, tab, ["Aries", "Leo"])
    (runs / "newer" / "answers.jsonl").unlink()
    tab.refresh_button.click()
    assert shown_cells(view) == {} and view.table_data.cells == {}


def test_a_replaced_answers_file_shows_when_the_run_is_picked_again_or_the_page_shows(qtbot: Any, tab: Any,
                                                                                      runs: Path) -> None:
    """Before: picking the shown run again in the list, or coming back to the Compare page, showed the answers
    read before the file was replaced."""
    view = compared(qtbot, tab, ["Aries", "Leo"])
    path = runs / "newer" / "answers.jsonl"
    path.write_text(record("Leo", "final", "replaced"), encoding="utf-8")
    tab.run_combo.activated.emit(tab.run_combo.currentIndex())  # the user picks the same run in the list
    assert shown_cells(view) == {("Leo", "Final model"): "replaced"}
    tab.pages.setCurrentIndex(0)
    path.write_text(record("Aries", "base", "again"), encoding="utf-8")
    tab.pages.setCurrentWidget(view)
    assert shown_cells(view) == {("Aries", "Base model"): "again"}


def test_saving_a_prompt_after_the_file_was_deleted_brings_no_old_answer_back(qtbot: Any, tab: Any,
                                                                              runs: Path) -> None:
    """Before: saving a prompt rebuilt the table from the answers read earlier, so the deleted file's came back."""
    view = compared(qtbot, tab, ["Aries"])
    (runs / "newer" / "answers.jsonl").unlink()
    save_prompts(tab, ["Aries", "Leo"])
    assert shown_cells(view) == {}
    assert [view.table.verticalHeaderItem(row).text() for row in range(view.table.rowCount())] == ["Aries", "Leo"]


def test_a_run_folder_deleted_leaves_no_answers_shown(qtbot: Any, tab: Any, runs: Path) -> None:
    import shutil

    view = compared(qtbot, tab, ["Aries"])
    shutil.rmtree(runs / "newer")
    shutil.rmtree(runs / "older")
    tab.refresh_button.click()
    assert view.run_dir is None and shown_cells(view) == {}


def test_an_answers_file_that_cannot_be_read_says_why_on_the_page(qtbot: Any, tab: Any, runs: Path) -> None:
    """Before: a folder in the file's place, or a damaged line, gave an empty (or shorter) table and no word why."""
    view = compared(qtbot, tab, ["Leo"])
    assert view.read_note.isHidden()
    path = runs / "newer" / "answers.jsonl"
    path.unlink()
    path.mkdir()
    tab.refresh_button.click()
    assert shown_cells(view) == {} and not view.read_note.isHidden()
    assert view.read_note.text() == (f"Cannot read the saved answers: {path} is a folder, not a file. To fix: move "
                                     "that folder out of the run folder (or delete it); Compare checkpoints then "
                                     "writes the answers file anew.")
    path.rmdir()
    path.write_text(record("Leo", "base", "kept") + '{"prompt": "Leo", "mod\n', encoding="utf-8")
    tab.refresh_button.click()
    assert shown_cells(view) == {("Leo", "Base model"): "kept"}
    assert view.read_note.text() == (f"1 line of {path} could not be read (cut off or damaged) and was skipped; 1 "
                                     "answer is shown. To fix: run Compare checkpoints again (the Try tab) to answer "
                                     "the saved prompts anew, or remove the damaged line from the file.")
    path.write_text(record("Leo", "base", "whole"), encoding="utf-8")
    tab.refresh_button.click()
    assert view.read_note.isHidden() and view.read_note.text() == ""


def test_the_last_comparisons_done_line_goes_when_the_file_is_gone_or_unreadable(qtbot: Any, tab: Any,
                                                                                  runs: Path) -> None:
    """Before: 'Done: 2 answers, kept in …answers.jsonl' stayed above an empty table after the file was deleted,
    and beside 'Cannot read the saved answers' once a folder took its place."""
    view = compared(qtbot, tab, ["Leo"])
    assert view.status.text().startswith("Done: ")
    tab.refresh_button.click()  # the file as it was: the line stays
    assert view.status.text().startswith("Done: ")
    path = runs / "newer" / "answers.jsonl"
    path.unlink()
    path.mkdir()
    tab.refresh_button.click()
    assert view.status.text() == "" and view.status.isHidden() and not view.read_note.isHidden()
    path.rmdir()
    view = compared(qtbot, tab, ["Leo"])
    path.unlink()
    tab.refresh_button.click()
    assert view.status.text() == "" and shown_cells(view) == {}


def test_compare_automatically_has_a_row_of_its_own(qtbot: Any, tab: Any, runs: Path) -> None:
    """Beside the buttons, at 900×600 its text was cut to 'Compare automatically when' (the forms column is
    narrow there)."""
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    tab.resize(440, 500)
    qtbot.wait(20)
    assert view.auto_check.width() >= view.auto_check.sizeHint().width()
    assert view.auto_check.geometry().top() >= view.compare_button.geometry().bottom()
