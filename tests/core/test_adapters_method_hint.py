"""An adapter method written as the form shows it ('LoRA', 'QLoRA'), with spaces, or a near miss ('lroa') is refused
with the name to write; it said only 'method must be one of full, lora, qlora, dora (got 'LoRA').'."""

from __future__ import annotations

import pytest

from finetune_studio.core import adapters
from finetune_studio.core.config import default_config


def _method_message(method: object) -> str:
    config = default_config()
    config.adapter.method = method
    [problem] = adapters.problems(config, check_files=False)
    assert problem.field == "adapter.method"
    return problem.message


@pytest.mark.parametrize("written, meant", [("LoRA", "lora"), ("QLoRA", "qlora"), (" DoRA ", "dora"),
                                            ("lroa", "lora"), ("Full", "full")])
def test_a_method_in_other_case_or_a_near_miss_gets_the_name_to_write(written: str, meant: str) -> None:
    assert _method_message(written) == (f"method must be one of full, lora, qlora, dora (got {written!r}). To fix: "
                                        f"write {meant} (method names are lower case).")


@pytest.mark.parametrize("written, shown", [("bogus", "'bogus'"), (["lora"], "[lora]"), (3, "3")])
def test_anything_else_keeps_the_list_alone(written: object, shown: str) -> None:
    assert _method_message(written) == (f"method must be one of full, lora, qlora, dora (got {shown}). To fix: "
                                        "write lora for an adapter, or full to train every weight.")
