"""The window's number fields and validate say the same of a number typed with a comma: one rule,
core.config.comma_fix, which the form calls (gui.forms.common had its own copy, kept in step by this test's cases)."""

from __future__ import annotations

import pytest

from finetune_studio.core.config import comma_fix, demo_preset
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms import common

CASES = ["1,5e-4", ",5", "-,5", "8,", "8 ,", "1,000", "12,345,678", "-1,000", "2,5", "1,5", "1,2,3", "a,b", "1.5",
         "1,5.0", "1e3,", "0,0001", "1,000.5", "3,", ",", "1,5e400"]


def test_the_form_calls_cores_comma_rule() -> None:
    assert common._comma_fix is comma_fix


@pytest.mark.parametrize("integer", [False, True])
def test_the_forms_number_message_carries_cores_words(integer: bool) -> None:
    for text in CASES:
        fix = comma_fix(text, integer)
        said = common.number_problem(text, integer)
        if fix:
            assert said == f"'{text.strip()}' is not a number: {fix}", text


def test_validate_says_the_forms_fix_for_a_learning_rate_with_a_comma() -> None:
    config = demo_preset()
    config.training["learning_rate"] = "1,5e-4"
    messages = [p.message for p in validate(config) if p.field == "training.learning_rate"]
    fix = comma_fix("1,5e-4")
    assert len(messages) == 1 and fix is not None
    assert fix[0].upper() + fix[1:] in messages[0]
    assert common.number_problem("1,5e-4") == f"'1,5e-4' is not a number: {fix}"
