"""Messages of core.data and core.chat that helper-113's Dataset Inspector probe found lacking (helper-116): a text
column the data lacks said the columns but not what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.data import check_text_column, load_split
from finetune_studio.core.errors import DataError
from finetune_studio.core.validation import validate

COLUMN_FIX = "To fix: pick the column that holds the text (Text column in the Dataset tab, or dataset.text_column)."


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_text_column_the_data_lacks_says_what_to_do(tmp_path: Path) -> None:
    """validate and the run: 'there is no column 'txt'. Columns: id, body.' ended there, with no "To fix:"."""
    path = jsonl(tmp_path / "d.jsonl", [{"id": i, "body": f"row {i} says hello"} for i in range(6)])
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(path), "txt"
    assert [(p.field, p.message) for p in validate(config) if p.field == "dataset.text_column"] == [
        ("dataset.text_column", f"{path}: there is no column 'txt'. Columns: id, body. {COLUMN_FIX}")]
    with pytest.raises(DataError) as caught:  # the run's own check, in the same words
        check_text_column(load_split(config.dataset), "bdy", str(path))
    assert str(caught.value) == (f"{path}: there is no column 'bdy'. Columns: id, body. Did you mean 'body'? "
                                 f"{COLUMN_FIX}")
