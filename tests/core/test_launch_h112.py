"""The launch settings as a hostile user writes them (helper-112): every problem at once, each in words with the value
as written and "To fix: …", and launch lines a user can paste into bash.

- A port in use here was said only once every other launch problem was fixed (a run on two machines without a name
  was refused for the name, and for the port on the next try).
- A port below 1024 that this user may not listen on was called "in use by another program".
- A port below 1024 on another machine 0 went unsaid: its line fails there unless run as root.
- An endpoint written as a URL, an IPv6 address without brackets or with a space got only "is not host:port", and a
  port out of range did not name the endpoint ("The rendezvous endpoint port 0 is outside 1-65535.")."""

from __future__ import annotations

import errno
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig, save_config
from finetune_studio.core.errors import WARNING
from tests.core.test_launch_lines_port_any_rank import IN_USE, busy_port  # noqa: F401 (a fixture)

NAME = ("A run on several machines needs a name: every machine's launch command names the same run folder. To fix: "
        "give the run a name (Run name on the Training tab, name: in the file), e.g. two-machines.")


def _config(name: str = "", **launch_fields: object) -> RunConfig:
    config = RunConfig(name=name)
    for key, value in launch_fields.items():
        setattr(config.launch, key, value)
    return config


def _errors(problems: list) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in problems if p.level != WARNING]


# ---------------------------------------------------------------------------------------------- all at once
def test_a_port_in_use_is_said_beside_a_missing_name(busy_port: int) -> None:
    config = _config(nodes=2, processes=2, rdzv_endpoint=f"localhost:{busy_port}")
    assert _errors(launch.launch_problems(config, gpu_count=0)) == [
        ("name", NAME), ("launch.rdzv_endpoint", IN_USE.format(busy_port))]


def test_a_port_in_use_is_said_beside_a_wrong_process_count(busy_port: int) -> None:
    config = _config(name="two", nodes=2, processes=0, rdzv_endpoint=f"localhost:{busy_port}")
    assert [field for field, _ in _errors(launch.launch_problems(config, gpu_count=0))] == [
        "launch.processes", "launch.rdzv_endpoint"]
    # The lines of machine 1's config hold machine 0's line, which listens here: Copy waits for both too.
    config.launch.node_rank = 1
    refused, _ = launch.lines_checks(config, launch.launch_problems(config, gpu_count=0), here=True)
    assert _errors(refused) == [
        ("launch.processes", "processes is 0; it must be 1 or more (1: one process, the usual run). To fix: set "
                             "processes to 1 or more."),
        ("launch.rdzv_endpoint", IN_USE.format(busy_port))]


def test_a_wrong_endpoint_still_asks_no_port(busy_port: int) -> None:
    config = _config(name="two", nodes=2, processes=2, rdzv_endpoint=f"localhost:{busy_port}:1")
    assert [field for field, _ in _errors(launch.launch_problems(config, gpu_count=0))] == ["launch.rdzv_endpoint"]


def test_two_machines_without_an_endpoint_say_what_to_do() -> None:
    assert _errors(launch.launch_problems(_config(name="two", nodes=2), gpu_count=0)) == [(
        "launch.rdzv_endpoint",
        "A run on 2 machines needs a rendezvous endpoint: the first machine's address and a free port, e.g. "
        "192.168.1.10:29500, the same on every machine. To fix: write machine 0's address and port in Rendezvous "
        "(launch.rdzv_endpoint), or set Machines (launch.nodes) to 1 to train on this machine alone.")]


def _ipv6_listener() -> socket.socket | None:
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.bind(("::1", 0))
    except OSError:
        return None
    sock.listen()
    return sock


@pytest.mark.parametrize("endpoint", ["[::1]:{}", "localhost:{}"])
def test_a_port_an_ipv6_program_holds_is_in_use(endpoint: str) -> None:
    listener = _ipv6_listener()
    if listener is None:
        pytest.skip("no IPv6 on this machine")
    with listener:
        port = listener.getsockname()[1]
        config = _config(processes=2, rdzv_endpoint=endpoint.format(port))
        assert _errors(launch.launch_problems(config, gpu_count=0)) == [("launch.rdzv_endpoint", IN_USE.format(port))]
    assert launch.port_refusal(port) is None  # closed: free again


