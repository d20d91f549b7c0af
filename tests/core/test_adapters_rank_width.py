"""An adapter rank at or above the width of the layers it adapts (helper-56): r 4096 on the 64-wide demo model was
accepted. A LoRA update's rank cannot exceed the smaller side of its layer, and at that rank it trains at least as
many weights as the layer itself, so validate refuses it, naming the widest adapted layer and its width."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.adapters import problems
from finetune_studio.core.config import default_config


def _rank_problems(targets: list[str], r: int) -> list[str]:
    config = default_config()  # builtin:demo: hidden 64, k/v_proj 64 -> 32, MLP 64 <-> 192
    config.adapter.method = "lora"
    config.adapter.target_modules = targets
    config.adapter.r = r
    return [p.message for p in problems(config) if p.field == "adapter.r"]


def test_r_far_above_the_demos_width_is_refused_with_the_width(demo_cache: Path) -> None:
    found = _rank_problems(["all-linear"], 4096)
    assert found == ["r 4,096 is above the width of the widest layer the adapter goes on, q_proj (64 inputs, 64 "
                     "outputs): a LoRA update's rank cannot exceed the smaller of the two (64), and at r 64 or more "
                     "every adapted layer trains at least as many weights as training it in full would, with nothing "
                     "gained. To fix: choose r well below 64 (8 to 64 is usual on models thousands wide, a few on "
                     "one this narrow), or full fine-tuning (method full)."]


@pytest.mark.parametrize("targets, r, width", [
    (["all-linear"], 64, 64),  # equal to the widest adapted layer's smaller side
    (["k_proj", "v_proj"], 32, 32),  # 64 inputs, 32 outputs: the outputs bound the rank
    (["embed_tokens"], 100, 64),  # 1457 rows of 64: the width bounds it
])
def test_r_at_the_adapted_layers_width_is_refused(demo_cache: Path, targets: list[str], r: int, width: int) -> None:
    found = _rank_problems(targets, r)
    assert len(found) == 1 and f"cannot exceed the smaller of the two ({width})" in found[0], found


@pytest.mark.parametrize("targets, r", [(["all-linear"], 63), (["all-linear"], 16), (["k_proj"], 31),
                                        (["k_proj", "gate_proj"], 40)])
def test_r_below_the_width_of_some_adapted_layer_is_accepted(demo_cache: Path, targets: list[str], r: int) -> None:
    assert _rank_problems(targets, r) == []
