"""core.chat: formats detected, rows rendered with the chat template, and exactly which tokens train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.chat import (
    CHATML_NOTE,
    detect_format,
    render_and_label,
    resolve_template,
    template_plan,
)
from finetune_studio.core.config import ChatConfig


@pytest.fixture(scope="module")
def tokenizer(demo_cache):
    """A fresh demo tokenizer per module (render_and_label adds ChatML's control tokens to it)."""
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def trained_text(tokenizer, roles) -> str:
    return tokenizer.decode([t for t, label in zip(roles.input_ids, roles.labels) if label != -100])


def by_role(tokenizer, roles, role: str) -> str:
    return tokenizer.decode([t for t, r in zip(roles.input_ids, roles.roles) if r == role])


CHAT = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"},
                     {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Sign?"},
                     {"role": "assistant", "content": "Leo."}]}


def test_detect_each_format():
    assert detect_format([CHAT], ["messages"]).format == "messages"
    share = {"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}
    found = detect_format([share], ["conversations"])
    assert (found.format, found.columns) == ("sharegpt", {"conversations": "conversations"})
    alpaca = detect_format([{"Instruction": "x", "input": "", "output": "y"}], ["Instruction", "input", "output"])
    assert alpaca.format == "alpaca"
    assert alpaca.columns == {"instruction": "Instruction", "output": "output", "input": "input"}
    pc = detect_format([{"question": "q", "answer": "a"}], ["question", "answer"])
    assert (pc.format, pc.columns) == ("prompt_completion", {"prompt": "question", "completion": "answer"})
    assert detect_format([{"horoscope": "Wear red."}], ["horoscope"]).format == "text"
    mixed = detect_format([CHAT, {"instruction": "x", "output": "y"}], ["messages", "instruction", "output"])
    assert mixed.format == "messages" and "row 2" in mixed.reason and "mixed" in mixed.reason


def test_conversation_trains_assistant_replies_and_their_end_of_turn(tokenizer):
    roles = render_and_label(tokenizer, CHAT, ChatConfig(), 512)
    assert roles.problems == []
    assert roles.template_name == "chatml"
    assert trained_text(tokenizer, roles) == "Hello!<|im_end|>\nLeo.<|im_end|>\n"
    assert roles.text == tokenizer.decode(roles.input_ids)
    assert roles.text.startswith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there")
    assert by_role(tokenizer, roles, "system") == "system\nBe brief.\n"  # the control tokens are "special"
    assert "Hi there" in by_role(tokenizer, roles, "prompt") and "Sign?" in by_role(tokenizer, roles, "prompt")
    specials = {tokenizer.decode([t]) for t, r in zip(roles.input_ids, roles.roles) if r == "special"}
    assert specials == {"<|im_start|>", "<|im_end|>"}  # the untrained ones: those of the system and user turns
    assert roles.labels == [t if r == "trained" else -100 for t, r in zip(roles.input_ids, roles.roles)]
    assert set(roles.roles) <= {"trained", "prompt", "system", "special", "cut"}


def test_chatml_is_used_and_said_when_the_tokenizer_has_none(tokenizer):
    text, name, note = resolve_template(tokenizer, ChatConfig())
    assert (name, note) == ("chatml", CHATML_NOTE)
    assert "{%- generation %}" in text
    plan = template_plan(tokenizer, ChatConfig())
    assert plan.end_of_turn == [tokenizer.convert_tokens_to_ids("<|im_end|>")] and plan.stop_trained
    assert len(tokenizer.tokenize("<|im_end|>")) == 1  # one token the model can learn to emit


def test_sharegpt_role_aliases_any_case(tokenizer):
    row = {"conversations": [{"from": "Human", "value": "Which element is Leo?"},
                             {"from": "GPT", "value": "Fire."}]}
    roles = render_and_label(tokenizer, row, ChatConfig(), 512)
    assert roles.problems == [] and roles.format == "sharegpt"
    assert "<|im_start|>user\nWhich element is Leo?" in roles.text
    assert trained_text(tokenizer, roles) == "Fire.<|im_end|>\n"


def test_alpaca_becomes_a_conversation_and_trains_the_output(tokenizer):
    row = {"instruction": "Name a sign", "input": "fire", "output": "Aries", "system": "Be terse."}
    roles = render_and_label(tokenizer, row, ChatConfig(), 512)
    assert roles.problems == [] and roles.train_on == "completion"
    assert roles.text == ("<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nName a sign\n\nfire<|im_end|>\n"
                          "<|im_start|>assistant\nAries<|im_end|>\n")
    assert trained_text(tokenizer, roles) == "Aries<|im_end|>\n"


def test_prompt_completion_trains_the_completion_and_eos(tokenizer):
    roles = render_and_label(tokenizer, {"prompt": "Name a sign:", "completion": " Aries"}, ChatConfig(), 512)
    assert roles.problems == []
    assert trained_text(tokenizer, roles) == " Aries<|endoftext|>"
    assert by_role(tokenizer, roles, "prompt") == "Name a sign:"


def test_plain_prompt_completion_uses_no_template_and_adds_no_tokens(demo_cache):
    """As TRL: text prompt/completion rows are joined as they are; the tokenizer (and so the model) is unchanged."""
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    fresh = AutoTokenizer.from_pretrained(demo_model_path())
    size = len(fresh)
    roles = render_and_label(fresh, {"prompt": "Q:", "completion": " A"}, ChatConfig(), 512)
    assert (roles.template_name, len(fresh), roles.text) == ("", size, "Q: A<|endoftext|>")
    refused = render_and_label(fresh, {"prompt": "Q:", "completion": " A"}, ChatConfig(train_on="assistant"), 512)
    assert refused.input_ids == [] and "needs conversations" in refused.problems[0]


def test_train_on_all_trains_every_token(tokenizer):
    roles = render_and_label(tokenizer, CHAT, ChatConfig(train_on="all"), 512)
    assert roles.labels == roles.input_ids and set(roles.roles) == {"trained"}


def test_max_length_cut_is_shown_and_said(tokenizer):
    full = render_and_label(tokenizer, CHAT, ChatConfig(), 512)
    first_reply = full.roles.index("trained")
    cut = render_and_label(tokenizer, CHAT, ChatConfig(), first_reply + 2)
    assert cut.kept == first_reply + 2 and cut.roles[cut.kept:] == ["cut"] * (len(cut.input_ids) - cut.kept)
    assert cut.trained == 2 and cut.cut_trained == full.trained - 2
    assert "cuts the reply" in cut.problems[0]
    before = render_and_label(tokenizer, CHAT, ChatConfig(), first_reply)
    assert before.trained == 0 and "before its reply starts" in before.problems[0]


def test_a_template_that_leaves_the_end_of_turn_untrained_is_caught(tokenizer):
    template = ("{%- for m in messages %}<|im_start|>{{ m['role'] }}\n{%- if m['role'] == 'assistant' %}"
                "{% generation %}{{ m['content'] }}{% endgeneration %}<|im_end|>\n{%- else %}{{ m['content'] }}"
                "<|im_end|>\n{%- endif %}{%- endfor %}")
    chat = ChatConfig(template=template)
    plan = template_plan(tokenizer, chat)
    assert not plan.stop_trained and "end-of-turn" in plan.problem
    roles = render_and_label(tokenizer, CHAT, chat, 512)
    assert any("end-of-turn" in p for p in roles.problems)


@pytest.mark.parametrize("row, words", [
    ({"messages": [{"role": "narrator", "content": "x"}, {"role": "assistant", "content": "y"}]}, "unknown role"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]}, "no assistant turn"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "  "}]}, "is empty"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": 3}]},
     "message 2 (assistant) of column 'messages' has a whole number (3) as its 'content', not text"),
])
def test_bad_rows_say_what_is_wrong_and_train_nothing(tokenizer, row, words):
    roles = render_and_label(tokenizer, row, ChatConfig(), 512)
    assert roles.input_ids == [] and words in roles.problems[0]


