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


@pytest.mark.parametrize("saved", [False, True])
def test_a_taken_run_name_says_to_fix(tmp_path: Path, saved: bool) -> None:
    """The way on names what works: resume for a run with a checkpoint; for one that saved none, which Resume
    refuses, deleting its folder (07b0703: it said "or resume that run" for it too)."""
    runs = tmp_path / "my runs"
    taken = diverged_run(runs, "same", checkpoint=saved)  # two steps trained: the name is taken
    config = small_config(SAMPLE, runs, max_steps=2)
    config.name = "same"
    with pytest.raises(ConfigError) as refused:
        run(config, execute=lambda *args: pytest.fail("the second run trained"))
    way = (f"resume that run (finetune-studio resume '{taken}')" if saved else
           "delete that run's folder first: it saved no checkpoint, so it cannot resume")
    assert str(refused.value) == (
        f"name: A run named 'same' already exists in {runs}. To fix: choose another name (name: in the config, or "
        f"--name NEW), or {way}.")


def test_an_empty_config_says_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# to do\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value) == (
        f"Config file {path} is empty: it holds no settings. To fix: write one with 'finetune-studio init NEW.yaml' "
        "(or File → Save config in the app), or leave the file out to train the built-in demo.")
