"""A run on one machine always runs here. Its rendezvous endpoint may fix a port on this machine (localhost:29500,
its host name, an address of one of its network cards), but one naming another host is refused by validation, in the
same words by `validate`, `launch-command` and the Launch tab's Copy: torchrun would wait for a store on that host
that nobody starts, and the endpoint is most likely left over from a run on several machines (or Machines was meant
to be 2). `launch-command` used to take that host for machine 0 and print its line "for elsewhere"."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import launch
from finetune_studio.core.cli import EXIT_CONFIG, main
from finetune_studio.core.config import RunConfig, save_config
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.validation import validate
from tests.helpers import free_port

ELSEWHERE = "203.0.113.9"  # TEST-NET-3 (RFC 5737): never this machine's address
ONE_MACHINE = "This run is on 1 machine (this one), but its rendezvous endpoint names"


@pytest.fixture(autouse=True)
def _a_machine_without_gpus(monkeypatch: Any) -> None:
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    monkeypatch.setattr(launch, "_memory_bytes", lambda: 8 << 30)


def _write(tmp_path: Path, endpoint: str, nodes: int = 1, processes: int = 2) -> tuple[RunConfig, Path]:
    config = RunConfig()
    config.name = "solo"
    config.runs_dir = str(tmp_path / "runs")
    config.launch.processes, config.launch.nodes, config.launch.rdzv_endpoint = processes, nodes, endpoint
    path = tmp_path / "run.yaml"
    save_config(config, path)
    return config, path


def _launch_command(path: Path, capsys: Any) -> tuple[int, list[str], list[str]]:
    code = main(["launch-command", str(path), "--run-dir", "/r"])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def _interface_address() -> str | None:
    """An IPv4 address of one of this machine's network cards that its host name does not resolve to (a second
    card's, or the LAN address where /etc/hosts maps the name to 127.0.1.1); None where there is none."""
    try:
        import psutil
    except ImportError:
        return None
    known = launch._this_machine_names()
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not launch.is_loopback(address.address) \
                    and address.address not in known:
                return address.address
    return None


def test_one_machine_naming_another_host_is_refused_by_validate_and_launch_command(tmp_path: Path,
                                                                                   capsys: Any) -> None:
    config, path = _write(tmp_path, f"{ELSEWHERE}:29500")
    problems = [p for p in validate(config) if p.field == "launch.rdzv_endpoint"]
    assert len(problems) == 1 and problems[0].message.startswith(f"{ONE_MACHINE} {ELSEWHERE}, which is not this "
                                                                 "machine")
    assert "To fix: set Machines (launch.nodes) to 2 or more" in problems[0].message
    assert "leave the endpoint empty" in problems[0].message
    assert problems[0] in launch.launch_problems(config, gpu_count=0, here=False)  # the lines' own check too
    code, out, err = _launch_command(path, capsys)
    assert code == EXIT_CONFIG and out == []  # no line "for elsewhere"
    assert f"error: {problems[0]}" in err
    assert not any("is not this machine, so the lines run on other machines" in line for line in err)
    with pytest.raises(ConfigError):  # the Launch tab's Copy (node_commands) refuses it as well
        launch.node_commands(config, path)


def test_one_machine_always_runs_here(tmp_path: Path) -> None:
    config, _ = _write(tmp_path, f"{ELSEWHERE}:29500")
    assert launch.machine_zero_here(config)  # every check of this machine applies to its one line
    config.launch.nodes = 2
    assert not launch.machine_zero_here(config)


def test_the_real_cli_refuses_it_and_says_how_to_fix_it(tmp_path: Path) -> None:
    _, path = _write(tmp_path, f"{ELSEWHERE}:29500")
    done = subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", "launch-command", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == EXIT_CONFIG and done.stdout == ""
    assert f"error: launch.rdzv_endpoint: {ONE_MACHINE} {ELSEWHERE}" in done.stderr
    assert "To fix: set Machines (launch.nodes) to 2 or more" in done.stderr


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", socket.gethostname(),
                                  socket.gethostname().upper()])
def test_one_machine_may_fix_a_port_on_itself(host: str, tmp_path: Path, capsys: Any) -> None:
    port = free_port()
    config, path = _write(tmp_path, f"{host}:{port}")
    assert not [p for p in validate(config) if p.field == "launch.rdzv_endpoint"]
    code, out, err = _launch_command(path, capsys)
    assert code == 0 and len(out) == 1, err
    argv = shlex.split(out[0])
    assert argv[argv.index("--rdzv-endpoint") + 1] == f"{host}:{port}"
    assert not any(line.startswith("note: ") for line in err)


def test_an_address_of_this_machines_network_card_is_this_machine(tmp_path: Path) -> None:
    address = _interface_address()
    if address is None:
        pytest.skip("no network card address here that the host name does not already resolve to")
    assert launch.is_this_machine(address)
    config, _ = _write(tmp_path, f"{address}:29533")
    assert not [p for p in launch.launch_problems(config, gpu_count=0) if p.message.startswith(ONE_MACHINE)]


def test_a_host_name_is_never_looked_up(monkeypatch: Any) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a DNS lookup on the checks' path")

    launch._this_machine_names()  # this machine's own names: looked up once per process, before
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    assert not launch.is_this_machine("node0.example.invalid")
    assert not launch.is_this_machine(ELSEWHERE)


def test_several_machines_keep_their_lines_for_elsewhere(tmp_path: Path, capsys: Any) -> None:
    config, path = _write(tmp_path, f"{ELSEWHERE}:29500", nodes=2)
    assert not [p for p in validate(config) if p.message.startswith(ONE_MACHINE)]
    code, out, err = _launch_command(path, capsys)
    assert code == 0 and len(out) == 2
    assert any("is not this machine, so the lines run on other machines" in line for line in err)


@pytest.mark.parametrize("nodes", ["two", 0, True, 1.0])
def test_a_machine_count_validation_refuses_says_only_that(nodes: Any, tmp_path: Path) -> None:
    config, _ = _write(tmp_path, f"{ELSEWHERE}:29500")
    config.launch.nodes = nodes
    problems = launch.launch_problems(config, gpu_count=0, here=False)
    assert [p.field for p in problems] == ["launch.nodes"]
