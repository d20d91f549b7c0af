"""A Hub model the local cache holds, asked for at a revision it does not hold, is told so with the revision and the
cached ones named, and a cached revision as the first way out; it said "it is not in the local cache", which is false
for the model and hides that only the revision is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import hub_access
from finetune_studio.core.config import ModelConfig
from finetune_studio.core.model import load_model, load_tokenizer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _cache(root: Path, repo: str, ref: str, commit: str = COMMIT) -> None:
    """A Hub cache laid out as huggingface_hub writes it: refs/REF holds the commit, snapshots/COMMIT the files."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / ref).write_text(commit)
    (folder / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
    (folder / "snapshots" / commit / "config.json").write_text('{"model_type": "qwen3"}')


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import constants

    root = tmp_path / "hf_home" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))
    _cache(root, "me/tiny", "main")
    return root


def test_offline_a_revision_not_cached_names_it_and_the_cached_ones(
        hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub_access.HubUnreachable) as info:
        load_tokenizer(ModelConfig(name_or_path="me/tiny", revision="v9"))
    assert str(info.value) == (
        "Cannot load the model 'me/tiny': offline mode is on (HF_HUB_OFFLINE) and revision v9 of me/tiny is not in "
        "the local cache, which has: main, so it cannot be downloaded. To fix: clear Revision (the cached main is "
        "used), or unset HF_HUB_OFFLINE with a network connection to download it once (it is then read from the "
        "cache).")
    with pytest.raises(hub_access.HubUnreachable) as info:  # a model not cached at all keeps its message
        load_model(ModelConfig(name_or_path="me/other", revision="v9"))
    assert "offline mode is on (HF_HUB_OFFLINE) and it is not in the local cache, so it cannot be downloaded. To " \
           "fix: pick a local model folder or the built-in demo model, or unset HF_HUB_OFFLINE" in str(info.value)
    assert hub_access.cached_revisions("me/tiny") == ["main"]
    assert hub_access.cached_revisions("me/other") == []


def test_without_main_cached_the_fix_names_a_cached_revision(
        hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    _cache(hub_cache, "me/only-tags", "v1")
    _cache(hub_cache, "me/only-tags", "v2", "f" * 40)
    hub_access._CACHE.clear()
    try:
        with pytest.raises(hub_access.HubUnreachable) as info:
            load_model(ModelConfig(name_or_path="me/only-tags", revision="v9"))
    finally:
        hub_access._CACHE.clear()
    assert str(info.value) == (
        "Cannot reach the Hugging Face Hub (http://127.0.0.1:9) to load the model 'me/only-tags': revision v9 of "
        "me/only-tags is not in the local cache, which has: v1, v2, so it must be downloaded. To fix: set Revision "
        "to one the cache has (v1), or check your network connection or proxy (or HF_ENDPOINT) and try again.")
