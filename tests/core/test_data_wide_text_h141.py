"""UTF-16 text saved without a byte order mark (helper-141): every other byte is 0, which UTF-8 reads as NUL
characters; the checks called it "malformed JSON line (Expecting property name ...)" or read NULs into the CSV's
column names. Now validate, the preview and the run name the encoding that reads it, and it trains with that."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import DataError


def dataset(path: Path, encoding: str | None = None):
    config = default_config().dataset
    config.source, config.text_column, config.encoding = str(path), "text", encoding
    return config


@pytest.mark.parametrize("name, body, codec", [
    ("rows.jsonl", "".join(json.dumps({"text": f"Row {i}."}) + "\n" for i in range(12)), "utf-16-le"),
    ("rows.csv", "text,label\n" + "".join(f"Row {i}.,{i}\n" for i in range(12)), "utf-16-be"),
])
def test_utf16_without_a_byte_order_mark_names_its_encoding(tmp_path: Path, name: str, body: str,
                                                            codec: str) -> None:
    path = tmp_path / name
    path.write_bytes(body.encode(codec))
    message = (f"{path} looks like UTF-16 text without a byte order mark (every other byte is 0), not UTF-8. To fix: "
               f"set the dataset's encoding to {codec} (Encoding in the Dataset tab, or dataset.encoding in the "
               "config), or save the file as UTF-8.")
    assert [(p.field, p.message) for p in data.check_source(dataset(path))] == [("dataset.encoding", message)]
    for read in (data.preview, data.load_split):
        with pytest.raises(data.EncodingProblem) as info:
            read(dataset(path))
        assert str(info.value) == message and info.value.detected == codec
    assert data.check_source(dataset(path, codec)) == []  # the fix as written: it trains
    assert data.load_split(dataset(path, codec))["text"] == [f"Row {i}." for i in range(12)]


def test_a_stray_nul_in_utf8_text_is_not_called_utf16(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_bytes(b"hello\x00world\nsecond line\nthird line\n")
    assert data.check_source(dataset(path)) == []
    assert data.load_split(dataset(path))["text"] == ["hello\x00world", "second line", "third line"]
    # unchanged for JSON lines: a raw NUL inside a string is not JSON
    with pytest.raises(DataError, match=r"line 2, column 32: malformed JSON line \(a control character, such as a "
                                        r"tab, inside a string\)"):
        bad = tmp_path / "nul.jsonl"
        bad.write_bytes(b'{"text": "a"}\n' + json.dumps({"text": "Row with a NUL here: "}).encode()[:-2]
                        + b'\x00 end"}\n' + b'{"text": "b"}\n')
        data.check_file(bad, "json")
