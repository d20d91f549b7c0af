"""The adapter section's rules (core.adapters): method-aware defaults through the form's rule, YAML and --set, and
every bad value refused before any model loads, with a message that says what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import adapters
from finetune_studio.core.config import SEED_TRAINING, apply_overrides, default_config, from_yaml, to_yaml
from finetune_studio.core.validation import validate

DEMO_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "embed_tokens",
                "lm_head"]


def lora(**adapter: object):
    config = default_config()
    config.adapter.method = "lora"
    for key, value in adapter.items():
        setattr(config.adapter, key, value)
    return config


def adapter_messages(config, names=DEMO_MODULES) -> dict[str, str]:
    return {p.field: p.message for p in adapters.problems(config, module_names=lambda model: names)}


# ---- method-aware defaults --------------------------------------------------------------------------------------


def test_full_fine_tuning_keeps_the_seed_training_settings() -> None:
    config, notices = from_yaml(to_yaml(default_config()))
    assert config.adapter.method == "full" and config.training == SEED_TRAINING and notices == []


def test_switching_to_lora_raises_the_untouched_learning_rate_and_says_so() -> None:
    config = default_config()
    config.adapter.method = "lora"
    notices = adapters.follow_method("full", config)
    assert config.training["learning_rate"] == 2e-4
    assert len(notices) == 1 and "2e-05" in notices[0] and "0.0002" in notices[0] and "LoRA" in notices[0]
    config.adapter.method = "full"  # and back: the adapter default goes back to the seed's
    adapters.follow_method("lora", config)
    assert config.training["learning_rate"] == 2e-5


def test_a_learning_rate_the_user_chose_is_kept() -> None:
    config = default_config()
    config.training["learning_rate"] = 5e-4
    config.adapter.method = "dora"
    assert adapters.follow_method("full", config) == []
    assert config.training["learning_rate"] == 5e-4
    config = default_config()
    config.adapter.method = "lora"
    assert adapters.follow_method("full", config, explicit=["learning_rate"]) == []  # set to the seed's on purpose
    assert config.training["learning_rate"] == 2e-5


def test_yaml_without_a_learning_rate_gets_the_methods_default() -> None:
    config, notices = from_yaml("adapter:\n  method: lora\ntraining:\n  num_train_epochs: 1\n")
    assert config.training["learning_rate"] == 2e-4 and any("learning_rate" in n for n in notices)
    config, _ = from_yaml("adapter:\n  method: lora\ntraining:\n  learning_rate: 3e-5\n")
    assert config.training["learning_rate"] == 3e-5
    config, _ = from_yaml(to_yaml(config))  # a saved config reads back as it was
    assert config.training["learning_rate"] == 3e-5 and config.adapter.method == "lora"


def test_set_method_brings_its_learning_rate_unless_set_too() -> None:
    config, notices = apply_overrides(default_config(), ["adapter.method=lora", "adapter.r=8"])
    assert (config.adapter.method, config.adapter.r, config.training["learning_rate"]) == ("lora", 8, 2e-4)
    assert any("learning_rate" in n for n in notices)
    config, _ = apply_overrides(default_config(), ["adapter.method=lora", "learning_rate=1e-3"])
    assert config.training["learning_rate"] == 1e-3
    config, _ = apply_overrides(default_config(), ["adapter.target_modules=[q_proj, v_proj]"])
    assert config.adapter.target_modules == ["q_proj", "v_proj"] and config.training["learning_rate"] == 2e-5


def test_alpha_scale_follows_peft() -> None:
    assert adapters.alpha_scale(lora(r=16, alpha=32).adapter) == 2
    assert adapters.alpha_scale(lora(r=16, alpha=32, rslora=True).adapter) == 8
    assert adapters.alpha_scale(lora(r=0).adapter) is None


# ---- bad input, before any model loads ---------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value", "words"), [
    ("r", 0, "whole number above 0"), ("r", -4, "whole number above 0"), ("r", 2.5, "whole number above 0"),
    ("alpha", 0, "above 0"), ("alpha", -1.0, "above 0"),
    ("dropout", 1.0, "up to (not including) 1"), ("dropout", -0.1, "up to (not including) 1"),
    ("target_modules", [], "at least one module"), ("target_modules", ["all-linear", "q_proj"], "use all-linear alone"),
    ("method", "prefix", "must be one of full, lora, qlora, dora"),
])
def test_bad_adapter_values_are_refused_with_what_to_do(key: str, value: object, words: str) -> None:
    messages = adapter_messages(lora(**{key: value}))
    assert words in messages[f"adapter.{key}"]


def test_good_adapter_values_have_no_problem() -> None:
    assert adapter_messages(lora(r=8, alpha=16, dropout=0.0, target_modules=["q_proj", "v_proj"])) == {}
    assert adapter_messages(lora()) == {}  # the defaults: all-linear


def test_full_fine_tuning_ignores_a_half_edited_adapter_section() -> None:
    config = lora(r=0, dropout=3.0)
    config.adapter.method = "full"
    assert adapter_messages(config) == {}


def test_unknown_target_modules_list_the_ones_the_model_has() -> None:
    message = adapter_messages(lora(target_modules=["q_proj", "query_key_value"]))["adapter.target_modules"]
    assert "no module named query_key_value" in message
    assert "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj" in message
    message = adapter_messages(lora(modules_to_save=["head"]))["adapter.modules_to_save"]
    assert "no module named head" in message and "lm_head" in message


def test_validate_reports_adapter_problems_with_the_rest(demo_cache: Path) -> None:
    config = lora(r=0, alpha=-2)
    config.training["learning_rate"] = -1
    fields = {p.field for p in validate(config)}
    assert {"adapter.r", "adapter.alpha", "training.learning_rate"} <= fields


def test_qlora_without_bitsandbytes_is_refused_with_lora_as_the_alternative(monkeypatch: pytest.MonkeyPatch) -> None:
    real = adapters.importlib.util.find_spec
    monkeypatch.setattr(adapters.importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real(name, *a))
    message = adapter_messages(lora(method="qlora"))["adapter.method"]
    assert "bitsandbytes" in message and "not installed" in message and "adapter.method: lora" in message


def test_qlora_on_a_cpu_with_a_bitsandbytes_without_cpu_support_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    from finetune_studio.core import hardware

    real = adapters.importlib.util.find_spec
    monkeypatch.setattr(adapters.importlib.util, "find_spec",
                        lambda name, *a: object() if name == "bitsandbytes" else real(name, *a))
    monkeypatch.setattr(metadata, "version", lambda name: "0.45.5")
    monkeypatch.setattr(hardware, "detect", lambda: hardware.Hardware("cpu", "CPU", False, False))
    message = adapter_messages(lora(method="qlora"))["adapter.method"]
    assert "CUDA GPU" in message and "0.45.5" in message and "choose LoRA" in message
    monkeypatch.setattr(hardware, "detect", lambda: hardware.Hardware("cuda", "GPU", True, True))
    assert "adapter.method" not in adapter_messages(lora(method="qlora"))


def test_an_adapter_folder_picked_as_the_base_model_names_its_base(demo_cache: Path, tmp_path: Path) -> None:
    folder = tmp_path / "my-adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA",
                                                            "base_model_name_or_path": "Qwen/Qwen3-0.6B"}))
    (folder / "adapter_model.safetensors").write_bytes(b"x")
    config = default_config()
    config.model.name_or_path = str(folder)
    message = {p.field: p.message for p in validate(config)}["model.name_or_path"]
    assert "LORA adapter, not a whole model" in message and "trained on Qwen/Qwen3-0.6B" in message
    assert "pick Qwen/Qwen3-0.6B as the model" in message
    assert adapters.base_model_of_adapter(str(folder)) == "Qwen/Qwen3-0.6B"


def test_resuming_on_another_base_model_is_refused(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run" / "checkpoint-3"
    checkpoint.mkdir(parents=True)
    (checkpoint / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "Qwen/Qwen3-0.6B"}))
    config = lora()
    config.model.name_or_path = "Qwen/Qwen3-1.7B"
    message = adapters.resume_problem(config, checkpoint)
    assert message and "trained on Qwen/Qwen3-0.6B" in message and "now names Qwen/Qwen3-1.7B" in message
    config.model.name_or_path = "Qwen/Qwen3-0.6B"
    assert adapters.resume_problem(config, checkpoint) is None


def test_method_of_run_reads_the_status_then_the_config(tmp_path: Path) -> None:
    from finetune_studio.core.config import save_config
    from finetune_studio.core.runs import RunFolder

    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    assert adapters.method_of_run(folder.path) == "full"  # nothing recorded: every old run was full fine-tuning
    save_config(lora(method="dora"), folder.config_path)
    assert adapters.method_of_run(folder.path) == "dora"
    folder.write_status("running", "Preparing", method="lora")
    assert adapters.method_of_run(folder.path) == "lora"


def test_describe_says_method_and_settings() -> None:
    assert adapters.describe(lora(r=8, alpha=16, target_modules=["q_proj", "v_proj"])) == \
        "LoRA r 8, alpha 16 (scale 2), dropout 0.05 on q_proj, v_proj"
    assert adapters.describe(default_config()) == "Full fine-tuning"


def test_validate_lists_the_demo_models_real_modules_for_an_unknown_target(demo_cache: Path) -> None:
    config = lora(target_modules=["q_proj", "query_key_value"])
    message = {p.field: p.message for p in validate(config)}["adapter.target_modules"]
    assert message == ("The model has no module named query_key_value. Its modules that can take an adapter: "
                       "embed_tokens, q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head. "
                       "To fix: use names from that list (or all-linear) in target_modules.")
    assert "adapter.target_modules" not in {p.field for p in validate(lora(target_modules=["q_proj", "v_proj"]))}
