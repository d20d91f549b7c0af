"""A text field keeps the text the user wrote: `name: 1e2` in a config file was read as the number 100 and became the
run '100' (0x10 '16', 12:30 '750', true 'True'), the text itself gone before the config saw it."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.config import from_yaml, load_config


@pytest.mark.parametrize("written", ["1e2", "0x10", "12:30", "true", "2024-01-01", "1_000", "0o17", ".5"])
def test_the_run_name_is_the_text_written(written: str, tmp_path: Path) -> None:
    assert from_yaml(f"name: {written}\n")[0].name == written
    path = tmp_path / "run.yaml"
    path.write_text(f"name: {written}\ntraining:\n  learning_rate: 2e-5\n", encoding="utf-8")
    config, _ = load_config(path)
    assert config.name == written
    assert config.training["learning_rate"] == 2e-5 and type(config.training["learning_rate"]) is float


def test_every_text_field_of_the_config_keeps_its_text() -> None:
    config, _ = from_yaml("runs_dir: 12:30\n"
                          "dataset: {source: 1e2, text_column: 0x10, name: true, split: 12:30, max_length: 1e2}\n"
                          "model: {name_or_path: 2e3, revision: 0x1f}\n"
                          "hub: {repo_id: 1e2, private: false}\n"
                          "adapter: {target_modules: [1e2, q_proj], modules_to_save: [12:30], r: 8, alpha: 1e1}\n"
                          "chat: {columns: {prompt: 2024}}\n"
                          "prompts: [1e2, true, 12:30]\n"
                          "launch: {devices: [0, 1], rdzv_endpoint: 12:30}\n")
    assert config.runs_dir == "12:30"
    assert (config.dataset.source, config.dataset.text_column, config.dataset.name, config.dataset.split) == \
        ("1e2", "0x10", "true", "12:30")
    assert (config.model.name_or_path, config.model.revision, config.hub.repo_id) == ("2e3", "0x1f", "1e2")
    assert (config.adapter.target_modules, config.adapter.modules_to_save) == (["1e2", "q_proj"], ["12:30"])
    assert config.chat.columns == {"prompt": "2024"}
    assert config.prompts == ["1e2", "true", "12:30"]
    assert config.launch.rdzv_endpoint == "12:30"
    # numbers and flags stay what YAML makes of them in the fields that take them
    assert (config.dataset.max_length, config.adapter.r, config.adapter.alpha) == (100, 8, 10)
    assert config.hub.private is False and config.launch.devices == [0, 1]


def test_an_old_key_name_keeps_its_text_too() -> None:
    config, notices = from_yaml("model:\n  model_name_or_path: 1e2\n")
    assert config.model.name_or_path == "1e2"
    assert notices == ["model.model_name_or_path is called model.name_or_path in transformers 5; renamed."]


@pytest.mark.parametrize("written", ["null", "~", ""])
def test_null_still_means_not_set(written: str) -> None:
    config, _ = from_yaml(f"name: {written}\ndataset:\n  name: {written}\n")
    assert config.name == "" and config.dataset.name is None


def test_only_the_config_fields_keep_text() -> None:
    """A training field stays as YAML read it (TrainingArguments declares those; validate says how to quote), and a
    key `name` in a mapping inside a training value is no run name."""
    config, _ = from_yaml("training:\n  run_name: 2024\n  lr_scheduler_kwargs: {name: 1e2}\n")
    assert config.training["run_name"] == 2024
    assert config.training["lr_scheduler_kwargs"] == {"name": 100}
