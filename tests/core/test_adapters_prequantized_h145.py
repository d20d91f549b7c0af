"""A model folder whose weights are stored quantized already (config.json's quantization_config: GPTQ, AWQ,
bitsandbytes) is judged before any model loads. It passed validation, and training stopped after the dataset was
tokenized with transformers' raw ImportError ('Training failed: ImportError: Loading a GPTQ quantized model requires
optimum ...'); full fine-tuning of it fails in the Trainer, and QLoRA cannot quantize it a second time."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.helpers import SAMPLE, demo_model_copy, small_config, update_json

GPTQ = {"quant_method": "gptq", "bits": 4}
BNB = {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"}


def _config(tmp_path, quantization, method):
    folder = demo_model_copy(tmp_path / "quantized model")
    if quantization is not None:
        update_json(folder / "config.json", quantization_config=quantization)
    config = small_config(SAMPLE, tmp_path / "runs", max_steps=2)
    config.model.name_or_path = str(folder)
    config.adapter.method = method
    return config, folder


def _said(config):
    from finetune_studio.core.validation import validate

    return {(p.field, p.message) for p in validate(config) if p.level != "warning"}


@pytest.mark.skipif(importlib.util.find_spec("optimum") is not None, reason="optimum is installed here")
def test_gptq_model_without_its_package_is_refused_naming_it(tmp_path):
    config, folder = _config(tmp_path, GPTQ, "lora")
    assert _said(config) == {(
        "model.name_or_path",
        f"{folder} is a model quantized already (gptq 4-bit, as config.json's quantization_config says), and loading "
        "it needs what this machine lacks: Loading a GPTQ quantized model requires optimum (`pip install optimum`). "
        "To fix: install what that names (and use a GPU if it asks for one), or pick the model's unquantized "
        "version.")}


def test_full_fine_tuning_of_a_quantized_model_is_refused(tmp_path):
    config, folder = _config(tmp_path, GPTQ, "full")
    assert _said(config) == {(
        "adapter.method",
        f"{folder} is a model quantized already (gptq 4-bit, as config.json's quantization_config says): its weights "
        "are stored quantized, and full fine-tuning cannot train quantized weights. To fix: choose LoRA (method "
        "lora), which trains adapters on top of them, or pick the model's unquantized version to train it in full.")}


def test_qlora_of_a_gptq_model_is_refused(tmp_path):
    config, folder = _config(tmp_path, GPTQ, "qlora")
    methods = [m for f, m in _said(config) if f == "adapter.method"]
    assert len(methods) == 1 and "cannot quantize this one again. To fix: choose LoRA (method lora)" in methods[0]


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is not None, reason="bitsandbytes is installed here")
def test_bitsandbytes_model_with_qlora_says_one_thing_to_install(tmp_path):
    config, folder = _config(tmp_path, BNB, "qlora")
    said = _said(config)
    assert len(said) == 1, said
    field, message = said.pop()
    assert field == "model.name_or_path"
    assert "(bitsandbytes 4-bit, as config.json's quantization_config says)" in message
    assert "pip install -U bitsandbytes" in message and "To fix:" in message


def test_an_unquantized_copy_is_not_refused(tmp_path):
    config, folder = _config(tmp_path, None, "full")
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    assert _said(config) == set()
    config.adapter.method = "lora"
    assert _said(config) == set()


@pytest.mark.skipif(importlib.util.find_spec("optimum") is not None, reason="optimum is installed here")
def test_train_refuses_before_a_run_folder_exists(tmp_path):
    from finetune_studio.core.errors import ConfigError
    from finetune_studio.core.training import run

    config, _folder = _config(tmp_path, GPTQ, "lora")
    with pytest.raises(ConfigError) as refused:
        run(config)
    assert "requires optimum (`pip install optimum`). To fix:" in str(refused.value)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
