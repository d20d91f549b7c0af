"""Every file format, every bad file named with its line/row/column, preview, detection, split and statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.config import DatasetConfig
from finetune_studio.core.data import (
    check_text_column,
    detect_text_column,
    load_split,
    preview,
    token_statistics,
    tokenize_and_split,
)
from finetune_studio.core.errors import DataError

ROWS = [{"id": i, "text": f"row number {i} " + "word " * (i % 7)} for i in range(30)]


def write(path: Path, fmt: str, rows=ROWS) -> Path:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif fmt == "json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    elif fmt == "csv":
        import csv

        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    elif fmt == "txt":
        path.write_text("".join(r["text"] + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet", "txt"])
def test_each_format_loads(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path / f"data.{fmt}", fmt)
    ds = load_split(DatasetConfig(source=str(path), text_column="text"))
    assert len(ds) == 30
    assert "text" in ds.column_names
    assert ds[3]["text"] == ROWS[3]["text"]


def test_folder_of_files(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    write(folder / "a.jsonl", "jsonl", ROWS[:10])
    write(folder / "b.jsonl", "jsonl", ROWS[10:])
    assert len(load_split(DatasetConfig(source=str(folder), text_column="text"))) == 30
    write(folder / "c.csv", "csv")
    with pytest.raises(DataError, match=r"mixes formats \(csv, json\)"):
        load_split(DatasetConfig(source=str(folder)))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(DataError) as info:
        load_split(DatasetConfig(source=str(path)))
    assert str(info.value) == f"{path} is empty. Pick a file with data in it."


def test_malformed_json_line_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "fine"}\n{"text": "broken}\n')
    with pytest.raises(DataError) as info:
        load_split(DatasetConfig(source=str(path), text_column="text"))
    assert str(info.value).startswith(f"{path}, line 3, column 10: malformed JSON line")


def test_json_array_error_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"text": "a"},\n  {"text": }\n]\n')
    with pytest.raises(DataError, match=r"bad.json, line 3, column 12: malformed JSON"):
        load_split(DatasetConfig(source=str(path), text_column="text"))


def test_non_utf8_bytes_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("text\nfine\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        load_split(DatasetConfig(source=str(path), text_column="text"))
    assert str(info.value) == (f"{path}, line 3, column 4: byte 0xe9 is not UTF-8 text. It looks like cp1252: set "
                               "the dataset's encoding to cp1252 (Encoding in the Dataset tab, or dataset.encoding "
                               "in the config), or save the file as UTF-8.")
    assert info.value.detected == "cp1252"  # for the window to offer, without reading the message
    ds = load_split(DatasetConfig(source=str(path), text_column="text", encoding=info.value.detected))
    assert ds["text"] == ["fine", "caf\xe9 au lait"]


def test_csv_row_with_wrong_field_count(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("id,text\n1,hello\n2,hello, world\n")
    with pytest.raises(DataError, match=r"ragged.csv, line 3: 3 fields where the header has 2 \(id, text\)"):
        load_split(DatasetConfig(source=str(path)))


def test_missing_and_non_text_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", "jsonl")
    ds = load_split(DatasetConfig(source=str(path)))
    with pytest.raises(DataError) as info:
        check_text_column(ds, "txt", str(path))
    assert str(info.value) == (f"{path}: there is no column 'txt'. Columns: id, text. Did you mean 'text'? To fix: "
                               "pick the column that holds the text (Text column in the Dataset tab, or "
                               "dataset.text_column).")
    with pytest.raises(DataError) as info:
        check_text_column(ds, "id", str(path))
    assert str(info.value) == f"{path}: column 'id' holds whole numbers, not text. Text columns: text."


def test_null_text_row_named(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", "jsonl", [{"text": "a"}, {"text": None}, {"text": "c"}])
    ds = load_split(DatasetConfig(source=str(path)))
    with pytest.raises(DataError, match="row 2 has no value in column 'text'"):
        check_text_column(ds, "text", str(path))


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Dataset not found"):
        load_split(DatasetConfig(source=str(tmp_path / "nothing.jsonl")))
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    with pytest.raises(DataError, match=r"unknown file type '.xlsx'"):
        load_split(DatasetConfig(source=str(odd)))


def test_preview_reads_first_rows_and_detects_text_column() -> None:
    result = preview(DatasetConfig(), limit=5)
    assert len(result.rows) == 5
    assert result.columns == ["sign", "date", "category", "horoscope"]
    assert result.text_column == "horoscope"


def test_detect_text_column_prefers_longest_string_column() -> None:
    rows = [{"n": 1, "title": "short", "body_text": "a much longer piece of text"}]
    assert detect_text_column(["n", "title", "body_text"], rows) == "body_text"
    assert detect_text_column(["n"], [{"n": 1}]) is None


def test_tokenize_split_and_statistics(demo_cache: Path) -> None:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    notes: list[str] = []
    tokenizer = load_tokenizer(ModelConfig(), notes.append)
    assert notes == ["The tokenizer has no pad token; using its eos token '<|endoftext|>' for padding."]
    config = DatasetConfig(max_length=32)
    ds = load_split(config)
    assert len(ds) == 2000
    splits = tokenize_and_split(ds, tokenizer, config, seed=42)
    assert (len(splits["train"]), len(splits["test"])) == (1800, 200)
    assert splits["train"].column_names == ["input_ids", "attention_mask"]
    assert max(len(ids) for ids in splits["train"]["input_ids"]) == 32
    stats = token_statistics(ds, tokenizer, "horoscope", max_length=32)
    assert stats.rows == 2000 and sum(stats.counts) == 2000
    lengths = [len(ids) for ids in tokenizer(list(ds["horoscope"]))["input_ids"]]
    assert stats.truncated == sum(length > 32 for length in lengths)
    assert stats.longest == max(lengths) and stats.longest > 10 * min(lengths)


def test_nothing_left_after_split(tmp_path: Path, demo_cache: Path) -> None:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    path = write(tmp_path / "one.jsonl", "jsonl", [{"text": "only one row"}])
    config = DatasetConfig(source=str(path), text_column="text")
    with pytest.raises(DataError, match="1 row is too few to hold out a test split"):
        tokenize_and_split(load_split(config), load_tokenizer(ModelConfig()), config, seed=1)


@pytest.mark.parametrize(("name", "content", "delimiter"), [
    ("semicolons.csv", "text;sign\nAries, a day;Aries\n\"Leo; quoted\";Leo\n", ";"),  # a spreadsheet export
    ("tabs.tsv", "text\tsign\nAries, a day\tAries\nLeo day\tLeo\n", "\t"),
    ("pipes.csv", "text|sign\nAries, a day|Aries\nLeo day|Leo\n", "|"),
])
def test_the_separator_is_found_in_the_header(tmp_path: Path, name: str, content: str, delimiter: str) -> None:
    """Spreadsheets in many languages export ';'-separated "CSV", and .tsv files use tabs: both were read as one
    column named 'text;sign', so no text column could be picked. The header row says which separator it is."""
    from finetune_studio.core.data import check_source
    from finetune_studio.core.validation import validate

    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    config = DatasetConfig(source=str(path), text_column="text")
    shown = preview(config)
    assert shown.columns == ["text", "sign"] and shown.delimiter == delimiter
    assert [row["text"] for row in shown.rows] == ["Aries, a day", "Leo; quoted" if delimiter == ";" else "Leo day"]
    notices: list[str] = []
    assert list(load_split(config, notices.append)["sign"]) == ["Aries", "Leo"]
    words = {";": "semicolons (;)", "\t": "tabs", "|": "pipes (|)"}[delimiter]
    assert notices == [f"{path}: fields separated by {words}, as the header row shows (dataset.delimiter sets "
                       "another)."]  # said in the run log
    assert check_source(config) == []
    config.text_column = "body"  # the bounded read behind validate() sees the same two columns
    assert "there is no column 'body'. Columns: text, sign." in check_source(config)[0].message
    from finetune_studio.core.config import default_config

    run = default_config()
    run.dataset = DatasetConfig(source=str(path), text_column="text")
    assert not [p for p in validate(run) if p.field.startswith("dataset")]


def test_a_comma_header_or_a_one_column_file_keeps_commas(tmp_path: Path) -> None:
    """Only a header that splits at ';', a tab or '|' (and not at a comma) changes the separator: a one-column
    file whose texts each hold a semicolon stays one column (csv.Sniffer would cut it at the semicolons)."""
    from finetune_studio.core.data import detect_delimiter

    one = tmp_path / "one.csv"
    one.write_text("text\nI came; I saw\nyes; no\nnine; ten\n", encoding="utf-8")
    shown = preview(DatasetConfig(source=str(one), text_column="text"))
    assert shown.columns == ["text"] and shown.delimiter == ","
    assert shown.rows[0]["text"] == "I came; I saw"
    assert detect_delimiter("a,b;c", ["1,2;3"]) == ","  # a comma in the header: commas
    assert detect_delimiter("a;b", ["1;2", "3;4", "5"]) == ";"
    assert detect_delimiter("a;b", ["x", "y", "z"]) == ","  # the rows disagree: not a separator
    from finetune_studio.core.data import file_delimiter

    assert file_delimiter(tmp_path) == ","  # unreadable (here a folder): no error here, the read that follows says it


def test_a_chosen_separator_wins_and_a_wrong_one_is_said(tmp_path: Path) -> None:
    from finetune_studio.core.config import default_config
    from finetune_studio.core.validation import validate

    path = tmp_path / "semi.csv"
    path.write_text("text;sign\nAries day;Aries\nLeo day;Leo\n", encoding="utf-8")
    config = DatasetConfig(source=str(path), text_column="text;sign", delimiter=",")
    assert preview(config).columns == ["text;sign"]  # the user's choice, even against the header
    notices: list[str] = []
    load_split(config, notices.append)
    assert notices == []  # chosen, not found: nothing to say
    run = default_config()
    run.dataset = DatasetConfig(source=str(path), text_column="text", delimiter="::")
    found = [p for p in validate(run) if p.field == "dataset.delimiter"]
    assert [p.message for p in found] == ["The separator must be one of ',', ';', a tab or '|', or empty to find it "
                                          "in the header row (got '::'). To fix: write one of them, or leave it "
                                          "empty."]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text;sign\nAries day;Aries\nLeo;day;Leo\nVirgo day;Virgo\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 3: 3 fields where the header has 2 \(text, sign\), reading fields "
                                        r"separated by semicolons \(;\)\. Quote values that contain the separator"):
        load_split(DatasetConfig(source=str(ragged), text_column="text"))
