"""The note under the Compare table when lines of answers.jsonl are skipped counts the answers the table shows (one
per prompt and model, the latest line of each), not every line read: a comparison stopped and run again wrote most
answers twice."""

from __future__ import annotations

import json
from pathlib import Path

from finetune_studio.core.answers import answer_table, answers_path, load_answers


def line(prompt: object, model: object, answer: object) -> str:
    return json.dumps({"prompt": prompt, "model": model, "answer": answer}) + "\n"


def test_the_note_counts_the_cells_shown_not_the_lines_read(tmp_path: Path) -> None:
    lines = [line(p, m, f"{m} {n}") for n in (1, 2) for p in ("Aries", "Leo") for m in ("base", "final")]
    answers_path(tmp_path).write_text("".join(lines) + '{"prompt": "Leo", "mo\n', encoding="utf-8")
    saved = load_answers(tmp_path)
    assert len(saved.records) == 8 and len(answer_table(saved.records).cells) == 4
    assert saved.note == (f"1 line of {answers_path(tmp_path)} could not be read (cut off or damaged) and was "
                          "skipped; 4 answers are shown. To fix: run Compare checkpoints again (the Try tab) to "
                          "answer the saved prompts anew, or remove the damaged line from the file.")


def test_values_of_other_types_are_counted_as_the_table_shows_them(tmp_path: Path) -> None:
    """A prompt 3 and a prompt "3" are one row of the table (both shown as 3): one answer shown, not two."""
    answers_path(tmp_path).write_text(line(3, "base", "a") + line("3", "base", "b") + "[1, 2]\n", encoding="utf-8")
    saved = load_answers(tmp_path)
    assert answer_table(saved.records).answer("3", "base") == "b"
    assert "skipped; 1 answer is shown." in saved.note


def test_a_line_without_an_answer_is_skipped_and_said_not_shown_as_empty(tmp_path: Path) -> None:
    """Before: {"prompt": "Leo", "model": "base"} (a line of another format, or cut by hand) was read as an answer
    and the Compare table showed "(empty)", as if the base model had said nothing."""
    other = '{"prompt": "Leo", "model": "base", "text": "x"}\n'
    answers_path(tmp_path).write_text(line("Leo", "final", "kept") + other, encoding="utf-8")
    saved = load_answers(tmp_path)
    assert [r["answer"] for r in saved.records] == ["kept"] and saved.skipped == 1
    assert answer_table(saved.records).answer("Leo", "base") is None
    assert "1 line of" in saved.note and "skipped; 1 answer is shown." in saved.note


def test_a_run_folder_deleted_while_comparing_says_it_is_gone(tmp_path: Path) -> None:
    """Before: 'No such file or directory. To fix: check the disk the run folder is on (is it still there?)'."""
    import pytest

    from finetune_studio.core.answers import AnswersNotSaved, append_answer

    folder = tmp_path / "run"
    with pytest.raises(AnswersNotSaved) as caught:
        append_answer(folder, {"prompt": "Leo", "model": "base", "answer": "x"})
    assert str(caught.value) == (f"Cannot save answers to {folder / 'answers.jsonl'}: No such file or directory. To "
                                 f"fix: the run folder {folder} is gone (deleted or moved while comparing); put it "
                                 "back, or pick the run where it is now (Refresh lists the runs as they are), then "
                                 "compare again.")
    assert not folder.exists()
