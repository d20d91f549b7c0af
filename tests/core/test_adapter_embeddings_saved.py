"""An adapter on embed_tokens (a LoRA of the embedding) saved the base's whole frozen embedding beside it, with
peft's raw "UserWarning: Setting `save_embedding_layers` to `True` as embedding layers found in `target_modules`."
in the run's log: 93,248 of the demo adapter's 100,356 parameters, ~311 MB per checkpoint for Qwen3-0.6B in bf16.
The embeddings are saved only when the run grew the vocabulary (core.adapters.saves_embeddings), and the Model tab's
size figure follows the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors import safe_open

from finetune_studio.core.adapter_layout import adapter_figures
from finetune_studio.core.config import AdapterConfig, ModelConfig
from finetune_studio.core.training import run
from tests.helpers import SAMPLE, read_events, small_config

pytestmark = pytest.mark.slow


def test_a_lora_on_the_embedding_saves_its_adapter_only_and_says_nothing(tmp_path: Path) -> None:
    data = tmp_path / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:40]) + "\n", encoding="utf-8")
    config = small_config(data, tmp_path / "runs", max_steps=2, eval_strategy="no", save_strategy="steps",
                          save_steps=2, load_best_model_at_end=False)
    config.adapter.method = "lora"
    config.adapter.r = 4
    config.adapter.target_modules = ["q_proj", "embed_tokens"]
    result = run(config)
    assert result.state == "finished", result.message
    run_dir = Path(result.run_dir)
    said = [e["message"] for e in read_events(run_dir, "warning")]
    assert not [m for m in said if "save_embedding_layers" in m], said
    for folder in (run_dir / "model", run_dir / "checkpoint-2"):
        with safe_open(str(folder / "adapter_model.safetensors"), "pt") as saved:
            keys = sorted(saved.keys())
        assert not [k for k in keys if k.endswith("embed_tokens.weight") or "base_layer" in k], keys
        assert [k for k in keys if "embed_tokens.lora_embedding" in k], keys
    assert json.loads((run_dir / "model" / "adapter_config.json").read_text())["r"] == 4
    figures = adapter_figures(ModelConfig(), AdapterConfig(method="lora", r=4,
                                                          target_modules=["q_proj", "embed_tokens"]))
    assert figures.size_bytes == (run_dir / "model" / "adapter_model.safetensors").stat().st_size
