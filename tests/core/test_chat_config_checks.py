"""chat settings that are wrong whatever the data (core.chat.check_config), said by validate at their own field
before anything loads: a chat template given as Jinja text with a syntax error, an empty template, one column mapped
to two parts."""

from __future__ import annotations

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.validation import validate


@pytest.mark.parametrize("preset", [None, "chat-demo"])
def test_a_template_with_a_jinja_syntax_error_is_said_at_chat_template(preset: str | None, capsys) -> None:
    """Before: on chat rows it was said of dataset.source as a row problem ('Fix or remove these rows, or map the
    columns'); on the default plain-text data validate said ok and the run ignored it."""
    code = main(["validate", *(["--preset", preset] if preset else []), "--set", "chat.template={{ x"])
    err = capsys.readouterr()
    said = err.out + err.err
    assert code == 2
    assert ("problem: chat.template: chat.template's Jinja text has a syntax error at line 1: unexpected end of "
            "template, expected 'end of print statement'. To fix: correct the template, or choose auto or a named "
            "template.") in said
    assert "dataset.source" not in said


@pytest.mark.parametrize("template", ["", "  ", None])
def test_an_empty_template_says_it_is_empty(template: str | None) -> None:
    config = default_config()
    config.chat.template = template  # type: ignore[assignment]
    assert [(p.field, p.message) for p in validate(config) if p.field == "chat.template"] == [
        ("chat.template", "chat.template is empty. To fix: choose auto, chatml, qwen3, llama3, phi3, gemma, or give "
                          "the template's Jinja text.")]


def test_one_column_for_two_parts_is_refused() -> None:
    """Before: {prompt: horoscope, completion: horoscope} passed validate and trained on rows whose prompt and answer
    were the same text."""
    config = default_config()
    config.chat.format = "prompt_completion"
    config.chat.columns = {"prompt": "horoscope", "completion": "horoscope"}
    assert [(p.field, p.message) for p in validate(config) if p.field == "chat.columns"] == [
        ("chat.columns", "chat.columns maps column 'horoscope' to 'prompt' and 'completion': each part needs a column "
                         "of its own. To fix: map each part to the column that holds it.")]


def test_a_valid_template_text_and_distinct_columns_pass() -> None:
    config = default_config()
    config.chat.template = "{% for m in messages %}{{ m.content }}{% endfor %}"
    config.chat.columns = {"prompt": "sign", "completion": "horoscope"}  # the sample data's columns
    assert [p for p in validate(config) if p.field in ("chat.template", "chat.columns")] == []
