"""A chat template named in messages: the model's own template is "the model's own chat template" (it read "the
the model's own"), Jinja text in chat.template is "the custom chat template" (its whole text was pasted into the
sentence), validate says once, at chat.template, that a template without {% generation %} markers cannot train the
assistant's replies (it blamed every row of the dataset), and a row trained whole (train_on 'all') on a template
that ends turns with plain text is not told to set train_on to 'all'."""

from __future__ import annotations

import json

import pytest

from finetune_studio.core.chat import render_and_label
from finetune_studio.core.config import ChatConfig, chat_demo_preset, default_config
from finetune_studio.core.validation import validate

NO_MARKERS = ("{% for m in messages %}{{ '[' + m['role'] + '] ' + m['content'] + '\\n' }}{% endfor %}"
              "{% if add_generation_prompt %}{{ '[assistant] ' }}{% endif %}")
ROW = {"messages": [{"role": "user", "content": "Sign?"}, {"role": "assistant", "content": "Leo."}]}
NO_MASK = ("the model's own chat template has no {% generation %} markers and TRL has no training version of it, so "
           "the assistant's replies cannot be told apart. To fix: pick the chatml template, or set train_on to 'all'")


@pytest.fixture()
def own_template_model(demo_cache, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from helpers import demo_model_copy

    folder = demo_model_copy(tmp_path / "own-template")
    config = folder / "tokenizer_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "chat_template": NO_MARKERS}))
    return folder


def test_the_model_s_own_template_without_markers(own_template_model) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(own_template_model)
    roles = render_and_label(tokenizer, ROW, ChatConfig(), 512)
    assert (roles.problems, roles.labels) == ([NO_MASK], [])


def test_validate_says_it_once_at_chat_template(own_template_model) -> None:
    config = chat_demo_preset()
    config.model.name_or_path = str(own_template_model)
    problems = [(p.field, p.message) for p in validate(config, render_rows=True) if p.level == "error"]
    assert problems == [("chat.template", f"{NO_MASK}.")]


def test_train_on_all_is_not_told_to_set_train_on_all(own_template_model) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(own_template_model)
    roles = render_and_label(tokenizer, ROW, ChatConfig(train_on="all"), 512)
    assert roles.text == "[user] Sign?\n[assistant] Leo.\n"
    assert roles.labels == roles.input_ids  # every token trains
    assert roles.problems == ["the model's own chat template ends a turn with no special token, so the model would "
                              "not learn to stop. To fix: pick a template that ends each turn with a token (chatml)"]


def test_a_custom_template_that_fails_a_row_is_named_custom(tmp_path) -> None:
    path = tmp_path / "chats.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "system", "content": "Be brief."}, *ROW["messages"]]}) + "\n")
    config = default_config()
    config.dataset.source, config.chat.train_on = str(path), "all"
    config.chat.template = ("{% for m in messages %}{% if m['role'] == 'system' %}"
                            "{{ raise_exception('System turns are not supported') }}{% endif %}"
                            "{{ m['content'] }}<|im_end|>{% endfor %}")
    said = [p.message for p in validate(config) if p.field == "dataset.source"]
    assert said == [f"{path}: row 1: the custom chat template fails to render it (TemplateError: System turns are "
                    "not supported). Fix or remove these rows, or map the columns in chat.columns."]
