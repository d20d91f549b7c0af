"""launch.join_timeout has a ceiling: torchrun turns it into a timedelta and a deadline, so a huge value (1e100, as
YAML or --set reads it) ended every launch line in OverflowError instead of a refusal before anything started."""

from __future__ import annotations

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig, apply_overrides
from finetune_studio.core.errors import ConfigError

MESSAGE = ("join_timeout is {} seconds; a machine can wait at most 604,800 (a week) for the others. To fix: set "
           "launch.join_timeout to the seconds the slowest machine needs to start its line, e.g. 300 (five minutes, "
           "the default).")


def _config(*overrides: str) -> RunConfig:
    return apply_overrides(RunConfig(), list(overrides))[0]


@pytest.mark.parametrize("written, seconds", [("1e100", "1e+100"), ("604801", "604,801"), ("1e12", "1e+12")])
def test_a_join_timeout_above_a_week_is_refused_in_words(written: str, seconds: str) -> None:
    problems = launch.launch_problems(_config(f"launch.join_timeout={written}"), gpu_count=0)
    assert [(p.field, p.message) for p in problems] == [("launch.join_timeout", MESSAGE.format(seconds))]


def test_a_week_is_the_most_and_is_accepted() -> None:
    config = _config("launch.join_timeout=604800", "launch.processes=2")
    assert launch.launch_problems(config, gpu_count=0) == []
    assert "join_timeout=604800" in launch.torchrun_args(config, launch.ONE_MACHINE_ENDPOINT)


def test_no_launch_line_is_given_for_a_huge_join_timeout(tmp_path) -> None:
    config = _config("launch.join_timeout=1e100", "launch.nodes=2", "launch.rdzv_endpoint=10.0.0.1:29500",
                     "name=two")
    with pytest.raises(ConfigError) as raised:
        launch.node_commands(config, tmp_path / "config.yaml", tmp_path / "run")
    assert MESSAGE.format("1e+100") in str(raised.value)
