"""A sheet saved as "Text (Tab delimited)" (.txt) is read one row per line, header row and tabs included: the app
says so and how to read its columns (helper-141). Lines that only hold a tab here and there are left alone."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core import data
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import WARNING, Problem

NOTE = ("The lines look like a table of 2 columns separated by tabs (first line: 'text', 'label'), and a .txt file is "
        "read one row per line, so each whole line is trained as text, the first one and the tabs included. To fix: "
        "if it is a table, rename it to .tsv, so that its columns are read, and pick the text column; if the tabs "
        "belong to the text, nothing needs doing.")


def dataset(path: Path):
    config = default_config().dataset
    config.source, config.text_column = str(path), "text"
    return config


def test_a_tab_separated_sheet_saved_as_txt_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "sheet.txt"
    path.write_text("text\tlabel\n" + "".join(f"Row {i} is nice.\t{i % 3}\n" for i in range(30)), encoding="utf-8")
    assert data.check_source(dataset(path)) == []  # it trains: 31 rows of whole lines
    assert [row["text"] for row in data.preview(dataset(path)).rows[:2]] == ["text\tlabel", "Row 0 is nice.\t0"]
    assert data.tab_table_note(data.preview(dataset(path)).rows) == NOTE
    assert data.text_table_warnings(dataset(path)) == [
        Problem("dataset.source", f"{path}: t{NOTE[1:]}", WARNING)]
    renamed = path.rename(tmp_path / "sheet.tsv")  # the fix as written: its columns are read
    assert data.load_split(dataset(renamed))["text"][:2] == ["Row 0 is nice.", "Row 1 is nice."]


def test_text_with_an_occasional_tab_or_indented_lines_is_left_alone(tmp_path: Path) -> None:
    assert data.tab_table_note([{"text": "a\tb"}, {"text": "plain line"}, {"text": "c\td"}, {"text": "e"}]) is None
    assert data.tab_table_note([{"text": "\tdef f():"}, {"text": "\treturn 1"}, {"text": "\tpass"}]) is None
    assert data.tab_table_note([{"text": "a\tb"}, {"text": "c\td"}]) is None  # too few lines to tell
    notes = tmp_path / "notes.txt"
    notes.write_text("First note.\nSecond note.\nThird note.\n", encoding="utf-8")
    assert data.text_table_warnings(dataset(notes)) == []
    config = dataset(tmp_path / "sheet.txt")
    (tmp_path / "sheet.txt").write_text("a\tb\nc\td\ne\tf\n", encoding="utf-8")
    config.sample_by = "document"  # one row for the whole file: not lines of a table
    assert data.text_table_warnings(config) == []
