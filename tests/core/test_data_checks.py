"""What validate() finds in the data before a run (issue 12, items 2-5): readability, encoding, emptiness and the
text column, in the words a run would use, from a bounded and cached read; column names kept exactly as the file
spells them; encodings detected and read; .txt files as one row per file, paragraph or line; and the rows a run
drops said with their counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import data
from finetune_studio.core.cli import main
from finetune_studio.core.config import DatasetConfig, ModelConfig, default_config, from_yaml, to_yaml
from finetune_studio.core.errors import DataError
from finetune_studio.core.validation import validate
from tests.helpers import read_events, small_config


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


def jsonl(*rows: Any) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


LATIN1_CSV = "sign,text\nAries,Une journ\u00e9e tr\u00e8s agr\u00e9able.\nLeo,\u00c7a va \u00eatre g\u00e9nial.\n"

# id, file name, bytes, text column, the field validate() marks
BAD = [
    ("empty-file", "empty.jsonl", b"", "text", "dataset.source"),
    ("header-only-csv", "header.csv", b"sign,text\n", "text", "dataset.source"),
    ("header-only-csv-crlf", "header2.csv", b"sign,text\r\n\r\n", "text", "dataset.source"),
    ("latin1-csv", "latin1.csv", LATIN1_CSV.encode("latin-1"), "text", "dataset.encoding"),
    ("malformed-jsonl", "bad.jsonl", jsonl({"text": "a"}) + b'{"text": nope}\n', "text", "dataset.source"),
    ("list-column", "lists.jsonl", jsonl({"tags": ["a", "b"], "body": "x"}, {"tags": ["c"], "body": "y"}), "tags",
     "dataset.text_column"),
    ("int-column", "ints.csv", b"score,body\n1,Aries day\n2,Leo day\n", "score", "dataset.text_column"),
    ("missing-column", "named.jsonl", jsonl({"horoscope": "Aries"}, {"horoscope": "Leo"}), "horoscop",
     "dataset.text_column"),
    ("empty-json-list", "empty.json", b"[]", "text", "dataset.source"),
    ("blank-only-txt", "blank.txt", b"\n  \n", "text", "dataset.source"),
]


def run_message(config: DatasetConfig, tokenizer: Any) -> str:
    """What a run says about this dataset: read, check the column, tokenize, split."""
    with pytest.raises(DataError) as info:
        ds = data.load_split(config)
        data.check_text_column(ds, config.text_column, config.source)
        data.tokenize_and_split(ds, tokenizer, config, seed=42)
    return str(info.value)


@pytest.mark.parametrize("name, content, column, field", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_validate_reports_what_the_run_would_in_its_words(name: str, content: bytes, column: str, field: str,
                                                          tmp_path: Path, tokenizer: Any) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    config = small_config(path, tmp_path / "runs")
    config.dataset.text_column = column
    problems = validate(config)
    assert [p.field for p in problems] == [field]
    assert problems[0].message == run_message(config.dataset, tokenizer)
    assert "Instruction" not in problems[0].message and "Traceback" not in problems[0].message


def test_the_messages_say_what_is_wrong(tmp_path: Path) -> None:
    def problem(name: str, content: bytes, column: str = "text", **dataset: Any) -> str:
        path = tmp_path / name
        path.write_bytes(content)
        config = small_config(path, tmp_path / "runs")
        config.dataset.text_column = column
        for key, value in dataset.items():
            setattr(config.dataset, key, value)
        return "\n".join(str(p) for p in validate(config)).replace(str(tmp_path) + "/", "")

    assert problem("header.csv", b"sign,text\n") == (
        "dataset.source: header.csv has a header row ('sign', 'text') and no rows of data. Add rows below the "
        "header, or pick another file.")
    assert problem("latin1.csv", LATIN1_CSV.encode("latin-1")) == (
        "dataset.encoding: latin1.csv, line 2, column 16: byte 0xe9 is not UTF-8 text. It looks like cp1252: set "
        "the dataset's encoding to cp1252 (Encoding in the Dataset tab, or dataset.encoding in the config), or "
        "save the file as UTF-8.")
    assert problem("latin1.csv", LATIN1_CSV.encode("latin-1"), encoding="cp1252") == ""
    assert problem("lists.jsonl", jsonl({"tags": ["a"], "body": "x"}), "tags") == (
        "dataset.text_column: lists.jsonl: column 'tags' holds lists, not text. Text columns: body.")
    assert problem("ints.csv", b"score,body\n1,a\n2,b\n", "score") == (
        "dataset.text_column: ints.csv: column 'score' holds whole numbers, not text. Text columns: body.")
    assert problem("bad.jsonl", b'{"text": "a"}\n{"text": nope}\n') == (
        "dataset.source: bad.jsonl, line 2, column 10: malformed JSON line (no value where one was expected). Each "
        "line must be one JSON object. To fix: correct line 2 (text is written in double quotes, and no comma follows "
        "the last value) or remove it.")
    assert problem("x.csv", b"a,b\n1,2\n", encoding="klingon") == (
        "dataset.encoding: Unknown encoding 'klingon'. To fix: use a name such as utf-8, cp1252, latin-1 or utf-16, "
        "or leave it empty for UTF-8.")
    assert problem("x.txt", b"a\n", sample_by="sentence") == (
        "dataset.sample_by: sample_by 'sentence' is not a way to cut text into rows. To fix: write one of document, "
        "paragraph, line, or leave it empty.")


@pytest.mark.parametrize("command", ["validate", "train"])
def test_cli_exits_2_with_the_message_and_makes_no_run_folder(command: str, tmp_path: Path,
                                                              runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes(b"sign,Horoscope Text \n")
    code = main([command, "--set", f"dataset.source={path}", "--set", "dataset.text_column=Horoscope Text ",
                 "--name", "header-only", *(["--quiet"] if command == "train" else [])])
    assert code == 2
    out = capsys.readouterr()
    lines = (out.out + out.err).strip().splitlines()
    assert lines[-1].endswith(f"dataset.source: {path} has a header row ('sign', 'Horoscope Text ') and no rows of "
                              "data. Add rows below the header, or pick another file.")
    assert not (runs_dir / "header-only").exists()


def test_the_check_reads_only_the_start_and_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jsonl"
    row = jsonl({"text": "Aries: a bold day. " * 5})
    path.write_bytes(row * (4 * data.CHECK_BYTES // len(row)) + b'{"text": broken\n')
    config = DatasetConfig(source=str(path), text_column="text")
    assert data.check_source(config) == []  # the broken last line lies past what validate reads
    reads: list[Path] = []
    real_head = data._head
    monkeypatch.setattr(data, "_head",
                        lambda c, f, files, *rest: reads.append(files[0]) or real_head(c, f, files, *rest))
    assert data.check_source(config) == [] and reads == []  # same file, size and time: remembered
    config.text_column = "txet"  # another column: checked against what was read, nothing read again
    assert [p.field for p in data.check_source(config)] == ["dataset.text_column"] and reads == []
    config.text_column = "text"
    path.write_bytes(b"")
    assert [p.message for p in data.check_source(config)] == [f"{path} is empty. Pick a file with data in it."]
    assert reads == [path]


def test_hub_ids_are_not_read_and_urls_get_their_own_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "_head", lambda *a: pytest.fail("a Hub id was read"))
    config = default_config()
    config.runs_dir = str(tmp_path / "runs")
    config.dataset.source = "someone/some_dataset"
    assert [p for p in validate(config) if p.field.startswith("dataset.")] == []
    url = "https://huggingface.co/datasets/karthiksagarn/astro_horoscope"
    config.dataset.source = url
    expected = f"'{url}' is a web address. For a Hugging Face Hub dataset enter its id: karthiksagarn/astro_horoscope."
    assert [(p.field, p.message) for p in validate(config)] == [("dataset.source", expected)]
    with pytest.raises(DataError) as info:
        data.load_split(config.dataset)
    assert str(info.value) == expected  # not "not in the local cache" / "cannot reach the Hub"
    config.dataset.source = "https://example.com/data/train.csv"
    assert [p.message for p in validate(config)] == [
        "'https://example.com/data/train.csv' is a web address; datasets are read from a local file or folder, or by "
        "Hub id (owner/name). Download the file and open it with Open file…."]


def test_header_only_file_says_so_when_a_run_reads_it(tmp_path: Path) -> None:
    for name, content in (("h.csv", b"sign,text\n"), ("h2.csv", b"\xef\xbb\xbfsign,text\r\n")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DataError) as info:
            data.load_split(DatasetConfig(source=str(path), text_column="text"))
        assert str(info.value) == (f"{path} has a header row ('sign', 'text') and no rows of data. Add rows below "
                                   "the header, or pick another file.")


# ---- item 3: column names as they are

def test_a_name_that_differs_by_surrounding_whitespace_is_accepted_and_the_real_one_used(tmp_path: Path,
                                                                                        tokenizer: Any) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"sign,Horoscope Text \nAries,A bold day.\nLeo,Rest today.\nVirgo,Plan.\n")
    config = small_config(path, tmp_path / "runs")
    config.dataset.text_column = "Horoscope Text"
    assert [p for p in validate(config) if p.field.startswith("dataset.")] == []
    notes: list[str] = []
    ds = data.load_split(config.dataset)
    assert data.check_text_column(ds, "Horoscope Text", str(path), notes.append) == "Horoscope Text "
    assert notes == ["The text column is 'Horoscope Text ' (with trailing whitespace) in the data; the config says "
                     "'Horoscope Text'. Using the name as the data spells it."]
    split = data.tokenize_and_split(ds, tokenizer, DatasetConfig(source=str(path), text_column="Horoscope Text",
                                                                 test_size=0), seed=42)
    assert split["train"]["input_ids"][0] == tokenizer("A bold day.")["input_ids"]
    assert data.check_text_column(ds, "Horoscope Text ", str(path), notes.append) == "Horoscope Text "
    assert len(notes) == 1  # the exact name: nothing to say


def test_the_exact_name_survives_yaml_and_a_near_miss_is_shown_visibly(tmp_path: Path) -> None:
    config = default_config()
    config.dataset.text_column = "Horoscope Text "
    assert from_yaml(to_yaml(config))[0].dataset.text_column == "Horoscope Text "
    path = tmp_path / "excel.csv"
    path.write_bytes(b"sign,Horoscope Text \nAries,A bold day.\n")
    config = small_config(path, tmp_path / "runs")
    config.dataset.text_column = "Horoscope"
    assert [str(p) for p in validate(config)] == [
        f"dataset.text_column: {path}: there is no column 'Horoscope'. Columns: sign, 'Horoscope Text ' (with "
        "trailing whitespace). Did you mean 'Horoscope Text ' (with trailing whitespace)? To fix: pick the column "
        "that holds the text (Text column in the Dataset tab, or dataset.text_column)."]


# ---- item 4: encodings and .txt rows

@pytest.mark.parametrize("encoding, text", [
    ("latin-1", "sign,text\nAries,Caf\u00e9 au lait.\n"),
    ("cp1252", "sign,text\nAries,\u201cQuoted\u201d \u2013 a caf\u00e9 day.\nLeo,Na\u00efve r\u00e9sum\u00e9.\n"),
])
def test_a_latin1_or_cp1252_file_is_detected_and_read_with_its_encoding(encoding: str, text: str,
                                                                         tmp_path: Path) -> None:
    for suffix in (".csv", ".jsonl", ".txt"):
        path = tmp_path / f"data{suffix}"
        if suffix == ".csv":
            content, column, expected = text, "text", [line.split(",", 1)[1] for line in text.splitlines()[1:]]
        elif suffix == ".jsonl":
            expected = [line.split(",", 1)[1] for line in text.splitlines()[1:]]
            content, column = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in expected), "text"
        else:
            expected = text.splitlines()
            content, column = text, "text"
        path.write_bytes(content.encode(encoding))
        # test_size 0: the latin-1 case holds one row, too few for a test split (a problem of its own)
        config = DatasetConfig(source=str(path), text_column=column, test_size=0)
        with pytest.raises(data.EncodingProblem) as info:
            data.load_split(config)
        assert info.value.detected == "cp1252"
        config.encoding = info.value.detected
        assert data.check_source(config) == []
        assert data.load_split(config)["text"] == expected
        assert data.preview(config).rows[0]["text"] == expected[0]


def test_encoding_and_sample_by_are_stored_in_the_config() -> None:
    config = default_config()
    assert (config.dataset.encoding, config.dataset.sample_by) == (None, None)  # the seed recipe is unchanged
    config.dataset.encoding, config.dataset.sample_by = "cp1252", "paragraph"
    text = to_yaml(config)
    assert "encoding: cp1252" in text and "sample_by: paragraph" in text
    loaded = from_yaml(text)[0]
    assert (loaded.dataset.encoding, loaded.dataset.sample_by) == ("cp1252", "paragraph")


def test_a_folder_of_notes_is_one_row_per_file_by_default(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(5):
        (notes / f"note{i}.txt").write_text(f"Note {i}\nsecond line\n\nanother paragraph\n", encoding="utf-8")
    config = DatasetConfig(source=str(notes), text_column="text")
    assert data.effective_sample_by(config) == "document"
    ds = data.load_split(config)
    assert len(ds) == 5 and ds["text"][0] == "Note 0\nsecond line\n\nanother paragraph\n"
    shown = data.preview(config)
    assert (len(shown.rows), shown.sample_by, shown.format) == (5, "document", "text")
    config.sample_by = "paragraph"
    assert len(data.load_split(config)) == 10 and data.preview(config).sample_by == "paragraph"
    config.sample_by = "line"
    assert len(data.load_split(config)) == 20
    single = DatasetConfig(source=str(notes / "note0.txt"), text_column="text")
    assert data.effective_sample_by(single) == "line" and len(data.load_split(single)) == 4


# ---- the rows a run drops, said with counts

def test_dropped_empty_rows_are_counted(tmp_path: Path, tokenizer: Any) -> None:
    path = tmp_path / "gaps.jsonl"
    # Empty rows and rows of spaces only (which give tokens): both blank, both dropped.
    rows = [{"text": ("" if i % 40 == 7 else "  \t ") if i % 20 == 7 else f"Row {i}: a day."} for i in range(200)]
    path.write_bytes(jsonl(*rows))
    notes: list[str] = []
    split = data.tokenize_and_split(data.load_split(DatasetConfig(source=str(path), text_column="text")), tokenizer,
                                    DatasetConfig(source=str(path), text_column="text"), 42, notes.append)
    assert len(split["train"]) + len(split["test"]) == 190
    assert notes == ["Dropped 10 of 200 rows whose 'text' is blank (empty, only spaces or no tokens); 190 rows "
                     "remain. The tutorial's "
                     "script keeps such rows as all-padding rows, so its test split and batches differ and its "
                     "per-step losses can differ from this run's by several percent."]


@pytest.mark.slow
def test_a_run_logs_the_real_column_and_the_dropped_rows(demo_cache: Path, tmp_path: Path, runs_dir: Path) -> None:
    from finetune_studio.core.training import run

    path = tmp_path / "export.jsonl"  # a CSV's empty cell is a missing value (refused), so JSON lines here
    path.write_bytes(jsonl(*({"sign": "Leo", "Horoscope Text ": f"Day {i}: rest, then plan." if i % 20 else ""}
                             for i in range(200))))
    config = small_config(path, runs_dir, max_steps=2, eval_strategy="no", load_best_model_at_end=False,
                          save_strategy="no")
    config.dataset.text_column = "Horoscope Text"
    config.name = "excel"
    events: list[dict] = []
    result = run(config, events.append)
    assert result.state == "finished"
    notices = [e["message"] for e in read_events(runs_dir / "excel", "notice")]
    assert ("The text column is 'Horoscope Text ' (with trailing whitespace) in the data; the config says "
            "'Horoscope Text'. Using the name as the data spells it.") in notices
    assert any(n.startswith("Dropped 10 of 200 rows whose 'Horoscope Text ' is blank") for n in notices)
    assert [e["message"] for e in events if e["event"] == "notice"] == notices  # the window and CLI hear it too


def test_utf16_is_detected_and_a_json_document_in_another_encoding_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "excel-unicode.csv"  # what Excel's "Unicode text" export writes
    path.write_bytes("sign,text\nLeo,caf\u00e9 au lait\n".encode("utf-16"))
    config = DatasetConfig(source=str(path), text_column="text", test_size=0)  # one row: no test split
    assert [p.field for p in data.check_source(config)] == ["dataset.encoding"]
    with pytest.raises(data.EncodingProblem) as info:
        data.load_split(config)
    assert info.value.detected == "utf-16" and "It looks like utf-16" in str(info.value)
    config.encoding = "utf-16"
    assert data.check_source(config) == [] and data.load_split(config)["text"] == ["caf\u00e9 au lait"]

    document = tmp_path / "rows.json"
    document.write_bytes('[{"text": "caf\u00e9"}]'.encode("cp1252"))
    config = DatasetConfig(source=str(document), text_column="text", encoding="cp1252")
    expected = (f"{document} is one JSON document, and those are read as UTF-8 only (the encoding is set to cp1252). "
                "Save it as UTF-8, or as JSON lines (one object per line), and clear the encoding.")
    assert [p.message for p in data.check_source(config)] == [expected]
    with pytest.raises(DataError, match="read as UTF-8 only"):
        data.load_split(config)


def test_a_latin1_byte_past_the_checked_start_is_found_by_the_run_with_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    plain = "sign,text\n" + "Leo,a plain day at home\n" * (2 * data.CHECK_BYTES // 24)
    late = "Aries,un caf\u00e9 cr\u00e8me et une journ\u00e9e d'\u00e9t\u00e9\n"
    path.write_bytes(plain.encode() + late.encode("cp1252"))
    config = DatasetConfig(source=str(path), text_column="text")
    assert data.check_source(config) == []  # past what validate reads
    with pytest.raises(data.EncodingProblem) as info:
        data.load_split(config)
    assert info.value.detected == "cp1252"
    assert str(info.value).startswith(f"{path}, line {plain.count(chr(10)) + 1}, column 13: byte 0xe9 is not UTF-8")
