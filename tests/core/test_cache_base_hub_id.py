"""A base model picked from the Hugging Face cache (…/models--OWNER--NAME/snapshots/REVISION) is named by its Hub
id where a push names it: adapter_config.json said base_model_name_or_path REVISION (the snapshot's commit hash), so
the adapter pushed could not be loaded from the Hub, and the card named "a local model folder (`abc123…`)" with no
base_model in its front matter (helper-119's finding)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.hub import _public_adapter_config
from finetune_studio.core.model_card import _base_model_text, front_matter
from finetune_studio.core.sources import cache_repo_id

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("path, repo", [
    (f"/home/a/.cache/huggingface/hub/models--Qwen--Qwen3-0.6B/snapshots/{SHA}", "Qwen/Qwen3-0.6B"),
    (f"/cache/models--gpt2/snapshots/{SHA}/", "gpt2"),
    ("/cache/models--Qwen--Qwen3-0.6B", None),  # the repository's folder, not a snapshot: no model files there
    ("/models/my-llama", None),
    ("Qwen/Qwen3-0.6B", None),
])
def test_the_cache_layout_is_read_as_the_hub_id(path: str, repo: str | None) -> None:
    assert cache_repo_id(path) == repo


def test_a_pushed_adapter_and_its_card_name_the_hub_id(tmp_path: Path) -> None:
    base = f"/home/a/.cache/huggingface/hub/models--Qwen--Qwen3-0.6B/snapshots/{SHA}"
    adapter = tmp_path / "adapter_config.json"
    adapter.write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": base}), encoding="utf-8")
    assert json.loads(_public_adapter_config(adapter))["base_model_name_or_path"] == "Qwen/Qwen3-0.6B"
    config = default_config()
    config.model.name_or_path = base
    config.adapter.method = "lora"
    assert front_matter(config)["base_model"] == "Qwen/Qwen3-0.6B"
    assert _base_model_text(config) == (f"[Qwen/Qwen3-0.6B](https://huggingface.co/Qwen/Qwen3-0.6B) at revision "
                                        f"`{SHA}`")


def test_a_local_folder_is_still_named_by_its_folder_alone(tmp_path: Path) -> None:
    adapter = tmp_path / "adapter_config.json"
    adapter.write_text(json.dumps({"base_model_name_or_path": "/home/a/models/my-llama"}), encoding="utf-8")
    assert json.loads(_public_adapter_config(adapter))["base_model_name_or_path"] == "my-llama"
    config = default_config()
    config.model.name_or_path = "/home/a/models/my-llama"
    assert "base_model" not in front_matter(config)
    assert _base_model_text(config) == "a local model folder (`my-llama`)"
