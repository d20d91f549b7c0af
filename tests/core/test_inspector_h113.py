"""core.inspector on odd data (helper-113): what the Inspector says where a run refuses the data says the same
thing a run (validate) says, names the rows with their values as written and what to do, and reads the data as a
run reads it (a text column spelled with a space at its end)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import RunConfig, default_config
from finetune_studio.core.inspector import Inspector, checks_summary
from finetune_studio.core.validation import validate


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


def jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def config_for(path: Path, **dataset: Any) -> RunConfig:
    config = default_config()
    config.dataset.source = str(path)
    config.dataset.max_length = 512
    for key, value in dataset.items():
        setattr(config.dataset, key, value)
    return config


def inspect(config: RunConfig, tokenizer: Any, tmp_path: Path) -> tuple[Inspector, Any]:
    ins = Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer)
    return ins, ins.check()


def said(config: RunConfig) -> list[str]:
    return [problem.message for problem in validate(config)]


CHAT_OK = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}


def test_a_text_column_the_data_lacks_is_said_once_in_validates_words(tokenizer: Any, tmp_path: Path) -> None:
    """The default text column ('horoscope') in data whose column is 'text': every row failed, and the Inspector
    said '4 rows could not be rendered (row 1: the text column 'horoscope' is missing). To fix: correct those rows
    in the data, or pick another chat template.' -- rows to correct and a chat template for plain text, where a run
    refuses the setting: validate's 'there is no column 'horoscope'. Columns: text.'"""
    path = jsonl(tmp_path / "data.jsonl", [{"text": "hello world"}, {"text": "more"}])
    config = config_for(path)
    ins, checks = inspect(config, tokenizer, tmp_path)
    assert said(config) == [f"{path}: there is no column 'horoscope'. Columns: text. To fix: pick the column that "
                            "holds the text (Text column in the Dataset tab, or dataset.text_column)."]
    problems = ins.problems(checks)
    assert [(p.kind, p.severity, p.fixes) for p in problems] == [("refused", "error", [])]
    assert problems[0].message == (
        f"{path}: there is no column 'horoscope'. Columns: text. To fix: pick the column that holds the text (Text "
        "column in the Dataset tab, or dataset.text_column).")


def test_rows_that_cannot_be_trained_are_named_with_their_values_and_the_fix(tokenizer: Any, tmp_path: Path) -> None:
    """A number, a null and a list where the text is: each row named with its value, that a run refuses them, and
    a fix for plain text (no chat template); a number-only column chosen as the text column is the setting's
    problem, said as validate says it, not as every row failing."""
    path = jsonl(tmp_path / "mixed.jsonl", [{"text": "hello world"}, {"text": 42}, {"text": None}, {"text": ["a"]},
                                            {"text": "fine"}])
    config = config_for(path, text_column="text")
    ins, checks = inspect(config, tokenizer, tmp_path)
    assert said(config)  # a run refuses this data too
    problems = checks.problems(ins.chat)
    assert [p.kind for p in problems] == ["failed"]
    assert problems[0].rows == [1, 2, 3]
    assert problems[0].message == (
        "3 of 5 rows cannot be trained (row 2: the text column 'text' is a whole number (42), not text; row 3: the "
        "text column 'text' has no value; row 4: the text column 'text' is a list, not text), and a run refuses the "
        "data while they are in it. To fix: fill in or remove those rows in the data, or pick another text column.")
    from finetune_studio.core.inspector import row_failure  # new: the words under such a row in the window

    assert row_failure(1, checks.failures[1], ins.format) == (
        "Row 2 cannot be trained: the text column 'text' is a whole number (42), not text, and a run refuses the "
        "data while it is in it. To fix: fill in or remove that row in the data, or pick another text column.")

    ids = tmp_path / "ids.csv"
    ids.write_text("id,text\n1,hello\n2,world\n", encoding="utf-8")
    config = config_for(ids, text_column="id")
    ins, checks = inspect(config, tokenizer, tmp_path)
    assert [(p.kind, p.message) for p in ins.problems(checks)] == [(
        "refused", f"{ids}: column 'id' holds whole numbers, not text. Text columns: text. To fix: pick the column "
                   "that holds the text (Text column in the Dataset tab, or dataset.text_column).")]
    assert said(config) == [f"{ids}: column 'id' holds whole numbers, not text. Text columns: text."]


def test_a_chat_row_that_cannot_be_trained_is_fixed_in_the_data_not_by_a_template(tokenizer: Any,
                                                                                 tmp_path: Path) -> None:
    """An unknown role: the run's own fix ('Fix or remove these rows, or map the columns in chat.columns'), not
    'pick another chat template', which changes nothing for it."""
    path = jsonl(tmp_path / "chat.jsonl", [CHAT_OK, {"messages": [{"role": "user", "content": "Hi"},
                                                                  {"role": "wizard", "content": "?"}]}])
    ins, checks = inspect(config_for(path), tokenizer, tmp_path)
    [problem] = checks.problems(ins.chat)
    assert problem.kind == "failed" and problem.rows == [1]
    assert problem.message == (
        "1 of 2 rows cannot be trained (row 2: message 2 of column 'messages' has the unknown role 'wizard'; known "
        "roles: assistant, bot, chatgpt, function, gpt, human, model, observation, prompter, system, tool, user), "
        "and a run refuses the data while it is in it. To fix: correct or remove that row in the data, or map the "
        "columns in chat.columns.")
    assert "chat.columns" in said(config_for(path))[0]
    # The row itself, as the data holds it (what the Inspector shows in place of tokens).
    from finetune_studio.core.inspector import row_as_written

    assert json.loads(row_as_written(ins.raw_row(1))) == {"messages": [{"role": "user", "content": "Hi"},
                                                                       {"role": "wizard", "content": "?"}]}


