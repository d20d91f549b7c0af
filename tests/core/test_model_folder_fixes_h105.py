"""A local model folder that cannot be used is refused with what is wrong, the value as written and a "To fix:" that
leads to a folder that passes; a config.json transformers reads but cannot build a model from (num_attention_heads:
0) is refused by validate and estimate alike; and a name_or_path that is no text reaches core.adapter_layout as a
ModelError, not AttributeError: 'list' object has no attribute 'strip'."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.cli import main
from finetune_studio.core.config import DEMO_MODEL_ID, AdapterConfig, ChatConfig, ModelConfig
from finetune_studio.core.errors import ModelError
from finetune_studio.core.model import check_local_model, config_weights_problem, model_name_problem

FOUND_FIX = ("To fix: give the folder where the model is now (it holds config.json and the weights), a Hugging Face "
             f"model id (owner/name), or the built-in demo model {DEMO_MODEL_ID}.")


@pytest.fixture
def demo_copy(demo_cache: Path, tmp_path: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    folder = tmp_path / "model"
    shutil.copytree(demo_model_path(), folder)
    (folder / "finetune_studio_demo.json").unlink(missing_ok=True)
    return folder


def _set(folder: Path, **settings: object) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(settings)
    (folder / "config.json").write_text(json.dumps(config))


def test_a_missing_folder_names_it_as_written_and_what_to_give(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    gone = tmp_path / "gone"
    assert model_name_problem(str(gone)) == f"Model folder not found: {gone}. {FOUND_FIX}"
    monkeypatch.chdir(tmp_path)
    assert model_name_problem("./gone") == f"Model folder not found: {gone} ('./gone' as written). {FOUND_FIX}"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert model_name_problem("~/gone") == f"Model folder not found: {gone} ('~/gone' as written). {FOUND_FIX}"


def test_a_file_points_to_the_folder_it_is_in_when_that_holds_the_model(demo_copy: Path, tmp_path: Path) -> None:
    assert check_local_model(str(demo_copy / "config.json")) == (
        f"{demo_copy / 'config.json'} is a file, not a model folder. To fix: pick the folder it is in, {demo_copy}, "
        "which holds the model.")
    assert check_local_model(str(demo_copy)) is None  # the fix passes
    loose = tmp_path / "notes.txt"
    loose.write_text("x")
    assert check_local_model(str(loose)) == (
        f"{loose} is a file, not a model folder. To fix: pick the folder that holds config.json and the weights (the "
        "folder save_pretrained wrote).")


def test_no_config_json_names_the_model_folder_inside_or_what_to_copy(demo_copy: Path, tmp_path: Path) -> None:
    parent = demo_copy.parent  # tmp_path: holds model/ (and nothing else that is a model)
    assert check_local_model(str(parent)) == (
        f"{parent} is not a model folder: it has no config.json. To fix: pick {demo_copy}, which holds the model.")
    weights_only = tmp_path / "weights-only"
    weights_only.mkdir()
    shutil.copy(demo_copy / "model.safetensors", weights_only)
    assert check_local_model(str(weights_only)) == (
        f"{weights_only} is not a model folder: it has no config.json. To fix: copy the model's config.json (from "
        f"where the model came from) into {weights_only}, beside its weights.")
    shutil.copy(demo_copy / "config.json", weights_only)
    assert check_local_model(str(weights_only)) is None  # the fix passes
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_local_model(str(empty)) == (
        f"{empty} is not a model folder: it has no config.json. To fix: pick the folder save_pretrained wrote: it "
        "holds config.json beside the weights.")


def test_config_but_no_weights_says_which_files_to_copy(demo_copy: Path) -> None:
    weights = demo_copy / "model.safetensors"
    kept = weights.read_bytes()
    weights.unlink()
    assert check_local_model(str(demo_copy)) == (
        f"{demo_copy} has a config.json but no weights (model.safetensors or pytorch_model.bin). To fix: copy the "
        f"model's weight files into {demo_copy} (model.safetensors, or every model-…-of-….safetensors with "
        "model.safetensors.index.json), or pick the folder save_pretrained wrote with them.")
    weights.write_bytes(kept)
    assert check_local_model(str(demo_copy)) is None


def test_an_unknown_model_type_says_which_one_and_no_double_period(demo_copy: Path) -> None:
    """It said "... your version of Transformers is out of date.. The folder is not a usable model as it is. To fix:
    copy config.json again ..., or put the missing settings back."""
    import transformers

    _set(demo_copy, model_type="zorblax")
    said = config_weights_problem(str(demo_copy))
    assert said == (f"{demo_copy / 'config.json'} names model_type 'zorblax', an architecture the installed "
                    f"transformers ({transformers.__version__}) does not know: the folder is not a usable model here "
                    "as it is. To fix: set \"model_type\": \"qwen3\" in it (its architectures entry names "
                    "Qwen3ForCausalLM, whose model_type that is), or copy config.json again from where the model "
                    "came from.")
    _set(demo_copy, architectures=["ZorbForCausalLM"])
    assert config_weights_problem(str(demo_copy)).endswith(
        "To fix: if the model is newer than this transformers, upgrade it (pip install --upgrade transformers); "
        "otherwise correct model_type in config.json, or copy config.json again from where the model came from.")
    _set(demo_copy, model_type="qwen3")
    assert config_weights_problem(str(demo_copy)) is None  # the fix passes


BUILD = ("transformers cannot build the qwen3 model its config.json describes: ZeroDivisionError: integer division "
         "or modulo by zero (raised in transformers.models.qwen3.modeling_qwen3). config.json sets "
         "num_attention_heads: 0, a size that must be at least 1. To fix: set it to the model's real value (copy "
         "config.json again from where the model came from).")


def test_validate_and_estimate_refuse_a_model_transformers_cannot_build(
        demo_copy: Path, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate said "ok: the config is valid." (build_meta_model caught only ValueError and KeyError, and
    config_weights_problem took the ZeroDivisionError for "no verdict")."""
    _set(demo_copy, num_attention_heads=0)
    capsys.readouterr()
    assert main(["validate", "--set", f"model.name_or_path={demo_copy}"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().out.splitlines() == [f"problem: model.name_or_path: {BUILD}"]
    assert main(["estimate", "--set", f"model.name_or_path={demo_copy}"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().out.splitlines()[0] == f"problem: model.name_or_path: {BUILD}"
    (demo_copy / "model.safetensors").rename(demo_copy / "pytorch_model.bin")  # no safetensors header to compare
    assert config_weights_problem(str(demo_copy)) == BUILD
    _set(demo_copy, num_attention_heads=4)
    assert config_weights_problem(str(demo_copy)) is None  # the fix passes


def test_build_meta_model_turns_any_failure_into_words(monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoModelForCausalLM, Qwen3Config

    from finetune_studio.core.adapter_layout import build_meta_model

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("hidden_size must divide")

    monkeypatch.setattr(AutoModelForCausalLM, "from_config", refuse)
    with pytest.raises(ModelError) as caught:
        build_meta_model(Qwen3Config(), None, False)
    assert str(caught.value).startswith("transformers cannot build the qwen3 model its config.json describes: "
                                        "AssertionError: hidden_size must divide (raised in ")
    assert str(caught.value).endswith(" To fix: check the sizes in the model's config.json (layers, heads, hidden "
                                      "size) against its model card, or copy config.json again from where the "
                                      "model came from.")


@pytest.mark.parametrize(("value", "said"), [
    (["a", "b"], "name_or_path holds a list ([a, b]), not one model"),
    (3, "name_or_path holds a number (3), not one model"),
])
def test_adapter_layout_refuses_a_name_that_is_no_text_in_words(value: object, said: str) -> None:
    """It raised AttributeError: 'list' object has no attribute 'strip' (config_source, _load_config, _cache_key)."""
    from finetune_studio.core import adapter_layout

    model = ModelConfig(name_or_path=value)  # type: ignore[arg-type]
    expected = f"{said}. To fix: give one model name or folder in name_or_path."
    for call in (lambda: adapter_layout.config_source(model), lambda: adapter_layout.module_layout(model),
                 lambda: adapter_layout.meta_model(model),
                 lambda: adapter_layout.adapter_figures(model, AdapterConfig(), ChatConfig())):
        with pytest.raises(ModelError) as caught:
            call()
        assert str(caught.value) == expected