# ---------------------------------------------------------------------------------------------- ports below 1024
def test_a_port_this_user_may_not_listen_on_is_not_called_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    real_bind = socket.socket.bind

    def bind(self: socket.socket, address: tuple) -> None:  # a user other than root, as on most desktops
        if address[1] and address[1] < 1024:
            raise PermissionError(errno.EACCES, "Permission denied")
        real_bind(self, address)

    monkeypatch.setattr(socket.socket, "bind", bind)
    config = _config(processes=2, rdzv_endpoint="localhost:80")
    assert _errors(launch.launch_problems(config, gpu_count=0)) == [(
        "launch.rdzv_endpoint",
        "Port 80 (in localhost:80) is below 1024: only root (the administrator) may listen there on this machine, so "
        "the rendezvous cannot. To fix: choose a port from 1024 to 65535, e.g. 29500 (or leave the endpoint empty on "
        "one machine: a free port is chosen).")]
    assert launch.port_refusal(80) == "privileged"


def test_a_port_below_1024_on_another_machine_zero_is_a_warning() -> None:
    config = _config(name="two", nodes=2, rdzv_endpoint="10.0.0.5:80")
    assert launch.launch_problems(config, gpu_count=0) == []
    assert [(p.field, p.level, p.message) for p in launch.launch_warnings(config)] == [(
        "launch.rdzv_endpoint", WARNING,
        "Port 80 (in 10.0.0.5:80) is below 1024: on machine 0 (10.0.0.5) only root (the administrator) may listen "
        "there, so its launch line fails unless it runs as root. To fix: choose a port from 1024 to 65535, e.g. "
        "29500.")]
    config.launch.rdzv_endpoint = "10.0.0.5:29500"
    assert launch.launch_warnings(config) == []


# ---------------------------------------------------------------------------------------------- endpoints as written
@pytest.mark.parametrize("endpoint, said", [
    ("http://node0:29500", "The rendezvous endpoint 'http://node0:29500' is not host:port (e.g. 192.168.1.10:29500): "
                           "it is a URL, and torchrun takes the bare host and port, without http:// or a path. To "
                           "fix: write node0:29500."),
    ("http://node0", "The rendezvous endpoint 'http://node0' is not host:port (e.g. 192.168.1.10:29500): it is a URL, "
                     "and torchrun takes the bare host and port, without http:// or a path. To fix: write node0:29500 "
                     "(29500, or another free port)."),
    ("fd00::1:29500", "The rendezvous endpoint 'fd00::1:29500' is not host:port (e.g. 192.168.1.10:29500): an IPv6 "
                      "address goes in brackets before the port. To fix: write [fd00::1]:29500."),
    ("fd00::1", "The rendezvous endpoint 'fd00::1' is not host:port (e.g. 192.168.1.10:29500): it is an IPv6 address "
                "without a port. To fix: write the address in brackets and the port after it, e.g. [fd00::1]:29500."),
    ("node 0:29500", "The rendezvous endpoint 'node 0:29500' is not host:port (e.g. 192.168.1.10:29500): it has a "
                     "space in it, and a host name or address has none. To fix: write it without, e.g. node0:29500."),
    ("10.0.0.5:0", "The rendezvous endpoint '10.0.0.5:0' has port 0, outside 1-65535. To fix: write a port from 1024 "
                   "to 65535 after the host, e.g. 10.0.0.5:29500."),
    ("[fd00::1]:70000", "The rendezvous endpoint '[fd00::1]:70000' has port 70000, outside 1-65535. To fix: write a "
                        "port from 1024 to 65535 after the host, e.g. [fd00::1]:29500."),
], ids=["url-port", "url", "ipv6-bare-port", "ipv6-no-port", "space", "port-0", "port-70000"])
def test_an_endpoint_says_what_to_write_instead(endpoint: str, said: str) -> None:
    config = _config(name="two", nodes=2, rdzv_endpoint=endpoint)
    assert _errors(launch.launch_problems(config, gpu_count=0)) == [("launch.rdzv_endpoint", said)]


def test_the_suggested_endpoints_pass() -> None:
    for endpoint in ("node0:29500", "[fd00::1]:29500", "10.0.0.5:29500"):
        assert launch.launch_problems(_config(name="two", nodes=2, rdzv_endpoint=endpoint), gpu_count=0) == []


