"""The launch lines hold machine 0's line whatever launch.node_rank the config has, so where machine 0 is this machine
a port in use here refuses them for every node_rank: they were refused with node_rank 0 and printed, identical, with
node_rank 1, and machine 0's line then could not listen."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig

IN_USE = ("Port {} is in use by another program on this machine, so the rendezvous cannot listen there. To fix: "
          "choose another port (or leave the endpoint empty on one machine: a free port is chosen).")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _config(port: int, node_rank: int) -> RunConfig:
    config = RunConfig(name="two")
    config.launch.nodes = 2
    config.launch.node_rank = node_rank
    config.launch.rdzv_endpoint = f"127.0.0.1:{port}"
    return config


@pytest.mark.parametrize("node_rank", [0, 1])
def test_the_lines_are_refused_for_a_port_in_use_whatever_the_node_rank(busy_port: int, node_rank: int) -> None:
    config = _config(busy_port, node_rank)
    refused, left_out = launch.lines_checks(config, launch.launch_problems(config, gpu_count=0))
    assert [(p.field, p.message) for p in refused if p.level == "error"] == [
        ("launch.rdzv_endpoint", IN_USE.format(busy_port))]
    assert left_out == []


def test_train_as_machine_one_does_not_listen_so_the_port_is_not_its_problem(busy_port: int) -> None:
    assert launch.launch_problems(_config(busy_port, 1), gpu_count=0) == []


def test_a_free_port_passes_for_machine_one() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = _config(port, 1)
    refused, _ = launch.lines_checks(config, launch.launch_problems(config, gpu_count=0))
    assert [p for p in refused if p.level == "error"] == []
