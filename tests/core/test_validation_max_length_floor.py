"""A max_length that cuts every row to one token trains nothing (a causal LM's loss pairs each token with the next):
validate refuses it with why and what to set, instead of a run with loss 0 and advice about the learning rate."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core.validation import validate
from tests.helpers import small_config


def problems_of(config) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in validate(config)]


def test_max_length_must_leave_a_token_to_train(small_dataset: Path, runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir)
    config.dataset.max_length = 1
    assert problems_of(config) == [
        ("dataset.max_length", "max_length 1 cuts every row to a single token, and a language model learns each "
                               "token from the ones before it, so a 1-token row trains nothing (the loss stays 0). "
                               "To fix: set max_length to 2 or more; the seed uses 512.")]
    config.dataset.max_length = 2
    assert problems_of(config) == []
    config.dataset.max_length, config.dataset.truncation = 1, False  # rows are not cut: nothing to refuse
    assert problems_of(config) == []
