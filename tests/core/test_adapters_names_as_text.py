"""`target_modules: q_proj` (a YAML scalar, not a list) reaches the config as the text 'q_proj'. It was never read
as characters or passed to peft (validate refuses anything but a list), but the refusal did not say why a name the
model has is refused: it now says the value is text and gives the list to write."""

from __future__ import annotations

import pytest

from finetune_studio.core import adapters
from finetune_studio.core.config import from_yaml
from finetune_studio.core.validation import validate

LIST_RULE = "target_modules must be a list of module names, e.g. [q_proj, v_proj], or [all-linear] (got {})."


def _messages(yaml_text: str) -> dict[str, str]:
    config, _notices = from_yaml(f"adapter:\n  method: lora\n{yaml_text}")
    return {p.field: p.message for p in validate(config, check_files=False) if p.field.startswith("adapter.")}


@pytest.mark.parametrize(("written", "said"), [
    ("q_proj", " It is text. To fix: write it as a list, even for one module: [q_proj]."),
    ("q_proj, v_proj", " It is text. To fix: write it as a list, even for one module: [q_proj, v_proj]."),
    ("all-linear", " It is text. To fix: write it as a list, even for one module: [all-linear]."),
])
def test_a_name_written_as_text_is_refused_with_the_list_to_write(written: str, said: str) -> None:
    assert _messages(f"  target_modules: {written}\n") == {"adapter.target_modules": LIST_RULE.format(repr(written))
                                                            + said}


def test_modules_to_save_as_text_gets_the_same_words() -> None:
    assert _messages("  modules_to_save: lm_head\n") == {
        "adapter.modules_to_save": "modules_to_save must be a list of module names, e.g. [lm_head], or empty (got "
                                   "'lm_head'). It is text. To fix: write it as a list, even for one module: "
                                   "[lm_head]."}


def test_other_values_keep_the_plain_rule() -> None:
    config, _notices = from_yaml("adapter:\n  method: lora\n")
    config.adapter.target_modules = [1, 2]
    fix = " To fix: write a list of names, such as [q_proj, v_proj]."
    assert {p.field: p.message for p in adapters.problems(config, check_files=False)} == {
        "adapter.target_modules": LIST_RULE.format("[1, 2]") + fix}
    config.adapter.target_modules = "  "  # blank text: no list to suggest
    assert {p.field: p.message for p in adapters.problems(config, check_files=False)} == {
        "adapter.target_modules": LIST_RULE.format("'  '") + fix}
