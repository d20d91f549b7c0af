"""A saved answer that is not text (answers.jsonl edited by hand, or written by another tool) is shown as a config
file writes it: null, true, [a, b], {a: 1}, not Python's None, True, ['a', 'b'], {'a': 1} (helper-110's item 1).
The Compare view's cells and titles and `finetune-studio generate RUN --answers` both read core.answers' table."""

from __future__ import annotations

import io
import json
from pathlib import Path

from finetune_studio.core.answers import answer_table, load_answers
from finetune_studio.core.generate_cli import print_answers

ODD = [
    {"prompt": "Leo", "model": "base", "answer": None},
    {"prompt": "Leo", "model": "checkpoint-2", "answer": True},
    {"prompt": "Leo", "model": "final", "answer": ["a", "b"]},
    {"prompt": ["x", "y"], "model": "base", "answer": {"mood": "calm", "stars": 4}},
    {"prompt": "Leo", "model": False, "answer": 2.5},
]


def _run_with(tmp_path: Path) -> Path:
    (tmp_path / "answers.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ODD), encoding="utf-8")
    return tmp_path


def test_cells_and_titles_show_values_as_a_config_file_writes_them(tmp_path: Path) -> None:
    table = answer_table(load_answers(_run_with(tmp_path)).records)
    assert table.prompts == ["Leo", "[x, y]"]
    assert table.models == ["base", "checkpoint-2", "false", "final"]
    assert table.answer("Leo", "base") == "null"
    assert table.answer("Leo", "checkpoint-2") == "true"
    assert table.answer("Leo", "final") == "[a, b]"
    assert table.answer("[x, y]", "base") == "{mood: calm, stars: 4}"
    assert table.answer("Leo", "false") == "2.5"


def test_text_is_shown_as_it_is_not_quoted(tmp_path: Path) -> None:
    """Only what is not text goes through as_written: an answer '1e2' or 'true' is that text, without the quotes a
    file would put round it."""
    table = answer_table([{"prompt": "1e2", "model": "base", "answer": "true"}])
    assert table.prompts == ["1e2"] and table.answer("1e2", "base") == "true"


def test_generate_answers_prints_them_as_written(tmp_path: Path) -> None:
    out = io.StringIO()
    assert print_answers(_run_with(tmp_path), out) == 0
    assert out.getvalue().splitlines() == [
        "> Leo", "  [base] null", "  [checkpoint-2] true", "  [false] 2.5", "  [final] [a, b]", "",
        "> [x, y]", "  [base] {mood: calm, stars: 4}", "",
    ]


def test_columns_come_in_one_order_final_last() -> None:
    """Names other than base, checkpoint-N and final (a line written by another tool) come before final, by name:
    they tied with final, and the columns' order followed a set's, which changes from one process to the next."""
    names = ["final", "zeta", "checkpoint-10", "alpha", "base", "checkpoint-2"]
    table = answer_table([{"prompt": "Leo", "model": name, "answer": name} for name in names])
    assert table.models == ["base", "checkpoint-2", "checkpoint-10", "alpha", "zeta", "final"]
