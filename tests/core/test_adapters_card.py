"""The model card and push plan of an adapter run (no network): library_name peft, base_model, the method's
settings, a peft usage snippet, no local path in the uploaded adapter_config.json, and the merged form's plan."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from finetune_studio.core.config import load_config, save_config
from tests.hub_fixtures import make_finished_run, safetensors_bytes


def adapter_run(tmp_path: Path, model: str | None = None) -> tuple[Path, Path]:
    """A finished run as a LoRA run leaves it: model/ holds the adapter; its base is a local folder."""
    base = tmp_path / "base-model"
    base.mkdir()
    (base / "config.json").write_text("{}")
    (base / "model.safetensors").write_bytes(b"w" * 4096)
    run_dir = make_finished_run(tmp_path / "runs", model=model)
    config, _ = load_config(run_dir / "config.yaml")
    config.model.name_or_path = model or str(base)
    config.adapter.method, config.adapter.r, config.adapter.alpha = "lora", 8, 32
    config.adapter.target_modules = ["q_proj", "v_proj"]
    save_config(config, run_dir / "config.yaml")
    model_dir = run_dir / "model"
    for name in ("model.safetensors", "config.json", "generation_config.json"):
        (model_dir / name).unlink()
    (model_dir / "adapter_model.safetensors").write_bytes(safetensors_bytes(b"a" * 100))  # whole: a push checks
    (model_dir / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": 8, "base_model_name_or_path": model or str(base)}))
    return run_dir, base


def meta_of(card: str) -> dict:
    return yaml.safe_load(card.split("---\n")[1])


def test_adapter_card_says_peft_base_model_and_the_method(tmp_path: Path) -> None:
    from finetune_studio.core.model_card import render_model_card

    run_dir, _ = adapter_run(tmp_path, model="Qwen/Qwen3-0.6B")
    card = render_model_card(run_dir, repo_id="alice/lora")
    meta = meta_of(card)
    assert meta["library_name"] == "peft" and meta["base_model"] == "Qwen/Qwen3-0.6B"
    assert meta["tags"] == ["finetune-studio", "text-generation", "lora", "peft"]
    assert "- Method: LoRA (PEFT)" in card and "- Rank r: 8" in card
    assert "- Alpha: 32 (updates scaled by 4 = alpha / r)" in card and "- Target modules: q_proj, v_proj" in card
    assert 'AutoPeftModelForCausalLM.from_pretrained("alice/lora")' in card and "pipeline(" not in card
    assert "- PEFT: 0.21.2" in card  # the version the adapter was trained with
    merged = render_model_card(run_dir, repo_id="alice/merged", form="model")
    assert meta_of(merged)["library_name"] == "transformers" and "merge_and_unload" in merged
    assert 'pipeline("text-generation", model="alice/merged")' in merged


def test_push_plan_of_an_adapter_names_no_local_path(tmp_path: Path) -> None:
    from finetune_studio.core.hub import MERGED_UNLISTED, _plan, plan_push

    run_dir, base = adapter_run(tmp_path)
    items = {item.path_in_repo: item for item in _plan(run_dir)}
    uploaded = json.loads(items["adapter_config.json"].content)
    assert uploaded["base_model_name_or_path"] == "base-model"  # the folder's name, never its path
    assert str(tmp_path) not in items["README.md"].content.decode()
    plan = dict(plan_push(run_dir))
    assert {"adapter_model.safetensors", "adapter_config.json", "README.md"} <= set(plan)
    merged = dict(plan_push(run_dir, form="merged"))
    assert "adapter_model.safetensors" not in merged and "adapter_config.json" not in merged
    # Its config.json says nothing about the layers, so the merged files cannot be named before the merge: the list
    # says so, with the local base's weight files as their size, and the push can still go ahead.
    (unlisted, size), = [(name, size) for name, size in merged.items() if name.startswith(MERGED_UNLISTED)]
    assert size == (base / "model.safetensors").stat().st_size and "README.md" in merged
