"""Chat rows with tool calls train (helper-152): every row with an assistant turn's tool_calls was refused ('calls a
tool (tool_calls); conversations with tool calls are not trained by this app yet'). Now a reply's calls (OpenAI's
form) and the row's tools column go to the chat template, as TRL's SFTTrainer passes them; the reply that calls a
tool trains (it is the model's output), the tool's result does not (as a user turn); a call or tools column of the
wrong shape is named with a To fix; a template that does not write tool calls or tools is refused by name. Content
written as text parts (multimodal exports) is joined; a part of another kind is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.chat import ChatDataError, prepare_dataset, render_and_label, resolve_format, to_example
from finetune_studio.core.config import ChatConfig, default_config

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
CALL = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}
RESULT = "sunny, 21 C"
ROW = {"messages": [{"role": "user", "content": "Weather in Oslo?"},
                    {"role": "assistant", "content": "", "tool_calls": [CALL]},
                    {"role": "tool", "name": "get_weather", "tool_call_id": "c1", "content": RESULT},
                    {"role": "assistant", "content": "Sunny: wear violet."}],
       "tools": TOOLS}
QWEN3_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'
# What a run trains on ROW with the qwen3 template: both replies, the call one included, each with its end of turn.
QWEN3_TRAINED = (f"<think>\n\n</think>\n\n{QWEN3_CALL}<|im_end|>\n"
                 "<think>\n\n</think>\n\nSunny: wear violet.<|im_end|>\n")
FIX = ("To fix: choose a model whose chat template writes tool calls, or set chat.template to one that does "
       "(chatml or qwen3)")


@pytest.fixture()
def tokenizer(demo_cache):
    """A fresh demo tokenizer (it has no chat template of its own, so 'auto' is ChatML)."""
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def trained(tokenizer, ids: list[int], labels: list[int]) -> str:
    assert all(label in (-100, token) for token, label in zip(ids, labels))
    return tokenizer.decode([t for t in labels if t != -100])


def as_text(row: dict) -> dict:
    """The row with its calls' arguments and its tools as JSON text: rows of a datasets.Dataset share one Arrow type,
    and Arrow cannot hold one row's arguments as an object and another's as text (nor objects of differing names
    without filling each with the other's as nulls); TRL reads its tools column so too."""
    row = json.loads(json.dumps(row))
    for turn in row["messages"]:
        for call in turn.get("tool_calls") or []:
            call["function"]["arguments"] = json.dumps(call["function"]["arguments"])
    return {**row, "tools": json.dumps(row["tools"])}


def with_turn(number: int, **changes: object) -> dict:
    """ROW with message `number` (1-based) changed; a value None removes the key."""
    row = json.loads(json.dumps(ROW))
    turn = row["messages"][number - 1]
    for key, value in changes.items():
        if value is None:
            turn.pop(key, None)
        else:
            turn[key] = value
    return row


def test_qwen3_trains_the_call_and_the_reply_not_the_tool_result(tokenizer) -> None:
    roles = render_and_label(tokenizer, ROW, ChatConfig(template="qwen3"), 1024)
    assert roles.problems == []
    assert trained(tokenizer, roles.input_ids, roles.labels) == QWEN3_TRAINED
    assert RESULT not in trained(tokenizer, roles.input_ids, roles.labels)
    # the template was given the tools (its system block lists them) and wrote the tool result, untrained
    assert roles.text.startswith("<|im_start|>system\n# Tools\n\nYou may call one or more functions")
    assert json.dumps(TOOLS[0]) in roles.text
    assert f"<|im_start|>user\n<tool_response>\n{RESULT}\n</tool_response><|im_end|>\n" in roles.text
    untrained = tokenizer.decode([t for t, label in zip(roles.input_ids, roles.labels) if label == -100])
    assert untrained.endswith(f"<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n"
                              f"<|im_start|>user\n<tool_response>\n{RESULT}\n</tool_response><|im_end|>\n"
                              "<|im_start|>assistant\n")


def test_arguments_and_tools_written_as_json_text_train_the_same(tokenizer) -> None:
    """Arrow gives rows of differing argument names one struct (absent names become null), so data keeps them as
    JSON text, as TRL reads its tools column; the text is read into the object the template writes."""
    row = with_turn(2, tool_calls=[{"type": "function", "function": {"name": "get_weather",
                                                                     "arguments": '{"city": "Oslo"}'}}])
    row["tools"] = json.dumps(TOOLS)
    roles = render_and_label(tokenizer, row, ChatConfig(template="qwen3"), 1024)
    expected = render_and_label(tokenizer, ROW, ChatConfig(template="qwen3"), 1024)
    assert roles.problems == [] and (roles.input_ids, roles.labels) == (expected.input_ids, expected.labels)


def test_the_flat_and_the_legacy_function_call_forms_are_read_as_openais() -> None:
    detection = resolve_format(ChatConfig(), [ROW], list(ROW))
    flat = to_example(with_turn(2, tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}]), detection)
    legacy = to_example(with_turn(2, tool_calls=None, content=None,
                                  function_call={"name": "get_weather", "arguments": '{"city": "Oslo"}'}), detection)
    assert flat["messages"][1] == legacy["messages"][1] == {"role": "assistant", "content": "", "tool_calls": [CALL]}
    assert flat["tools"] == TOOLS
    assert flat["messages"][2] == {"role": "tool", "content": RESULT, "name": "get_weather", "tool_call_id": "c1"}


