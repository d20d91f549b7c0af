"""Reading a config file: what YAML itself would let through silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import load_config
from finetune_studio.core.errors import ConfigError


def test_a_section_given_twice_is_refused_by_validate_naming_both_lines(tmp_path: Path, capsys) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("dataset: {source: mine.jsonl}\ntraining:\n  max_steps: 3\ndataset: {max_length: 64}\n",
                    encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    said = capsys.readouterr().err
    assert f"{path} is not valid YAML at line 4, column 1: 'dataset' is given twice in the same section" in said
    assert "(the first one is the 'dataset' that starts at line 1, column 1)" in said


def test_a_setting_given_twice_is_refused_not_the_last_one_kept(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("training:\n  learning_rate: 1e-4\n  max_steps: 3\n  learning_rate: 5e-7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 4, column 3: 'learning_rate' is given twice"):
        load_config(path)


def test_the_same_key_in_two_sections_and_yaml_merge_keys_stay_valid(tmp_path: Path) -> None:
    path = tmp_path / "fine.yaml"
    path.write_text("dataset: {max_length: 64}\nmodel: {name_or_path: builtin:demo}\n"
                    "training:\n  <<: {max_steps: 3, learning_rate: 1e-4}\n  max_steps: 5\n", encoding="utf-8")
    config, _ = load_config(path)  # a merge key's values give way to the mapping's own, as YAML says
    assert config.dataset.max_length == 64
    assert (config.training["max_steps"], config.training["learning_rate"]) == (5, 1e-4)


def test_unknown_keys_and_the_files_other_problems_are_said_at_once(tmp_path: Path, capsys) -> None:
    path = tmp_path / "typos.yaml"
    path.write_text("training:\n  lerning_rate: 1e-4\n  per_device_train_batch_size: 0\ndataset:\n  max_length: -1\n"
                    "model:\n  nme_or_path: x\n", encoding="utf-8")
    for command in ("validate", "train"):
        assert main([command, str(path)]) == 2
        said = capsys.readouterr().err.splitlines()
        assert said[0] == ("error: model.nme_or_path: 'nme_or_path' is not a model setting. Did you mean "
                           "'name_or_path'? To fix: rename it to name_or_path.")
        assert sorted(said[1:]) == [
            "error: dataset.max_length: max_length must be a whole number above 0 (got -1); the seed uses 512. To "
            "fix: set max_length to the model's context length or less, such as 512.",
            "error: training.lerning_rate: 'lerning_rate' is not a TrainingArguments setting. Did you mean "
            "'learning_rate'? To fix: rename it to learning_rate.",
            "error: training.per_device_train_batch_size: per_device_train_batch_size must be at least 1 (got 0). "
            "To fix: set per_device_train_batch_size to 1 or more."]
