"""The rendezvous endpoint's host: digits and dots make an IPv4 address or nothing (999.1.1.1 is refused), a
bracketed host is an IPv6 address, and every host name is left to the resolver."""

from __future__ import annotations

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig

NOT_IPV4 = "is not an IPv4 address: that is four numbers from 0 to 255 joined by dots, e.g. 192.168.1.10"


def _two_machines(endpoint: str) -> RunConfig:
    config = RunConfig()
    config.name = "shared"
    config.launch.nodes = 2
    config.launch.rdzv_endpoint = endpoint
    return config


def test_an_octet_above_255_is_a_problem_at_the_endpoint() -> None:
    problems = launch.launch_problems(_two_machines("999.1.1.1:29500"), gpu_count=0, here=False)
    assert [(p.field, p.message) for p in problems] == [(
        "launch.rdzv_endpoint",
        f"The rendezvous endpoint '999.1.1.1:29500' names 999.1.1.1, which {NOT_IPV4} (999 is above 255). To fix: "
        "give the first machine's address and a free port, e.g. 192.168.1.10:29500, or leave it empty on one machine.")]


@pytest.mark.parametrize(("endpoint", "reason"), [
    ("192.168.1.256:29500", f"{NOT_IPV4} (256 is above 255)"),
    ("10.0.0:29500", NOT_IPV4),
    ("10..0.1:29500", NOT_IPV4),
    ("1.2.3.4.5:29500", NOT_IPV4),
    ("010.0.0.1:29500", "is ambiguous: 010 has a leading zero, which some programs read as an octal number. Write "
                        "it without: 10.0.0.1"),
    ("[zz]:29500", "is not an IPv6 address (only an IPv6 address is written in brackets, e.g. [fd00::1]:29500)"),
])
def test_hosts_that_are_no_address_are_refused_with_the_reason(endpoint: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        launch.parse_endpoint(endpoint)
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    assert str(raised.value) == f"'{endpoint}' names {host}, which {reason}"


@pytest.mark.parametrize("endpoint", ["192.168.1.10:29500", "255.255.255.255:1", "0.0.0.0:29500", "node-1:29500",
                                      "gpu01.cluster.local:29500", "localhost:29500", "1e3:29500", "10.0.0.1a:29500",
                                      "[::1]:29500", "[fe80::1%eth0]:29500"])
def test_addresses_and_host_names_are_accepted(endpoint: str) -> None:
    host, port = launch.parse_endpoint(endpoint)
    assert (host, port) == (endpoint.rsplit(":", 1)[0].strip("[]"), int(endpoint.rsplit(":", 1)[1]))
    assert launch.launch_problems(_two_machines(endpoint), gpu_count=0, here=False) == []
