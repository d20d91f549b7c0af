"""chat.template and chat.columns refusals say the value as the config file writes it and what to do next
("To fix: ..."), as chat.format's and chat.train_on's do. They said "Unknown chat template 'chatm'. Choose auto, ..."
(no near name, Python's form for a list: ['chatml']) and "chat.columns must map part names to column names, e.g.
{prompt: question, completion: answer}." whatever was written (a list, a text, a list for one column)."""

from __future__ import annotations

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.validation import validate
from tests.helpers import said

TEMPLATE_FIX = "To fix: write one of auto, chatml, qwen3, llama3, phi3, gemma, or give the template's Jinja text."
TEMPLATES = "auto, chatml, qwen3, llama3, phi3, gemma"
COLUMNS_FIX = "To fix: write part: column pairs, e.g. columns: {prompt: question, completion: answer}."



@pytest.mark.parametrize("yaml_text, message", [
    ("chat:\n  template: chatm\n",
     f"chat.template 'chatm' is not a chat template. Did you mean 'chatml'? To fix: write chatml (the choices: "
     f"{TEMPLATES}), or give the template's Jinja text."),
    ("chat:\n  template: Llama3\n",
     f"chat.template 'Llama3' is not a chat template. Did you mean 'llama3'? To fix: write llama3 (the choices: "
     f"{TEMPLATES}), or give the template's Jinja text."),
    ("chat:\n  template: mistral\n", f"chat.template 'mistral' is not a chat template. {TEMPLATE_FIX}"),
    ("chat:\n  template: [chatml]\n",
     f"chat.template must be a template name or Jinja text, not a list (got [chatml]). {TEMPLATE_FIX}"),
    ("chat:\n  template: {name: chatml}\n",
     f"chat.template must be a template name or Jinja text, not a mapping (got {{name: chatml}}). {TEMPLATE_FIX}"),
], ids=["near-miss", "capitals", "unknown", "list", "mapping"])
def test_an_unknown_template_names_the_value_the_nearest_name_and_the_fix(yaml_text: str, message: str) -> None:
    assert said(yaml_text, "chat.template") == [message]


@pytest.mark.parametrize("yaml_text, message", [
    ("chat:\n  columns: [question, answer]\n",
     f"chat.columns must map part names to column names, not a list (got [question, answer]). {COLUMNS_FIX}"),
    ("chat:\n  columns: question\n",
     f"chat.columns must map part names to column names, not text (got question). {COLUMNS_FIX}"),
    ("chat:\n  columns:\n",
     "chat.columns has no value. To fix: map each part to its column, e.g. columns: {prompt: question, completion: "
     "answer}, or remove the key to read the columns by their usual names."),
    ("chat:\n  columns: {prompt: [q, r]}\n",
     "chat.columns maps 'prompt' to [q, r], a list, not a column name. To fix: write the name of the one column that "
     "holds the prompt, e.g. prompt: question."),
    ("chat:\n  columns: {true: q}\n",
     "chat.columns maps true, a true/false value, which is not a part of any format. Parts: messages, conversations, "
     "instruction, input, output, system, prompt, completion, text; and tools, the rows' tool definitions, for "
     "messages, sharegpt or prompt_completion rows. To fix: rename the key to one of them."),
], ids=["list", "text", "empty", "list-for-a-column", "bool-key"])
def test_columns_that_are_no_mapping_of_text_say_what_was_written_and_the_fix(yaml_text: str, message: str) -> None:
    assert said(yaml_text, "chat.columns") == [message]


def test_each_column_that_is_no_text_is_named_with_its_part() -> None:
    """Set from code (the YAML loader reads chat.columns' values as text): each entry is said, with its part."""
    config = default_config()
    config.chat.columns = {"completion": 2.5, "messages": {"a": 1}}  # type: ignore[dict-item]
    assert [p.message for p in validate(config, check_files=False) if p.field == "chat.columns"] == [
        "chat.columns maps 'completion' to 2.5, a number, not a column name. To fix: write the name of the one column "
        "that holds the completion, e.g. completion: answer.",
        "chat.columns maps 'messages' to {a: 1}, a mapping, not a column name. To fix: write the name of the one "
        "column that holds the messages, e.g. messages: dialog."]
