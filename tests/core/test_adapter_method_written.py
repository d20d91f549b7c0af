"""adapter.method that is not one of the methods is shown as the file writes it: a list was said in Python's
spelling, "(got ['a', 'b'])" (helper-110's finding)."""

from __future__ import annotations

from tests.helpers import said


def test_a_list_for_the_method_is_shown_as_written() -> None:
    assert said("adapter:\n  method: [a, b]\n", "adapter.method") == [
        "method must be one of full, lora, qlora, dora (got [a, b]). To fix: write lora for an adapter, or full to "
        "train every weight."]


def test_a_word_for_the_method_is_still_quoted() -> None:
    assert said("adapter:\n  method: fulll\n", "adapter.method")[0].startswith(
        "method must be one of full, lora, qlora, dora (got 'fulll').")
