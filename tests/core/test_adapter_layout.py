"""core.adapter_layout: the real module names of a model and the exact cost of an adapter, from the meta device."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.adapter_layout import (
    ATTENTION,
    EMBEDDINGS,
    MLP,
    OUTPUT_HEAD,
    adapter_figures,
    module_layout,
    peft_config,
)
from finetune_studio.core.config import AdapterConfig, ModelConfig
from finetune_studio.core.errors import ModelError

DEMO = ModelConfig(name_or_path="builtin:demo")
# The demo model (core/demo.py): hidden 64, intermediate 192, 2 layers, 4 heads / 2 KV heads of 16, tied embeddings.
DEMO_HIDDEN, DEMO_INTER, DEMO_LAYERS, DEMO_Q, DEMO_KV = 64, 192, 2, 4 * 16, 2 * 16


def _demo_vocab() -> int:
    from finetune_studio.core.demo import demo_model_path

    return json.loads((demo_model_path() / "config.json").read_text())["vocab_size"]


def test_demo_layout_has_the_real_module_names_in_groups(demo_cache: Path) -> None:
    layout = module_layout(DEMO)
    assert layout.groups == {
        ATTENTION: ["q_proj", "k_proj", "v_proj", "o_proj"],
        MLP: ["gate_proj", "up_proj", "down_proj"],
        EMBEDDINGS: ["embed_tokens"],
        OUTPUT_HEAD: ["lm_head"],
    }
    assert layout.module_names == ["embed_tokens", "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                   "down_proj", "lm_head"]
    assert layout.all_linear == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert layout.model_type == "qwen3" and layout.dtype == "float32"


def test_demo_total_params_counts_tied_embeddings_once(demo_cache: Path) -> None:
    vocab = _demo_vocab()
    per_layer = (DEMO_HIDDEN * (DEMO_Q + 2 * DEMO_KV) + DEMO_Q * DEMO_HIDDEN  # q k v o
                 + 3 * DEMO_HIDDEN * DEMO_INTER  # gate up down
                 + 2 * 16 + 2 * DEMO_HIDDEN)  # q/k norms, two layer norms
    assert module_layout(DEMO).total_params == vocab * DEMO_HIDDEN + DEMO_LAYERS * per_layer + DEMO_HIDDEN


def _lora_params(r: int) -> int:
    """r * (in + out) for every linear layer of the demo model but the head."""
    shapes = [(DEMO_HIDDEN, DEMO_Q), (DEMO_HIDDEN, DEMO_KV), (DEMO_HIDDEN, DEMO_KV), (DEMO_Q, DEMO_HIDDEN),
              (DEMO_HIDDEN, DEMO_INTER), (DEMO_HIDDEN, DEMO_INTER), (DEMO_INTER, DEMO_HIDDEN)]
    return DEMO_LAYERS * sum(r * (i + o) for i, o in shapes)


def test_demo_lora_figures_are_exact(demo_cache: Path) -> None:
    figures = adapter_figures(DEMO, AdapterConfig(method="lora", r=16))
    base = module_layout(DEMO).total_params
    assert figures.trainable == _lora_params(16) == 38912
    assert figures.total == base + figures.trainable
    assert figures.percent == pytest.approx(100 * 38912 / (base + 38912))
    assert adapter_figures(DEMO, AdapterConfig(method="lora", r=4)).trainable == _lora_params(4)
    q_v = adapter_figures(DEMO, AdapterConfig(method="lora", r=8, target_modules=["q_proj", "v_proj"]))
    assert q_v.trainable == DEMO_LAYERS * 8 * ((DEMO_HIDDEN + DEMO_Q) + (DEMO_HIDDEN + DEMO_KV))
    # DoRA adds one magnitude per output feature of each adapted layer
    outputs = DEMO_LAYERS * (DEMO_Q + 2 * DEMO_KV + DEMO_HIDDEN + 2 * DEMO_INTER + DEMO_HIDDEN)
    assert adapter_figures(DEMO, AdapterConfig(method="dora", r=16)).trainable == _lora_params(16) + outputs
    # QLoRA trains the same adapter
    assert adapter_figures(DEMO, AdapterConfig(method="qlora", r=16)).trainable == figures.trainable
    full = adapter_figures(DEMO, AdapterConfig(method="full"))
    assert (full.trainable, full.total, full.percent, full.size_bytes) == (base, base, 100.0, 4 * base)


@pytest.mark.slow
@pytest.mark.parametrize("adapter", [
    AdapterConfig(method="lora"),
    AdapterConfig(method="dora", r=4, rslora=True),
    AdapterConfig(method="lora", r=8, target_modules=["q_proj", "v_proj"], modules_to_save=["lm_head"]),
], ids=["lora-all-linear", "dora", "lora-qv-save-head"])
def test_figures_equal_a_real_peft_model_and_its_saved_file(demo_cache: Path, tmp_path: Path,
                                                            adapter: AdapterConfig) -> None:
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from finetune_studio.core.model import resolve_model

    real = get_peft_model(AutoModelForCausalLM.from_pretrained(resolve_model("builtin:demo")), peft_config(adapter))
    real.save_pretrained(tmp_path)
    figures = adapter_figures(DEMO, adapter)
    assert (figures.trainable, figures.total) == real.get_nb_trainable_parameters()
    assert figures.size_bytes == (tmp_path / "adapter_model.safetensors").stat().st_size


def test_unknown_target_module_says_which_exist(demo_cache: Path) -> None:
    with pytest.raises(ModelError, match="q_proj, k_proj") as caught:
        adapter_figures(DEMO, AdapterConfig(method="lora", target_modules=["query"]))
    assert "To fix" in str(caught.value)


def _qwen3_06b_folder(tmp_path: Path, layers: int) -> Path:
    from transformers import Qwen3Config

    folder = tmp_path / f"qwen3-0.6b-shape-{layers}"
    Qwen3Config(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=layers,
                num_attention_heads=16, num_key_value_heads=8, head_dim=128, tie_word_embeddings=True,
                dtype="bfloat16").save_pretrained(folder)
    assert not any(p.suffix == ".safetensors" for p in folder.iterdir())  # a config and nothing else
    return folder


def test_qwen3_06b_shaped_config_groups(tmp_path: Path) -> None:
    layout = module_layout(ModelConfig(name_or_path=str(_qwen3_06b_folder(tmp_path, 2))))
    assert layout.groups == {
        ATTENTION: ["q_proj", "k_proj", "v_proj", "o_proj"],
        MLP: ["gate_proj", "up_proj", "down_proj"],
        EMBEDDINGS: ["embed_tokens"],
        OUTPUT_HEAD: ["lm_head"],
    }
    assert layout.dtype == "bfloat16"
    assert layout.all_linear == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.mark.slow
def test_qwen3_06b_shaped_config_counts_as_published(tmp_path: Path) -> None:
    model = ModelConfig(name_or_path=str(_qwen3_06b_folder(tmp_path, 28)))
    assert module_layout(model).total_params == 596_049_920  # Qwen3-0.6B's published count (tied embeddings)
    figures = adapter_figures(model, AdapterConfig(method="lora", r=16))
    per_layer = 16 * ((1024 + 2048) + 2 * (1024 + 1024) + (2048 + 1024) + 2 * (1024 + 3072) + (3072 + 1024))
    assert figures.trainable == 28 * per_layer
    assert figures.size_bytes > 4 * figures.trainable  # peft keeps adapters in float32 over a bf16 base


def test_a_hub_id_that_is_not_cached_says_so_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.errors import FinetuneError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FinetuneError, match="offline mode is on"):
        module_layout(ModelConfig(name_or_path="nobody-here/not-cached-model"))


def test_a_folder_without_config_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no config.json"):
        module_layout(ModelConfig(name_or_path=str(tmp_path)))


def test_ticked_names_and_target_modules_round_trip(demo_cache: Path) -> None:
    from finetune_studio.core.adapter_layout import selected_names, targets_for

    layout = module_layout(DEMO)
    assert selected_names(layout, ["all-linear"]) == (layout.all_linear, [])
    assert selected_names(layout, ["v_proj", "q_proj", "query"]) == (["q_proj", "v_proj"], ["query"])
    assert targets_for(layout, list(reversed(layout.all_linear))) == ["all-linear"]
    assert targets_for(layout, ["lm_head", "q_proj"]) == ["q_proj", "lm_head"]
    assert targets_for(layout, layout.all_linear + ["lm_head"]) == layout.all_linear + ["lm_head"]


def test_building_the_figures_of_a_bfloat16_config_never_changes_torchs_default_dtype(
        demo_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window validates and estimates a config while a run trains in another thread of the same process.
    transformers' from_config(dtype=...) sets torch's default dtype for the whole process while it builds; a run
    that created a tensor meanwhile changed its losses, or failed on mixed dtypes (issue 12's rule: nothing the
    window does may touch state the run shares). Every meta model is built without it."""
    import torch

    from finetune_studio.core import adapter_layout, estimate
    from finetune_studio.core.config import RunConfig

    adapter_layout._cached_layout.cache_clear()
    estimate._pass_figures.cache_clear()
    estimate._tied_embedding_params.cache_clear()
    estimate._quantized_params_cached.cache_clear()
    monkeypatch.setattr(estimate, "_kept_passes", lambda: {})  # trace the pass here, as a first launch does
    changes: list[Any] = []
    real = torch.set_default_dtype
    monkeypatch.setattr(torch, "set_default_dtype", lambda dtype: (changes.append(dtype), real(dtype)))
    model = ModelConfig(name_or_path="builtin:demo", dtype="bfloat16")
    figures = adapter_figures(model, AdapterConfig(method="lora"))
    config = RunConfig()
    config.model, config.adapter.method = model, "lora"
    made = estimate.estimate(config)
    built = adapter_layout.meta_model(model)
    assert changes == []
    assert figures.trainable > 0 and made.activations > 0
    assert {p.dtype for p in built.parameters()} == {torch.bfloat16}
    assert built.get_output_embeddings().weight is built.get_input_embeddings().weight  # tied: still one tensor
