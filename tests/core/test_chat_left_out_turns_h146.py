"""A chat template that renders a row without one of its turns is refused, not trained: phi3's template has no tool
role and dropped tool turns silently ('<|user|>\\nW?<|end|>\\n<|assistant|>\\nIt rains.<|end|>'), so the model
learned the reply without the tool result it reads, and validate said ok. Templates that only reshape a turn
(llama3 trims content, qwen3 rewrites earlier replies) still train."""

from __future__ import annotations

import json

import pytest

from finetune_studio.core.chat import prepare_dataset, render_and_label
from finetune_studio.core.config import ChatConfig, default_config
from finetune_studio.core.errors import DataError
from finetune_studio.core.validation import validate

TOOL = {"messages": [{"role": "user", "content": "Weather in Rome?"}, {"role": "tool", "content": "rain, 12 C"},
                     {"role": "assistant", "content": "It rains in Rome."}]}
LEFT_OUT = ("the phi3 chat template leaves out message 2 (tool) of this row, so the model would learn the replies "
            "without it. To fix: pick a template that writes tool turns (chatml), or remove those turns from the rows")


@pytest.fixture()
def tokenizer(demo_cache):
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def trained(tokenizer, roles) -> str:
    return tokenizer.decode([t for t in roles.labels if t != -100])


def test_phi3_drops_the_tool_turn_so_the_row_is_refused(tokenizer) -> None:
    roles = render_and_label(tokenizer, TOOL, ChatConfig(template="phi3"), 512)
    assert (roles.problems, roles.labels, roles.input_ids) == ([LEFT_OUT], [], [])


def test_chatml_writes_the_tool_turn_and_trains_only_the_reply(tokenizer) -> None:
    """Since 1b53c5d ChatML writes a tool result as Qwen2.5 does: a user turn holding a <tool_response> block."""
    roles = render_and_label(tokenizer, TOOL, ChatConfig(), 512)
    assert roles.problems == []
    assert roles.text == ("<|im_start|>user\nWeather in Rome?<|im_end|>\n"
                          "<|im_start|>user\n<tool_response>\nrain, 12 C\n</tool_response><|im_end|>\n"
                          "<|im_start|>assistant\nIt rains in Rome.<|im_end|>\n")
    assert trained(tokenizer, roles) == "It rains in Rome.<|im_end|>\n"


def test_templates_that_reshape_a_turn_still_train(tokenizer) -> None:
    padded = {"messages": [{"role": "system", "content": "  Be brief.  "}, {"role": "user", "content": " Sign? "},
                           {"role": "assistant", "content": "Leo."}]}
    llama = render_and_label(tokenizer, padded, ChatConfig(template="llama3"), 512)
    assert llama.problems == [] and trained(tokenizer, llama) == "Leo.<|eot_id|>"
    thought = {"messages": [{"role": "user", "content": "A?"}, {"role": "assistant", "content": "<think>x</think>B."},
                            {"role": "user", "content": "C?"}, {"role": "assistant", "content": "D."}]}
    qwen = render_and_label(tokenizer, thought, ChatConfig(template="qwen3"), 512)
    assert qwen.problems == [] and trained(tokenizer, qwen).endswith("D.<|im_end|>\n")


def test_validate_and_the_run_refuse_it(tokenizer, tmp_path) -> None:
    import datasets

    path = tmp_path / "tool.jsonl"
    path.write_text(json.dumps(TOOL) + "\n" + json.dumps(TOOL) + "\n")
    config = default_config()
    config.dataset.source, config.chat.template = str(path), "phi3"
    assert [p.message for p in validate(config) if p.field == "dataset.source"] == [
        f"{path}: row 1: {LEFT_OUT}; row 2: {LEFT_OUT}. Fix or remove these rows, or map the columns in "
        "chat.columns."]
    with pytest.raises(DataError) as raised:
        prepare_dataset(datasets.Dataset.from_list([TOOL, TOOL]), tokenizer, config.chat, config.dataset, 42)
    assert str(raised.value) == (f"{path}: 2 of 2 rows cannot be trained as messages (role/content): row 1: "
                                 f"{LEFT_OUT}; row 2: {LEFT_OUT}. Fix or remove those rows (nothing was trained).")


def test_a_custom_template_that_skips_the_system_turn(tokenizer) -> None:
    template = ("{% for m in messages %}{% if m['role'] != 'system' %}<|im_start|>{{ m['role'] }}\n"
                "{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}<|im_end|>{% endgeneration %}"
                "{% else %}{{ m['content'] }}<|im_end|>{% endif %}\n{% endif %}{% endfor %}")
    row = {"messages": [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hi"},
                        {"role": "assistant", "content": "Salut."}]}
    roles = render_and_label(tokenizer, row, ChatConfig(template=template), 512)
    assert roles.problems == ["the custom chat template leaves out message 1 (system) of this row, so the model "
                              "would learn the replies without it. To fix: pick a template that writes system turns "
                              "(chatml), or remove those turns from the rows"]


def test_a_template_that_moves_the_system_prompt_still_trains(tokenizer) -> None:
    """Mistral's templates write the system prompt into the last user turn: every turn is there, out of order."""
    template = ("{% for m in messages %}{% if m['role'] == 'user' %}[INST] {% if loop.index0 == messages|length - 2 "
                "and messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}\n\n{% endif %}{{ m['content'] }}"
                " [/INST]{% elif m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}<|im_end|>"
                "{% endgeneration %}{% endif %}{% endfor %}")
    row = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                        {"role": "assistant", "content": "Yo."}, {"role": "user", "content": "Sign?"},
                        {"role": "assistant", "content": "Leo."}]}
    roles = render_and_label(tokenizer, row, ChatConfig(template=template, train_on="all"), 512)
    assert roles.text == "[INST] Hi [/INST]Yo.<|im_end|>[INST] Be brief.\n\nSign? [/INST]Leo.<|im_end|>"
    assert not any("leaves out" in problem for problem in roles.problems)
