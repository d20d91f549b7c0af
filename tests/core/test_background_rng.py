"""What the window computes in the background while a run may be training in the same process (the Model tab's
module layout and adapter figures, the Hardware tab's memory estimate) never draws from torch's global random
generator: the run's dropout shares it, so a draw there would change the run's losses (issue 12's first rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import adapter_layout, estimate
from finetune_studio.core.config import default_config


@pytest.mark.parametrize("method", ["full", "lora", "dora"])
def test_layout_figures_and_estimate_leave_the_global_generator_alone(demo_cache: Path, method: str) -> None:
    import torch

    config = default_config()
    config.adapter.method = method
    config.adapter.r = 8 if method == "dora" else 16  # not cached by an earlier test: the work really runs
    adapter_layout._cached_figures.cache_clear()
    estimate._pass_figures.cache_clear()
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    layout = adapter_layout.module_layout(config.model)
    figures = adapter_layout.adapter_figures(config.model, config.adapter)
    found = estimate.estimate(config)
    assert torch.equal(torch.rand(3), expected)
    assert "q_proj" in layout.module_names and figures.trainable > 0 and found is not None
