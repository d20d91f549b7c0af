"""A model folder without config.json: the Model tab's layout error (core.adapter_layout, which does not need the
weights) and validation (which does) give the same way forward. The layout told a folder of weights that lacked only
its config.json to "pick the folder save_pretrained wrote", where validation said to copy config.json in beside
them; and for a folder whose only model inside had no weights, the layout offered it and validation did not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.adapter_layout import module_layout
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import ModelError
from finetune_studio.core.validation import validate


def _both(folder: Path) -> tuple[str, str]:
    config = default_config()
    config.model.name_or_path = str(folder)
    with pytest.raises(ModelError) as caught:
        module_layout(config.model)
    said = [p.message for p in validate(config) if p.field == "model.name_or_path"]
    assert len(said) == 1, said
    return str(caught.value), said[0]


def test_weights_without_config_json_get_the_same_fix(tmp_path: Path) -> None:
    folder = tmp_path / "weights-only"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\x00" * 16)
    layout, validation = _both(folder)
    expected = (f"{folder} is not a model folder: it has no config.json. To fix: copy the model's config.json (from "
                f"where the model came from) into {folder}, beside its weights.")
    assert layout == expected
    assert validation == expected


def test_a_config_only_folder_inside_is_not_offered(tmp_path: Path) -> None:
    folder = tmp_path / "parent"
    (folder / "config-only").mkdir(parents=True)
    (folder / "config-only" / "config.json").write_text(json.dumps({"model_type": "qwen3"}), encoding="utf-8")
    layout, validation = _both(folder)
    expected = (f"{folder} is not a model folder: it has no config.json. To fix: pick the folder save_pretrained "
                "wrote: it holds config.json beside the weights.")
    assert layout == expected
    assert validation == expected
