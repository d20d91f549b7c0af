"""More GPUs chosen than processes (above 1) start: each process trains on one chosen GPU in the order listed, and the
rest stayed idle without a word while the config listed them. A warning says which and what to set."""

from __future__ import annotations

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig
from finetune_studio.core.errors import WARNING


def _config(devices: object, processes: int) -> RunConfig:
    config = RunConfig()
    config.launch.devices = devices
    config.launch.processes = processes
    return config


def _idle(config: RunConfig) -> list[tuple[str, str, str]]:
    return [(p.field, p.level, p.message) for p in launch.launch_warnings(config) if "idle" in p.message]


def test_two_processes_on_three_chosen_gpus_name_the_idle_one() -> None:
    assert _idle(_config([0, 1, 3], 2)) == [("launch.processes", WARNING, (
        "3 GPUs are chosen (launch.devices [0, 1, 3]) but processes is 2: each process trains on one GPU, so GPU 3 "
        "stays idle. To fix: set Processes (launch.processes) to 3, or to 1 (one process per chosen GPU), or untick "
        "GPU 3."))]


def test_several_idle_gpus_are_all_named() -> None:
    [(_, _, message)] = _idle(_config([4, 5, 6, 7], 2))
    assert "so GPUs 6, 7 stay idle" in message and message.endswith("or untick GPUs 6, 7.")


@pytest.mark.parametrize("devices, processes", [([0, 1, 2], 1), ([0, 1], 2), ([0], 1), ([], 4), ([0, 0, 1], 2),
                                                ("0,1,2", 2)])
def test_no_warning_when_every_chosen_gpu_trains_or_the_list_is_wrong(devices: object, processes: int) -> None:
    assert _idle(_config(devices, processes)) == []
    # processes 1 starts one process per chosen GPU: nothing idle
    assert launch.processes_per_node(_config([0, 1, 2], 1)) == 3
