"""The numeric training settings are refused out of their range before any model loads, each with its range and
what is usual: a beta of 7 or an epsilon of -1 failed only in torch's optimizer, and a negative weight decay,
max_grad_norm, epoch count or save_total_limit ran without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.validation import validate
from tests.helpers import small_config


def problems_of(config) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in validate(config)]


# field, bad value, message; each alone is one problem
RANGES = [
    ("adam_beta1", 1, "adam_beta1 must be from 0 up to (not including) 1 (got 1); 0.9 is usual."),
    ("adam_beta2", -0.1, "adam_beta2 must be from 0 up to (not including) 1 (got -0.1); 0.999 is usual."),
    ("adam_epsilon", -1, "adam_epsilon must be above 0 (got -1); 1e-8 is usual."),
    ("adam_epsilon", 0, "adam_epsilon must be above 0 (got 0); 1e-8 is usual."),
    ("weight_decay", -5, "weight_decay must be 0 or more (got -5); 0 (none) to 0.1 is usual."),
    ("max_grad_norm", -1, "max_grad_norm must be 0 or more (got -1); 0 turns gradient clipping off, and 1.0 is "
                          "usual."),
    ("label_smoothing_factor", 1, "label_smoothing_factor must be from 0 up to (not including) 1 (got 1); 0 (none) "
                                  "or 0.1 is usual."),
    ("save_total_limit", 0, "save_total_limit must be 1 or more (got 0); leave it empty (null) to keep every "
                            "checkpoint."),
    ("save_steps", 0, "save_steps must be above 0 (got 0); a number of steps, or below 1 a fraction of the run's "
                      "steps; 500 is the default."),
    ("dataloader_num_workers", -2, "dataloader_num_workers must be 0 or more (got -2); 0 loads the data in the "
                                   "training process."),
]


@pytest.mark.parametrize("key, value, message", RANGES, ids=[f"{k}={v}" for k, v, _ in RANGES])
def test_out_of_range_setting_is_one_problem(key: str, value: float, message: str, small_dataset: Path,
                                             runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, **{key: value})
    fix = f" To fix: set {key} to a value in that range, or remove it."
    assert problems_of(config) == [(f"training.{key}", message + fix)]


def test_range_edges_and_empty_values_pass(small_dataset: Path, runs_dir: Path) -> None:
    """0 turns clipping off in transformers (Trainer clips only when max_grad_norm > 0); empty is no limit."""
    config = small_config(small_dataset, runs_dir, adam_beta1=0, adam_beta2=0.5, weight_decay=0, max_grad_norm=0,
                          save_total_limit=None, label_smoothing_factor=0, save_steps=0.5, eval_steps=0.25,
                          warmup_steps=0.1, num_train_epochs=0)  # 0 epochs: max_steps ends the run
    assert problems_of(config) == []


def test_negative_epochs_are_refused_even_when_max_steps_ends_the_run(small_dataset: Path, runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, num_train_epochs=-1)  # max_steps 12
    assert problems_of(config) == [
        ("training.num_train_epochs", "num_train_epochs must be above 0 (got -1); max_steps ends this run, so any "
                                      "positive number will do (the seed uses 3). To fix: set num_train_epochs to 3, "
                                      "or remove it.")]
