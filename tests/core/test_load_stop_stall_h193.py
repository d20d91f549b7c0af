"""Stop during a Hub download whose server has gone silent: the connection is open, no bytes come. d3cfddd's check
sits where the client counts a chunk, so a stalled download held Stop for the client's read timeout (10 s), then
its retry. Now, in a load under core.generate.stoppable, the client's wait for the next bytes is cut into short
slices (core.generate._WakingReads, around httpcore2's read under huggingface_hub's httpx2) with the stop checked
between two: the load ends within a moment of Stop, keeps nothing of the file, and says the stopped load's words.
A slow server that is alive (bytes every half second, longer than a slice) is read to its end as before, and one that
stays silent for the client's whole read timeout still ends in the client's own ReadTimeout.

The Hub is tests/slow_hub_h188.py's SlowHub with a handler that, for one file, sends part of it then waits
(`stall`), or sends it in pieces with pauses (`alive`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate as g
from finetune_studio.core.config import ModelConfig
from tests.core.test_load_stop_download_h188 import Stopper, settled
from tests.slow_hub_h188 import PIECE, REPO, SlowHub, _SlowHandler, point_client_at, wait_for

FILE = "model.safetensors"  # the demo's weights, ~770 KB
STALL_AFTER = 96 * 1024  # bytes sent before the server goes silent
ALIVE_PIECES = 5  # the alive server sends the file in this many pieces ...
ALIVE_GAP_S = 0.5  # ... this long apart: each gap longer than a read slice (core.generate.READ_SLICE_S)
# From Stop to the end of the load: a slice (0.2 s) and the load's unwinding. A guard with room for a busy machine;
# the old code took the client's read timeout (10 s) and its retry.
STOP_WITHIN_S = 3.0


class StallingHub(SlowHub):
    """SlowHub whose GET of FILE stalls after STALL_AFTER bytes until `release` is set (mode "stall"), or trickles it
    in ALIVE_PIECES pieces ALIVE_GAP_S apart (mode "alive"); other files come whole at once."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = False
        self.mode = "stall"
        self.stalled = threading.Event()  # the server has sent STALL_AFTER bytes and gone silent
        self.release = threading.Event()  # the silent server may write again (it finds the client gone)
        self.gaps: list[float] = []  # seconds between two pieces the alive server wrote

    def handler(self) -> type:
        return _StallingHandler

    def stop(self) -> None:
        self.release.set()
        super().stop()


class _StallingHandler(_SlowHandler):
    hub: StallingHub

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        if not (self.command == "GET" and self.path.endswith("/" + FILE) and len(payload) > STALL_AFTER):
            super()._send(status, payload, headers)
            return
        record = self._start_body(status, payload, headers)
        if self.hub.mode == "stall":
            cuts = [STALL_AFTER, *range(STALL_AFTER + PIECE, len(payload), PIECE), len(payload)]
        else:
            size = -(-len(payload) // ALIVE_PIECES)
            cuts = [*range(size, len(payload), size), len(payload)]
        try:
            start = 0
            for end in cuts:
                self.wfile.write(payload[start:end])
                self.wfile.flush()
                record.sent = start = end
                if end == STALL_AFTER and self.hub.mode == "stall":
                    self.hub.stalled.set()
                    self.hub.release.wait(60)
                elif self.hub.mode == "alive" and end < len(payload):
                    wrote = time.monotonic()
                    time.sleep(ALIVE_GAP_S)
                    self.hub.gaps.append(time.monotonic() - wrote)
        except OSError:  # BrokenPipe / ConnectionReset: the client hung up
            record.cut = True
        record.ended = time.monotonic()


@pytest.fixture
def hub(demo_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from finetune_studio.core.demo import demo_model_path

    with StallingHub() as server:
        server.add_model(demo_model_path())
        point_client_at(server, tmp_path / "hf_home", monkeypatch)
        yield server


def cached(tmp_path: Path) -> Path:
    return tmp_path / "hf_home" / "hub" / "models--alice--tiny"


def test_stop_ends_a_stalled_download_within_a_moment_and_keeps_nothing_of_it(hub: StallingHub,
                                                                              tmp_path: Path) -> None:
    def load(stop: threading.Event) -> Any:
        with g.stoppable(stop):
            return g.load_weights(ModelConfig(name_or_path=REPO), "cpu")

    loading = Stopper(load)
    assert hub.stalled.wait(60), "the download began"
    time.sleep(0.6)  # the client waits on the silent connection (longer than a read slice)
    took = loading.stop_now()
    assert isinstance(loading.error, g.LoadStopped), repr(loading.error)
    assert str(loading.error) == "The load was stopped."
    assert took < STOP_WITHIN_S, f"{took:.2f} s from the stop to LoadStopped"
    assert settled(hub) == [], "nothing is asked of the Hub once the load has stopped (no retry of the file)"
    [get] = hub.sent(FILE)
    assert get.sent == STALL_AFTER < get.total
    cache = cached(tmp_path)
    assert not list(cache.glob(f"snapshots/*/{FILE}")), "the weights are not in the cache"
    assert [path.name for path in cache.glob("blobs/*") if path.stat().st_size >= STALL_AFTER] == [], \
        "nor a blob, whole or partial (.incomplete), of the file's bytes"
    hub.release.set()  # the server writes again and finds the client gone
    wait_for(lambda: get.ended is not None, timeout=10)
    assert get.cut and get.sent < get.total, f"the client hung up: {get.sent} of {get.total} bytes sent"
    assert g.READ_SLICE_S < ALIVE_GAP_S  # the next test's pauses outlast a slice


def test_a_slow_server_that_is_alive_is_read_to_its_end(hub: StallingHub, tmp_path: Path) -> None:
    """Pauses longer than a read slice, shorter than the client's read timeout: the load, not stopped, ends with
    the model, the whole file in the cache, byte for byte."""
    from finetune_studio.core.demo import demo_model_path

    hub.mode = "alive"
    began = time.monotonic()
    with g.stoppable(threading.Event()):
        model = g.load_weights(ModelConfig(name_or_path=REPO), "cpu")
    took = time.monotonic() - began
    assert model.config.model_type == "qwen3"
    [get] = hub.sent(FILE)
    assert (get.cut, get.sent) == (False, get.total)
    assert len(hub.gaps) == ALIVE_PIECES - 1 and min(hub.gaps) >= ALIVE_GAP_S  # each longer than a read slice
    assert took >= sum(hub.gaps), f"{took:.2f} s: the pauses were waited through"
    [blob] = cache_files = list(cached(tmp_path).glob(f"snapshots/*/{FILE}"))
    assert blob.read_bytes() == (demo_model_path() / FILE).read_bytes(), cache_files


def test_a_server_silent_for_the_clients_whole_read_timeout_still_times_out(hub: StallingHub,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Under stoppable, with no stop, the sliced wait ends where the client's own would: its ReadTimeout after the
    read timeout (here 1 s), not sooner and not never."""
    import httpx2
    from huggingface_hub.utils import get_session

    url = f"{hub.url}/{REPO}/resolve/main/{FILE}"
    received = 0
    with g.stoppable(threading.Event()), pytest.raises(httpx2.ReadTimeout):
        with get_session().stream("GET", url, timeout=1.0) as response:
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received >= STALL_AFTER:
                    silent_from = time.monotonic()
    waited = time.monotonic() - silent_from
    assert received == STALL_AFTER
    assert 0.9 <= waited < 2.5, f"{waited:.2f} s of silence before the client's ReadTimeout (its timeout: 1 s)"
