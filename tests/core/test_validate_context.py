"""max_length past the model's context (helper-56): `max_length: 100000` on the demo, whose config.json says
max_position_embeddings 512, was accepted without a word. Rows are cut at max_length, not at 512, so on the demo a
longer row trains at positions the model never learned and the run goes on silently; a model with learned position
embeddings (GPT-2) stops with an IndexError at the first such row. warnings_for (what `finetune-studio validate`
prints and the Dataset form shows at the field) says so, naming the model's limit and the key it comes from."""

from __future__ import annotations

import json
from pathlib import Path

from finetune_studio.core.config import default_config
from finetune_studio.core.errors import WARNING
from finetune_studio.core.validation import warnings_for


def _context_warnings(config) -> list:
    return [w for w in warnings_for(config) if w.field == "dataset.max_length"]


def test_max_length_past_the_demos_context_is_said_with_its_limit(demo_cache: Path) -> None:
    config = default_config()  # builtin:demo
    config.dataset.max_length = 2_048  # past 32 times the context (16,384) validate refuses it instead (helper-106)
    found = _context_warnings(config)
    assert len(found) == 1 and found[0].level == WARNING
    assert found[0].message.startswith("max_length 2,048 is past this model's context: it was trained on at most "
                                       "512 tokens (max_position_embeddings in its config.json). A longer row "
                                       "trains at positions the model never learned")
    assert found[0].message.endswith("To fix: set max_length to 512 or less.")
    config.dataset.max_length = 512  # the context itself: fine
    assert _context_warnings(config) == []


def test_a_local_models_own_context_key_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "gpt2-like"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_positions": 1024}))
    config = default_config()
    config.model.name_or_path = str(folder)
    config.dataset.max_length = 2048
    found = _context_warnings(config)
    assert len(found) == 1
    assert "it was trained on at most 1,024 tokens (n_positions in its config.json)" in found[0].message
    assert "such as GPT-2, stops with an error at the first such row" in found[0].message
    assert "A longer row trains at positions the model never learned" in found[0].message
    config.dataset.max_length = 1024
    assert _context_warnings(config) == []