# ---------------------------------------------------------------------------------------------- lines to paste
ODD_FOLDER = "dir with 'quote' and \"double\" $HOME `x`"


def test_the_lines_split_back_into_the_paths_as_they_are(tmp_path: Path) -> None:
    config = _config(name="it's a \"run\"", nodes=2, processes=2, rdzv_endpoint="[fd00::1]:29500")
    config.runs_dir = str(tmp_path / ODD_FOLDER)
    config_path = tmp_path / ODD_FOLDER / "my config.yaml"
    lines = launch.node_commands(config, config_path)
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    for rank, line in enumerate(lines):
        argv = shlex.split(line)
        assert argv[argv.index("--rdzv-endpoint") + 1] == "[fd00::1]:29500"
        assert argv[argv.index("--node-rank") + 1] == str(rank)
        assert argv[-4:] == ["worker", str(tmp_path / ODD_FOLDER / "it's a \"run\""), "--config", str(config_path)]


@pytest.mark.slow  # two real ranks on the CPU (gloo), a few steps of the demo model
def test_a_pasted_line_with_odd_paths_trains_in_bash(demo_cache: Path, small_dataset: Path, tmp_path: Path) -> None:
    from tests.helpers import ROOT, small_config

    runs = tmp_path / ODD_FOLDER
    config = small_config(small_dataset, runs, max_steps=2, eval_steps=2, save_steps=2, per_device_train_batch_size=4)
    config.name, config.launch.processes = "it's a \"run\"", 2
    config_path = runs / "my config.yaml"
    config_path.parent.mkdir(parents=True)
    save_config(config, config_path)
    (line,) = launch.node_commands(config, config_path)
    done = subprocess.run(["bash", "-c", line], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    run_dir = runs / "it's a \"run\""
    from finetune_studio.core.distributed import read_heartbeats
    from finetune_studio.core.runs import RunFolder

    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["step"]) == ("finished", 2)
    beats = read_heartbeats(run_dir)
    assert sorted(beats) == [0, 1] and beats[0]["weights"] == beats[1]["weights"]
    assert sys.executable in shlex.split(line)


def test_one_gpu_is_said_as_one_process() -> None:
    problems = launch.launch_problems(_config(processes=2), gpu_count=1)
    assert _errors(problems) == [("launch.processes", "2 processes but only this machine's 1 GPU(s): each process "
                                                      "trains on its own GPU. To fix: use at most 1 process, or "
                                                      "choose more GPUs.")]


def test_a_copied_line_run_again_does_not_start_over_a_trained_run(tmp_path: Path) -> None:
    """The same line pasted a second time (no --resume-from) is refused by rank 0 before anything is written."""
    from tests.helpers import ROOT

    config = RunConfig(name="again")
    config.dataset.source = str(tmp_path / "data.jsonl")  # never read: the refusal comes first
    config_path = tmp_path / "again.yaml"
    save_config(config, config_path)
    run_dir = tmp_path / "runs" / "again"
    run_dir.mkdir(parents=True)
    metrics = run_dir / "metrics.jsonl"
    metrics.write_text('{"event": "run_start", "time": 1.0}\n{"event": "step", "step": 1, "time": 2.0}\n'
                       '{"event": "step", "step": 2, "time": 3.0}\n', encoding="utf-8")
    status = run_dir / "status.json"
    status.write_text('{"state": "finished", "step": 2}', encoding="utf-8")
    before = (metrics.read_bytes(), status.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}
    env.pop("FINETUNE_STUDIO_SUPERVISED", None)
    done = subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", "worker", str(run_dir), "--config",
                           str(config_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: rank 0: The run folder {run_dir} already holds a run (finished, 2 steps trained), and this line "
        "starts a run at step 0 there. To fix: to continue that run, use the lines of 'finetune-studio "
        "launch-command CONFIG --resume' (this line with --resume-from latest at its end); for a new run, give the "
        "config another name (name:), save it and copy its lines again.")
    assert (metrics.read_bytes(), status.read_bytes()) == before
    from finetune_studio.core.runs import run_busy

    assert run_busy(run_dir) is None  # rank 0's lock released on the way out
