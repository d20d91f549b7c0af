"""The Inspector keeps its checks in a cache keyed by the data, tokenizer, settings and core.inspector.CACHE_VERSION.
Tool-call rows were refused ('cannot be trained') until chat.py learnt them; with the version unchanged, a dataset
inspected before kept showing its tool rows refused, read from the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import inspector as inspector_module
from tests.core.test_chat_tools_h152 import ROW
from tests.core.test_inspector import inspector


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


def test_checks_cached_before_tool_calls_trained_are_not_read(tokenizer: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = inspector(tokenizer, [ROW], tmp_path, max_length=512, template="qwen3").check()
    assert fresh.failures == {} and not fresh.from_cache
    # What a check under the last version left: the same row refused.
    monkeypatch.setattr(inspector_module, "CACHE_VERSION", 3)
    stale = inspector(tokenizer, [ROW], tmp_path / "old", max_length=512, template="qwen3")
    stale_checks = stale.check()
    stale_checks.failures = {0: "message 2 (assistant) of column 'messages' calls a tool (tool_calls)"}
    (cached,) = (tmp_path / "old" / "cache").glob("*.npz")
    inspector_module._write_cache(cached, stale_checks)
    monkeypatch.undo()
    again = inspector(tokenizer, [ROW], tmp_path / "old", max_length=512, template="qwen3").check()
    assert again.failures == {} and not again.from_cache
