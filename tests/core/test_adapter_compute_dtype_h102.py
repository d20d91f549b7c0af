"""adapter.compute_dtype refused with the shape every other choice refusal has (core.validation.choice_message):
the value as written, a guess where one is near, and one list of the choices. It wrote its own opening
("must be auto, bf16 or fp16 (got 'BF16').") before choice_fix's ending, so after a guess the three choices were
listed twice."""

from __future__ import annotations

import pytest

from tests.helpers import said as said_at

LORA = "adapter:\n  method: lora\n"


def said(yaml_text: str) -> list[str]:
    return said_at(yaml_text, "adapter.compute_dtype")


@pytest.mark.parametrize("written, message", [
    ("BF16", "compute_dtype 'BF16' is not a compute precision. Did you mean 'bf16'? To fix: write bf16 (the choices: "
             "auto, bf16, fp16)."),
    ("bf32", "compute_dtype 'bf32' is not a compute precision. To fix: write one of auto, bf16, fp16."),
    ("[bf16]", "compute_dtype must be a precision name, not a list (got [bf16]). To fix: write one of auto, bf16, "
               "fp16."),
    ("null", "compute_dtype has no value. To fix: write one of auto, bf16, fp16."),
    ("''", "compute_dtype '' is not a compute precision. To fix: write one of auto, bf16, fp16."),
], ids=["case", "unknown", "list", "null", "empty"])
def test_compute_dtype_lists_its_choices_once(written: str, message: str) -> None:
    assert said(f"{LORA}  compute_dtype: {written}\n") == [message]
    assert message.count("fp16") == 1


def test_a_valid_compute_dtype_is_not_refused() -> None:
    assert said(f"{LORA}  compute_dtype: bf16\n") == []
