"""How many processes one machine may start. 0 and fewer are refused (whole_number_problem); more than
MAX_PROCESSES (1024) are refused wherever the lines run, as a typo, since no machine has that many GPUs or cores for
them; more than the chosen GPUs are refused wherever the lines run too (each line makes only those GPUs visible);
more than this machine's GPUs, or than its memory can start, are this machine's errors; more CPU processes than its
cores are a warning (gloo oversubscribes, slowly). `launch-command` used to print lines for 100000 processes per
machine, or for 4 processes on 2 chosen GPUs, whenever machine 0 was another machine."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import launch
from finetune_studio.core.cli import EXIT_CONFIG, main
from finetune_studio.core.config import RunConfig, save_config
from finetune_studio.core.errors import WARNING
from finetune_studio.core.validation import validate, warnings_for

ELSEWHERE = "203.0.113.9:29500"  # TEST-NET-3: machine 0 is never this machine


@pytest.fixture(autouse=True)
def _a_machine_without_gpus_with_2_cores_and_2_tib(monkeypatch: Any) -> None:
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    monkeypatch.setattr(launch, "_cores", lambda: 2)
    monkeypatch.setattr(launch, "_memory_bytes", lambda: 2 << 40)  # memory would let 4096 processes start


def _config(processes: Any, nodes: int = 1, endpoint: str = "", devices: list[int] | None = None) -> RunConfig:
    config = RunConfig()
    config.name = "shared"
    config.launch.processes, config.launch.nodes, config.launch.rdzv_endpoint = processes, nodes, endpoint
    config.launch.devices = devices or []
    return config


def _launch_command(config: RunConfig, tmp_path: Path, capsys: Any) -> tuple[int, list[str], list[str]]:
    path = tmp_path / "run.yaml"
    save_config(config, path)
    code = main(["launch-command", str(path), "--run-dir", "/r"])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def _processes_problems(problems: list[Any]) -> list[str]:
    return [p.message for p in problems if p.field == "launch.processes" and p.level != WARNING]


@pytest.mark.parametrize("processes", [1025, 100_000])
@pytest.mark.parametrize(("nodes", "endpoint"), [(1, ""), (2, ELSEWHERE)], ids=["here", "elsewhere"])
def test_more_than_1024_processes_on_a_machine_are_refused_wherever_the_lines_run(
        processes: int, nodes: int, endpoint: str, tmp_path: Path, capsys: Any) -> None:
    config = _config(processes, nodes, endpoint)
    said = _processes_problems(launch.launch_problems(config, here=False))
    assert said == [f"processes is {processes:,}; a machine can run at most 1024 training processes (one per GPU, or "
                    "at most one per CPU core). To fix: set Processes (launch.processes) to the number of GPUs each "
                    "machine trains on, or on the CPU to its cores or fewer."]
    assert _processes_problems(validate(config)) == said  # said once, not again by this machine's memory check
    code, out, err = _launch_command(config, tmp_path, capsys)
    assert code == EXIT_CONFIG and out == []
    assert f"error: launch.processes: {said[0]}" in err


def test_1024_processes_are_left_to_each_machines_own_checks(tmp_path: Path, capsys: Any) -> None:
    config = _config(launch.MAX_PROCESSES, 2, ELSEWHERE)
    assert launch.launch_problems(config, here=False) == []
    code, out, _ = _launch_command(config, tmp_path, capsys)
    assert code == 0 and len(out) == 2
    assert all(shlex.split(line)[shlex.split(line).index("--nproc-per-node") + 1] == "1024" for line in out)


@pytest.mark.parametrize("processes", [0, -3])
def test_no_processes_are_refused(processes: int) -> None:
    said = _processes_problems(launch.launch_problems(_config(processes), here=False))
    assert said == [f"processes is {processes}; it must be 1 or more (1: one process, the usual run). To fix: set "
                    "processes to 1 or more."]


def test_more_cpu_processes_than_cores_is_a_warning_not_a_refusal(tmp_path: Path, capsys: Any) -> None:
    config = _config(8)
    assert _processes_problems(validate(config)) == []  # validate imports torch: no_gpu() is asked
    warned = [w for w in warnings_for(config) if w.field == "launch.processes"]
    assert len(warned) == 1 and warned[0].level == WARNING
    assert "8 processes on a machine without a GPU, which has 2 CPU cores" in warned[0].message
    code, out, err = _launch_command(config, tmp_path, capsys)
    assert code == 0 and len(out) == 1 and f"warning: {warned[0]}" in err


def test_more_processes_than_the_chosen_gpus_are_refused_for_every_machine(tmp_path: Path, capsys: Any) -> None:
    config = _config(4, 2, ELSEWHERE, devices=[0, 1])
    message = ("4 processes but only the 2 chosen GPU(s) [0, 1]: each process trains on its own GPU. To fix: use "
               "at most 2 processes, or choose more GPUs.")
    assert _processes_problems(launch.launch_problems(config, here=False)) == [message]
    code, out, err = _launch_command(config, tmp_path, capsys)
    assert code == EXIT_CONFIG and out == [] and f"error: launch.processes: {message}" in err
    # On a machine with GPUs, said once (not again by this machine's own count).
    assert _processes_problems(launch.launch_problems(config, gpu_count=8)) == [message]
    config.launch.processes = 2
    assert launch.launch_problems(config, here=False) == []


def test_more_processes_than_this_machines_gpus_stay_this_machines_error() -> None:
    config = _config(4, 2, ELSEWHERE)  # no GPUs chosen: each machine's own count decides
    assert launch.launch_problems(config, here=False) == []
    assert _processes_problems(launch.launch_problems(config, gpu_count=2)) == [
        "4 processes but only this machine's 2 GPU(s): each process trains on its own GPU. To fix: use at most 2 "
        "processes, or choose more GPUs."]
