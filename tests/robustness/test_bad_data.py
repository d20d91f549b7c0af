"""Bad data files: each fails with a DataError that names the file (and line, byte or column where there is one)
and says what to do, without changing the file or anything saved earlier; a few odd-but-valid files just work."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from finetune_studio.core import data
from finetune_studio.core.cli import main
from finetune_studio.core.config import DatasetConfig, ModelConfig
from finetune_studio.core.errors import DataError
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import run
from finetune_studio.core.validation import validate
from tests.helpers import read_events, small_config
from tests.robustness.faults import Snapshot


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


def prepare(source: Path, tokenizer: Any, **dataset: Any) -> Any:
    """What a run does with its dataset before the model loads: read, check the column, tokenize, split."""
    config = DatasetConfig(**{"source": str(source), "text_column": "text", "max_length": 64, **dataset})
    ds = data.load_split(config)
    data.check_text_column(ds, config.text_column, config.source)
    return data.tokenize_and_split(ds, tokenizer, config, seed=42)


def lines(*rows: Any) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def parquet(path: Path, columns: dict[str, list]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)


def folder(path: Path, files: dict[str, bytes]) -> None:
    path.mkdir()
    for name, content in files.items():
        (path / name).write_bytes(content)


GOOD = lines({"text": "Aries: a bold day."}, {"text": "Leo: rest."}, {"text": "Virgo: plan."})

# id, file name, how to make it (bytes, or a function of the path), dataset settings, the message (a substring;
# {path} is the file). Every one is a DataError from the steps a run takes before loading the model.
CASES: list[tuple[str, str, bytes | Callable[[Path], None], dict, str]] = [
    ("empty-jsonl", "empty.jsonl", b"", {}, "{path} is empty. Pick a file with data in it."),
    ("empty-csv", "empty.csv", b"", {}, "{path} is empty. Pick a file with data in it."),
    ("whitespace-only", "blank.jsonl", b"  \n\n\t \r\n", {}, "{path} holds only blank space. Pick a file with data"),
    ("whitespace-only-txt", "blank.txt", b"\n \n", {}, "{path} holds only blank space."),
    ("malformed-json-line", "bad.jsonl", GOOD + b'{"text": "Libra: \n',
     {}, "{path}, line 4, column 10: malformed JSON line (a string starts there and does not end on this line). "
         "Each line must be one JSON object. To fix: correct line 4 (a line break inside a value is written \\n) or "
         "remove it."),
    ("malformed-json-document", "bad.json", b'[\n  {"text": "a"},\n  {"text": "b"\n]\n',
     {}, "{path}, line 4, column 1: malformed JSON (a ',' was expected between values). The file must be one JSON "
         "value, e.g. a list of objects. To fix: correct line 4."),
    ("json-line-not-an-object", "list.jsonl", GOOD + b'["Libra", "Scorpio"]\n',
     {}, "{path}, line 4: expected a JSON object with named columns, got list."),
    ("non-utf8-jsonl", "latin1.jsonl", GOOD + '{"text": "Caf\u00e9 day"}\n'.encode("latin-1"),
     {}, "{path}, line 4, column 14: byte 0xe9 is not UTF-8 text. It looks like cp1252: set the dataset's "
         "encoding to cp1252"),
    ("non-utf8-csv", "latin1.csv", b"text,sign\nplain,Leo\n" + "\u00e9t\u00e9,Aries\n".encode("latin-1"),
     {}, "{path}, line 3, column 1: byte 0xe9 is not UTF-8 text."),
    ("non-utf8-json-document", "latin1.json", b'[{"text": "ok"},\n {"text": "\xff"}]',
     {}, "{path}, line 2, column 12: byte 0xff is not UTF-8 text."),
    ("numeric-text-column", "numbers.jsonl", lines({"text": 1}, {"text": 2}),
     {}, "{path}: column 'text' holds whole numbers, not text. The dataset has no text column."),
    ("numeric-column-chosen", "mixed.csv", b"score,body\n1,Aries day\n2,Leo day\n",
     {"text_column": "score"}, "{path}: column 'score' holds whole numbers, not text. Text columns: body."),
    ("wrong-column-name", "named.jsonl", lines({"horoscope": "Aries"}, {"horoscope": "Leo"}),
     {"text_column": "horoscop"}, "{path}: there is no column 'horoscop'. Columns: horoscope. Did you mean "
                                  "'horoscope'? To fix: pick the column that holds the text (Text column in the "
                                  "Dataset tab, or dataset.text_column)."),
    ("no-text-column", "other.jsonl", lines({"sign": "Aries", "day": 1}),
     {}, "{path}: there is no column 'text'. Columns: sign, day. To fix: pick the column that holds the text "
         "(Text column in the Dataset tab, or dataset.text_column)."),
    ("nothing-left-after-split", "one.jsonl", lines({"text": "Only one row"}),
     {"test_size": 0.1}, "{path}: 1 row is too few to hold out a test split. Add rows or set test_size to 0"),
    ("every-row-empty", "empty-rows.jsonl", lines({"text": ""}, {"text": ""}),
     {}, "{path}: every row of 'text' is empty after tokenizing."),
    ("csv-ragged-rows", "ragged.csv", b"text,sign\nAries day,Aries\nLeo, a day,Leo\n",
     {}, "{path}, line 3: 3 fields where the header has 2 (text, sign), reading fields separated by commas (,). "
         "Quote values that contain the separator, or set the one the file uses (Separator in the Dataset tab, or "
         "dataset.delimiter in the config)."),
    ("csv-empty-header", "noheader.csv", b",\nAries,1\n", {},
     "{path}, line 1: the CSV header row has no column names."),
    ("parquet-null-text", "nulls.parquet", lambda p: parquet(p, {"text": ["Aries day", None, "Leo day"]}),
     {}, "{path}: row 2 has no value in column 'text'. Fill or remove it."),
    ("jsonl-null-text", "nulls.jsonl", lines({"text": "Aries"}, {"text": "Leo"}, {"text": None}),
     {}, "{path}: row 3 has no value in column 'text'. Fill or remove it."),
    ("parquet-damaged", "broken.parquet", b"PAR1 this is not parquet at all",
     {}, "{path} is not a readable Parquet file:"),
    ("folder-mixed-formats", "mixed", lambda p: folder(p, {"a.jsonl": GOOD, "b.csv": b"text\nLeo\n"}),
     {}, "The folder {path} mixes formats (csv, json): csv: b.csv; json: a.jsonl. Every file of a folder is read as "
         "one table, in one format. To fix: keep one format per folder (move the others out), or pick a single file."),
    ("folder-unsupported-only", "office", lambda p: folder(p, {"a.xlsx": b"PK", "b.docx": b"PK"}),
     {}, "The folder {path} holds no data files (.csv, .json, .jsonl, .parquet, .tsv, .txt)."),
    ("unsupported-extension", "sheet.xlsx", b"PK\x03\x04", {}, "sheet.xlsx: unknown file type '.xlsx'. Use one of "
                                                            ".csv, .json, .jsonl, .parquet, .tsv, .txt."),
    ("missing-file", "nowhere.jsonl", None, {}, "Dataset not found: {path}. Check the path"),
]


@pytest.mark.parametrize("name, make, dataset, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_file_fails_with_a_message_naming_it(name: str, make: Any, dataset: dict, expected: str,
                                                 inputs: Path, earlier_run: Path, runs_dir: Path,
                                                 tokenizer: Any) -> None:
    path = inputs / name
    if callable(make):
        make(path)
    elif make is not None:
        path.write_bytes(make)
    (inputs / "keep.jsonl").write_bytes(GOOD)  # a neighbour that must stay as it is
    saved = Snapshot(inputs, runs_dir)
    with pytest.raises(DataError) as info:
        prepare(path, tokenizer, **dataset)
    assert expected.format(path=path) in str(info.value)
    assert "Traceback" not in str(info.value) and "pyarrow" not in str(info.value)
    saved.assert_unchanged()


PREVIEW_CASES = ["empty-jsonl", "malformed-json-line", "non-utf8-jsonl", "csv-ragged-rows", "folder-mixed-formats",
                 "unsupported-extension"]


@pytest.mark.parametrize("case", PREVIEW_CASES)
def test_preview_reports_the_same_problem(case: str, inputs: Path) -> None:
    """The dataset form's preview shows the same sentence before any run starts."""
    _, name, make, dataset, expected = next(c for c in CASES if c[0] == case)
    path = inputs / name
    make(path) if callable(make) else path.write_bytes(make)
    saved = Snapshot(inputs)
    with pytest.raises(DataError) as info:
        data.preview(DatasetConfig(source=str(path), **{k: v for k, v in dataset.items() if k != "test_size"}))
    assert expected.format(path=path) in str(info.value)
    saved.assert_unchanged()


