"""core.model.context_limit reads a Hub model's config.json from the local Hub cache without importing
huggingface_hub.file_download: that module pulls in the Hub's HTTP client, and the window asks for the limit on the
GUI thread for every config naming a Hub model (the Launch tab's warnings), the last config reopened while the
window is built included: ~0.1-0.2 s before the window appeared, more while the warm-up imports the training stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core.config import ModelConfig
from finetune_studio.core.model import context_limit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _cache(root: Path, repo: str = "owner/tiny", ref: str = "main", commit: str = COMMIT,
           config: dict | None = None) -> Path:
    """A Hub cache laid out as huggingface_hub writes it: refs/REF holds the commit, snapshots/COMMIT the files."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / ref).write_text(commit)
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / "config.json").write_text(json.dumps(config or {"max_position_embeddings": 4096}))
    return root


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import constants

    root = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))
    return root


def test_a_cached_hub_models_context_is_read_by_revision(hub_cache: Path) -> None:
    _cache(hub_cache)
    _cache(hub_cache, ref="v2", commit="f" * 40, config={"text_config": {"n_positions": 1024}})
    assert context_limit(ModelConfig(name_or_path="owner/tiny")) == (4096, "max_position_embeddings")
    assert context_limit(ModelConfig(name_or_path="owner/tiny", revision="v2")) == (1024, "n_positions")
    assert context_limit(ModelConfig(name_or_path="owner/tiny", revision=COMMIT)) == (4096, "max_position_embeddings")
    # not in the cache: nothing is downloaded, the limit is unknown
    assert context_limit(ModelConfig(name_or_path="owner/tiny", revision="v3")) is None
    assert context_limit(ModelConfig(name_or_path="owner/other")) is None


def test_reading_it_imports_no_hub_client(tmp_path: Path) -> None:
    root = _cache(tmp_path / "hub")
    code = ("import sys\n"
            "from finetune_studio.core.config import ModelConfig\n"
            "from finetune_studio.core.model import context_limit\n"
            "print(context_limit(ModelConfig(name_or_path='owner/tiny')))\n"
            "print(sorted(m for m in ('huggingface_hub.file_download', 'httpx', 'httpx2') if m in sys.modules))\n")
    env = {**os.environ, "HF_HUB_CACHE": str(root), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["(4096, 'max_position_embeddings')", "[]"]
