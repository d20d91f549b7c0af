"""A mapping setting of TrainingArguments given as text that starts with '{' but is not JSON is said at its field:
TrainingArguments reads such text as JSON, and validate said only "TrainingArguments rejected these settings:
Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", naming no field (helper-118)."""

from __future__ import annotations

import pytest

from tests.helpers import said

FIX = ("To fix: write it as a mapping, one key: value a line under {key}:, or as JSON in quotes, e.g. "
       "'{{\"power\": 2}}'.")


@pytest.mark.parametrize("key, text", [("lr_scheduler_kwargs", "{"), ("lr_scheduler_kwargs", "{power: 2}"),
                                       ("accelerator_config", "{split_batches: true}")])
def test_text_that_is_not_json_is_said_at_its_field(key: str, text: str) -> None:
    found = said(f'training:\n  {key}: "{text}"\n', f"training.{key}")
    assert found == [f"{key} '{text}' is text that starts with '{{', which is read as JSON, and it is not JSON "
                     f"(expecting property name enclosed in double quotes, at character 2). " + FIX.format(key=key)]


def test_json_text_and_a_mapping_pass() -> None:
    assert said('training:\n  lr_scheduler_kwargs: \'{"power": 2}\'\n', "training.lr_scheduler_kwargs") == []
    assert said("training:\n  lr_scheduler_kwargs:\n    power: 2\n", "training.lr_scheduler_kwargs") == []
