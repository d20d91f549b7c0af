"""The module layout (the estimate's and the adapter form's model read) names an uncached revision as loading does:
a cached model asked for at a revision the cache lacks said "it is not in the local cache" there (12cf8bc gave
core.model the revision's words; core.adapter_layout did not pass the model id and revision on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import adapter_layout, hub_access
from finetune_studio.core.config import ModelConfig
from tests.core.test_hub_revision_cache_h150 import hub_cache  # noqa: F401 - a fixture


def test_the_layouts_config_read_names_the_revision_and_the_cached_ones(
        hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub_access.HubUnreachable) as info:
        adapter_layout._load_config(ModelConfig(name_or_path="me/tiny", revision="v9"))
    assert ("offline mode is on (HF_HUB_OFFLINE) and revision v9 of me/tiny is not in the local cache, which has: "
            "main, so it cannot be downloaded. To fix: clear Revision (the cached main is used)") in str(info.value)
