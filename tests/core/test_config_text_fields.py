"""A field declared as text keeps text, from a YAML file and from `--set`: a path with ": " in it was read as a
mapping, and a column named 2024 as a number, and validate then blamed the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import apply_overrides, default_config, load_config


def test_text_fields_keep_text_from_set(tmp_path: Path) -> None:
    config, _ = apply_overrides(default_config(), ["dataset.source=data/with: colon.jsonl",
                                                   "dataset.text_column=2024", "dataset.name=null",
                                                   "dataset.split=true", "runs_dir=1e2"])
    assert config.dataset.source == "data/with: colon.jsonl"
    assert config.dataset.text_column == "2024"
    assert config.dataset.name is None  # null still clears an optional text field
    assert config.dataset.split == "true"
    assert config.runs_dir == "1e2"
    assert apply_overrides(default_config(), ["dataset.max_length=64"])[0].dataset.max_length == 64  # not text


def test_text_column_number_in_yaml_is_that_column(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("dataset:\n  text_column: 2024\n  encoding: 1252\n  truncation: 5\n", encoding="utf-8")
    config, _ = load_config(path)
    assert (config.dataset.text_column, config.dataset.encoding) == ("2024", "1252")
    assert config.dataset.truncation == 5  # a number for a true/false field stays for validate() to refuse


def test_cli_set_and_yaml_take_a_path_with_colon_and_a_numeric_column(tmp_path: Path, runs_dir: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "with: colon.jsonl"
    data.write_text("".join(f'{{"2024": "row {i} of the data", "other": "x"}}\n' for i in range(20)),
                    encoding="utf-8")
    assert main(["validate", "--set", f"dataset.source={data}", "--set", "dataset.text_column=2024"]) == 0
    assert "ok: the config is valid." in capsys.readouterr().out
    path = tmp_path / "run.yaml"
    path.write_text(f"dataset:\n  source: '{data}'\n  text_column: 2024\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert "ok: the config is valid." in capsys.readouterr().out