def tool_row(content) -> dict:
    """A reply that only calls a tool, in the OpenAI form: its content is "" or None (was "is empty" / "has NoneType
    content" before tool calls were read, tests/core/test_chat_tools_h152.py)."""
    return {"messages": [{"role": "user", "content": "weather?"},
                         {"role": "assistant", "content": content, "tool_calls": [{"type": "function", "function": {
                             "name": "w", "arguments": {"city": "Oslo"}}}]},
                         {"role": "tool", "content": "sunny"}, {"role": "assistant", "content": "Wear violet."}]}


@pytest.mark.parametrize("content", ["", None])
def test_a_template_that_drops_tool_calls_refuses_the_row(tokenizer, content):
    """llama3's training template does not write tool calls, so the row is refused for it."""
    roles = render_and_label(tokenizer, tool_row(content), ChatConfig(template="llama3"), 512)
    assert roles.input_ids == [] and roles.problems == [
        "the llama3 chat template leaves out the tool call of message 2 (assistant) of this row ('w'): the template "
        "does not write tool calls, so the model would learn an empty reply where it should call the tool. To fix: "
        "choose a model whose chat template writes tool calls, or set chat.template to one that does (chatml or "
        "qwen3), or remove those rows"]


@pytest.mark.parametrize("content", ["", None])
def test_chatml_trains_the_tool_call_and_the_reply(tokenizer, content):
    """ChatML, the demo's template, writes tool calls as Qwen2.5 does since 1b53c5d (it refused the row before): the
    call and the last reply train with their end of turn; the tool's result, a user turn, does not."""
    call = '<tool_call>\n{"name": "w", "arguments": {"city": "Oslo"}}\n</tool_call>'
    roles = render_and_label(tokenizer, tool_row(content), ChatConfig(), 512)
    assert roles.problems == []
    assert roles.text == (f"<|im_start|>user\nweather?<|im_end|>\n<|im_start|>assistant\n{call}<|im_end|>\n"
                          "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
                          "<|im_start|>assistant\nWear violet.<|im_end|>\n")
    assert trained_text(tokenizer, roles) == f"{call}<|im_end|>\nWear violet.<|im_end|>\n"


