"""A run name that is taken and an empty config file say what to do after "To fix:", as every user message does;
the command to resume the taken run is one to paste (its path quoted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.config import load_config
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.training import run
from tests.core.test_advice_no_fix import diverged_run
from tests.helpers import SAMPLE, small_config


def test_a_taken_run_name_says_to_fix(tmp_path: Path) -> None:
    runs = tmp_path / "my runs"
    taken = diverged_run(runs, "same")  # two steps trained: the name is taken
    config = small_config(SAMPLE, runs, max_steps=2)
    config.name = "same"
    with pytest.raises(ConfigError) as refused:
        run(config, execute=lambda *args: pytest.fail("the second run trained"))
    assert str(refused.value) == (
        f"name: A run named 'same' already exists in {runs}. To fix: choose another name (name: in the config, or "
        f"--name NEW), or resume that run (finetune-studio resume '{taken}').")


def test_an_empty_config_says_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# to do\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value) == (
        f"Config file {path} is empty: it holds no settings. To fix: write one with 'finetune-studio init NEW.yaml' "
        "(or File → Save config in the app), or leave the file out to train the built-in demo.")