def test_missing_file_is_a_validation_problem(inputs: Path, runs_dir: Path) -> None:
    config = small_config(inputs / "gone.jsonl", runs_dir)
    assert [str(p) for p in validate(config)] == [f"dataset.source: Dataset not found: {inputs / 'gone.jsonl'}. To "
                                                  "fix: correct the path, or choose a Hub id or the built-in sample."]


@pytest.mark.parametrize("name, content, rows", [
    ("bom-crlf.txt", b"\xef\xbb\xbfAries: a bold day.\r\nLeo: rest.\r\n\r\nVirgo: plan.\r\n",
     ["Aries: a bold day.", "Leo: rest.", "", "Virgo: plan."]),
    ("bom-crlf.jsonl", b'\xef\xbb\xbf{"text": "Aries: a bold day."}\r\n{"text": "Leo: rest."}\r\n',
     ["Aries: a bold day.", "Leo: rest."]),
    ("bom.json", b'\xef\xbb\xbf[{"text": "Aries: a bold day."}, {"text": "Leo: rest."}]',
     ["Aries: a bold day.", "Leo: rest."]),
    ("bom-crlf.csv", b"\xef\xbb\xbftext,sign\r\nAries: a bold day.,Aries\r\nLeo: rest.,Leo\r\n",
     ["Aries: a bold day.", "Leo: rest."]),
], ids=["txt", "jsonl", "json", "csv"])
def test_byte_order_mark_and_crlf_are_read_as_plain_text(name: str, content: bytes, rows: list[str], inputs: Path,
                                                        tokenizer: Any) -> None:
    path = inputs / name
    path.write_bytes(content)
    saved = Snapshot(inputs)
    ds = data.load_split(DatasetConfig(source=str(path), text_column="text"))
    assert ds["text"] == rows  # no "\ufeff" glued to the first row, no "\r" at line ends
    assert data.preview(DatasetConfig(source=str(path))).rows[0]["text"] == rows[0]
    assert len(prepare(path, tokenizer, test_size=0)["train"]) == len([r for r in rows if r])
    saved.assert_unchanged()


