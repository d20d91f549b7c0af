"""A rendezvous endpoint whose host name this machine cannot look up (a typo, a name only another network's DNS
knows). Validation does no DNS, so torchrun got it and tried the name for its store's 60 s connect timeout twice,
whatever join_timeout said, then said only that the store could not be reached: about two minutes (97-115 s
measured) for a name that does not exist. The name is now looked up as the run starts: refused at once, saying so."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.errors import TrainingError
from finetune_studio.core.runs import RunFolder
from tests.helpers import read_events, small_config


def test_names_that_resolve_and_addresses_are_left_to_torchrun() -> None:
    for endpoint in ("localhost:29500", "127.0.0.1:0", "[::1]:29500", "10.0.0.1:29500", f"{socket.gethostname()}:1",
                     "", "not an endpoint"):
        assert launch.unresolved_endpoint(endpoint) is None, endpoint


def test_a_name_no_resolver_knows_is_said_with_the_fix(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert launch.unresolved_endpoint("nodee0:29500") == (
        "The rendezvous endpoint nodee0:29500 names nodee0, which this machine cannot look up (Name or service not "
        "known): no DNS server or hosts file here knows that name, so no machine could meet there and nothing "
        "trained. To fix: write machine 0's IP address and the port in Rendezvous (launch.rdzv_endpoint), e.g. "
        "192.168.1.10:29500, or a name this machine finds (check with: getent hosts nodee0).")


def test_a_run_on_two_machines_with_an_unknown_host_fails_at_once(demo_cache: Path, small_dataset: Path,
                                                                 runs_dir: Path, monkeypatch) -> None:
    real = socket.getaddrinfo

    def lookup(host, *args, **kwargs):
        if host == "no-such-host.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    config = small_config(small_dataset, runs_dir, max_steps=2)
    config.name = "unknown-host"
    config.launch.nodes, config.launch.node_rank = 2, 1
    config.launch.rdzv_endpoint = "no-such-host.invalid:29512"
    config.launch.join_timeout = 5
    started = time.monotonic()
    with pytest.raises(TrainingError) as caught:
        launch.run(config)
    assert time.monotonic() - started < 60
    message = str(caught.value)
    assert message == (
        "The rendezvous endpoint no-such-host.invalid:29512 names no-such-host.invalid, which this machine cannot "
        "look up (Name or service not known): no DNS server or hosts file here knows that name, so no machine could "
        "meet there and nothing trained. To fix: write machine 0's IP address and the port in Rendezvous "
        "(launch.rdzv_endpoint), e.g. 192.168.1.10:29512, or a name this machine finds (check with: getent hosts "
        "no-such-host.invalid). Nothing was trained, so nothing is lost: start the run again once the endpoint is "
        "fixed (the same name takes this folder over).")
    run_dir = runs_dir / "unknown-host"
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["message"], status["nodes"]) == ("failed", message, 2)
    assert [(e["state"], e["message"]) for e in read_events(run_dir, "end")] == [("failed", message)]
    assert not (run_dir / launch.LAUNCH_LOG).exists()  # torchrun never started
    config.launch.rdzv_endpoint = "127.0.0.1:29512"
    from finetune_studio.core.training import new_run_folder

    assert new_run_folder(config)[1].path == run_dir  # the same name takes the untrained folder over
