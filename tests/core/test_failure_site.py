"""The failure message names the model's forward pass only when the model was actually called: an error that
Trainer.compute_loss raises around it (accelerate's shared state, say) is reported as what it is, with where it
was raised, and never blamed on the model."""

from __future__ import annotations

from pathlib import Path

import torch

from finetune_studio.core.advice import failure_site, raised_in, runtime_failure
from finetune_studio.core.config import default_config
from finetune_studio.core.training import describe_failure


def _raised_by(source: str, **names: object) -> BaseException:
    """Run `compute_loss(model)` defined in a module that claims to be transformers.trainer, as the real one is."""
    scope: dict = {"__name__": "transformers.trainer", **names}
    exec(compile(source, "transformers/trainer.py", "exec"), scope)
    try:
        scope["compute_loss"](names.get("model"))
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return exc
    raise AssertionError("nothing was raised")


class Broken(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError("shapes (8, 64) and (8, 65) do not match")


def test_an_error_inside_the_models_forward_is_the_forward_pass() -> None:
    exc = _raised_by("def compute_loss(model):\n    return model(1)\n", model=Broken())
    site = failure_site(exc)
    assert site.forward and site.model == "Broken"
    advice = runtime_failure(exc, default_config(), Path("/nonexistent-run"), {"step": 3, "phase": "train"})
    assert advice is not None and str(advice).startswith("The model's forward pass (Broken) raised ValueError")


def test_an_error_beside_the_model_is_not_blamed_on_it() -> None:
    source = ("def compute_loss(model):\n"
              "    raise AttributeError('`AcceleratorState` object has no attribute `distributed_type`')\n")
    exc = _raised_by(source, model=Broken())
    site = failure_site(exc)
    assert not site.forward and site.model is None
    assert runtime_failure(exc, default_config(), Path("/nonexistent-run"), {"step": 3, "phase": "train"}) is None
    assert raised_in(exc) == "transformers.trainer"
    assert describe_failure(exc, default_config()) == (
        "Training failed: AttributeError: `AcceleratorState` object has no attribute `distributed_type` "
        "(raised in transformers.trainer)")
