"""A machine number at or above the run's machines said the allowed numbers as "to 0 to 1" ("set This machine
(launch.node_rank) to 0 to 1"): now "a number from 0 to 1". One machine keeps "to 0"."""

from __future__ import annotations

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig


@pytest.mark.parametrize(("nodes", "rank", "allowed"), [(2, 2, "a number from 0 to 1"), (4, 7, "a number from 0 to 3"),
                                                        (1, 1, "0")])
def test_the_allowed_machine_numbers_read_as_a_sentence(nodes: int, rank: int, allowed: str) -> None:
    config = RunConfig()
    config.name = "two"
    config.launch.nodes, config.launch.node_rank = nodes, rank
    config.launch.rdzv_endpoint = "10.1.2.3:29500" if nodes > 1 else ""
    machines = "1 machine" if nodes == 1 else f"{nodes} machines"
    assert [p.message for p in launch.launch_problems(config, gpu_count=0) if p.field == "launch.node_rank"] == [
        f"This machine is number {rank}, but the run has {machines}: it must be {allowed}. Each machine gets its own "
        f"number, the first one 0. To fix: set This machine (launch.node_rank) to {allowed}."]
