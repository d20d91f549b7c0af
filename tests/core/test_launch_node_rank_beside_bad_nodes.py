"""launch.node_rank's own rule (a whole number from 0) is said whatever launch.nodes holds: a node_rank of -1 beside
nodes 0 or 'two' went unsaid, so validate did not list every problem at once and the next run refused it."""

from __future__ import annotations

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig
from finetune_studio.core.validation import validate


@pytest.mark.parametrize("nodes", [0, "two", 1000, 2.5])
def test_a_negative_node_rank_is_said_beside_a_wrong_nodes(nodes: object) -> None:
    config = RunConfig()
    config.launch.nodes = nodes
    config.launch.node_rank = -1
    found = {p.field: p.message for p in launch.launch_problems(config, gpu_count=0)}
    assert found["launch.node_rank"] == ("node_rank is -1; it must be 0 or more (0: the first machine). To fix: set "
                                         "node_rank to 0 or more.")
    assert "launch.nodes" in found


def test_validate_lists_node_rank_once_beside_a_wrong_nodes() -> None:
    config = RunConfig()
    config.launch.nodes = "two"
    config.launch.node_rank = "first"
    said = [p.message for p in validate(config, check_files=False) if p.field == "launch.node_rank"]
    assert said == ["node_rank must be a whole number (got 'first'). To fix: set node_rank to a whole number, 0 or "
                    "more (0: the first machine)."]


def test_the_bound_on_node_rank_still_needs_a_usable_nodes() -> None:
    config = RunConfig()
    config.launch.nodes = 2
    config.launch.node_rank = 2
    config.launch.rdzv_endpoint = "10.1.2.3:29500"
    config.name = "two"
    assert [p.message for p in launch.launch_problems(config, gpu_count=0)] == [
        "This machine is number 2, but the run has 2 machines: it must be a number from 0 to 1. Each machine gets "
        "its own number, the first one 0. To fix: set This machine (launch.node_rank) to a number from 0 to 1."]
