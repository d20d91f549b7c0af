"""Chat rows as a hostile tester fed them (helper-64): chat.columns under format 'auto', prompt/completion data whose
first row lacks its completion, and the words a bad message is named in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.chat import ChatDataError, resolve_format, run_format, to_example
from finetune_studio.core.config import ChatConfig, default_config
from finetune_studio.core.validation import validate


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _problems(source: Path, text_column: str, **chat: object) -> list[str]:
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(source), text_column
    for key, value in chat.items():
        setattr(config.chat, key, value)
    return [f"{p.field}: {p.message}" for p in validate(config)]


TITLED = [{"title": f"T{i}", "body": f"body text number {i} is long enough"} for i in range(8)]


def test_auto_honours_the_parts_chat_columns_maps(tmp_path: Path) -> None:
    """Finding 1: {prompt: title, completion: body} with format auto read the rows as plain text of 'body'."""
    import datasets

    chat = ChatConfig(columns={"prompt": "title", "completion": "body"})
    found = resolve_format(chat, TITLED, ["title", "body"], "body")
    assert (found.format, found.columns) == ("prompt_completion", {"prompt": "title", "completion": "body"})
    assert found.reason == "chat.columns maps 'prompt', 'completion', parts of prompt/completion rows"
    ds = datasets.Dataset.from_list(TITLED)
    assert run_format(ds, chat, "body").format == "prompt_completion"  # what the run trains
    assert to_example(TITLED[0], found) == {"prompt": "T0", "completion": "body text number 0 is long enough"}
    # a mapping the data agrees with changes nothing
    pairs = [{"question": "q", "answer": "a", "extra": "x"}]
    same = resolve_format(ChatConfig(columns={"completion": "extra"}), pairs, ["question", "answer", "extra"])
    assert same.columns == {"prompt": "question", "completion": "extra"}


def test_auto_refuses_chat_columns_of_two_formats(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "tb.jsonl", TITLED)
    said = _problems(source, "body", columns={"prompt": "title", "instruction": "body"})
    assert said == [f"chat.columns: {source}: chat.columns maps parts of different formats (instruction of alpaca; "
                    "prompt of prompt/completion), so chat.format 'auto' cannot tell which to train. To fix: keep the "
                    "parts of one format in chat.columns, or set chat.format."]


def test_unknown_part_names_are_refused_with_the_valid_ones(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "tb.jsonl", TITLED)
    said = _problems(source, "body", columns={"promt": "title", "completion": "body"})
    assert said == ["chat.columns: chat.columns maps 'promt', which is not a part of any format (did you mean "
                    "'prompt'?). Parts: messages, conversations, instruction, input, output, system, prompt, "
                    "completion, text; and tools, the rows' tool definitions, for messages, sharegpt or "
                    "prompt_completion rows. To fix: rename the key to one of them."]
    assert _problems(source, "body", columns={"prompt": "title", "completion": "body"}) == []


PC_FIRST_MISSING = [{"prompt": "Q:"}] + [{"prompt": f"Q{i}:", "completion": f" A{i}"} for i in range(8)]


def test_prompt_completion_whose_first_row_lacks_its_completion(tmp_path: Path) -> None:
    """Finding 2: the first row alone decided 'plain text', and the run trained on the prompts."""
    import datasets

    found = resolve_format(ChatConfig(), PC_FIRST_MISSING, ["prompt", "completion"], "prompt")
    assert (found.format, found.columns) == ("prompt_completion", {"prompt": "prompt", "completion": "completion"})
    assert "mixed" not in found.reason
    ds = datasets.Dataset.from_list([{"completion": None, **PC_FIRST_MISSING[0]}] + PC_FIRST_MISSING[1:])
    assert run_format(ds, ChatConfig(), "prompt").format == "prompt_completion"
    source = _jsonl(tmp_path / "pc_missing.jsonl", PC_FIRST_MISSING)
    assert _problems(source, "prompt") == [
        f"dataset.source: {source}: row 1: column 'completion' (the completion to learn) has no value. Fix or "
        "remove these rows, or map the columns in chat.columns."]


def test_the_run_refuses_the_row_without_its_completion(demo_cache) -> None:
    import datasets

    from finetune_studio.core.chat import prepare_dataset
    from finetune_studio.core.errors import DataError
    from finetune_studio.core.model import load_tokenizer

    config = default_config()
    config.dataset.source, config.dataset.text_column = "pc.jsonl", "prompt"
    with pytest.raises(DataError) as raised:
        rows = [{"completion": None, **PC_FIRST_MISSING[0]}] + PC_FIRST_MISSING[1:]  # as a JSON lines file loads
        prepare_dataset(datasets.Dataset.from_list(rows), load_tokenizer(config.model), config.chat,
                        config.dataset, 42)
    assert str(raised.value) == ("pc.jsonl: 1 of 9 rows cannot be trained as prompt/completion: row 1: column "
                                 "'completion' (the completion to learn) has no value. Fix or remove those rows "
                                 "(nothing was trained).")


GOOD = '{"role": "user", "content": "Hi"}'


@pytest.mark.parametrize(("messages", "said"), [
    ([{"role": "user"}, {"role": "assistant", "content": "A"}],
     f"message 1 of column 'messages' has no 'content' (it has only 'role'); a message looks like {GOOD}"),
    ([{}, {"role": "assistant", "content": "A"}],
     f"message 1 of column 'messages' has no 'role' and no 'content' (it is empty); a message looks like {GOOD}"),
    # Text parts are joined now (tests/core/test_chat_tools_h152.py); a part of another kind is refused.
    ([{"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image", "url": "cat.png"}]},
      {"role": "assistant", "content": "A"}],
     "message 1 (user) of column 'messages' has a part of type 'image' in its 'content' (part 2 of 2); this app "
     "trains on text only. To fix: remove the image parts (or the rows that need them), keeping the text parts such "
     'as {"type": "text", "text": "Hi"}'),
    ([{"role": "user", "content": 5}, {"role": "assistant", "content": "A"}],
     f"message 1 (user) of column 'messages' has a whole number (5) as its 'content', not text; a message looks "
     f"like {GOOD}"),
    (["Hi", {"role": "assistant", "content": "A"}],
     f"message 1 of column 'messages' is text (\"Hi\"), not a message like {GOOD}"),
    (None, f"column 'messages' has no value; it needs a list of messages such as [{GOOD}, …]"),
    ([], "column 'messages' holds an empty list: the conversation has no messages"),
])
def test_bad_messages_are_named_in_plain_words(messages, said) -> None:
    """Finding 5: "has no 'role' and 'content' (it has role)", "list content", "holds NoneType"."""
    detection = resolve_format(ChatConfig(format="messages"), [], ["messages"])
    with pytest.raises(ChatDataError) as raised:
        to_example({"messages": messages}, detection)
    assert str(raised.value) == said
    assert "NoneType" not in said and "list content" not in said


def test_mixed_formats_name_the_format_the_columns_tell_not_the_first_rows(tmp_path: Path) -> None:
    """The format is told from the columns of every sampled row (a3b6969), not from the first rows, which the
    message still claimed ("The first rows are …", which could then name row 1 as the odd one)."""
    rows = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}]
    rows += [{"prompt": f"p{i}", "completion": f"c{i}"} for i in range(6)]
    source = _jsonl(tmp_path / "mixed.jsonl", rows)
    said = [p for p in _problems(source, "text") if p.startswith("chat.format:")]
    assert len(said) == 1 and "The first rows are" not in said[0], said
    assert said[0].startswith(f"chat.format: {source}: mixed formats. Its columns read as ")
    assert "read as messages (role/content) but row 2 is prompt/completion" in said[0]
    assert said[0].endswith("Keep one format per dataset, or set chat.format and chat.columns to the one to train.")
