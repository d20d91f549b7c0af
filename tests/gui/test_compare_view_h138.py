"""The Compare table read by a hostile user: answers and prompts with markup-like text ('<b>', 'a < b and c > d'),
answers too long for a cell, prompts that begin alike, a cell picked while a comparison fills the table, and many
answers arriving one by one. Everything asserted is the real CompareView's widgets; its owner (the Try tab) is a
stand-in that only records what the view asks of it, and answers arrive as the tab hands them on (add_event)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument

from finetune_studio.gui.compare_view import CompareView

MARKUP = "<i>italic</i> & a < b and c > d &lt;"


def as_read(tip: str) -> str:
    """What a tooltip shows: Qt renders it as rich text when it looks like markup (a tag on its first line)."""
    if not GuiQt.mightBeRichText(tip):
        return tip
    document = QTextDocument()
    document.setHtml(tip)
    return document.toPlainText()


def record(prompt: str, model: str, answer: str, **more: Any) -> dict[str, Any]:
    return {"prompt": prompt, "model": model, "answer": answer, **more}


def shown_view(qtbot: Any) -> CompareView:
    """A Compare view with an owner that starts every job and holds no settings, shown at 900x500."""
    owner = SimpleNamespace(start_job=lambda kind, job: True, stop=lambda: None, release=lambda reason: None,
                            settings_box=None)
    made = CompareView(owner)
    qtbot.addWidget(made)
    made.resize(900, 500)
    made.show()
    qtbot.waitExposed(made)
    return made


@pytest.fixture
def view(qtbot: Any, tmp_path: Path) -> CompareView:
    made = shown_view(qtbot)
    made.set_run(tmp_path)
    return made


def on_disk(view: CompareView, *records: dict[str, Any]) -> None:
    (view.run_dir / "answers.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    view.reload()


def test_tooltips_show_markup_like_text_word_for_word(view: CompareView) -> None:
    """Before: Qt took '<i>italic</i> & a < b and c > d' for markup: the tooltip showed 'italic & a  d'."""
    prompt = "<b>bold</b>: what does <div> do?"
    view.set_prompts([prompt])
    on_disk(view, record(prompt, "base", MARKUP))
    assert view.table.item(0, 0).text() == MARKUP
    assert as_read(view.table.item(0, 0).toolTip()) == MARKUP
    assert as_read(view.table.verticalHeaderItem(0).toolTip()) == prompt


def test_a_long_answers_tooltip_is_cut_and_says_where_it_is_whole(view: CompareView) -> None:
    """Before: the whole 3,000 characters as one unwrapped tooltip line, wider than any screen."""
    answer = "x" * 3000
    view.set_prompts(["Leo"])
    on_disk(view, record("Leo", "base", answer))
    tip = view.table.item(0, 0).toolTip()
    # zero-width spaces every 80 characters: where a word with no space may wrap (compare_view.bounded_tip)
    assert as_read(tip).replace("\u200b", "") == "x" * 600 + "… (click the cell to read it all under the table)"
    assert "white-space:pre-wrap" in tip  # rich text: Qt wraps it (a plain tooltip is one line)


def test_status_lines_are_plain_text(view: CompareView) -> None:
    """A skipped prompt's line quotes the prompt: '<b>Leo</b> is too long' was shown as a bold 'Leo is too long'."""
    view._running = True
    view.add_event({"event": "skipped", "model": None, "text": "<b>Leo</b> is too long: skipped on every model."})
    assert view.status.text() == "<b>Leo</b> is too long: skipped on every model."
    assert view.status.textFormat() == Qt.TextFormat.PlainText
    assert view.read_note.textFormat() == Qt.TextFormat.PlainText


def test_a_picked_cell_shows_its_prompt_and_whole_answer_under_the_table(view: CompareView) -> None:
    """Before: a cell was at most 160 px high and a row title 40 characters; two prompts that begin alike had the
    same title, and a long answer could be read only in a tooltip."""
    first = "Write a horoscope for Aries about work and love"
    second = "Write a horoscope for Aries about work and money"
    long_answer = " ".join(f"word{n}" for n in range(900))
    view.set_prompts([first, second])
    on_disk(view, record(first, "base", long_answer, tokens=900, stop_reason="max_new_tokens"),
            record(second, "checkpoint-4", "   ", tokens=0, stop_reason="eos"))
    titles = [view.table.verticalHeaderItem(row).text().replace("\n", " ") for row in (0, 1)]
    assert titles == [first, second]  # whole at 900 px (cut at 40 characters, they were alike)
    assert view.detail.isHidden()
    view.table.setCurrentCell(0, 0)
    assert not view.detail.isHidden()
    assert view.detail.toPlainText() == (f"Prompt:\n{first}\n\nBase model (900 tokens, cut off at max new tokens: it "
                                         f"may go on):\n{long_answer}")
    view.table.setCurrentCell(1, 1)
    assert view.table.item(1, 1).text() == "(empty)"
    assert view.detail.toPlainText() == (f"Prompt:\n{second}\n\ncheckpoint-4 (0 tokens, it ended its answer):\n"
                                         "(empty: no text)")
    view.table.setCurrentCell(1, 0)
    assert view.detail.toPlainText() == (f"Prompt:\n{second}\n\nNo answer from Base model to this prompt yet "
                                         "(Compare checkpoints answers every saved prompt).")


