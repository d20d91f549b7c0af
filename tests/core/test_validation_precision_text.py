"""bf16: "no" (or fp16: "no") is one problem, that the value must be true or false; it was also taken as bf16
asked for on a machine without it, so two problems said opposite things."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.validation import validate
from tests.helpers import small_config


def problems_of(config) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in validate(config)]


@pytest.mark.parametrize("key", ["bf16", "fp16"])
def test_precision_flag_given_as_text_is_one_problem(key: str, small_dataset: Path, runs_dir: Path) -> None:
    """bf16: "no" was refused twice: as text, and as bf16 asked for on a machine without it."""
    config = small_config(small_dataset, runs_dir, **{key: "no"})
    assert problems_of(config) == [(f"training.{key}", f"{key} must be true or false (got 'no'). To fix: write "
                                                              "true or false (yes, no, on and off are read as text).")]
