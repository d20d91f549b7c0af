"""A model folder whose config.json lost a key (helper-56, D8): without model_type transformers cannot tell the
architecture; without hidden_size (or num_hidden_layers, vocab_size …) it takes the architecture's default, 4096
wide for qwen3, which the weights do not fit. validate() says which key is missing and that the folder is not usable,
before any model loads (the memory estimate sized a 4096-wide model meanwhile); an intact copy stays clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core.config import ModelConfig
from finetune_studio.core.errors import ModelError
from finetune_studio.core.model import load_model
from finetune_studio.core.validation import validate
from tests.helpers import small_config


@pytest.fixture
def demo_copy(demo_cache: Path, tmp_path: Path):
    """A copy of the demo model folder, with config.json keys dropped."""
    from finetune_studio.core.demo import demo_model_path

    def make(*dropped: str) -> Path:
        folder = tmp_path / ("model-" + "-".join(dropped or ("intact",)))
        shutil.copytree(demo_model_path(), folder)
        config = json.loads((folder / "config.json").read_text())
        for key in dropped:
            del config[key]
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        return folder

    return make


def model_problems(folder: Path, small_dataset: Path, runs_dir: Path) -> list[str]:
    config = small_config(small_dataset, runs_dir)
    config.model.name_or_path = str(folder)
    return [p.message for p in validate(config) if p.field.startswith("model.")]


def test_intact_copy_of_the_demo_has_no_model_problem(demo_copy, small_dataset: Path, runs_dir: Path) -> None:
    assert model_problems(demo_copy(), small_dataset, runs_dir) == []


def test_config_without_model_type_is_named_and_its_type_suggested(demo_copy, small_dataset: Path,
                                                                    runs_dir: Path) -> None:
    folder = demo_copy("model_type")
    problems = model_problems(folder, small_dataset, runs_dir)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{folder / 'config.json'} has no model_type, so transformers cannot tell which "
                                  "kind of model this is")
    assert "not a usable model" in problems[0]
    assert 'Its architectures entry names Qwen3ForCausalLM, whose model_type is qwen3. To fix: add "model_type": ' \
           '"qwen3"' in problems[0]
    with pytest.raises(ModelError) as info:  # loading says the same, not transformers' "Unrecognized model"
        load_model(ModelConfig(name_or_path=str(folder)))
    assert str(info.value) == problems[0]


def test_config_without_hidden_size_names_the_key_and_the_assumed_width(demo_copy, small_dataset: Path,
                                                                         runs_dir: Path) -> None:
    folder = demo_copy("hidden_size")
    problems = model_problems(folder, small_dataset, runs_dir)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"The config.json in {folder} does not fit the model's weights: "
                                  "model.embed_tokens.weight is 1457 × 64 in the weight files, but config.json makes "
                                  "it 1457 × 4096")
    assert "config.json has no hidden_size (assumed 4,096): transformers took the qwen3 architecture's defaults." \
        in problems[0]
    assert "The folder is not a usable model as it is. To fix:" in problems[0]


def test_config_without_layer_count_names_the_weights_that_would_be_random(demo_copy, small_dataset: Path,
                                                                            runs_dir: Path) -> None:
    folder = demo_copy("num_hidden_layers", "layer_types")
    problems = model_problems(folder, small_dataset, runs_dir)
    assert len(problems) == 1, problems
    assert "weights the weight files do not hold (model.layers.2." in problems[0]
    assert "config.json has no num_hidden_layers (assumed 32)" in problems[0]


def test_fixing_config_json_clears_the_problem(demo_copy, small_dataset: Path, runs_dir: Path) -> None:
    """The check is cached per folder, but a config.json put right is read again (the window validates on edits)."""
    folder = demo_copy("hidden_size")
    assert model_problems(folder, small_dataset, runs_dir)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 64}, indent=2) + "\n")
    assert model_problems(folder, small_dataset, runs_dir) == []


def test_weights_whose_checkpoint_names_cannot_be_told_are_never_called_missing(
        demo_copy, small_dataset: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where transformers' revert_weight_conversion needs real values, the checkpoint's names stay unknown (a fused
    MoE weight would look missing from the files): the layer count then goes unchecked, but a shape that differs
    under the same name is still said."""
    import transformers.core_model_loading as loading

    def needs_values(*args, **kwargs):
        raise RuntimeError("cannot convert meta tensors")

    monkeypatch.setattr(loading, "revert_weight_conversion", needs_values)
    assert model_problems(demo_copy("num_hidden_layers", "layer_types"), small_dataset, runs_dir) == []
    problems = model_problems(demo_copy("hidden_size"), small_dataset, runs_dir)
    assert len(problems) == 1 and "config.json has no hidden_size (assumed 4,096)" in problems[0]
