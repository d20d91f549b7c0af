"""core.training.describe_failure's out-of-memory text proposes what core.advice proposes: a batch that divides
the old one, accumulation within validation's limit, and no batch change at batch 1."""

from __future__ import annotations

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.training import describe_failure


class OutOfMemoryError(RuntimeError):
    pass


@pytest.mark.parametrize(("batch", "accumulation", "expected"), [
    (8, 1, "Ran out of memory at batch size 8. Try batch size 4 with gradient accumulation 2, turn on activation "
           "checkpointing, or lower max_length (512)."),
    (7, 6000, "Ran out of memory at batch size 7. Try batch size 1 with gradient accumulation 10000, turn on "
              "activation checkpointing, or lower max_length (512)."),
    (6, 3, "Ran out of memory at batch size 6. Try batch size 3 with gradient accumulation 6, turn on activation "
           "checkpointing, or lower max_length (512)."),
    (1, 4, "Ran out of memory at batch size 1. Turn on activation checkpointing, or lower max_length (512)."),
])
def test_the_lowering_said_is_one_validation_takes(batch: int, accumulation: int, expected: str) -> None:
    config = default_config()
    config.training.update(per_device_train_batch_size=batch, gradient_accumulation_steps=accumulation)
    assert describe_failure(OutOfMemoryError("CUDA out of memory."), config) == expected
