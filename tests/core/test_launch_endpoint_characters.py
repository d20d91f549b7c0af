"""launch.rdzv_endpoint's host is a bare name or address: 'user@host:29500' or 'host/path:29500' validated, and every
machine's launch line then looked for a host no resolver knows; a port in another script's digits was read as the
number while torchrun got the text as written."""

from __future__ import annotations

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig, apply_overrides
from finetune_studio.core.errors import ConfigError

FIX = ("To fix: give the first machine's address and a free port, e.g. 192.168.1.10:29500, or leave it empty on one "
       "machine.")


def _config(endpoint: str) -> RunConfig:
    config = apply_overrides(RunConfig(), ["launch.nodes=2", "name=two"])[0]
    config.launch.rdzv_endpoint = endpoint
    return config


@pytest.mark.parametrize("endpoint, host, character", [
    ("user@node0:29500", "user@node0", "'@'"),
    ("node0/rdzv:29500", "node0/rdzv", "'/'"),
    ("*:29500", "*", "'*'"),
    ("\u200bnode0:29500", "\u200bnode0", "'\\u200b'"),
])
def test_a_host_with_a_character_no_host_has_is_refused_in_words(endpoint: str, host: str, character: str) -> None:
    problems = launch.launch_problems(_config(endpoint), gpu_count=0)
    assert [(p.field, p.message) for p in problems] == [("launch.rdzv_endpoint", (
        f"The rendezvous endpoint '{endpoint}' names {host}, which has {character} in it, a character no host name "
        f"or address has (write the bare name or address, without a user@, a path or a scheme). {FIX}"))]
    with pytest.raises(ConfigError):
        launch.node_commands(_config(endpoint), "config.yaml", "/tmp/run")


def test_a_port_in_other_digits_is_no_port() -> None:
    problems = launch.launch_problems(_config("node0:\u0662\u0669\u0665\u0660\u0660"), gpu_count=0)
    assert [p.message for p in problems] == [
        f"The rendezvous endpoint 'node0:\u0662\u0669\u0665\u0660\u0660' is not host:port (e.g. 192.168.1.10:29500). "
        f"{FIX}"]


@pytest.mark.parametrize("endpoint", ["node-0.lan:29500", "node_0:29500", "münchen.example:29500", "10.1.2.3:29500",
                                      "[fd00::1]:29500"])
def test_names_and_addresses_pass(endpoint: str) -> None:
    assert launch.launch_problems(_config(endpoint), gpu_count=0) == []