def test_the_picked_cell_stays_picked_while_a_comparison_fills_the_table(view: CompareView) -> None:
    """Each answer rebuilt the whole table, and the cell the user had picked was lost at the next answer."""
    view.set_prompts(["Aries", "Leo"])
    view._running = True

    def answer(prompt: str, model: str) -> None:
        view.add_event({"event": "answer", "prompt": prompt, "model": model,
                        "record": record(prompt, model, f"{model} on {prompt}")})

    answer("Aries", "base")
    answer("Leo", "base")
    view.table.setCurrentCell(1, 0)
    answer("Aries", "checkpoint-4")  # a new column: the table is made again
    assert (view.table.currentRow(), view.table.currentColumn()) == (1, 0)
    assert view.detail.toPlainText() == "Prompt:\nLeo\n\nBase model:\nbase on Leo"
    kept = view.table.item(0, 0)
    answer("Leo", "checkpoint-4")  # one cell more: only that cell is made
    assert view.table.item(0, 0) is kept and view.table.item(1, 1).text() == "checkpoint-4 on Leo"
    assert (view.table.currentRow(), view.table.currentColumn()) == (1, 0)
    view.table.setCurrentCell(1, 1)
    view.add_event({"event": "answer", "prompt": "Leo", "model": "checkpoint-4",
                    "record": record("Leo", "checkpoint-4", "a second answer")})  # the comparison run again
    assert view.table.item(1, 1).text() == "a second answer"
    assert view.detail.toPlainText() == "Prompt:\nLeo\n\ncheckpoint-4:\na second answer"


def answer_event(prompt: str, model: str, answer: str) -> dict[str, Any]:
    return {"event": "answer", "prompt": prompt, "model": model, "record": record(prompt, model, answer)}


UNSAVED = ("The answers are shown but not saved from here on (1 of this comparison's answers was saved before). "
           "Cannot save answers to x/answers.jsonl: the disk is full. To fix: free space on the disk, then compare "
           "again.")


