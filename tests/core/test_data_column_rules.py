"""Data loading as a hostile tester fed it (helper-64): column names in another Unicode form, Parquet text types, and
errors that name the file and row of a bad value."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import DataError
from finetune_studio.core.validation import validate

NFC = unicodedata.normalize("NFC", "tëxt 文本")
NFD = unicodedata.normalize("NFD", "tëxt 文本")


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def _problems(source: Path, column: str) -> list[str]:
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(source), column
    return [f"{p.field}: {p.message}" for p in validate(config)]


def test_a_column_named_in_another_unicode_form_is_the_column(tmp_path: Path) -> None:
    """Finding 6: 'there is no column …. Did you mean' a name that prints the same (NFC in the data, NFD typed)."""
    import datasets

    source = _jsonl(tmp_path / "unicode.jsonl", [{NFC: f"row {i} says hello"} for i in range(10)])
    assert NFC != NFD and data.real_column([NFC], NFD) == NFC
    assert _problems(source, NFD) == []
    said: list[str] = []
    ds = datasets.Dataset.from_list([{NFC: "hello"}])
    assert data.check_text_column(ds, NFD, str(source), said.append) == NFC
    assert said == [f"The text column '{NFC}' is written in another Unicode form in the data than in the config (the "
                    "same letters, different code points: NFC and NFD). Using the name as the data spells it."]


def test_two_columns_alike_but_for_their_unicode_form_are_named(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "both.jsonl", [{NFC: "a", NFD: "b"} for _ in range(10)])
    assert _problems(source, "te\u0308xt 文本 ") == [
        f"dataset.text_column: {source}: 2 columns are named 'te\u0308xt 文本 ' (with trailing whitespace) in "
        "different Unicode forms (the same letters written with different code points: NFC and NFD), so the text "
        "column is not clear. To fix: rename all but one of them in the data."]


def _parquet(path: Path, column) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": column}), path)
    return path


@pytest.mark.parametrize("kind", ["dictionary", "string_view"])
def test_parquet_text_types_pass_the_check_and_the_run_alike(tmp_path: Path, kind: str) -> None:
    """Finding 3: a dictionary<string> column (pandas' category) was refused by the check but trained by the run; a
    string_view column passed the check and failed the run."""
    import pyarrow as pa

    words = pa.array([f"row {i} parquet text" for i in range(30)])
    column = words.dictionary_encode() if kind == "dictionary" else words.cast(pa.string_view())
    source = _parquet(tmp_path / f"{kind}.parquet", column)
    assert _problems(source, "text") == []
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(source), "text"
    ds = data.load_split(config.dataset)
    assert data.check_text_column(ds, "text", str(source)) == "text"


def test_a_parquet_number_column_is_refused_in_the_same_words_by_both(tmp_path: Path) -> None:
    import pyarrow as pa

    source = _parquet(tmp_path / "numbers.parquet", pa.array(range(30), pa.int32()).dictionary_encode())
    expected = f"{source}: column 'text' holds whole numbers, not text. The dataset has no text column."
    assert _problems(source, "text") == [f"dataset.text_column: {expected}"]
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(source), "text"
    with pytest.raises(DataError) as raised:
        data.check_text_column(data.load_split(config.dataset), "text", str(source))
    assert str(raised.value) == expected


def _config(source: Path):
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(source), "text"
    return config


def test_a_value_past_the_checked_bytes_is_named_by_its_row(tmp_path: Path) -> None:
    """Finding 4: a number at row 6001 (past the 64 KiB validate reads) failed the run with "column 'text' holds
    Json values, not text. The dataset has no text column."."""
    rows = [{"text": f"row number {i} says hello world"} for i in range(8000)]
    rows[6000] = {"text": 5}
    source = _jsonl(tmp_path / "mixed_late.jsonl", rows)
    assert source.stat().st_size > data.CHECK_BYTES and _problems(source, "text") == []
    with pytest.raises(DataError) as raised:
        data.check_text_column(data.load_split(_config(source).dataset), "text", str(source))
    assert str(raised.value) == (f"{source}: row 6001 holds a whole number (5) in column 'text', not text. Fix or "
                                 "remove that row.")


def _folder(tmp_path: Path, rows: int) -> Path:
    folder = tmp_path / "jdir"
    folder.mkdir()
    _jsonl(folder / "a.jsonl", [{"text": f"row number {i} says hello world"} for i in range(rows)])
    _jsonl(folder / "b.jsonl", [{"body": "x"}])
    return folder


def test_a_folder_file_without_the_text_column_is_named_by_the_run(tmp_path: Path) -> None:
    """Finding 4: the run said "Could not read <folder>: An error occurred while generating the dataset"."""
    folder = _folder(tmp_path, 4000)  # a.jsonl is past the bytes validate reads: only the run sees b.jsonl
    assert _problems(folder, "text") == []
    with pytest.raises(DataError) as raised:
        data.load_split(_config(folder).dataset)
    assert str(raised.value) == (f"{folder}: b.jsonl has no column 'text' (its columns: body). A run reads the files "
                                 "of a folder as one table, so each needs the same columns. To fix: give b.jsonl the "
                                 "columns of the others, or move it out of the folder.")


def test_the_check_names_the_file_of_a_folder_row(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 30)
    assert _problems(folder, "text") == [f"dataset.text_column: {folder}: row 31 (row 1 of b.jsonl) has no value in "
                                         "column 'text'. Fill or remove it."]


def test_the_preview_names_the_folder_file_it_cannot_read(tmp_path: Path) -> None:
    """The preview named the folder's first file whichever file failed."""
    folder = tmp_path / "pdir"
    folder.mkdir()
    _jsonl(folder / "a.jsonl", [{"text": "a"}])
    (folder / "b.jsonl").write_text('{"text": "b"}\n{"text": oops\n', encoding="utf-8")
    with pytest.raises(DataError) as raised:
        data.preview(_config(folder).dataset)
    assert str(raised.value) == f"Could not read {folder / 'b.jsonl'}: JSON parse error: Invalid value. in row 1"