def test_a_5mb_row_is_truncated_to_max_length_quickly(inputs: Path, tokenizer: Any) -> None:
    words = "Aries will find the stars aligned for a bold new venture today. "
    huge = (words * (5_000_000 // len(words) + 1))[:5_000_000]
    path = inputs / "huge.jsonl"
    path.write_bytes(lines({"text": "Leo: rest."}, {"text": huge}, {"text": "Virgo: plan."}))
    saved = Snapshot(inputs)
    started = time.monotonic()
    split = prepare(path, tokenizer, test_size=0, max_length=64)
    elapsed = time.monotonic() - started
    ids = split["train"]["input_ids"]
    assert sorted(len(row) for row in ids)[-1] == 64
    expected = tokenizer(huge[:20_000], truncation=True, max_length=64)["input_ids"]
    assert expected in ids  # the same tokens as tokenizing the whole row, then truncating
    assert elapsed < 8, f"a 5 MB row took {elapsed:.1f} s to prepare"  # tokenizing all of it took ~9 s on 2 cores
    saved.assert_unchanged()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_unreadable_file_says_so(inputs: Path, tokenizer: Any) -> None:
    path = inputs / "secret.jsonl"
    path.write_bytes(GOOD)
    path.chmod(0)
    try:
        with pytest.raises(DataError, match=r"Cannot read .*secret\.jsonl: Permission denied"):
            prepare(path, tokenizer)
    finally:
        path.chmod(0o644)
    assert path.read_bytes() == GOOD


def test_file_that_disappears_between_validate_and_train(demo_cache: Path, inputs: Path, runs_dir: Path,
                                                         earlier_run: Path) -> None:
    path = inputs / "fleeting.jsonl"
    path.write_bytes(GOOD * 10)
    config = small_config(path, runs_dir)
    config.name = "fleeting"
    config.dataset.text_column = "text"
    assert validate(config) == []
    saved = Snapshot(earlier_run)

    def sink(event: dict) -> None:
        if event["event"] == "phase" and event["phase"] == "tokenizer":
            path.unlink()  # gone after the check, before the run reads it

    with pytest.raises(DataError) as info:
        run(config, sink)
    expected = f"Dataset not found: {path}. Check the path, or pick a file with Open file/folder."
    assert str(info.value) == expected
    folder = RunFolder(runs_dir / "fleeting")
    assert (folder.read_status()["state"], folder.read_status()["message"]) == ("failed", expected)
    assert read_events(folder.path, "end")[-1]["message"] == expected
    saved.assert_unchanged()


def test_cli_names_the_bad_line_in_one_line_and_exits_2_before_a_run_folder(
        demo_cache: Path, inputs: Path, runs_dir: Path, earlier_run: Path, capsys: pytest.CaptureFixture) -> None:
    """validate() reads the start of the file: a bad line there is a config problem (exit 2), no run folder."""
    path = inputs / "bad.jsonl"
    path.write_bytes(GOOD + b'{"text": oops}\n')
    saved = Snapshot(inputs, earlier_run)
    code = main(["train", "--set", f"dataset.source={path}", "--set", "dataset.text_column=text", "--name", "bad",
                 "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"error: dataset.source: {path}, line 4, column 10: malformed JSON line (no value where one "
                       "was expected). Each line must be one JSON object. To fix: correct line 4 (text is written in "
                       "double quotes, and no comma follows the last value) or remove it.")
    assert not (runs_dir / "bad").exists()
    saved.assert_unchanged()


def test_cli_names_a_bad_line_past_the_checked_start_and_exits_1(demo_cache: Path, inputs: Path, runs_dir: Path,
                                                                 earlier_run: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    """Past what validate() reads (core.data.CHECK_BYTES) the run finds the bad line: exit 1, the same words."""
    path = inputs / "bad.jsonl"
    good = GOOD * (data.CHECK_BYTES // len(GOOD) + 10)
    path.write_bytes(good + b'{"text": oops}\n')
    line = good.count(b"\n") + 1
    saved = Snapshot(inputs, earlier_run)
    code = main(["train", "--set", f"dataset.source={path}", "--set", "dataset.text_column=text", "--name", "bad",
                 "--quiet"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"error: {path}, line {line}, column 10: malformed JSON line (no value where one was "
                       f"expected). Each line must be one JSON object. To fix: correct line {line} (text is written in "
                       "double quotes, and no comma follows the last value) or remove it.")
    assert RunFolder(runs_dir / "bad").read_status()["state"] == "failed"
    saved.assert_unchanged()


def test_a_good_run_still_works_after_the_bad_files(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=2, eval_strategy="no", load_best_model_at_end=False,
                          save_strategy="no")
    result = run(config)
    assert (result.state, result.step) == ("finished", 2)
    assert (result.model_dir / "model.safetensors").is_file()
