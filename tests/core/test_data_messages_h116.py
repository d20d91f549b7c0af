"""Messages of core.data and core.chat that helper-113's Dataset Inspector probe found lacking (helper-116): a text
column the data lacks said the columns but not what to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


def test_cut_notes_write_their_counts_with_thousands_separators(tokenizer: Any) -> None:
    """'max_length 64 cuts this row: 1138 tokens are not trained' and 'cuts the reply: 1156 of 1204': every other
    count the app says has its separators ('Dropped 1,204 of 2,000 rows')."""
    from finetune_studio.core.chat import render_and_label
    from finetune_studio.core.config import ChatConfig

    text = render_and_label(tokenizer, {"text": "word " * 600}, ChatConfig(), 64, text_column="text")
    assert (text.format, len(text.input_ids)) == ("text", 1202)
    assert text.problems == ["max_length 64 cuts this row: 1,138 tokens are not trained"]
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "word " * 600}]}
    chat = render_and_label(tokenizer, row, ChatConfig(), 64)
    assert (chat.format, chat.trained, chat.cut_trained) == ("messages", 48, 1156)
    assert chat.problems == ["max_length 64 cuts the reply: 1,156 of 1,204 trained tokens are lost, and so is its "
                             "end-of-turn token. To fix: raise max_length"]


def test_a_null_text_value_is_said_to_have_no_value_not_a_missing_column(tokenizer: Any, tmp_path: Path) -> None:
    """A row whose text is null said "the text column 'text' is missing" though the column is there; validate says
    "row 2 has no value in column 'text'. Fill or remove it." Now the row has no value, and the Inspector's words
    under it end with what to do; a row without the column at all is still said to miss it."""
    from finetune_studio.core.chat import render_and_label
    from finetune_studio.core.config import ChatConfig
    from finetune_studio.core.inspector import Inspector, row_failure

    plain = ChatConfig(format="text")
    assert render_and_label(tokenizer, {"text": None}, plain, 64, text_column="text").problems == [
        "the text column 'text' has no value"]
    assert render_and_label(tokenizer, {"body": "x"}, plain, 64, text_column="text").problems == [
        "the text column 'text' is missing"]

    path = jsonl(tmp_path / "nulls.jsonl", [{"text": "hello world"}, {"text": None}, {"text": "fine"}])
    config = default_config()
    config.dataset.source, config.dataset.text_column, config.dataset.max_length = str(path), "text", 512
    assert [p.message for p in validate(config) if p.field == "dataset.text_column"] == [
        f"{path}: row 2 has no value in column 'text'. Fill or remove it."]
    ins = Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer)
    checks = ins.check()
    assert row_failure(1, checks.failures[1], ins.format) == (
        "Row 2 cannot be trained: the text column 'text' has no value, and a run refuses the data while it is in "
        "it. To fix: fill in or remove that row in the data, or pick another text column.")


def test_the_dataset_tabs_summary_says_one_row_trains(tokenizer: Any, tmp_path: Path) -> None:
    """core.inspector.checks_summary, the Dataset tab's line: '2 rows · … ; 1 row train nothing'."""
    from finetune_studio.core.inspector import Inspector, checks_summary

    ok = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    long = {"messages": [{"role": "user", "content": "word " * 60}, {"role": "assistant", "content": "Yes."}]}
    path = jsonl(tmp_path / "long.jsonl", [ok, long])
    config = default_config()
    config.dataset.source, config.dataset.max_length = str(path), 40
    checks = Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer).check()
    assert checks_summary(checks) == ("2 rows · 5 trained tokens of 61; 1 row trains nothing; every reply kept whole "
                                      "trains its end-of-turn token.")
    path = jsonl(tmp_path / "long3.jsonl", [ok, long, long])
    config.dataset.source = str(path)
    checks = Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer).check()
    assert "; 2 rows train nothing;" in checks_summary(checks)
