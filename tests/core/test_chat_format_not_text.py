"""chat.format written as a list (`format: [text]`) or a mapping is refused by validate in words; the chat warnings
looked it up in a dict first, and `validate` and `train` ended in 'Training failed: TypeError: unhashable type:
'list''."""

from __future__ import annotations

import pytest

from finetune_studio.core import chat, validation
from finetune_studio.core.config import RunConfig


@pytest.mark.parametrize(("value", "written"), [(["text"], "a list (got [text])"),
                                               ({"messages": 1}, "a mapping (got {messages: 1})")])
def test_a_format_that_is_no_text_is_a_problem_and_no_crash(value: object, written: str) -> None:
    config = RunConfig()
    config.chat.format = value
    assert chat.warnings_for(config) == []
    assert validation.warnings_for(config) == []
    found = [(p.field, p.message) for p in validation.validate(config, check_files=False) if p.field == "chat.format"]
    assert found == [("chat.format", f"chat.format must be a name, not {written}. To fix: write one of auto, text, "
                                     "prompt_completion, alpaca, messages, sharegpt.")]