def test_one_row_and_a_test_split_is_refused_as_validate_refuses_it(tokenizer: Any, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "one.jsonl", [CHAT_OK])
    config = config_for(path)
    assert config.dataset.test_size == 0.1
    ins, checks = inspect(config, tokenizer, tmp_path)
    message = (f"{path} holds 1 row, too few to hold out a test split (that needs 2 or more). Add rows, or set "
               "test_size to 0 (and eval_strategy to 'no').")
    assert said(config) == [message]
    assert [(p.kind, p.message) for p in ins.problems(checks)] == [("refused", message)]
    assert checks_summary(checks).startswith("1 row · 5 trained tokens of 21;")
    config.dataset.test_size = 0.0  # the fix both say: nothing held out, nothing refused
    ins, checks = inspect(config, tokenizer, tmp_path)
    assert not [m for m in said(config) if "test split" in m] and ins.problems(checks) == []


def test_a_long_plain_text_row_is_said_to_be_cut_not_a_reply(tokenizer: Any, tmp_path: Path) -> None:
    """100,000 characters in one plain-text row: plain text has no replies, so not 'the model learns replies that
    stop mid-sentence'."""
    path = jsonl(tmp_path / "long.jsonl", [{"text": "x" * 100_000}, {"text": "short"}])
    ins, checks = inspect(config_for(path, text_column="text"), tokenizer, tmp_path)
    [problem] = checks.problems(ins.chat)
    assert problem.kind == "reply_cut" and problem.rows == [0]
    assert problem.message == ("1 row is longer than max_length (512 tokens): 99,488 tokens past it are cut off and "
                               "never trained. To fix: raise max_length, or split long rows in the data.")
    assert [f.overrides for f in problem.fixes] == [{"dataset.max_length": 100_032}]


def test_a_text_column_written_with_a_space_is_read_as_a_run_reads_it(tokenizer: Any, tmp_path: Path) -> None:
    """A spreadsheet's header 'text ' and the config's 'text': a run trains it (core.data.real_column, with a
    notice); the Inspector said every row 'cannot be rendered' ('the text column 'text' is missing')."""
    path = tmp_path / "space.csv"
    path.write_text("text \nhello\nworld\n", encoding="utf-8")
    config = config_for(path, text_column="text")
    ins, checks = inspect(config, tokenizer, tmp_path)
    assert said(config) == []
    assert checks.failed_rows() == [] and checks.problems(ins.chat) == []
    assert ins.text_column == "text " and checks.counts["trained"].tolist() == [3, 3]
    assert ins.column_note == ("The text column is 'text ' (with trailing whitespace) in the data; the config says "
                               "'text'. Using the name as the data spells it.")


def test_a_blank_plain_text_row_is_left_out_as_a_run_leaves_it_out(tokenizer: Any, tmp_path: Path) -> None:
    """An empty string gives no tokens: core.data.tokenize_and_split drops such a row (and says so in the log); the
    Inspector called it a row that 'cannot be trained' and that 'a run refuses', and counted it in Start's
    'rows would train nothing'."""
    from finetune_studio.core.data import load_split, tokenize_and_split

    path = jsonl(tmp_path / "blank.jsonl", [{"text": ""}, {"text": "hello world"}, {"text": "more"}])
    config = config_for(path, text_column="text", test_size=0.0)
    ins, checks = inspect(config, tokenizer, tmp_path)
    notices: list[str] = []
    trained = tokenize_and_split(load_split(config.dataset), tokenizer, config.dataset, 42, notices.append)
    assert len(trained["train"]) == 2 and len(notices) == 1  # the run: one row left out, two trained, no refusal
    assert checks.failed_rows() == [] and checks.blank_rows() == [0] and checks.untrained_count() == 0
    assert [(p.kind, p.severity, p.rows, p.message) for p in ins.problems(checks)] == [(
        "blank", "warning", [0], "1 row is blank (row 1): its text is empty, only spaces, or gives no tokens, so a "
                                 "run leaves it out and trains on the rest. To fix, if it should hold text: fill it "
                                 "in, or remove it from the data.")]
    assert ins.row_message(0, ins.raw_row(0), ins.row(0)) == (
        "Row 1 is blank: its text is empty, only spaces, or gives no tokens, so a run leaves it out (its log says how "
        "many). To fix, if it should hold text: fill it in, or remove it from the data.")
    assert checks_summary(checks) == "3 rows · 8 trained tokens of 8."  # "hello world" 5, "more" 3


def test_accents_split_over_byte_tokens_are_shown_as_written(tokenizer: Any, tmp_path: Path) -> None:
    """The demo tokenizer is byte-level: 'é' is two tokens, and each decoded on its own is U+FFFD, so the token
    view drew 'caf��' for text the data holds correctly (a Latin-1 file read as cp1252 too). The token that
    completes a character shows it; the ones before it keep their whole characters."""
    path = jsonl(tmp_path / "accents.jsonl", [{"text": "café 日本 🙂"}, {"text": "plain"}])
    ins, _ = inspect(config_for(path, text_column="text"), tokenizer, tmp_path)
    labeled = ins.row(0)
    pieces = ins.pieces(labeled)
    assert [text for text, _ in pieces] == ["c", "a", "f", "", "é", " ", "", "", "日", "", "", "本", " ", "", "", "",
                                            "🙂"]
    assert len(pieces) == len(labeled.input_ids) and {role for _, role in pieces} == {"trained"}
    assert "".join(text for text, _ in pieces) == labeled.text == "café 日本 🙂"
