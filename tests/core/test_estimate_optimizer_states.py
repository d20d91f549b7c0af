"""The estimate's optimizer states against torch's: the optimizer transformers builds from training.optim and
training.optim_args, stepped once on the demo model, holds exactly the bytes the estimate counts. SGD keeps a
momentum buffer only where momentum is not 0 (optim_args "momentum=0" keeps none)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.estimate import estimate


def real_state_bytes(optim: str, optim_args: str, tmp_path: Path) -> int:
    """The bytes of the per-parameter state tensors of the optimizer the Trainer builds, after one step."""
    import torch
    from transformers import Trainer, TrainingArguments

    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_model

    model = load_model(ModelConfig(name_or_path="builtin:demo"))
    args = TrainingArguments(output_dir=str(tmp_path), optim=optim, optim_args=optim_args or None, use_cpu=True,
                             report_to=[])
    cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model)
    optimizer = cls(model.parameters(), **kwargs)
    for parameter in model.parameters():
        parameter.grad = torch.ones_like(parameter)
    optimizer.step()
    return sum(value.numel() * value.element_size() for state in optimizer.state.values()
               for value in state.values() if torch.is_tensor(value) and value.dim() > 0)  # not the step counters


@pytest.mark.parametrize(("optim", "optim_args", "states"), [
    ("sgd", "momentum=0", 0),
    ("sgd", "momentum=0.0, dampening=0.1", 0),
    ("sgd", "", 0),
    ("sgd", "momentum=0.9", 1),
    ("sgd", "momentum=0.9,nesterov=true", 1),
    ("rmsprop", "", 1),
    ("rmsprop", "momentum=0", 1),
    ("rmsprop", "momentum=0.9", 2),
    ("rmsprop", "momentum=0.9,centered=true", 3),
    ("adagrad", "", 1),
    ("adamw_torch", "", 2),
])
def test_optimizer_states_are_what_torch_keeps(demo_cache: Path, tmp_path: Path, optim: str, optim_args: str,
                                               states: int) -> None:
    config = default_config()
    config.training.update({"optim": optim, "optim_args": optim_args})
    result = estimate(config)
    real = real_state_bytes(optim, optim_args, tmp_path)
    assert result.optimizer == real == states * result.total_params * 4  # float32 weights, every one trained
