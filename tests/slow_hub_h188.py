"""A local Hub (tests/hub_server.py) that serves file downloads slowly: a GET of a file trickles its bytes, a piece at
a time, and records how much of each it sent before the client hung up. For the Try tab's Stop during a download
(tests/core/test_load_stop_download_h188.py, tests/gui/test_try_stop_download_h188.py)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.hub_server import HubRepo, HubServer, _Handler

REPO = "alice/tiny"
PIECE = 8 * 1024  # bytes the server writes at a time
PAUSE_S = 0.03  # between two pieces: ~270 KB/s, the demo's 770 KB of weights in ~3 s


@dataclass
class Sent:
    """One file GET: how many bytes the server wrote, of how many, and whether the client hung up before the end."""

    path: str
    total: int
    sent: int = 0
    cut: bool = False
    ended: float | None = None  # time.monotonic() when it stopped writing


class SlowHub(HubServer):
    def __init__(self) -> None:
        super().__init__()
        self.gets: list[Sent] = []
        self.slow = True  # False: files are sent whole at once

    def start(self) -> SlowHub:
        server = self

        class Handler(self.handler()):  # type: ignore[misc]
            hub = server

        from http.server import ThreadingHTTPServer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        return self

    def handler(self) -> type:
        """The request handler's class: a subclass of _SlowHandler (a test's server that sends otherwise)."""
        return _SlowHandler

    def sent(self, name: str) -> list[Sent]:
        return [get for get in list(self.gets) if get.path.endswith("/" + name)]

    def add_model(self, folder: Path, repo_id: str = REPO) -> HubRepo:
        repo = HubRepo(repo_id, repo_id.split("/")[0], private=False)
        repo.files = {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}
        repo.commits.append("a" * 40)
        self.repos[repo_id] = repo
        return repo


class _SlowHandler(_Handler):
    hub: SlowHub

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        if not (self.hub.slow and self.command == "GET" and "/resolve/" in self.path and len(payload) > PIECE):
            super()._send(status, payload, headers)
            return
        record = self._start_body(status, payload, headers)
        try:
            for start in range(0, len(payload), PIECE):
                self.wfile.write(payload[start:start + PIECE])
                self.wfile.flush()
                record.sent = min(start + PIECE, len(payload))
                time.sleep(PAUSE_S)
        except OSError:  # BrokenPipe / ConnectionReset: the client hung up
            record.cut = True
        record.ended = time.monotonic()

    def _start_body(self, status: int, payload: bytes, headers: dict[str, str]) -> Sent:
        """Send the status line and headers of a body the handler then writes in pieces, and record that body."""
        self._send_head(status, payload, headers)
        record = Sent(self.path, len(payload))
        self.hub.gets.append(record)
        return record


def point_client_at(hub: SlowHub, hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub (already imported) and core.hub_access's probe, pointed at `hub`, with an empty cache."""
    from tests.hub_fixtures import instant_retries, patch_client

    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    patch_client(monkeypatch, hub.url, hf_home)
    instant_retries(monkeypatch)


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)
