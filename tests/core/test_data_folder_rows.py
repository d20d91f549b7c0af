"""A folder source is read as one table, so a bad row found in it was named by its number over the whole folder
("row 5"), which is no line of any file the user can open. The run and validate now also name the file that holds
it and its row there ("row 5 (row 2 of b.jsonl)"), as validate's text column check already did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import DataError

GOOD = {"prompt": "Sign?", "completion": "Leo."}


def _folder(tmp_path: Path, second: list[dict], first: list[dict] | None = None) -> Path:
    """a.jsonl with `first` (3 good prompt/completion rows), then b.jsonl with `second`: a run reads a's rows first."""
    folder = tmp_path / "parts"
    folder.mkdir()
    for name, rows in (("a.jsonl", first or [GOOD] * 3), ("b.jsonl", second)):
        (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return folder


def _config(source: Path, text_column: str = "text"):
    config = default_config()
    config.dataset.source, config.dataset.text_column, config.dataset.test_size = str(source), text_column, 0.0
    return config


def test_the_run_names_a_text_row_without_a_value_by_its_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [{"text": "Wear red."}, {"text": None}], [{"text": f"Day {i}."} for i in range(3)])
    config = _config(folder)
    with pytest.raises(DataError) as raised:
        data.check_text_column(data.load_split(config.dataset), "text", str(folder))
    assert str(raised.value) == f"{folder}: row 5 (row 2 of b.jsonl) has no value in column 'text'. Fill or remove it."


def test_one_file_is_named_by_its_row_alone(tmp_path: Path) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in [{"text": "a"}, {"text": None}]), encoding="utf-8")
    with pytest.raises(DataError) as raised:
        data.check_text_column(data.load_split(_config(source).dataset), "text", str(source))
    assert str(raised.value) == f"{source}: row 2 has no value in column 'text'. Fill or remove it."


def test_validate_names_a_bad_chat_row_by_its_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [GOOD, {"prompt": "Sign?", "completion": "  "}])
    config = _config(folder, "prompt")
    assert [p.message for p in data.check_source(config.dataset, config.chat)] == [
        f"{folder}: row 5 (row 2 of b.jsonl): column 'completion' is blank: there is no completion to learn. Fix or "
        "remove these rows, or map the columns in chat.columns."]


def test_validate_names_the_row_of_another_format_by_its_file(tmp_path: Path) -> None:
    chat = {"messages": [{"role": "user", "content": "Sign?"}, {"role": "assistant", "content": "Leo."}]}
    folder = _folder(tmp_path, [chat, GOOD], [chat] * 3)
    config = _config(folder, "prompt")
    assert [p.message for p in data.check_source(config.dataset, config.chat)] == [
        f"{folder}: mixed formats. Its columns read as messages (role/content) but row 5 (row 2 of b.jsonl) is "
        "prompt/completion (columns 'prompt' and 'completion'). Keep one format per dataset, or set chat.format and "
        "chat.columns to the one to train."]


def test_the_run_names_a_bad_chat_row_by_its_file(demo_cache, tmp_path: Path) -> None:
    from finetune_studio.core.chat import prepare_dataset
    from finetune_studio.core.model import load_tokenizer

    folder = _folder(tmp_path, [GOOD, {"prompt": "Sign?", "completion": "  "}])
    config = _config(folder, "prompt")
    with pytest.raises(DataError) as raised:
        prepare_dataset(data.load_split(config.dataset), load_tokenizer(config.model), config.chat, config.dataset,
                        42)
    assert str(raised.value) == (f"{folder}: 1 of 5 rows cannot be trained as prompt/completion: row 5 (row 2 of "
                                 "b.jsonl): column 'completion' is blank: there is no completion to learn. Fix or "
                                 "remove those rows (nothing was trained).")
