"""RunConfig: YAML round trip, unknown keys with suggestions, renamed keys, and every validation message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finetune_studio.core.config import (
    SEED_TRAINING,
    apply_overrides,
    default_config,
    from_yaml,
    load_config,
    precision_of,
    save_config,
    seed_preset,
    set_precision,
    to_yaml,
)
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.validation import validate


def messages(config) -> dict[str, str]:
    return {p.field: p.message for p in validate(config)}


def test_defaults_are_the_seed_recipe() -> None:
    config = default_config()
    assert config.training == SEED_TRAINING
    assert config.training["num_train_epochs"] == 3
    assert config.training["per_device_train_batch_size"] == 2
    assert config.training["gradient_accumulation_steps"] == 8
    assert config.training["activation_checkpointing"] is True
    assert config.training["learning_rate"] == 2e-5
    assert config.training["logging_steps"] == 10
    assert (config.training["eval_strategy"], config.training["save_strategy"]) == ("epoch", "epoch")
    assert config.training["load_best_model_at_end"] is True
    assert (config.dataset.max_length, config.dataset.test_size, config.dataset.text_column) == (512, 0.1, "horoscope")
    assert config.model.dtype == "auto"
    assert config.model.trust_remote_code is False
    assert seed_preset().model.name_or_path == "Qwen/Qwen3-0.6B"
    assert seed_preset().dataset.source == "karthiksagarn/astro_horoscope"


def test_yaml_round_trips_exactly(tmp_path: Path) -> None:
    config = default_config()
    config.name = "my run"
    config.training["weight_decay"] = 0.01
    config.training["lr_scheduler_type"] = "cosine"
    set_precision(config.training, "fp32")
    config.dataset.name = "subset"
    config.hub.repo_id = "me/model"
    path = tmp_path / "run.yaml"
    save_config(config, path)
    loaded, notices = load_config(path)
    assert notices == []
    assert loaded == config
    assert to_yaml(loaded) == path.read_text()
    assert precision_of(loaded.training) == "fp32"


def test_partial_file_gets_seed_defaults() -> None:
    config, _ = from_yaml("training:\n  learning_rate: 1.0e-4\nmodel:\n  name_or_path: gpt2\n")
    assert config.training["learning_rate"] == 1e-4
    assert config.training["num_train_epochs"] == 3
    assert config.model.name_or_path == "gpt2"
    assert config.dataset.source == "builtin:sample"


def test_unknown_keys_all_reported_with_nearest_name() -> None:
    with pytest.raises(ConfigError) as info:
        from_yaml("datset: {}\nmodel:\n  name_or_pth: x\ndataset:\n  max_lenght: 3\n")
    text = str(info.value)
    assert "'datset' is not a top-level setting. Did you mean 'dataset'?" in text
    assert "'name_or_pth' is not a model setting. Did you mean 'name_or_path'?" in text
    assert "'max_lenght' is not a dataset setting. Did you mean 'max_length'?" in text
    assert len(info.value.problems) == 3


def test_unknown_training_key_names_nearest_field() -> None:
    config, _ = from_yaml("training:\n  learnig_rate: 0.1\n")
    found = messages(config)
    assert found["training.learnig_rate"] == ("'learnig_rate' is not a TrainingArguments setting. "
                                              "Did you mean 'learning_rate'? To fix: rename it to learning_rate.")


def test_renamed_keys_map_with_notice() -> None:
    config, notices = from_yaml("training:\n  gradient_checkpointing: false\n  evaluation_strategy: epoch\n"
                                "  overwrite_output_dir: true\nmodel:\n  torch_dtype: bfloat16\n")
    assert config.training["activation_checkpointing"] is False
    assert config.training["eval_strategy"] == "epoch"
    assert "gradient_checkpointing" not in config.training and "overwrite_output_dir" not in config.training
    assert config.model.dtype == "bfloat16"
    assert any("gradient_checkpointing is called training.activation_checkpointing" in n for n in notices)
    assert any("evaluation_strategy is called training.eval_strategy" in n for n in notices)
    assert any("overwrite_output_dir no longer exists" in n for n in notices)
    assert any("torch_dtype is called model.dtype" in n for n in notices)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("training:\n  learning_rate: [1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "is not valid YAML at line" in str(info.value)
    with pytest.raises(ConfigError, match="Config file not found"):
        load_config(tmp_path / "missing.yaml")


def test_overrides() -> None:
    config, _ = apply_overrides(default_config(), ["learning_rate=1e-4", "dataset.max_length=128",
                                                   "training.evaluation_strategy=no"])
    assert config.training["learning_rate"] == 1e-4
    assert config.dataset.max_length == 128
    assert config.training["eval_strategy"] == "no"
    with pytest.raises(ConfigError, match="must look like key=value"):
        apply_overrides(default_config(), ["oops"])


def test_default_config_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    assert validate(default_config()) == []


def test_every_problem_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    config = default_config()
    config.dataset.source = str(tmp_path / "nope.jsonl")
    config.dataset.text_column = ""
    config.dataset.max_length = 0
    config.dataset.test_size = 1.5
    config.model.name_or_path = str(tmp_path)  # a folder without config.json
    config.model.dtype = "float8"
    config.training.update(learning_rate=-1, per_device_train_batch_size=0, gradient_accumulation_steps=0,
                           num_train_epochs=0, logging_steps=0, bf16=True)
    found = messages(config)
    assert found["dataset.source"] == (f"Dataset not found: {tmp_path / 'nope.jsonl'}. To fix: correct the path, or "
                                       "choose a Hub id or the built-in sample.")
    assert found["dataset.text_column"] == ("Name the column that holds the text to train on. To fix: write it, e.g. "
                                            "text_column: text (the Dataset tab lists the file's columns).")
    assert found["dataset.max_length"].startswith("max_length must be a whole number above 0 (got 0)")
    assert found["dataset.test_size"].startswith("test_size must be a fraction from 0 to below 1 (got 1.5)")
    assert "is not a model folder: it has no config.json" in found["model.name_or_path"]
    assert found["model.dtype"].startswith("dtype 'float8' is not a precision to load the weights in. To fix: write "
                                           "one of auto, float32")
    assert found["training.learning_rate"] == ("learning_rate must be above 0 (got -1); the seed uses 2e-5. To fix: "
                                               "set learning_rate above 0 (1e-5 to 1e-3 is usual for fine-tuning).")
    assert found["training.per_device_train_batch_size"] == ("per_device_train_batch_size must be at least 1 (got 0). "
                                                             "To fix: set per_device_train_batch_size to 1 or more.")
    assert found["training.gradient_accumulation_steps"] == ("gradient_accumulation_steps must be at least 1 (got 0). "
                                                             "To fix: set gradient_accumulation_steps to 1 or more.")
    assert found["training.num_train_epochs"] == ("num_train_epochs must be above 0 (got 0) unless max_steps is set. "
                                                  "To fix: set num_train_epochs to the passes over the data, such as 3 "
                                                  "(the seed's), or set max_steps to the steps to train.")
    assert found["training.logging_steps"] == ("logging_steps must be above 0 (got 0). To fix: set logging_steps to a "
                                               "number of steps such as 10 (the seed's), or below 1 a fraction of the "
                                               "run's steps.")
    assert found["training.bf16"].startswith("bf16 needs a GPU that supports it")
    assert "this machine has no GPU" in found["training.bf16"]
    assert len(found) == 12


def test_best_model_strategies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    config = default_config()
    config.training["eval_strategy"] = "no"
    assert messages(config)["training.load_best_model_at_end"].startswith(
        "load_best_model_at_end needs evaluation, and eval_strategy is 'no'. To fix: set eval_strategy")
    config.training.update(eval_strategy="epoch", save_strategy="steps")
    assert messages(config)["training.save_strategy"] == (
        "load_best_model_at_end needs save_strategy to match eval_strategy ('epoch'), but it is 'steps'. To fix: set "
        "save_strategy to 'epoch' (or 'best').")
    config.training.update(eval_strategy="steps", save_strategy="steps", eval_steps=10, save_steps=15)
    assert messages(config)["training.save_steps"] == (
        "load_best_model_at_end needs save_steps (15) to be a multiple of eval_steps (10). To fix: set save_steps to "
        "20, or another multiple of 10.")


def test_types_strategies_and_test_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    config = default_config()
    config.training.update(num_train_epochs="three", logging_strategy="sometimes", fp16=True)
    found = messages(config)
    assert found["training.num_train_epochs"] == ("num_train_epochs must be a number (got 'three'). To fix: write a "
                                                  "number, or remove num_train_epochs to use the default.")
    assert found["training.logging_strategy"] == ("logging_strategy 'sometimes' is not a strategy. To fix: write one "
                                                  "of no, steps, epoch.")
    assert found["training.fp16"].startswith("fp16 training needs a GPU")
    config = default_config()
    config.dataset.test_size = 0
    assert messages(config)["dataset.test_size"].startswith("eval_strategy is 'epoch' but test_size is 0")


def test_unwritable_runs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:  # root writes anywhere: make the permission check answer as for a normal user
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, m: False if Path(p) == locked else real_access(p, m))
    config = default_config()
    config.runs_dir = str(locked / "runs")
    assert messages(config)["runs_dir"] == (f"Runs folder unusable: cannot write to {locked}. "
                                            "To fix: pick a folder you can write to.")


def test_runs_folder_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = default_config()
    config.runs_dir = str(blocker / "runs")
    fix = " To fix: choose a folder, or a path where one can be made."
    assert messages(config)["runs_dir"] == f"Runs folder unusable: {blocker} is a file, not a folder.{fix}"
    config.runs_dir = str(tmp_path)
    config.training["output_dir"] = str(blocker)
    assert messages(config)["training.output_dir"] == f"Output folder unusable: {blocker} is a file, not a folder.{fix}"


def test_precision_helpers() -> None:
    training: dict = {}
    assert precision_of(training) == "auto"
    for value in ("bf16", "fp16", "fp32", "auto"):
        set_precision(training, value)
        assert precision_of(training) == value
    assert training == {}


@pytest.mark.parametrize("text", ["", "\n  \n", "# nothing set yet\n", "---\n"], ids=["empty", "blank", "comment",
                                                                                 "document-marker"])
def test_empty_config_file_is_an_error_not_the_demo(text: str, tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (f"Config file {path} is empty: it holds no settings. To fix: write one with "
                               "'finetune-studio init NEW.yaml' (or File → Save config in the app), or leave "
                               "the file out to train the built-in demo.")
    path.write_text("name: my-run\n", encoding="utf-8")  # one setting is enough: the rest are the seed's defaults
    assert load_config(path)[0].name == "my-run"


def test_nan_and_infinite_numbers_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    config, _ = from_yaml("training:\n  learning_rate: .nan\n  weight_decay: .inf\n  max_grad_norm: -.inf\n"
                          "  num_train_epochs: .nan\ndataset:\n  test_size: .nan\n")
    found = messages(config)
    fix = " To fix: set test_size to a fraction such as 0.1, or 0 to hold out none."
    assert found == {
        "dataset.test_size": f"test_size must be a fraction from 0 to below 1 (got NaN); the seed holds out 0.1.{fix}",
        "training.learning_rate": "learning_rate must be a finite number (got NaN); the seed uses 2e-5. To fix: write "
                                  "a number, or remove learning_rate to use the default.",
        "training.weight_decay": "weight_decay must be a finite number, but the value is too large: it reads as "
                                 "infinity (a number past about 1.8e308, such as 1e400, overflows to infinity, as "
                                 ".inf is). To fix: write a number below 1e308, or remove weight_decay to use the "
                                 "default.",
        "training.max_grad_norm": "max_grad_norm must be a finite number, but the value is too far below zero: it "
                                  "reads as minus infinity (a number below about -1.8e308, such as -1e400, overflows "
                                  "to minus infinity, as -.inf is). To fix: write a number above -1e308, or remove "
                                  "max_grad_norm to use the default.",
        "training.num_train_epochs": "num_train_epochs must be a finite number (got NaN). To fix: write a number, or "
                                     "remove num_train_epochs to use the default.",
    }
    config.dataset.test_size = float("inf")
    assert messages(config)["dataset.test_size"] == ("test_size must be a fraction from 0 to below 1 (got infinity); "
                                                     f"the seed holds out 0.1.{fix}")


def test_large_learning_rate_is_a_warning_not_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.errors import ERROR, WARNING
    from finetune_studio.core.validation import warnings_for

    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    config = default_config()
    assert warnings_for(config) == []
    config.training["learning_rate"] = 1.0  # the edge is not "unusually large"
    assert warnings_for(config) == []
    config.training["learning_rate"] = 5
    assert validate(config) == []  # it runs: nothing blocks Start
    [warning] = warnings_for(config)
    assert (warning.field, warning.level) == ("training.learning_rate", WARNING)
    assert warning.message == ("learning_rate 5 is unusually large: fine-tuning uses about 1e-5 to 1e-3, and above 1 "
                               "the loss almost always diverges. The seed uses 2e-5.")
    config.training["learning_rate"] = float("inf")  # refused, not merely warned about
    assert [p.level for p in validate(config)] == [ERROR] and warnings_for(config) == []


def test_a_trackio_space_is_said_to_be_public(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.errors import WARNING
    from finetune_studio.core.validation import warnings_for

    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    config = default_config()
    config.training["trackio_space_id"] = "me/dashboard"
    assert warnings_for(config) == []  # not reported to trackio: the Space id does nothing
    for report_to in ("trackio", ["tensorboard", "trackio"], "all"):
        config.training["report_to"] = report_to
        [warning] = warnings_for(config)
        assert (warning.field, warning.level) == ("training.trackio_space_id", WARNING)
        assert warning.message == ("trackio_space_id 'me/dashboard' publishes this run's metrics to a Hugging Face "
                                   "Space that anyone can see (it is created public). To keep them on this computer, "
                                   "clear trackio_space_id; the Hub tab's push does not cover it.")
    config.training["trackio_space_id"] = None
    assert warnings_for(config) == []  # trackio logging locally publishes nothing


@pytest.mark.parametrize(("training", "precision"), [
    ({"bf16": "no"}, "fp32"), ({"bf16": "yes"}, "fp32"), ({"fp16": 1}, "fp32"), ({"bf16": 0.0, "fp16": "true"}, "fp32"),
    ({"bf16": "no", "fp16": True}, "fp16"), ({"bf16": True, "fp16": "no"}, "bf16"), ({"bf16": False}, "fp32"),
])
def test_precision_is_on_only_for_a_real_true_as_validate_reads_it(training: dict, precision: str) -> None:
    """bf16: "no" was taken for bf16 (any truthy value was), while validate refuses it as not true or false."""
    assert precision_of(training) == precision
    config = default_config()
    set_precision(config.training, "auto")
    config.training.update(training)
    refused = {p.field for p in validate(config, check_files=False) if "must be true or false" in p.message}
    assert refused == {f"training.{key}" for key, value in training.items() if not isinstance(value, bool)}
