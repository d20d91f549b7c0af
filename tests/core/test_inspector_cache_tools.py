"""The Inspector keeps its checks in a cache keyed by the data, tokenizer, settings and core.inspector.CACHE_VERSION.
Tool-call rows (version 3) and tool results given as JSON (version 4) were refused ('cannot be trained') until
chat.py learnt them; with the version unchanged, a dataset inspected before kept showing those rows refused, read
from the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import inspector as inspector_module
from tests.core.test_chat_tools_h152 import ROW
from tests.core.test_chat_tools_h160 import TOOLS, call, conversation
from tests.core.test_inspector import inspector


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


JSON_RESULT = {"messages": conversation("Weather in Oslo?", [call("get_weather", {"city": "Oslo"})], {"temp": 21},
                                        "Sunny."), "tools": TOOLS}


@pytest.mark.parametrize("row, version, refusal", [
    (ROW, 3, "message 2 (assistant) of column 'messages' calls a tool (tool_calls)"),
    (JSON_RESULT, 4, "message 3 (tool) of column 'messages' has an object as its 'content', not text"),
], ids=["tool-calls", "json-result"])
def test_checks_cached_before_a_row_could_train_are_not_read(tokenizer: Any, tmp_path: Path, row: dict,
                                                             version: int, refusal: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = inspector(tokenizer, [row], tmp_path, max_length=512, template="qwen3").check()
    assert fresh.failures == {} and not fresh.from_cache
    # What a check under that version left: the same row refused.
    monkeypatch.setattr(inspector_module, "CACHE_VERSION", version)
    stale = inspector(tokenizer, [row], tmp_path / "old", max_length=512, template="qwen3")
    stale_checks = stale.check()
    stale_checks.failures = {0: refusal}
    (cached,) = (tmp_path / "old" / "cache").glob("*.npz")
    inspector_module._write_cache(cached, stale_checks)
    monkeypatch.undo()
    again = inspector(tokenizer, [row], tmp_path / "old", max_length=512, template="qwen3").check()
    assert again.failures == {} and not again.from_cache
