"""A LoRA on a layer the base model ties to another (the demo ties embed_tokens and lm_head, and the Model tab
offers both as targets) exports a merged model that computes what the adapter on its base computes: merging it
into the one shared tensor changed both layers, and the merged model's logits were up to 2.56 away from the
adapter's (helper-56, D5). A push's file list (merged_files) names the untied head's weight the export writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.export import export_merged, merged_files
from tests.helpers import SAMPLE, small_config

PROMPTS = ["Aries: today the stars", "Leo: love is"]


def _tied_run(root: Path, targets: list[str]) -> Path:
    """A real short LoRA run of the demo recipe (r 4, a learning rate high enough to move the weights in 3 steps)
    with these target modules."""
    from finetune_studio.core.training import run

    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:48]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=3, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False, learning_rate=1e-2)
    config.adapter.method = "lora"
    config.adapter.r = 4
    config.adapter.target_modules = targets
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


def _logits(model, tokenizer):
    import torch

    with torch.no_grad():
        return torch.stack([model(**tokenizer(p, return_tensors="pt")).logits[0, -1] for p in PROMPTS])


@pytest.mark.slow
@pytest.mark.parametrize("targets", [["q_proj", "lm_head"], ["embed_tokens"]])
def test_merged_model_of_a_tied_target_computes_what_the_adapter_does(targets: list[str], demo_cache: Path,
                                                                       tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune_studio.core.adapters import load_adapter

    run_dir = _tied_run(tmp_path, targets)
    model_dir = run_dir / "model"
    base_path = json.loads((model_dir / "adapter_config.json").read_text())["base_model_name_or_path"]
    base = AutoModelForCausalLM.from_pretrained(base_path)
    assert base.lm_head.weight is base.model.embed_tokens.weight  # the demo ties them: the case at hand
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    adapter = load_adapter(base, model_dir).eval()
    expected = _logits(adapter, tokenizer)
    with adapter.disable_adapter():
        untrained = _logits(adapter, tokenizer)
    assert (expected - untrained).abs().max() > 1e-2  # the run's adapter changed the answers: a real test

    result = export_merged(run_dir, tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(str(result.out_dir)).eval()
    got = _logits(merged, tokenizer)
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()
    assert "tied weights" in result.message and "two separate weights" in result.message  # the bigger files said
    assert merged.lm_head.weight.data_ptr() != merged.model.embed_tokens.weight.data_ptr()
    assert json.loads((result.out_dir / "config.json").read_text())["tie_word_embeddings"] is False

    written = {p.name: p.stat().st_size for p in result.out_dir.iterdir() if p.suffix == ".safetensors"}
    listed = {name: size for name, size in merged_files(run_dir) if name.endswith(".safetensors")}
    assert listed == written  # the push's list names the head's own weight, at the size the export writes
