"""QLoRA: refused before anything loads where 4-bit cannot run, and, where the installed bitsandbytes runs 4-bit
on this machine (its CPU backend from 0.48 on, or a CUDA GPU), trained end to end on the demo model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from finetune_studio.core import adapters
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.training import run
from tests.helpers import small_config


def qlora_config(dataset: Path, runs: Path, name: str):
    config = small_config(dataset, runs, max_steps=4, eval_strategy="no", save_steps=2,
                          load_best_model_at_end=False, logging_steps=1)
    config.name = name
    config.adapter.method = "qlora"
    config.adapter.r = 4
    return config


def test_qlora_is_refused_before_a_run_folder_exists_when_bitsandbytes_is_missing(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(adapters.importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real(name, *a))
    with pytest.raises(ConfigError) as caught:
        run(qlora_config(small_dataset, runs_dir, "refused"))
    messages = {p.field: p.message for p in caught.value.problems}
    assert "bitsandbytes" in messages["adapter.method"] and "choose LoRA" in messages["adapter.method"]
    assert not (runs_dir / "refused").exists()  # nothing was created, nothing loaded


needs_4bit = pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is None or adapters.qlora_problem()
                                is not None, reason="bitsandbytes is not installed, or cannot run 4-bit here")


@pytest.mark.slow
@needs_4bit
def test_qlora_trains_on_4bit_weights_and_exports_merged(demo_cache: Path, small_dataset: Path,
                                                         runs_dir: Path, tmp_path: Path) -> None:
    from finetune_studio.core import model as models
    from finetune_studio.core.export import export_merged

    config = qlora_config(small_dataset, runs_dir, "qlora")
    loaded = models.load_model(config.model, config.adapter)
    assert getattr(loaded, "is_loaded_in_4bit", False)
    assert type(loaded.get_submodule("model.layers.0.self_attn.q_proj")).__name__ == "Linear4bit"
    result = run(config)
    assert result.state == "finished"
    assert (result.model_dir / "adapter_model.safetensors").is_file()
    assert not (result.run_dir / "checkpoint-2" / "model.safetensors").exists()
    merged = export_merged(result.run_dir, tmp_path / "merged")
    assert "loaded unquantized" in merged.message and (merged.out_dir / "model.safetensors").is_file()
