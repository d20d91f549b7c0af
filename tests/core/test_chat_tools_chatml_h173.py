"""Tool rows with the built-in ChatML template, the tools block's part, and max_length warnings on tool rows
(helper-173).

(1) ChatML, the template of a model without one, refused every row with tool calls ('the chatml chat template
leaves out the tool call ... set chat.template to one that does (qwen3)'). It now writes them as Qwen2.5's own
template does (trl/chat_templates/qwen2_5.jinja; Hermes style): the tools in the system turn inside <tools></tools>,
each call as <tool_call>\\n{"name": ..., "arguments": ...}\\n</tool_call>, tool results as one user turn of
<tool_response> blocks. The replies train, their calls included, with labels equal to TRL's; templates that drop
calls (llama3, phi3) are still refused. (2) The tools block Qwen3's template and ChatML write as a system turn of
their own (a row with no system message) showed as "prompt" in the Inspector; it is the system part. (3) That block
is some 300 tokens, so short tool rows pass 512: the max_length warnings say the tools count, how many tokens they
took, and the max_length that fits, computed from the rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.chat import prepare_dataset, render_and_label
from finetune_studio.core.config import ChatConfig, default_config
from finetune_studio.core.errors import DataError

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
CALL = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}
ROW = {"messages": [{"role": "user", "content": "Weather in Oslo?"},
                    {"role": "assistant", "content": "", "tool_calls": [CALL]},
                    {"role": "tool", "name": "get_weather", "tool_call_id": "c1", "content": "sunny, 21 C"},
                    {"role": "assistant", "content": "Sunny: wear violet."}],
       "tools": TOOLS}
TOOLS_BLOCK = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function "
    "signatures within <tools></tools> XML tags:\n<tools>\n" + json.dumps(TOOLS[0]) + "\n</tools>\n\nFor each "
    "function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
    '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n')
CALL_TEXT = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'


@pytest.fixture()
def tokenizer(demo_cache: Path) -> Any:
    """A fresh demo tokenizer: it has no chat template, so 'auto' is ChatML."""
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def decoded(tokenizer: Any, ids: list[int], labels: list[int], trained: bool = True) -> str:
    return tokenizer.decode([t for t, label in zip(ids, labels) if (label != -100) == trained])


def qwen2_5(tokenizer: Any, messages: list[dict], tools: list[dict] | None) -> str:
    import trl

    template = (Path(trl.__file__).parent / "chat_templates" / "qwen2_5.jinja").read_text(encoding="utf-8")
    return tokenizer.apply_chat_template(messages, tools=tools, tokenize=False, chat_template=template)


# ---- (1) ChatML writes tool calls -----------------------------------------------------------------------------


def test_chatml_trains_the_call_and_the_reply_not_the_tools_or_the_result(tokenizer: Any) -> None:
    roles = render_and_label(tokenizer, ROW, ChatConfig(), 1024)
    assert (roles.template_name, roles.problems) == ("chatml", [])
    assert roles.text == (f"<|im_start|>system\n{TOOLS_BLOCK}<|im_start|>user\nWeather in Oslo?<|im_end|>\n"
                          f"<|im_start|>assistant\n{CALL_TEXT}<|im_end|>\n"
                          "<|im_start|>user\n<tool_response>\nsunny, 21 C\n</tool_response><|im_end|>\n"
                          "<|im_start|>assistant\nSunny: wear violet.<|im_end|>\n")
    assert decoded(tokenizer, roles.input_ids, roles.labels) == (
        f"{CALL_TEXT}<|im_end|>\nSunny: wear violet.<|im_end|>\n")
    assert decoded(tokenizer, roles.input_ids, roles.labels, trained=False) == (
        f"<|im_start|>system\n{TOOLS_BLOCK}<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n"
        "<|im_start|>user\n<tool_response>\nsunny, 21 C\n</tool_response><|im_end|>\n<|im_start|>assistant\n")


def test_chatml_renders_as_qwen2_5_does(tokenizer: Any) -> None:
    """With a system message (Qwen2.5 writes its default system prompt where a row has none; ChatML writes none,
    as Qwen3 does) the text is Qwen2.5's, character for character: several calls in one reply, a reply with text
    before its call, consecutive tool results in one user turn, and a row without tools."""
    other = {"type": "function", "function": {"name": "get_time", "arguments": {"zone": "CET"}}}
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather and time?"},
                {"role": "assistant", "content": "Let me look.", "tool_calls": [CALL, other]},
                {"role": "tool", "content": "rain"}, {"role": "tool", "content": "12:00"},
                {"role": "assistant", "content": "Rain, at noon."}]
    tools = TOOLS + [{"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"zone": {"type": "string"}}}}}]
    for row_tools in (tools, None):
        row = {"messages": messages, **({"tools": row_tools} if row_tools else {})}
        roles = render_and_label(tokenizer, row, ChatConfig(template="chatml"), 2048)
        assert roles.problems == [] and roles.text == qwen2_5(tokenizer, messages, row_tools)
    assert "<|im_start|>user\n<tool_response>\nrain\n</tool_response>\n<tool_response>\n12:00\n</tool_response>" \
           "<|im_end|>\n" in roles.text
    roles = render_and_label(tokenizer, {"messages": messages, "tools": tools}, ChatConfig(), 2048)
    assert roles.text.startswith("<|im_start|>system\nBe brief.\n\n# Tools\n\n")
    assert decoded(tokenizer, roles.input_ids, roles.labels) == (
        f"Let me look.\n{CALL_TEXT}\n"
        '<tool_call>\n{"name": "get_time", "arguments": {"zone": "CET"}}\n</tool_call><|im_end|>\n'
        "Rain, at noon.<|im_end|>\n")


@pytest.mark.parametrize("template", ["llama3", "phi3"])
def test_templates_that_drop_the_calls_are_still_refused_and_name_chatml(tokenizer: Any, template: str) -> None:
    roles = render_and_label(tokenizer, ROW, ChatConfig(template=template), 1024)
    assert roles.input_ids == [] and roles.problems == [
        f"the {template} chat template leaves out the tool call of message 2 (assistant) of this row "
        "('get_weather'): the template does not write tool calls, so the model would learn an empty reply where it "
        "should call the tool. To fix: choose a model whose chat template writes tool calls, or set chat.template "
        "to one that does (chatml or qwen3), or remove those rows"]


# ---- (2) the tools block is the system part -------------------------------------------------------------------


@pytest.mark.parametrize("template", ["chatml", "qwen3"])
def test_the_tools_block_of_a_row_without_a_system_turn_is_its_system_part(tokenizer: Any, tmp_path: Path,
                                                                           template: str) -> None:
    from tests.core.test_inspector import inspector

    roles = render_and_label(tokenizer, ROW, ChatConfig(template=template), 1024)
    assert roles.problems == []
    user = roles.text.index("<|im_start|>user")
    head = len(tokenizer(roles.text[:user], add_special_tokens=False)["input_ids"])
    # every token of the tools turn is system (its <|im_start|> and <|im_end|> special), none after it
    assert set(roles.roles[:head]) == {"system", "special"} and "system" not in roles.roles[head:]
    prompt = tokenizer.decode([t for t, r in zip(roles.input_ids, roles.roles) if r == "prompt"])
    assert "# Tools" not in prompt and prompt.startswith("user\nWeather in Oslo?")
    ins = inspector(tokenizer, [ROW], tmp_path, max_length=1024, template=template)
    pieces = ins.pieces(ins.row(0))
    system = "".join(text for text, role in pieces if role == "system")
    assert system == "system\n" + TOOLS_BLOCK.replace("<|im_end|>", "")
    checks = ins.check()
    assert (int(checks.counts["system"][0]), int(checks.counts["prompt"][0])) == (roles.roles.count("system"),
                                                                                  roles.roles.count("prompt"))


def test_a_system_message_and_the_tools_make_one_system_part(tokenizer: Any) -> None:
    row = {**ROW, "messages": [{"role": "system", "content": "Be brief."}, *ROW["messages"]]}
    roles = render_and_label(tokenizer, row, ChatConfig(), 1024)
    system = tokenizer.decode([t for t, r in zip(roles.input_ids, roles.roles) if r == "system"])
    assert system == "system\nBe brief.\n\n" + TOOLS_BLOCK.replace("<|im_end|>", "")


# ---- (3) max_length and the tools block -----------------------------------------------------------------------

LONG = {**ROW, "messages": [*ROW["messages"][:3], {"role": "assistant", "content": "Sunny: wear a hat. " * 5}]}


def test_a_cut_tool_row_says_the_tools_count_and_the_max_length_that_fits(tokenizer: Any) -> None:
    """The demo's small vocabulary spells the tools block in 357 tokens (Qwen3's own tokenizer in some 300 for a
    few tools): a row of a few words is past 512 with qwen3."""
    roles = render_and_label(tokenizer, ROW, ChatConfig(template="qwen3"), 512)
    assert (len(roles.input_ids), roles.tools_tokens) == (513, 357)
    assert roles.problems == [
        "max_length 512 cuts the reply: 1 of 86 trained tokens are lost, and so is its end-of-turn token; the tools "
        "block the chat template writes (the row's tool definitions, 357 of its 513 tokens) counts toward "
        "max_length. To fix: raise max_length to 576, which holds the whole row (513 tokens)"]
    roles = render_and_label(tokenizer, ROW, ChatConfig(), 300)
    assert roles.problems == [
        "max_length 300 cuts the row before its reply starts: nothing is trained; the tools block the chat template "
        "writes (the row's tool definitions, 357 of its 501 tokens) counts toward max_length. To fix: raise "
        "max_length to 512, which holds the whole row (501 tokens), or drop such rows (chat.drop_untrained_rows)"]
    assert render_and_label(tokenizer, ROW, ChatConfig(template="qwen3"), 576).problems == []
    no_tools = {"messages": LONG["messages"]}  # a row without tools keeps its words
    roles = render_and_label(tokenizer, no_tools, ChatConfig(), 90)
    assert roles.tools_tokens == 0 and roles.problems[0].endswith("end-of-turn token. To fix: raise max_length")


def _config(template: str, max_length: int) -> Any:
    config = default_config()
    config.dataset.source, config.dataset.test_size = "tools.jsonl", 0
    config.chat.template, config.dataset.max_length = template, max_length
    return config


def _as_text(row: dict) -> dict:
    return {**row, "tools": json.dumps(row["tools"])}  # one Arrow type for the tools of every row


def test_the_run_log_and_its_refusal_say_the_tools_block_counts(tokenizer: Any) -> None:
    import datasets

    said: list[str] = []
    config = _config("qwen3", 520)
    prepare_dataset(datasets.Dataset.from_list([_as_text(ROW), _as_text(LONG)]), tokenizer, config.chat,
                    config.dataset, 42, notify=said.append)
    assert [s for s in said if "max_length" in s] == [
        "1 of 2 rows have their reply cut by max_length 520: 36 of 129 trained tokens in them are lost, and so is "
        "each cut reply's end-of-turn token, so the model does not learn to stop after such replies; the tools "
        "block the chat template writes (the rows' tool definitions: 357 tokens of each) counts toward max_length. "
        "To fix: raise max_length to 576, which holds the longest such row (556 tokens), or shorten the replies or "
        "the tools' descriptions."]
    config = _config("qwen3", 300)
    with pytest.raises(DataError) as raised:
        prepare_dataset(datasets.Dataset.from_list([_as_text(ROW), _as_text(LONG)]), tokenizer, config.chat,
                        config.dataset, 42)
    assert str(raised.value) == (
        "tools.jsonl: none of its 2 rows has a token to train: max_length 300 cuts every one before its reply (or "
        "no row has one), so the run would learn nothing; the tools block the chat template writes (the rows' tool "
        "definitions: 357 tokens of each) counts toward max_length. To fix: raise max_length to 576, which holds "
        "the longest such row (556 tokens), or check train_on (nothing was trained).")


def test_validate_warns_with_the_tools_block_and_the_max_length_that_fits(demo_cache: Path, tmp_path: Path) -> None:
    from finetune_studio.core.validation import token_warnings, validate

    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (ROW, LONG)), encoding="utf-8")
    config = _config("qwen3", 520)
    config.dataset.source, config.runs_dir = str(path), str(tmp_path / "runs")
    config.training.update(eval_strategy="no", load_best_model_at_end=False)  # test_size 0: nothing held out
    assert validate(config) == []
    assert [(p.field, p.message) for p in token_warnings(config)] == [
        ("dataset.max_length",
         "1 of 2 rows have their reply cut by max_length 520: 36 of 129 trained tokens in them are lost, and so is "
         "each cut reply's end-of-turn token, so the model does not learn to stop after such replies; the tools "
         "block the chat template writes (the rows' tool definitions: 357 tokens of each) counts toward "
         "max_length. To fix: raise max_length to 576, which holds the longest such row (556 tokens), or shorten "
         "the replies or the tools' descriptions.")]


def test_the_inspector_says_the_tools_block_counts(tokenizer: Any, tmp_path: Path) -> None:
    from tests.core.test_inspector import inspector

    checks = inspector(tokenizer, [ROW, LONG], tmp_path, max_length=520, template="qwen3").check()
    assert [(p.kind, p.message, [f.label for f in p.fixes]) for p in checks.problems()] == [(
        "reply_cut", "1 row loses part of a reply to max_length (520 tokens): the model learns replies that stop "
        "mid-sentence and never their end. The tools block the chat template writes counts toward max_length: the "
        "tool definitions take 357 tokens of the row. To fix: raise max_length to 576.", ["Raise max_length to 576"])]
    checks = inspector(tokenizer, [ROW, LONG], tmp_path / "short", max_length=300).check()
    assert [(p.kind, p.message) for p in checks.problems()] == [(
        "cut_before_reply", "2 rows train nothing: max_length (300 tokens) cuts them before the reply starts. The "
        "tools block the chat template writes counts toward max_length: the tool definitions take 357 tokens of "
        "each such row. To fix: raise max_length to 576, or drop such rows.")]


# ---- TRL's own labels -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_chatml_labels_equal_trls_with_tools(demo_cache: Path, tmp_path: Path) -> None:
    """TRL's SFTTrainer (assistant_only_loss, the tools column passed as tools=) gives the same input_ids and labels
    as a run with the ChatML template, on rows with and without a system message and with several calls."""
    from transformers import AutoTokenizer

    from finetune_studio.core.chat import template_plan
    from finetune_studio.core.demo import demo_model_path
    from tests.helpers import trl_labels

    def as_text(row: dict) -> dict:
        row = json.loads(json.dumps(row))
        for turn in row["messages"]:
            turn.setdefault("tool_calls", None)
            turn.pop("name", None)
            turn.pop("tool_call_id", None)
            for call in turn["tool_calls"] or []:
                call["function"]["arguments"] = json.dumps(call["function"]["arguments"])
        return {**row, "tools": json.dumps(row["tools"])}

    two = {**ROW, "messages": [{"role": "system", "content": "Be brief."}, ROW["messages"][0],
                               {"role": "assistant", "content": "Both.", "tool_calls": [CALL, CALL]},
                               {"role": "tool", "content": "sun"}, {"role": "tool", "content": "rain"},
                               {"role": "assistant", "content": "Mixed."}]}
    rows = [as_text(ROW), as_text(two), as_text(LONG)]
    tokenizer = AutoTokenizer.from_pretrained(demo_model_path())
    chat = ChatConfig()
    plan = template_plan(tokenizer, chat)
    ours = [render_and_label(tokenizer, row, chat, 1024) for row in rows]
    assert [r.problems for r in ours] == [[], [], []] and all(r.trained for r in ours)
    theirs = trl_labels(tokenizer, plan.training_text, rows, tmp_path / "trl")
    assert [(r.input_ids, r.labels) for r in ours] == theirs
