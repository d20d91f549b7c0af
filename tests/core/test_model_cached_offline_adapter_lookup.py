"""A Hub model in the local cache loads without the Hub ("cache first, works offline"). transformers 5's
AutoModelForCausalLM.from_pretrained(..., local_files_only=True) still asked the Hub whether the repo holds an
adapter_config.json (find_adapter_config_file does not take local_files_only from the load), so a cached model
loaded with the network down waited out huggingface_hub's retries (29 s measured for an export) before it loaded,
and with a network every load asked the Hub once more."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from finetune_studio.core.config import ModelConfig
from finetune_studio.core.model import load_model, resolve_model
from tests import hub_server
from tests.hub_fixtures import hub, patch_client

COMMIT = "c" * 40


def _cached_demo(root: Path, repo: str) -> None:
    """The demo model's files as huggingface_hub lays out a download of `repo` at main."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(COMMIT)
    shutil.copytree(resolve_model("builtin:demo"), folder / "snapshots" / COMMIT)


def test_a_cached_hub_model_loads_without_asking_the_hub(hub: hub_server.HubServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    _cached_demo(tmp_path / "hf_home" / "hub", "me/demo")
    model = load_model(ModelConfig(name_or_path="me/demo"))
    assert model.config.model_type == "qwen3" and sum(p.numel() for p in model.parameters()) > 0
    assert [path for path in hub.paths() if "/me/demo/" in path] == []  # the cached files are all a load reads