def test_answers_that_could_not_be_saved_stay_shown_when_the_table_is_read_again(view: CompareView) -> None:
    """Before: the comparison's line said 'the answers are shown but not saved', and showing the page again (or
    Refresh) read the file back and the answers not in it were gone from the table: the only copy the user had."""
    view.set_prompts(["Aries", "Leo"])
    on_disk(view, record("Aries", "base", "older, saved"), record("Leo", "final", "older, saved"))
    view._running = True
    view.add_event(answer_event("Aries", "base", "new, saved"))
    (view.run_dir / "answers.jsonl").write_text(json.dumps(record("Aries", "base", "new, saved")) + "\n"
                                                + json.dumps(record("Leo", "final", "older, saved")) + "\n")
    view.add_event(answer_event("Leo", "base", "new, not saved"))  # its write failed:
    view.add_event({"event": "unsaved", "text": UNSAVED})
    view.add_event(answer_event("Aries", "final", "new, not saved either"))
    view.finished(answer_table_of(view), stopped=False)
    assert view.status.text() == f"Done: 3 answers. {UNSAVED}"
    view.reload()  # the page shown again
    assert cells(view) == {("Aries", "Base model"): "new, saved", ("Leo", "Base model"): "new, not saved",
                           ("Aries", "Final model"): "new, not saved either", ("Leo", "Final model"): "older, saved"}
    assert view.status.text() == f"Done: 3 answers. {UNSAVED}"
    # a later comparison that saves its answers: its answer of a cell wins over the one not saved
    view._running = True
    view.unsaved = ""
    view.add_event(answer_event("Leo", "base", "newest, saved"))
    with (view.run_dir / "answers.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record("Leo", "base", "newest, saved")) + "\n")
    view._running = False
    view.reload()
    assert cells(view)[("Leo", "Base model")] == "newest, saved"
    assert cells(view)[("Aries", "Final model")] == "new, not saved either"


def answer_table_of(view: CompareView) -> Any:
    from finetune_studio.core.answers import answer_table

    return answer_table([view.table_data.cells[(p, m)] for p, m in view.table_data.cells
                         if view.table_data.cells[(p, m)]["answer"].startswith("new")])


def cells(view: CompareView) -> dict[tuple[str, str], str]:
    table = view.table
    return {(table.verticalHeaderItem(row).text(), table.horizontalHeaderItem(col).text()): table.item(row, col).text()
            for row in range(table.rowCount()) for col in range(table.columnCount()) if table.item(row, col)}


def test_a_prompt_saved_twice_is_one_row_and_gets_each_answer(view: CompareView) -> None:
    view.set_prompts(["Leo", "Aries", "Leo"])
    view._running = True
    view.add_event(answer_event("Leo", "base", "first"))
    view.add_event(answer_event("Aries", "base", "second"))
    view.add_event(answer_event("Leo", "base", "again"))
    assert [view.table.verticalHeaderItem(row).text() for row in range(view.table.rowCount())] == ["Leo", "Aries"]
    assert cells(view) == {("Leo", "Base model"): "again", ("Aries", "Base model"): "second"}


def test_in_the_windows_narrow_column_the_row_titles_leave_room_for_a_whole_answer(qtbot: Any,
                                                                                     view: CompareView) -> None:
    """In the window at 900x600 the Try tab is about 440 px wide. Before: each row title was a line of 40
    characters, about 290 px, and the answers had a sliver of the table; now titles take at most a third of it, in
    up to three lines, and still tell apart prompts that begin alike."""
    prompts = [f"Write a horoscope for sign {n} about work, love and money this week" for n in range(10)]
    view.set_prompts(prompts)
    on_disk(view, *[record(p, m, f"{m} on {p}") for m in ("base", "checkpoint-10", "final") for p in prompts])
    view.resize(440, 500)
    qtbot.wait(20)
    header = view.table.verticalHeader()
    assert header.width() <= view.table.width() // 3
    titles = [view.table.verticalHeaderItem(row).text() for row in range(view.table.rowCount())]
    assert all(f"sign {n}" in title and len(title.split("\n")) <= 3 for n, title in enumerate(titles)), titles
    assert all(header.fontMetrics().horizontalAdvance(line) <= header.width() for t in titles for line in t.split("\n"))
    first = view.table.columnViewportPosition(0) + view.table.columnWidth(0)
    assert first <= view.table.viewport().width()  # the base model's answers are wholly in view
    view.resize(900, 500)  # wider: a title is the whole prompt when it fits
    qtbot.wait(20)
    assert view.table.verticalHeaderItem(0).text().replace("\n", " ") == prompts[0]


def test_a_cell_holds_what_it_can_show_and_the_box_the_whole_answer(view: CompareView) -> None:
    """Before: every cell held its whole answer, and Qt measured all of it for the row's height: 260 answers of 8 kB
    (13 models x 20 prompts) took 2.3 s of the GUI thread to fill the table, for cells at most 160 px high."""
    answer = " ".join(f"w{n:04d}" for n in range(1600))  # 9,599 characters
    view.set_prompts(["Leo"])
    on_disk(view, record("Leo", "base", answer), record("Leo", "final", ""))
    assert view.table.item(0, 0).text() == answer[:1000] + "…"
    assert view.table.item(0, 1).text() == "(empty)"
    assert view.answer("Leo", "base") == answer  # the table's data is whole
    view.table.setCurrentCell(0, 0)
    assert view.detail.toPlainText() == f"Prompt:\nLeo\n\nBase model:\n{answer}"


def test_a_long_prompts_title_wraps_only_what_its_lines_hold() -> None:
    """The titles are made again at each resize of the page: a prompt of 100 kB was wrapped whole each time (37 ms a
    prompt; 20 of them, 0.74 s of the GUI thread at every step of a drag)."""
    import time

    from finetune_studio.gui.compare_view import _row_title

    prompt = "word " * 20000
    started = time.perf_counter()
    titles = [_row_title(prompt, 30) for _ in range(20)]
    assert time.perf_counter() - started < 0.1
    assert titles[0] == "word word word word word word\nword word word word word word\nword word word word word word…"
    assert _row_title("x " * 59 + "yyyyy", 30).endswith("x…") and _row_title("Leo", 30) == "Leo"
