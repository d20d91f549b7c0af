"""Machine 0's torchrun hosts the rendezvous store (--rdzv-conf is_host=1) when the endpoint is a network address.
torchrun's own guess hosts it only where the endpoint matches the host name or the addresses the name resolves to;
a network card's address the name does not resolve to (the LAN address where /etc/hosts maps the name to
127.0.1.1) made machine 0 a client too, and every machine waited for a store nobody started (pytorch#73656)."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig
from tests.helpers import free_port

PRINT_RANK = "import os; print('rank', os.environ['RANK'], 'of', os.environ['WORLD_SIZE'], flush=True)"


def _config(nodes: int, endpoint: str) -> RunConfig:
    config = RunConfig()
    config.name = "shared"
    config.launch.processes, config.launch.nodes, config.launch.rdzv_endpoint = 1, nodes, endpoint
    config.launch.join_timeout = 60
    return config


def _conf(args: list[str]) -> str:
    return args[args.index("--rdzv-conf") + 1]


def test_machine_0_of_a_network_endpoint_hosts_the_store_and_the_others_do_not() -> None:
    config = _config(3, "10.0.0.5:29500")
    assert [_conf(launch.torchrun_args(config, "10.0.0.5:29500", node_rank=r)) for r in range(3)] == [
        "join_timeout=60,is_host=1", "join_timeout=60", "join_timeout=60"]
    lines = [shlex.split(line) for line in launch.node_commands(config, "/shared/run.yaml", "/shared/runs/shared")]
    assert [_conf(argv) for argv in lines] == ["join_timeout=60,is_host=1", "join_timeout=60", "join_timeout=60"]


@pytest.mark.parametrize("endpoint", ["127.0.0.1:29500", "localhost:29500", "[::1]:29500", launch.ONE_MACHINE_ENDPOINT])
def test_a_loopback_endpoint_keeps_torchruns_own_choice(endpoint: str) -> None:
    assert _conf(launch.torchrun_args(_config(2, endpoint), endpoint, node_rank=0)) == "join_timeout=60"


def _interface_address() -> str | None:
    """An IPv4 address of this machine's network cards that its host name does not resolve to: where torchrun's
    own guess fails."""
    try:
        import psutil
    except ImportError:
        return None
    resolved = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not launch.is_loopback(address.address) \
                    and address.address not in resolved:
                return address.address
    return None


@pytest.mark.slow
def test_two_machines_meet_at_a_network_card_address_the_host_name_does_not_resolve_to(tmp_path: Path) -> None:
    address = _interface_address()
    if address is None:
        pytest.skip("every network card address here is one the host name resolves to: torchrun's guess works")
    endpoint = f"{address}:{free_port(address)}"
    config = _config(2, endpoint)
    script = tmp_path / "rank.py"
    script.write_text(PRINT_RANK + "\n")
    machines = []
    for rank in range(2):  # machine 0 first, as the lines are started; both on this machine, as two would be
        argv = [sys.executable, "-m", "torch.distributed.run", *launch.torchrun_args(config, endpoint, rank),
                str(script)]
        machines.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    try:
        outputs = [machine.communicate(timeout=120)[0] for machine in machines]
    finally:
        for machine in machines:
            machine.kill()
    assert [machine.returncode for machine in machines] == [0, 0], outputs[0][-2000:]
    ranks = sorted(line for output in outputs for line in output.splitlines() if line.startswith("rank "))
    assert ranks == ["rank 0 of 2", "rank 1 of 2"]
