"""Tool-call rows, follow-ups of 6ab13fe (helper-160).

1. datasets stores the calls' arguments of every row as one Arrow struct type (Dataset.from_list, Parquet, Hub
   datasets), so a call to get_weather read back as {"city": "Oslo", "zone": null, "n": null}: the template wrote
   the other function's names as null and the model learned to emit them. They are left out of what trains (said
   once in the run log and by validate); a null written in JSON text arguments is the row's own and stays.
2. A tool's result given as a JSON object or list was refused as 'not text'; it is written as JSON text.
3. The tools column can be mapped in chat.columns ({tools: functions}), not only read by the name 'tools'."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.chat import (
    check_config,
    mapping_problems,
    prepare_dataset,
    render_and_label,
    resolve_format,
    run_format,
    unused_parts_note,
)
from finetune_studio.core.config import ChatConfig, DatasetConfig, default_config


def tool(name: str, **properties: str) -> dict:
    return {"type": "function", "function": {"name": name, "description": f"The {name}", "parameters": {
        "type": "object", "properties": {key: {"type": kind} for key, kind in properties.items()}}}}


def call(name: str, arguments: object) -> dict:
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def conversation(question: str, calls: list[dict], result: object, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": "", "tool_calls": calls},
            {"role": "tool", "content": result}, {"role": "assistant", "content": answer}]


WEATHER = conversation("Weather in Oslo?", [call("get_weather", {"city": "Oslo"})], "sunny", "Sunny.")
TIME = conversation("Time in Rome?", [call("get_time", {"zone": "CET", "n": 2})], "12:00", "Noon.")
TOOLS = [tool("get_weather", city="string"), tool("get_time", zone="string", n="integer")]


def qwen3_call(name: str, arguments: str) -> str:
    return (f'<think>\n\n</think>\n\n<tool_call>\n{{"name": "{name}", "arguments": {arguments}}}\n'
            '</tool_call><|im_end|>\n')


# What trains of each row with the qwen3 template: the call (its own arguments only) and the answer.
WEATHER_TRAINED = qwen3_call("get_weather", '{"city": "Oslo"}') + "<think>\n\n</think>\n\nSunny.<|im_end|>\n"
TIME_TRAINED = qwen3_call("get_time", '{"zone": "CET", "n": 2}') + "<think>\n\n</think>\n\nNoon.<|im_end|>\n"


@pytest.fixture()
def tokenizer(demo_cache):
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def trained(tokenizer, ids: list[int], labels: list[int]) -> str:
    return tokenizer.decode([t for t in labels if t != -100])


def prepared(tokenizer, ds) -> tuple[list[str], list[str]]:
    """What prepare_dataset trains of each row (qwen3), and what it said in the run log."""
    config = default_config()
    config.dataset.test_size, config.dataset.max_length, config.chat.template = 0, 2048, "qwen3"
    said: list[str] = []
    data = prepare_dataset(ds, tokenizer, config.chat, config.dataset, 42, notify=said.append)
    train = data.splits["train"]
    return [trained(tokenizer, row["input_ids"], row["labels"]) for row in train], said


NOTE = ("2 of the first 2 rows have tool calls whose arguments (or tools) hold nulls for names their function does "
        "not have (get_weather's arguments 'zone', 'n'): the dataset stores every row's objects as one Arrow struct "
        "type (as datasets does for a list of rows, Parquet and Hub datasets), which gives each the names of all the "
        "others, as null. Those nulls are left out of what the model learns, so it does not learn to write them. To "
        "keep a null an argument really has, write the call's arguments as JSON text (a string), which is read as "
        "written.")


def test_a_list_of_rows_trains_each_call_without_the_other_calls_names(tokenizer) -> None:
    import datasets

    ds = datasets.Dataset.from_list([{"messages": WEATHER}, {"messages": TIME}])
    assert ds[0]["messages"][1]["tool_calls"][0]["function"]["arguments"] == {"city": "Oslo", "zone": None, "n": None}
    rows, said = prepared(tokenizer, ds)
    assert rows == [WEATHER_TRAINED, TIME_TRAINED]
    assert said.count(NOTE) == 1


def test_a_parquet_file_read_by_the_app_trains_the_same_and_validate_says_it(tokenizer, tmp_path: Path) -> None:
    import datasets

    from finetune_studio.core import data
    from finetune_studio.core.chat import token_check

    path = tmp_path / "calls.parquet"
    datasets.Dataset.from_list([{"messages": WEATHER}, {"messages": TIME}]).to_parquet(str(path))
    ds = data.load_split(DatasetConfig(source=str(path)))
    assert run_format(ds, ChatConfig(), None).merged == frozenset({"messages"})
    rows, said = prepared(tokenizer, ds)
    assert rows == [WEATHER_TRAINED, TIME_TRAINED] and said.count(NOTE) == 1
    config = default_config()
    config.dataset.source, config.dataset.test_size, config.dataset.max_length = str(path), 0, 2048
    config.chat.template = "qwen3"
    check = token_check(config)
    assert check.errors == [] and check.warnings == [("dataset.source", NOTE)]


def test_the_inspector_shows_the_labels_a_run_trains(tokenizer, tmp_path: Path) -> None:
    import datasets

    from finetune_studio.core.inspector import Inspector

    config = default_config()
    config.chat.template, config.dataset.max_length = "qwen3", 2048
    ds = datasets.Dataset.from_list([{"messages": WEATHER}, {"messages": TIME}])
    inspector = Inspector(config, cache=tmp_path / "cache").load(tokenizer, ds)
    assert [trained(tokenizer, r.input_ids, r.labels) for r in (inspector.row(0), inspector.row(1))] == [
        WEATHER_TRAINED, TIME_TRAINED]


def test_json_lines_and_json_text_arguments_keep_the_nulls_they_hold(tokenizer, tmp_path: Path) -> None:
    """A null the row writes itself is its own: JSON lines keep each row's objects (datasets' Json type), and
    arguments written as JSON text are read as written, in a struct dataset too."""
    import datasets

    from finetune_studio.core import data

    own = conversation("Weather in Oslo?", [call("get_weather", '{"city": "Oslo", "units": null}')], "sunny",
                       "Sunny.")
    other = conversation("Time in Rome?", [call("get_time", '{"zone": "CET"}')], "12:00", "Noon.")
    rows, said = prepared(tokenizer, datasets.Dataset.from_list([{"messages": own}, {"messages": other}]))
    assert rows[0] == (qwen3_call("get_weather", '{"city": "Oslo", "units": null}')
                       + "<think>\n\n</think>\n\nSunny.<|im_end|>\n")
    assert not any("Arrow struct" in s for s in said)
    path = tmp_path / "calls.jsonl"
    written = conversation("Weather in Oslo?", [call("get_weather", {"city": "Oslo", "units": None})], "sunny",
                           "Sunny.")
    path.write_text(json.dumps({"messages": written}) + "\n" + json.dumps({"messages": TIME}) + "\n",
                    encoding="utf-8")
    rows, said = prepared(tokenizer, data.load_split(DatasetConfig(source=str(path))))
    assert rows == [qwen3_call("get_weather", '{"city": "Oslo", "units": null}')
                    + "<think>\n\n</think>\n\nSunny.<|im_end|>\n", TIME_TRAINED]
    assert not any("Arrow struct" in s for s in said)


def test_the_tools_say_which_nulls_are_the_functions_own(tokenizer) -> None:
    """With a tools column, a null the function's schema names stays (a row may set an optional parameter to null);
    one it does not name goes, in a struct dataset and in a row given as it is (the function has no such
    parameter). The tools column's own struct nulls (a description one tool lacks) go too."""
    import datasets

    weather = conversation("Weather in Oslo?", [call("get_weather", {"city": "Oslo", "units": "C"})], "sunny",
                           "Sunny.")
    bare = conversation("Weather in Rome?", [call("get_weather", {"city": "Rome"})], "rain", "Rain.")
    tools = [tool("get_weather", city="string", units="string"), tool("get_time", zone="string", n="integer")]
    lean = [{"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"zone": {"type": "string"}, "n": {"type": "integer"}}}}}]
    ds = datasets.Dataset.from_list([{"messages": weather, "tools": tools}, {"messages": TIME, "tools": lean},
                                     {"messages": bare, "tools": tools}])
    assert run_format(ds, ChatConfig(), None).merged == frozenset({"messages", "tools"})
    rows, said = prepared(tokenizer, ds)
    assert rows[1] == TIME_TRAINED  # get_weather's city and units are not get_time's parameters
    assert rows[2] == qwen3_call("get_weather", '{"city": "Rome", "units": null}') + (
        "<think>\n\n</think>\n\nRain.<|im_end|>\n")  # units is get_weather's own
    config = default_config()
    config.chat.template, config.dataset.max_length = "qwen3", 2048
    detection = run_format(ds, config.chat, None)
    text = render_and_label(tokenizer, ds[1], config.chat, 2048, detection=detection).text
    assert json.dumps(lean[0]) in text and '"description": null' not in text
    given = conversation("Weather in Oslo?", [call("get_weather", {"city": "Oslo", "zone": None})], "sunny", "Sunny.")
    roles = render_and_label(tokenizer, {"messages": given, "tools": TOOLS}, config.chat, 2048)
    assert trained(tokenizer, roles.input_ids, roles.labels) == WEATHER_TRAINED


# ---- 2. a tool's result given as JSON ------------------------------------------------------------------------

@pytest.mark.parametrize("result", [{"temp": 21, "sky": "sønnig"}, [{"day": "Mon", "temp": 21}, 22]])
def test_a_tool_result_given_as_json_is_written_as_json_text(tokenizer, result) -> None:
    row = {"messages": conversation("Weather in Oslo?", [call("get_weather", {"city": "Oslo"})], result, "Sunny."),
           "tools": TOOLS}
    roles = render_and_label(tokenizer, row, ChatConfig(template="qwen3"), 2048)
    assert roles.problems == []
    written = json.dumps(result, ensure_ascii=False)
    assert f"<|im_start|>user\n<tool_response>\n{written}\n</tool_response><|im_end|>\n" in roles.text
    assert trained(tokenizer, roles.input_ids, roles.labels) == WEATHER_TRAINED  # the result does not train


def test_other_turns_given_as_json_are_still_not_text(tokenizer) -> None:
    row = {"messages": [{"role": "user", "content": {"q": "Weather?"}}, {"role": "assistant", "content": "Sunny."}]}
    roles = render_and_label(tokenizer, row, ChatConfig(template="qwen3"), 2048)
    assert roles.input_ids == [] and roles.problems[0].startswith(
        "message 1 (user) of column 'messages' has a record (a JSON object) as its 'content', not text")
    image = [{"type": "image_url", "image_url": {"url": "x.png"}}]
    row = {"messages": conversation("Weather?", [call("get_weather", {"city": "Oslo"})], image, "Sunny.")}
    roles = render_and_label(tokenizer, row, ChatConfig(template="qwen3"), 2048)
    assert roles.problems[0].startswith("message 3 (tool) of column 'messages' has a part of type 'image_url'")


# ---- 3. the tools column mapped in chat.columns -----------------------------------------------------------------

def test_a_tools_column_of_another_name_is_mapped_in_chat_columns(tokenizer) -> None:
    row = {"messages": WEATHER, "functions": TOOLS}
    chat = ChatConfig(template="qwen3", columns={"tools": "functions"})
    assert check_config(chat) == []
    detection = resolve_format(chat, [row], list(row))
    assert (detection.format, detection.columns) == ("messages", {"messages": "messages", "tools": "functions"})
    roles = render_and_label(tokenizer, row, chat, 2048, detection=detection)
    assert roles.problems == [] and json.dumps(TOOLS[0]) in roles.text
    assert trained(tokenizer, roles.input_ids, roles.labels) == WEATHER_TRAINED
    # unmapped, 'functions' is not read: the template gets no tools
    assert json.dumps(TOOLS[0]) not in render_and_label(tokenizer, row, ChatConfig(template="qwen3"), 2048).text
    bad = {"messages": WEATHER, "functions": "[{'name': 'x'}]"}
    assert render_and_label(tokenizer, bad, chat, 2048).problems[0].startswith(
        "column 'functions' holds text that is not JSON")


def test_a_mapped_tools_column_is_checked_like_the_other_parts() -> None:
    row = {"messages": WEATHER, "functions": TOOLS}
    missing = resolve_format(ChatConfig(columns={"tools": "fns"}), [row], list(row))
    assert mapping_problems(missing, list(row)) == [
        "chat.columns maps 'tools' to 'fns', which is not a column of the data (columns: messages, functions). To "
        "fix: map it to the column that holds the rows' tool definitions, or remove 'tools' from chat.columns"]
    assert check_config(ChatConfig(columns={"tool": "functions"})) == [(
        "chat.columns", "chat.columns maps 'tool', which is not a part of any format (did you mean 'tools'?). Parts: "
        "messages, conversations, instruction, input, output, system, prompt, completion, text; and tools, the rows' "
        "tool definitions, for messages, sharegpt or prompt_completion rows. To fix: rename the key to one of them.")]
    assert check_config(ChatConfig(columns={"tools": 3})) == [(
        "chat.columns", "chat.columns maps 'tools' to 3, a number, not a column name. To fix: write the name "
        "of the one column that holds the tools, e.g. tools: functions.")]
    assert unused_parts_note(ChatConfig(format="alpaca", columns={"tools": "functions"}), "alpaca") == (
        "chat.columns maps 'tools' (the rows' tool definitions), but alpaca rows are not conversations, so the run "
        "does not use it. To fix: remove it from chat.columns, or set chat.format to messages, sharegpt or "
        "prompt_completion.")
    assert unused_parts_note(ChatConfig(columns={"tools": "functions"}), "messages") is None
    # mapping the tools alone does not decide the format: the rows do
    alpaca = {"instruction": "Add", "output": "2", "functions": TOOLS}
    assert resolve_format(ChatConfig(columns={"tools": "functions"}), [alpaca], list(alpaca)).format == "alpaca"