def test_the_run_and_a_dataset_of_several_calls_train_the_same_tokens(tokenizer) -> None:
    import datasets

    other = {"messages": [{"role": "user", "content": "Time in Rome?"},
                          {"role": "assistant", "content": "Let me look.", "tool_calls": [
                              {"type": "function", "function": {"name": "get_time", "arguments": '{"zone": "CET"}'}},
                              {"type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
                          {"role": "tool", "content": "12:00"}, {"role": "tool", "content": "rain"},
                          {"role": "assistant", "content": "Noon, and rain."}],
             "tools": json.dumps(TOOLS + [{"type": "function", "function": {"name": "get_time", "parameters": {}}}])}
    config = default_config()
    config.dataset.source, config.dataset.test_size, config.chat.template = "tools.jsonl", 0, "qwen3"
    config.dataset.max_length = 2048  # the demo's small vocabulary spells the tools' system block in ~500 tokens
    rows = [as_text(ROW), other]
    data = prepare_dataset(datasets.Dataset.from_list(rows), tokenizer, config.chat, config.dataset, 42)
    first, second = data.splits["train"][0], data.splits["train"][1]
    assert trained(tokenizer, first["input_ids"], first["labels"]) == QWEN3_TRAINED
    assert trained(tokenizer, second["input_ids"], second["labels"]) == (
        '<think>\n\n</think>\n\nLet me look.\n<tool_call>\n{"name": "get_time", "arguments": {"zone": "CET"}}\n'
        '</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {}}\n</tool_call><|im_end|>\n'
        "<think>\n\n</think>\n\nNoon, and rain.<|im_end|>\n")
    text = tokenizer.decode(second["input_ids"])
    assert "<tool_response>\n12:00\n</tool_response>\n<tool_response>\nrain\n</tool_response>" in text


def test_a_conversational_prompt_completion_row_passes_its_tools_too(tokenizer) -> None:
    row = {"prompt": ROW["messages"][:1], "completion": ROW["messages"][1:2], "tools": TOOLS}
    roles = render_and_label(tokenizer, row, ChatConfig(template="qwen3"), 1024)
    assert roles.problems == [] and roles.train_on == "completion"
    assert roles.text.startswith("<|im_start|>system\n# Tools\n") and json.dumps(TOOLS[0]) in roles.text
    assert trained(tokenizer, roles.input_ids, roles.labels) == f"<think>\n\n</think>\n\n{QWEN3_CALL}<|im_end|>\n"


BAD = [
    (with_turn(2, tool_calls=[{"type": "function", "function": {"name": "get_weather", "arguments": "{city: Oslo}"}}]),
     "tool call 1 of message 2 (assistant) of column 'messages' (get_weather) has arguments that are not JSON "
     "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1)): text (\"{city: Oslo}\"). To fix: "
     'write them as a JSON object, such as {"city": "Oslo"}'),
    (with_turn(2, tool_calls=[{"type": "function", "function": {"arguments": {"city": "Oslo"}}}]),
     "tool call 1 of message 2 (assistant) of column 'messages' has no name, so the model would not learn which "
     "function it calls. To fix: give each call the name of its function, as in {\"type\": \"function\", "
     "\"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}}"),
    (with_turn(2, tool_calls=[{"type": "function", "function": {"name": "get_weather", "arguments": ["Oslo"]}}]),
     "tool call 1 of message 2 (assistant) of column 'messages' (get_weather) has a list as its arguments, not an "
     'object of named values. To fix: write them as an object, such as {"city": "Oslo"}'),
    (with_turn(2, tool_calls=CALL),
     "message 2 (assistant) of column 'messages' has a record (a JSON object) as its 'tool_calls', not a list of "
     "calls. To fix: "
     "write 'tool_calls' as a list such as [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
     "\"arguments\": {\"city\": \"Oslo\"}}}]"),
    (with_turn(1, tool_calls=[CALL]),
     "message 1 (user) of column 'messages' has 'tool_calls', but only the assistant's turns call tools. To fix: "
     "move the calls to the assistant turn that makes them, or remove 'tool_calls'"),
    (with_turn(2, tool_calls=None),
     "message 2 (assistant) of column 'messages' is empty (its 'content' is blank)"),
    ({**ROW, "tools": "[{'name': 'get_weather'}]"},
     "column 'tools' holds text that is not JSON (Expecting property name enclosed in double quotes: line 1 column 3 "
     "(char 2)). To fix: write the tools as a list of function schemas such as [{\"type\": \"function\", "
     "\"function\": {\"name\": \"get_weather\", \"description\": \"…\", \"parameters\": {\"type\": \"object\", "
     "\"properties\": {\"city\": {\"type\": \"string\"}}}}}], or as JSON text of one"),
    ({**ROW, "tools": [{"type": "function", "function": {"description": "no name"}}]},
     "tool 1 of column 'tools' has no function name, so the model could not call it. To fix: write each tool as "),
]


@pytest.mark.parametrize(("row", "said"), BAD)
def test_a_call_or_tools_of_the_wrong_shape_is_named_with_a_fix(tokenizer, row, said) -> None:
    roles = render_and_label(tokenizer, row, ChatConfig(template="qwen3"), 1024)
    assert roles.input_ids == [] and roles.problems[0].startswith(said), roles.problems


@pytest.mark.parametrize("template", ["llama3", "phi3"])
def test_a_template_that_does_not_write_tool_calls_is_refused(tokenizer, template) -> None:
    """llama3's and phi3's training templates drop the calls: the reply that calls the tool would train as an empty
    reply. ('auto' on the demo model, ChatML, writes them since 1b53c5d: the test below.)"""
    roles = render_and_label(tokenizer, ROW, ChatConfig(template=template), 1024)
    assert roles.input_ids == [] and roles.problems == [
        f"the {template} chat template leaves out the tool call of message 2 (assistant) of this row ('get_weather'): "
        "the template does not write tool calls, so the model would learn an empty reply where it should call the "
        f"tool. {FIX}, or remove those rows"]


# What the built-in ChatML writes for ROW's tools (as Qwen2.5's template, Hermes-style), alone in a system turn.
CHATML_TOOLS = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function "
    "signatures within <tools></tools> XML tags:\n<tools>\n" + json.dumps(TOOLS[0]) + "\n</tools>\n\nFor each "
    "function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
    '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>')
CHATML_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'


@pytest.mark.parametrize("template", ["auto", "chatml"])
def test_chatml_writes_the_calls_and_trains_them(tokenizer, template) -> None:
    """'auto' on the demo model is ChatML, which refused this row until 1b53c5d. It now writes the tools in a system
    turn, the call in the reply and the result as a user turn of <tool_response>: the call and the last reply train
    (each with its end of turn), the tools block and the result do not."""
    roles = render_and_label(tokenizer, ROW, ChatConfig(template=template), 1024)
    assert roles.problems == []
    assert roles.text == (
        f"<|im_start|>system\n{CHATML_TOOLS}<|im_end|>\n<|im_start|>user\nWeather in Oslo?<|im_end|>\n"
        f"<|im_start|>assistant\n{CHATML_CALL}<|im_end|>\n"
        f"<|im_start|>user\n<tool_response>\n{RESULT}\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\nSunny: wear violet.<|im_end|>\n")
    assert trained(tokenizer, roles.input_ids, roles.labels) == (
        f"{CHATML_CALL}<|im_end|>\nSunny: wear violet.<|im_end|>\n")
    assert set(roles.roles) == {"system", "prompt", "special", "trained"}
    system = tokenizer.decode([t for t, role in zip(roles.input_ids, roles.roles) if role == "system"])
    assert system == f"system\n{CHATML_TOOLS}\n"


# ChatML that writes a reply's tool calls but never reads `tools`.
CALLS_ONLY = ("{%- for m in messages %}<|im_start|>{{ m['role'] }}\n{%- if m['role'] == 'assistant' %}"
              "{% generation %}{{ m['content'] }}{% for c in m['tool_calls'] or [] %}<tool_call>"
              "{{ c['function'] | tojson }}</tool_call>{% endfor %}<|im_end|>\n{% endgeneration %}"
              "{%- else %}{{ m['content'] }}<|im_end|>\n{%- endif %}{%- endfor %}")


def test_a_template_that_does_not_write_the_tools_is_refused(tokenizer) -> None:
    from finetune_studio.core.chat import template_plan

    template_plan(tokenizer, ChatConfig())  # adds ChatML's <|im_start|> and <|im_end|>, which CALLS_ONLY writes
    roles = render_and_label(tokenizer, ROW, ChatConfig(template=CALLS_ONLY), 1024)
    assert roles.input_ids == [] and roles.problems == [
        "the custom chat template does not write the tools in column 'tools' of this row ('get_weather'), so the "
        "model would learn to call them without seeing what they are. To fix: choose a model whose chat template "
        "writes tools, or set chat.template to one that does (chatml or qwen3), or remove the 'tools' column"]
    no_tools = {"messages": ROW["messages"]}  # the same template trains the calls of a row without tools
    roles = render_and_label(tokenizer, no_tools, ChatConfig(template=CALLS_ONLY), 1024)
    assert roles.problems == []
    assert trained(tokenizer, roles.input_ids, roles.labels) == (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call><|im_end|>\n'
        "Sunny: wear violet.<|im_end|>\n")


def _problems(tmp_path: Path, rows: list[dict], template: str) -> list[tuple[str, str]]:
    from finetune_studio.core.validation import validate

    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = default_config()
    config.dataset.source, config.runs_dir, config.chat.template = str(path), str(tmp_path / "runs"), template
    return [(p.field, p.message) for p in validate(config)]


def test_validate_accepts_tool_rows_for_qwen3_and_names_the_row_for_llama3(demo_cache, tmp_path: Path) -> None:
    rows = [ROW, {**ROW, "tools": json.dumps(TOOLS)}, ROW]
    assert _problems(tmp_path, rows, "qwen3") == []
    found = _problems(tmp_path, rows, "llama3")
    assert [field for field, _ in found] == ["dataset.source"]
    assert found[0][1].startswith(f"{tmp_path / 'tools.jsonl'}: row 1: the llama3 chat template leaves out the tool "
                                  "call of message 2 (assistant) of this row ('get_weather')")
    bad = [ROW, with_turn(2, tool_calls=[{"function": {"name": "", "arguments": {}}}])]
    found = _problems(tmp_path, bad, "qwen3")
    assert found and found[0][0] == "dataset.source"
    assert "row 2: tool call 1 of message 2 (assistant) of column 'messages' has text (\"\") as its name" in found[0][1]


# ---- content in parts -----------------------------------------------------------------------------------------


def test_text_parts_are_joined_and_other_parts_are_refused(tokenizer) -> None:
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "What sign "},
                                                       {"type": "text", "text": "is Leo?"}]},
                          {"role": "assistant", "content": [{"type": "text", "text": "Fire."}]}]}
    roles = render_and_label(tokenizer, parts, ChatConfig(), 512)
    assert roles.problems == []
    assert roles.text == "<|im_start|>user\nWhat sign is Leo?<|im_end|>\n<|im_start|>assistant\nFire.<|im_end|>\n"
    assert trained(tokenizer, roles.input_ids, roles.labels) == "Fire.<|im_end|>\n"
    image = {"messages": [{"role": "user", "content": [{"type": "image", "url": "leo.png"},
                                                       {"type": "text", "text": "Which sign?"}]},
                          {"role": "assistant", "content": "Leo."}]}
    roles = render_and_label(tokenizer, image, ChatConfig(), 512)
    assert roles.input_ids == [] and roles.problems == [
        "message 1 (user) of column 'messages' has a part of type 'image' in its 'content' (part 1 of 2); this app "
        "trains on text only. To fix: remove the image parts (or the rows that need them), keeping the text parts "
        'such as {"type": "text", "text": "Hi"}']
    with pytest.raises(ChatDataError, match=r"has a text part \(part 1 of its 'content'\) with no value as its 'text'"):
        to_example({"messages": [{"role": "user", "content": [{"type": "text"}]},
                                 {"role": "assistant", "content": "Leo."}]},
                   resolve_format(ChatConfig(format="messages"), [], ["messages"]))


