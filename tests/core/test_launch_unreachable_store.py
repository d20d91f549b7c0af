"""torchrun's RendezvousConnectionError (no rendezvous store at the endpoint) is said in words, with the likely cause:
machine 0's endpoint naming an address that is not its own. It was 'The training processes could not start (torchrun:
torch.distributed.elastic.rendezvous.api.RendezvousConnectionError: The connection to the C10d store has failed.)'."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core import launch

LOG = ("[E1204 17:45:51 TCPStore.cpp:328] [c10d] TCP client failed to connect/validate to host 192.0.2.10:29500\n"
       "torch.distributed.elastic.rendezvous.api.RendezvousConnectionError: The connection to the C10d store has "
       "failed. See inner exception for details.\n")


def test_an_endpoint_that_is_not_this_machine_is_named_with_what_to_set(tmp_path: Path) -> None:
    failure = launch.diagnose(tmp_path, LOG, 2, 1, "192.0.2.10:29500")
    assert failure.rank is None
    assert failure.message == (
        "This machine could not reach the rendezvous store at 192.0.2.10:29500, so nothing trained. 192.0.2.10 is not "
        "one of this machine's names or addresses. To fix: if this is machine 0 (node_rank 0), which hosts the "
        "rendezvous, give one of its own addresses in launch.rdzv_endpoint; on any other machine, set "
        "launch.node_rank to its number (1 and up), start machine 0's launch command first, and check that "
        "192.0.2.10:29500 is reachable from here (firewall).")


def test_an_endpoint_on_this_machine_asks_for_machine_zero_first(tmp_path: Path) -> None:
    failure = launch.diagnose(tmp_path, LOG, 2, 1, "127.0.0.1:29517")
    assert failure.message == (
        "This machine could not reach the rendezvous store at 127.0.0.1:29517, so nothing trained. To fix: start "
        "machine 0's launch command first, and check that 127.0.0.1:29517 is reachable from here (firewall).")
