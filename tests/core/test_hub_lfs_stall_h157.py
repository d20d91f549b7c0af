"""A push whose large files go up through the LFS protocol (no hf_xet: not installed, or HF_HUB_DISABLE_XET=1) to a
store that takes the upload and never answers: it ends within the app's time limits, with a sentence that names the
file, what happened and what to do, and nothing committed.

Two or more LFS files go up in huggingface_hub's thread pool (hf_thread_map), whose threads started with an empty
context: none of core.hub's ContextVar limits reached their PUTs, and the push waited for ever. One LFS file goes up
in the push's own thread and did time out, but was said as "Failed while uploading to alice/tiny-run: RuntimeError:
Error while uploading 'model.safetensors' to the Hub." (the client's wrapper, its cause and fix lost).

The local Hub (tests/hub_server.py) commits every file inline; here its preupload answers "lfs" for the weight files,
and it serves the LFS batch endpoint and an LFS store whose PUTs stall. The limits are shortened to 0.5 s through the
same module values core.hub sets its limits from, and the client's retry back-off takes no time."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.hub_fixtures import WRITE, LfsHandler, lfs_hub_serving, make_finished_run
from tests.hub_server import HubServer

STALL_LIMIT_S = 0.5


class _LfsHandler(LfsHandler):
    def _store_put(self, path: str, body: bytes) -> None:
        self.hub.stalled.append(hashlib.sha256(body).hexdigest())  # the store takes the upload...
        if not self.hub.first_stall.is_set():
            self.hub.first_stall_at = time.monotonic()
            self.hub.first_stall.set()
        self.hub.release.wait(60)  # ...and never answers (until the test ends)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@pytest.fixture
def lfs_hub(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    from huggingface_hub import constants

    from finetune_studio.core import hub as core_hub

    handler = type("Handler", (_LfsHandler,), {"lfs_paths": request.param})
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # as without hf_xet: the LFS protocol
    monkeypatch.setattr(core_hub, "REQUEST_TIMEOUT_S", STALL_LIMIT_S)
    monkeypatch.setattr(core_hub, "CONNECT_TIMEOUT_S", STALL_LIMIT_S)
    # its release on the way out lets a stalled PUT still held (the old code's) go
    with lfs_hub_serving(monkeypatch, handler, tmp_path / "hf_home", stalled=[],
                         first_stall=threading.Event()) as server:
        yield server


@pytest.mark.parametrize("lfs_hub", [("model.safetensors",), ("model.safetensors", "extra/notes.bin")],
                         ids=["one-lfs-file", "two-lfs-files"], indirect=True)
def test_a_stalled_lfs_upload_ends_with_a_sentence(lfs_hub: HubServer, tmp_path: Path) -> None:
    from finetune_studio.core import hub as core_hub

    run_dir = make_finished_run(tmp_path / "runs")
    outcome: dict[str, Any] = {}
    events: list[dict] = []

    def push() -> None:
        try:
            core_hub.push_run(run_dir, token=WRITE, progress=events.append)
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc

    thread = threading.Thread(target=push, daemon=True)
    thread.start()
    assert lfs_hub.first_stall.wait(60), "the push never reached the LFS store"  # after its preparation (imports)
    thread.join(10)  # 6 tries of 0.5 s each take 3 s
    elapsed = time.monotonic() - lfs_hub.first_stall_at
    lfs_hub.release.set()
    thread.join(30)
    assert elapsed < 10, f"the push was still uploading {elapsed:.0f} s after the LFS store stalled"

    error = outcome["error"]
    assert isinstance(error, core_hub.HubConnectionError), repr(error)
    assert error.message.startswith(
        f"The Hugging Face Hub ({lfs_hub.url}) did not answer within 0.5 s while uploading ")
    named = {f"while uploading {name} to alice/tiny-run." for name in lfs_hub._httpd.RequestHandlerClass.lfs_paths}
    assert any(part in error.message for part in named), error.message
    assert error.message.endswith(" Nothing in your run folder changed. alice/tiny-run exists on the Hub, but none "
                                  "of this push's files reached it (the upload is one commit).")
    assert error.fix == ("To fix: check your network connection (a slow or stalled proxy or VPN), or the Hub's "
                         "status, then try again.")
    assert "RuntimeError" not in str(error)
    # each LFS file was tried by the client (a first try and its 5 retries), then the push stopped: nothing committed
    assert len(lfs_hub.stalled) == 6 * len(lfs_hub._httpd.RequestHandlerClass.lfs_paths)
    assert lfs_hub.count("/commit/") == 0 and lfs_hub.repos["alice/tiny-run"].files == {}
    retries = [e for e in events if e.get("phase") == "retry"]
    assert retries and all(e["message"].startswith("The Hub did not answer") for e in retries), retries


@pytest.mark.parametrize("lfs_hub", [("model.safetensors",), ("model.safetensors", "extra/notes.bin")],
                         ids=["one-lfs-file", "two-lfs-files"], indirect=True)
def test_cancel_reaches_the_lfs_upload_threads(lfs_hub: HubServer, tmp_path: Path) -> None:
    """The push's Cancel, as the LFS uploads' requests see it (core.hub._upload_stop, a ContextVar too): pressed while
    the store stalls, the next try of the upload stops the push, with nothing committed."""
    from finetune_studio.core import hub as core_hub

    run_dir = make_finished_run(tmp_path / "runs")
    outcome: dict[str, Any] = {}
    cancel = threading.Event()

    def push() -> None:
        try:
            core_hub.push_run(run_dir, token=WRITE, cancel=cancel)
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc

    thread = threading.Thread(target=push, daemon=True)
    thread.start()
    assert lfs_hub.first_stall.wait(60), "the push never reached the LFS store"
    cancel.set()
    thread.join(10)
    stopped = not thread.is_alive()
    lfs_hub.release.set()
    thread.join(30)
    assert stopped, "the push was still uploading 10 s after Cancel"
    error = outcome["error"]
    assert isinstance(error, core_hub.HubCancelled), repr(error)
    assert str(error) == ("Push cancelled before its commit was sent. alice/tiny-run exists on the Hub, but none of "
                          "this push's files reached it (the upload is one commit).")
    # each file was tried once at most (the second may not have started when Cancel came): no retry after it
    assert 1 <= len(lfs_hub.stalled) <= len(lfs_hub._httpd.RequestHandlerClass.lfs_paths)
    assert lfs_hub.count("/commit/") == 0