# ---- TRL's own labels -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_labels_equal_trls_with_tools(demo_cache, tmp_path: Path) -> None:
    """TRL's SFTTrainer (assistant_only_loss, the tools column passed as tools=) gives the same input_ids and labels
    on the same rows with the same template."""
    from transformers import AutoTokenizer

    from finetune_studio.core.chat import template_plan
    from finetune_studio.core.demo import demo_model_path
    from tests.helpers import trl_labels

    # JSON text for arguments and tools, so Arrow keeps each row's own (TRL passes the tools column as it is)
    rows = [as_text(ROW), as_text(with_turn(2, tool_calls=[{"type": "function", "function": {
        "name": "get_weather", "arguments": {"city": "Rome"}}}]))]
    tokenizer = AutoTokenizer.from_pretrained(demo_model_path())
    chat = ChatConfig(template="qwen3")
    plan = template_plan(tokenizer, chat)
    ours = [render_and_label(tokenizer, row, chat, 1024) for row in rows]
    assert all(r.problems == [] for r in ours)
    theirs = trl_labels(tokenizer, plan.training_text, rows, tmp_path / "trl")
    assert [(r.input_ids, r.labels) for r in ours] == theirs


@pytest.mark.slow
def test_a_run_trains_a_tools_file_whose_calls_differ_in_their_arguments(demo_cache, runs_dir, tmp_path: Path) -> None:
    """A JSON lines file read as a run reads it (datasets keeps each row's own argument names) trains with qwen3."""
    from finetune_studio.core.training import run
    from finetune_studio.core.validation import validate
    from tests.helpers import read_events, small_config

    other = with_turn(2, tool_calls=[{"type": "function", "function": {"name": "get_time",
                                                                      "arguments": {"zone": "CET", "n": 2}}}])
    other["tools"] = TOOLS + [{"type": "function", "function": {"name": "get_time", "description": "The time"}}]
    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [ROW, other] * 4), encoding="utf-8")
    config = small_config(path, runs_dir, max_steps=3, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False, logging_steps=1)
    config.dataset.test_size, config.dataset.max_length, config.chat.template = 0.0, 1024, "qwen3"
    assert validate(config) == []
    result = run(config)
    assert result.state == "finished"
    notices = [e["message"] for e in read_events(result.run_dir, "notice")]
    assert any("the loss is on the assistant replies" in n for n in notices)
    assert len([e for e in read_events(result.run_dir, "log") if "loss" in e]) == 3
