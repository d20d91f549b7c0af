"""launch.nodes has a most, as processes have: `nodes: 1000` (a typo, or a cluster a scheduler starts) used to pass
validation, and `launch-command` printed a thousand lines to start by hand. The CLI (validate, launch-command) and
the window's Launch tab read the same problems list."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.cli import EXIT_CONFIG, main
from finetune_studio.core.config import RunConfig, save_config
from finetune_studio.core.validation import validate

TOO_MANY = ("nodes is 1000; a run can take at most 64 machines, each started by hand from its own launch line. "
            "To fix: set Machines (launch.nodes) to 64 or fewer, with more processes on each machine; for a bigger "
            "cluster, start torchrun through its scheduler (e.g. SLURM) instead.")


def _config(nodes: int) -> RunConfig:
    config = RunConfig()
    config.name = "cluster"
    config.launch.nodes = nodes
    config.launch.rdzv_endpoint = "10.0.0.5:29500"
    return config


@pytest.mark.parametrize("here", [True, False])
def test_more_machines_than_the_most_is_a_problem_at_the_nodes_field(monkeypatch, here: bool) -> None:
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    problems = launch.launch_problems(_config(1000), gpu_count=0, here=here)
    assert [(p.field, p.message) for p in problems] == [("launch.nodes", TOO_MANY)]
    assert launch.launch_problems(_config(launch.MAX_NODES), gpu_count=0, here=here) == []
    assert [p.field for p in launch.launch_problems(_config(launch.MAX_NODES + 1), gpu_count=0, here=here)] == [
        "launch.nodes"]


def test_validate_and_launch_command_refuse_it_in_the_same_words(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    config = _config(1000)
    config.runs_dir = str(tmp_path / "runs")
    path = tmp_path / "c.yaml"
    save_config(config, path)
    problems = [p for p in validate(config) if p.field.startswith("launch.")]
    assert [p.message for p in problems] == [TOO_MANY]  # what the Launch tab marks at Machines
    for argv in (["validate", str(path)], ["launch-command", str(path), "--run-dir", "/r"]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == EXIT_CONFIG, argv
        assert TOO_MANY in err + out, argv
        assert "--nnodes" not in out  # no line to start
