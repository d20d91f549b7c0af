"""Problems `validate` passed that failed `train` right after it made the run folder (hostile test 13): each is now
found by validate (exit 2, the problem in words) and by train before it makes the folder (exit 2, no folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from finetune_studio.core.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample_horoscopes.jsonl"


def texts(count: int = 120) -> list[str]:
    return [json.loads(line)["horoscope"] for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:count]]


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    return path


def validate_then_train(config: Path, runs: Path, options: list[str], capsys: pytest.CaptureFixture,
                        name: str = "miss") -> tuple[list[str], list[str]]:
    """validate's problem lines and train's error lines; both must exit 2, and train must leave no run folder."""
    capsys.readouterr()
    assert main(["validate", str(config), *options]) == 2
    validated = [line.removeprefix("problem: ") for line in capsys.readouterr().out.splitlines()
                 if line.startswith("problem: ")]
    assert main(["train", str(config), "--name", name, *options, "--quiet"]) == 2
    trained = [line.removeprefix("error: ") for line in capsys.readouterr().err.splitlines()
               if line.startswith("error: ")]
    assert not runs.exists() or list(runs.iterdir()) == []
    return validated, trained


@pytest.mark.parametrize("option, expected", [
    ("training.seed=-1", "training.seed: seed must be a whole number from 0 to 4,294,967,295 (got -1). To fix: set "
                         "seed to a number in that range; the seed uses 42."),
    ("seed=4294967296", "training.seed: seed must be a whole number from 0 to 4,294,967,295 (got 4,294,967,296). To "
                        "fix: set seed to a number in that range; the seed uses 42."),
], ids=["minus-one", "2**32"])
def test_a_seed_numpy_refuses_is_refused_by_name(option: str, expected: str, runs_dir: Path, config_file: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    validated, trained = validate_then_train(config_file, runs_dir, ["--set", option], capsys)
    assert validated == trained == [expected]
    assert main(["validate", str(config_file), "--set", "seed=4294967295"]) == 0


def test_a_report_to_integration_that_is_not_installed_is_refused(runs_dir: Path, config_file: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture) -> None:
    import sys

    from transformers.integrations import integration_utils

    monkeypatch.setattr(integration_utils, "get_available_reporting_integrations", lambda: ["tensorboard"])
    validated, trained = validate_then_train(config_file, runs_dir, ["--set", "training.report_to=wandb"], capsys)
    assert validated == trained == [
        f"training.report_to: report_to 'wandb' needs the wandb package, which is not installed. To fix: "
        f"install it ({sys.executable} -m pip install wandb), or set report_to to none."]
    assert main(["validate", str(config_file), "--set", "report_to=none"]) == 0
    assert main(["validate", str(config_file), "--set", "report_to=[tensorboard]"]) == 0
    capsys.readouterr()
    assert main(["validate", str(config_file), "--set", "report_to=wandb,tensorboard"]) == 2  # one name, not two
    assert capsys.readouterr().out.splitlines() == [
        "problem: training.report_to: report_to 'wandb,tensorboard' is one text, not a list of integrations, so "
        "transformers looks for one integration by that whole name. To fix: write a list: report_to: [wandb, "
        "tensorboard]"]


@pytest.mark.parametrize("name, expected", [
    ("x" * 300, "name: The run name is 300 characters long (300 bytes); a folder name holds at most 255 bytes. To fix: "
                "choose a shorter name."),
    ("\u00e9" * 200, "name: The run name is 200 characters long (400 bytes); a folder name holds at most 255 bytes. "
                     "To fix: choose a shorter name."),
    ("two\nlines", "name: The run name 'two\\nlines' holds a line break; a run name is one line of printable "
                   "characters (it names the run's folder and its row in the runs list). To fix: remove it from the "
                   "name."),
    ("tab\there\x07", "name: The run name 'tab\\there\\x07' holds the control character U+0007, a tab; a run name is "
                      "one line of printable characters (it names the run's folder and its row in the runs list). To "
                      "fix: remove them from the name."),
    (".hidden", "name: The run name '.hidden' starts with a dot, which hides its folder: the runs list would never "
                "show it. To fix: choose a name that starts with a letter or digit."),
], ids=["300-bytes", "400-bytes", "newline", "tab-and-bell", "hidden"])
def test_a_run_name_that_cannot_name_a_folder_is_refused(name: str, expected: str, runs_dir: Path, config_file: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert main(["validate", str(config_file), "--name", name]) == 2
    assert [line.removeprefix("problem: ") for line in capsys.readouterr().out.splitlines()] == [expected]
    assert main(["train", str(config_file), "--name", name, "--quiet"]) == 2
    assert [line.removeprefix("error: ") for line in capsys.readouterr().err.splitlines()] == [expected]
    assert not runs_dir.exists() or list(runs_dir.iterdir()) == []
    assert main(["validate", str(config_file), "--name", "x" * 255]) == 0


def null_prompt(path: Path) -> Path:
    base = texts()
    return jsonl(path, [{"prompt": "Sign?", "completion": t} for t in base[:60]] + [{"prompt": None, "completion": "x"}]
                 + [{"prompt": "Sign?", "completion": t} for t in base[60:]])


def messages_as_json_text(path: Path) -> Path:
    chats = [[{"role": "user", "content": "Sign?"}, {"role": "assistant", "content": t}] for t in texts()]
    return jsonl(path, [{"messages": json.dumps(chat)} for chat in chats])


def empty_messages(path: Path) -> Path:
    return jsonl(path, [{"messages": []} for _ in range(120)])


# (file name, how to write it, the problem validate prints) for chat data under the seed's chat.format auto, with
# the seed's text column 'horoscope', which the data does not have.
CHAT_CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("null_prompt.jsonl", null_prompt,
     "dataset.source: {path}: row 61: column 'prompt' has no value. Fix or remove these rows, or map the columns in "
     "chat.columns."),
    ("messages_text.jsonl", messages_as_json_text,
     "dataset.source: {path}: " + "; ".join(f"row {n}: column 'messages' holds text, not a list of messages such as "
                                          '[{{"role": "user", "content": "Hi"}}, …] (a list written as JSON text: '
                                          "store the list itself)" for n in (1, 2, 3))
     + ". Fix or remove these rows, or map the columns in chat.columns."),
    ("empty_messages.jsonl", empty_messages,
     "dataset.source: {path}: row 1: column 'messages' holds an empty list: the conversation has no messages; row 2: "
     "column 'messages' holds an empty list: the conversation has no messages; row 3: column 'messages' holds an "
     "empty list: the conversation has no messages. Fix or remove these rows, or map the columns in "
     "chat.columns."),
]


@pytest.mark.parametrize("file_name, write, expected", CHAT_CASES, ids=[c[0] for c in CHAT_CASES])
def test_malformed_chat_rows_are_named_under_chat_format_auto(file_name: str, write: Callable[[Path], Path],
                                                             expected: str, tmp_path: Path, runs_dir: Path,
                                                             config_file: Path, capsys: pytest.CaptureFixture) -> None:
    """chat.format auto (the chat demo's default) says what a row lacks, as chat.format messages does, instead of
    "mixed formats … plain text" or "there is no column 'horoscope'"."""
    path = write(tmp_path / file_name)
    validated, trained = validate_then_train(config_file, runs_dir, ["--set", f"dataset.source={path}"], capsys)
    assert validated == trained == [expected.format(path=path)]


def test_a_plain_text_column_named_chat_is_still_read_as_text(tmp_path: Path, config_file: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    """Only a conversation-named column holding lists (or JSON text of a list) is taken for malformed chats."""
    path = jsonl(tmp_path / "plain.jsonl", [{"chat": "hello there"}, {"chat": "another"}])
    capsys.readouterr()
    assert main(["validate", str(config_file), "--set", f"dataset.source={path}"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        f"problem: dataset.text_column: {path}: there is no column 'horoscope'. Columns: chat. To fix: pick the "
        "column that holds the text (Text column in the Dataset tab, or dataset.text_column)."]


def parquet_nulls(path: Path) -> Path:
    import pandas as pd

    base = texts()
    pd.DataFrame({"text": base[:50] + [None] * 10 + base[50:]}).to_parquet(path)
    return path


def one_line(path: Path) -> Path:
    path.write_text("hello world")
    return path


def blank_csv(path: Path) -> Path:
    path.write_text("text\n" + "   \n" * 120)
    return path


def nested_json(path: Path) -> Path:
    path.write_text(json.dumps({"data": [{"text": t} for t in texts()]}))
    return path


def one_number(path: Path) -> Path:
    base = texts(115)
    return jsonl(path, [{"text": t} for t in base[:60]] + [{"text": 5}] + [{"text": t} for t in base[60:]])


# (file name, how to write it, the problem validate prints) for plain text read from the column 'text'.
TEXT_CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("nulls.parquet", parquet_nulls,
     "dataset.text_column: {path}: row 51 has no value in column 'text'. Fill or remove it."),
    ("one.txt", one_line,
     "dataset.test_size: {path} holds 1 row with text, too few to hold out a test split (that needs 2 or more). "
     "Add rows, or set test_size to 0 (and eval_strategy to 'no')."),
    ("blank.csv", blank_csv,
     "dataset.text_column: {path}: all 120 rows of column 'text' are blank (empty or only spaces), so there is no "
     "text to train on. Pick a file with text in it, or another text column."),
    ("nested.json", nested_json,
     'dataset.source: {path}: the rows appear to be nested under "data" ({{"data": [{{...}}, ...]}}), but rows are '
     "read from a JSON file whose top level is the list of rows, or from JSON Lines (one object per line). To fix: "
     "save the list itself as the file, or save its rows as JSON Lines (.jsonl), e.g. jq -c '.data[]' nested.json "
     "> nested.jsonl."),
    ("one_number.jsonl", one_number,
     "dataset.text_column: {path}: row 61 holds a whole number (5) in column 'text', not text. Fix or remove that "
     "row."),
]


@pytest.mark.parametrize("file_name, write, expected", TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_data_problems_are_found_before_the_run_folder(file_name: str, write: Callable[[Path], Path], expected: str,
                                                       tmp_path: Path, runs_dir: Path,
                                                       config_file: Path, capsys: pytest.CaptureFixture) -> None:
    path = write(tmp_path / file_name)
    options = ["--set", f"dataset.source={path}", "--set", "dataset.text_column=text"]
    validated, trained = validate_then_train(config_file, runs_dir, options, capsys)
    assert validated == trained == [expected.format(path=path)]


def test_a_null_past_the_rows_read_is_found_by_the_parquet_statistics(tmp_path: Path) -> None:
    """The check reads about CHECK_BYTES of rows; a null far past them is still named, by its row, from the row
    groups' null counts (metadata) and one small column chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from finetune_studio.core import data
    from finetune_studio.core.config import DatasetConfig

    base = texts()
    values: list[str | None] = [base[i % len(base)] for i in range(60_000)]
    values[45_678] = None
    values[50_000] = None
    path = tmp_path / "late_null.parquet"
    pq.write_table(pa.table({"text": values}), path, row_group_size=10_000)
    problems = data.check_source(DatasetConfig(source=str(path), text_column="text"))
    assert [f"{p.field}: {p.message}" for p in problems] == [
        f"dataset.text_column: {path}: row 45679 has no value in column 'text'. Fill or remove it."]
    columns, rows, _kinds, nulls, complete = data._parquet_head(path)
    assert len(rows) < 1_000 and not complete  # a bounded read
    assert nulls == {"text": (2, 45_678, 40_000, 50_000)}


def test_a_null_in_a_large_column_chunk_is_counted_without_its_row(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A column chunk too large to read quickly: the statistics still count the nulls, and say where they lie."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from finetune_studio.core import data
    from finetune_studio.core.config import DatasetConfig

    base = texts()
    values: list[str | None] = [base[i % len(base)] for i in range(30_000)]
    values[25_000] = None
    path = tmp_path / "large_chunk.parquet"
    pq.write_table(pa.table({"text": values}), path, row_group_size=10_000)
    monkeypatch.setattr(data, "NULL_CHUNK_BYTES", 0)
    problems = data.check_source(DatasetConfig(source=str(path), text_column="text"))
    assert [f"{p.field}: {p.message}" for p in problems] == [
        f"dataset.text_column: {path}: 1 row has no value in column 'text' (the first among rows 20,001 to 30,000). "
        "Fill or remove them."]


def test_a_test_split_the_rows_cannot_hold_is_refused_and_test_size_0_passes(
        tmp_path: Path, runs_dir: Path, config_file: Path, capsys: pytest.CaptureFixture) -> None:
    path = one_line(tmp_path / "one.txt")
    assert main(["validate", str(config_file), "--set", f"dataset.source={path}", "--set", "dataset.text_column=text",
                 "--set", "dataset.test_size=0", "--set", "eval_strategy=no", "--set", "save_strategy=no",
                 "--set", "load_best_model_at_end=false"]) == 0
    two = tmp_path / "two.txt"
    two.write_text("hello world\nsecond line\n")
    assert main(["validate", str(config_file), "--set", f"dataset.source={two}", "--set",
                 "dataset.text_column=text"]) == 0
    capsys.readouterr()
    assert main(["validate", str(config_file), "--set", f"dataset.source={two}", "--set", "dataset.text_column=text",
                 "--set", "dataset.test_size=0.9"]) == 2
    assert capsys.readouterr().out.splitlines()[0] == (
        f"problem: dataset.test_size: {two}: nothing is left for training after a 0.9 test split of its 2 rows "
        "with text. Add rows or lower test_size.")


def test_the_run_says_the_same_when_it_reads_these_files(tmp_path: Path) -> None:
    """A run that reads the whole file (past what validate reads) words a blank CSV and nested JSON rows the same
    way, instead of "has no rows" and "there is no column 'text'. Columns: data."."""
    from finetune_studio.core import data
    from finetune_studio.core.config import DatasetConfig
    from finetune_studio.core.errors import DataError

    blank = blank_csv(tmp_path / "blank.csv")
    with pytest.raises(DataError) as info:
        data.load_split(DatasetConfig(source=str(blank), text_column="text"))
    assert str(info.value) == (f"{blank} has no rows of data: every line below the header is blank (empty or only "
                               "spaces). Pick a file with text in it.")
    nested = nested_json(tmp_path / "nested.json")
    with pytest.raises(DataError) as info:
        data.load_split(DatasetConfig(source=str(nested), text_column="text"))
    assert "dataset.source: " + str(info.value) == TEXT_CASES[3][2].format(path=nested)


def test_parquet_chat_rows_are_checked(tmp_path: Path, runs_dir: Path, config_file: Path,
                                       capsys: pytest.CaptureFixture) -> None:
    """A Parquet file's rows are read now (only its metadata was), so chat rows get the chat checks as JSON lines
    do."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    chats = [[{"role": "user", "content": "Sign?"}, {"role": "assistant", "content": t}] for t in texts(40)]
    chats[7] = [{"role": "user", "content": "Sign?"}]
    path = tmp_path / "chats.parquet"
    pq.write_table(pa.table({"messages": chats}), path)
    validated, trained = validate_then_train(config_file, runs_dir, ["--set", f"dataset.source={path}"], capsys)
    assert validated == trained == [
        f"dataset.source: {path}: row 8: the conversation in 'messages' has no assistant turn, so there is nothing "
        "to learn from it. Fix or remove these rows, or map the columns in chat.columns."]


# ---------------------------------------------------------------------------------------------- a folder of Parquet


def parquet_folder(folder: Path, first_rows: int = 5_000, second: list[str | None] | None = None,
                   row_group_size: int | None = None) -> Path:
    """A folder of two Parquet files, read in name order: part-1 (`first_rows` distinct texts, more than the check
    reads) and part-2 (`second`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = texts()
    folder.mkdir()
    pq.write_table(pa.table({"text": [f"{i} {base[i % len(base)]}" for i in range(first_rows)]}),
                   folder / "part-1.parquet", row_group_size=row_group_size)
    pq.write_table(pa.table({"text": second}), folder / "part-2.parquet", row_group_size=row_group_size)
    return folder


def second_file(rows: int, nulls: list[int]) -> list[str | None]:
    base = texts()
    values: list[str | None] = [f"{i} {base[i % len(base)]}" for i in range(rows)]
    for index in nulls:
        values[index] = None
    return values


def test_a_null_in_a_later_parquet_file_of_a_folder_is_found_before_the_run(tmp_path: Path, runs_dir: Path,
                                                                            config_file: Path,
                                                                            capsys: pytest.CaptureFixture) -> None:
    """The check reads the first rows of part-1 only; part-2's statistics (metadata) count its nulls, and its one
    small column chunk names the first one's row: validate and train exit 2 naming the file and its row, where
    the run found it after loading (exit 1). The row number over the folder is the one the run says."""
    from finetune_studio.core import data
    from finetune_studio.core.config import DatasetConfig
    from finetune_studio.core.errors import DataError

    folder = parquet_folder(tmp_path / "parts", second=second_file(3_000, [2_500, 2_700]))
    options = ["--set", f"dataset.source={folder}", "--set", "dataset.text_column=text"]
    validated, trained = validate_then_train(config_file, runs_dir, options, capsys)
    assert validated == trained == [
        f"dataset.text_column: {folder}: row 7501 (row 2,501 of part-2.parquet) has no value in column 'text'. Fill "
        "or remove it."]
    with pytest.raises(DataError) as info:  # what the run says once it has read the folder: the same row
        data.check_text_column(data.load_split(DatasetConfig(source=str(folder), text_column="text")), "text",
                               str(folder))
    assert str(info.value) == (f"{folder}: row 7501 (row 2,501 of part-2.parquet) has no value in column 'text'. "
                               "Fill or remove it.")


def test_a_null_in_the_rows_read_of_a_later_file_names_that_file(tmp_path: Path) -> None:
    """part-1 is read whole and part-2's first rows too: a null among those is named by its file as well."""
    from finetune_studio.core import data
    from finetune_studio.core.config import DatasetConfig

    folder = parquet_folder(tmp_path / "parts", first_rows=20, second=second_file(50, [3]))
    problems = data.check_source(DatasetConfig(source=str(folder), text_column="text"))
    assert [p.message for p in problems] == [
        f"{folder}: row 24 (row 4 of part-2.parquet) has no value in column 'text'. Fill or remove it."]


def test_nulls_in_large_chunks_of_several_files_are_counted_by_file(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks too large to read: every file's statistics still count, and the message says where the first lie,
    in the folder and in their file, and how many files hold such rows."""
    import shutil

    from finetune_studio.core import data
    from finetune_studio.core.config import DatasetConfig

    folder = parquet_folder(tmp_path / "parts", second=second_file(3_000, [2_500, 2_700]), row_group_size=1_000)
    shutil.copy(folder / "part-2.parquet", folder / "part-3.parquet")
    monkeypatch.setattr(data, "NULL_CHUNK_BYTES", 0)
    problems = data.check_source(DatasetConfig(source=str(folder), text_column="text"))
    assert [p.message for p in problems] == [
        f"{folder}: 4 rows have no value in column 'text' (the first among rows 7,001 to 8,000: rows 2,001 to 3,000 "
        "of part-2.parquet; 2 files hold such rows). Fill or remove them."]


def test_the_later_files_of_a_folder_are_read_by_their_metadata_only(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Without nulls, the files past what the check reads give their statistics and nothing else: no rows, no
    column chunk."""
    import shutil

    import pyarrow.parquet as pq

    from finetune_studio.core import data
    from finetune_studio.core.config import DatasetConfig

    folder = parquet_folder(tmp_path / "parts", second=second_file(3_000, []))
    for number in range(3, 6):
        shutil.copy(folder / "part-2.parquet", folder / f"part-{number}.parquet")
    read: list[str] = []
    real_batches, real_group = pq.ParquetFile.iter_batches, pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "iter_batches",
                        lambda self, *a, **k: read.append("rows") or real_batches(self, *a, **k))
    monkeypatch.setattr(pq.ParquetFile, "read_row_group",
                        lambda self, *a, **k: read.append("chunk") or real_group(self, *a, **k))
    assert data.check_source(DatasetConfig(source=str(folder), text_column="text")) == []
    assert read == ["rows"]  # part-1's first rows; parts 2 to 5: metadata only
    columns, rows, _kinds, nulls, complete, parts = data._head(DatasetConfig(source=str(folder), text_column="text"),
                                                               "parquet", data.local_files(str(folder))[1])
    assert (nulls, complete) == ({}, False) and len(rows) < 5_000
    assert parts == [(0, "part-1.parquet"), (5_000, "part-2.parquet"), (8_000, "part-3.parquet"),
                     (11_000, "part-4.parquet"), (14_000, "part-5.parquet")]


# ---------------------------------------------------------------------------------------------- training.data_seed


@pytest.mark.parametrize("value, got", [(-1, "-1"), (2**32, "4,294,967,296"), (10**20, "100,000,000,000,000,000,000")],
                         ids=["minus-one", "2**32", "1e20"])
def test_a_data_seed_out_of_range_is_refused_by_name(value: int, got: str, tmp_path: Path) -> None:
    from finetune_studio.core.validation import validate
    from tests.helpers import small_config

    config = small_config(tmp_path / "d.jsonl", tmp_path / "runs", data_seed=value)
    problems = [(p.field, p.message) for p in validate(config, check_files=False)]
    assert problems == [("training.data_seed", f"data_seed must be a whole number from 0 to 4,294,967,295 (got "
                                               f"{got}). To fix: set data_seed to a number in that range, or leave "
                                               "it empty (null) to shuffle the data with seed.")]
    for fine in (None, 0, 2**32 - 1):
        config.training["data_seed"] = fine
        assert [p for p in validate(config, check_files=False) if p.field == "training.data_seed"] == []


@pytest.mark.parametrize("option, expected", [
    ("training.data_seed=-1", "training.data_seed: data_seed must be a whole number from 0 to 4,294,967,295 (got "
                              "-1). To fix: set data_seed to a number in that range, or leave it empty (null) to "
                              "shuffle the data with seed."),
    ("data_seed=4294967296", "training.data_seed: data_seed must be a whole number from 0 to 4,294,967,295 (got "
                             "4,294,967,296). To fix: set data_seed to a number in that range, or leave it empty "
                             "(null) to shuffle the data with seed."),
    ("data_seed=1.5", "training.data_seed: data_seed must be a whole number (got 1.5). To fix: write a whole number, "
                      "or remove data_seed to use the default."),
], ids=["minus-one", "2**32", "fraction"])
def test_a_data_seed_torch_refuses_is_refused_before_the_run(option: str, expected: str, runs_dir: Path,
                                                             config_file: Path, capsys: pytest.CaptureFixture) -> None:
    validated, trained = validate_then_train(config_file, runs_dir, ["--set", option], capsys)
    assert validated == trained == [expected]
    for fine in ("data_seed=4294967295", "data_seed=0", "data_seed=null"):
        assert main(["validate", str(config_file), "--set", fine]) == 0