def test_a_template_that_fails_to_render_names_its_error(tokenizer):
    chat = ChatConfig(template="{{ raise_exception('only user and assistant, please') }}", train_on="all")
    roles = render_and_label(tokenizer, CHAT, chat, 512)
    assert "failed to render this row" in roles.problems[0] and "only user and assistant" in roles.problems[0]


# ---- validate(): the data pre-check names the row, before any model loads ------------------------------------


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def problems_for(path: Path, tmp_path: Path, **chat) -> list:
    from finetune_studio.core.config import default_config
    from finetune_studio.core.validation import validate

    config = default_config()
    config.dataset.source = str(path)
    config.runs_dir = str(tmp_path / "runs")
    for key, value in chat.items():
        setattr(config.chat, key, value)
    return validate(config)


def good(n: int) -> list[dict]:
    return [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
            for i in range(n)]


def test_validate_accepts_chat_rows_without_a_text_column(tmp_path):
    assert problems_for(write_jsonl(tmp_path / "ok.jsonl", good(5)), tmp_path) == []


@pytest.mark.parametrize("bad, field, words", [
    ({"messages": [{"role": "user", "content": "q"}, {"role": "Narrator", "content": "a"}]}, "dataset.source",
     "row 4: message 2 of column 'messages' has the unknown role 'Narrator'"),
    ({"messages": [{"role": "user", "content": "q"}]}, "dataset.source", "row 4: the conversation in 'messages' "
                                                                          "has no assistant turn"),
    ({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "a"}]}, "dataset.source",
     "row 4: message 1 (user) of column 'messages' is empty"),
    ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ["a"]}]}, "dataset.source",
     "row 4: message 2 (assistant) of column 'messages' has a list as its 'content', not text"),
    ({"instruction": "x", "output": "y"}, "chat.format", "row 4 is alpaca"),
])
def test_validate_names_the_bad_row(tmp_path, bad, field, words):
    path = write_jsonl(tmp_path / "bad.jsonl", good(3) + [bad] + good(2))
    found = [p for p in problems_for(path, tmp_path) if p.field == field]
    assert found and words in found[0].message, found


def test_validate_a_column_mapping_that_points_nowhere(tmp_path):
    path = write_jsonl(tmp_path / "pc.jsonl", [{"question": "q", "answer": "a"}] * 3)
    assert problems_for(path, tmp_path) == []
    found = problems_for(path, tmp_path, columns={"prompt": "query"})
    assert [p.field for p in found] == ["chat.columns"] and "'query', which is not a column" in found[0].message


def test_validate_a_named_template_that_fails_on_a_row(tmp_path):
    rows = [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
            {"messages": [{"role": "tool", "content": "t"}, {"role": "assistant", "content": "a"}]}]
    found = problems_for(write_jsonl(tmp_path / "t.jsonl", rows), tmp_path, template="gemma")
    assert found and found[0].field == "dataset.source" and "row 2" in found[0].message
    assert "gemma chat template fails to render it" in found[0].message


def test_validate_chat_settings(tmp_path):
    found = problems_for(write_jsonl(tmp_path / "ok.jsonl", good(2)), tmp_path, format="xml", train_on="nothing",
                         template="mistral")
    assert {p.field for p in found} == {"chat.format", "chat.train_on", "chat.template"}


def test_default_recipe_data_is_text_and_checked_as_before(demo_cache):
    from finetune_studio.core.chat import prepare_dataset
    from finetune_studio.core.config import default_config
    from finetune_studio.core.data import check_source, load_split

    config = default_config()
    ds = load_split(config.dataset)
    assert prepare_dataset(ds, None, config.chat, config.dataset, 42) is None  # the seed's path trains it
    config.dataset.text_column = "horoscopes"
    assert check_source(config.dataset, config.chat) == check_source(config.dataset)
    assert "Did you mean 'horoscope'" in check_source(config.dataset, config.chat)[0].message


def test_validate_train_on_that_does_not_fit_the_data(tmp_path):
    found = problems_for(write_jsonl(tmp_path / "c.jsonl", good(3)), tmp_path, train_on="completion")
    assert [p.field for p in found] == ["chat.train_on"] and "needs prompt/completion or alpaca" in found[0].message
    text = write_jsonl(tmp_path / "t.jsonl", [{"horoscope": "Wear red."}] * 3)
    found = problems_for(text, tmp_path, train_on="assistant")
    assert [p.field for p in found] == ["chat.train_on"] and "this is plain text" in found[0].message
    pc = write_jsonl(tmp_path / "pc.jsonl", [{"prompt": "Q:", "completion": " A"}] * 3)
    found = problems_for(pc, tmp_path, train_on="assistant")
    assert [p.field for p in found] == ["chat.train_on"] and "plain text" in found[0].message
    assert problems_for(pc, tmp_path, train_on="all") == []


def test_completion_on_a_conversation_trains_nothing_and_says_why(tokenizer):
    roles = render_and_label(tokenizer, CHAT, ChatConfig(train_on="completion"), 512)
    assert roles.labels == [] and "needs prompt/completion or alpaca" in roles.problems[0]
