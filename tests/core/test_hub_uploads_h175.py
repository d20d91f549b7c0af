"""A push's large files as the real Hub takes them: answered "lfs" by the preupload, uploaded to a store, named by
their sha256 in the commit. The local Hub (tests/hub_server.py) commits every file inline; here its preupload
answers "lfs" for the weight file, and it serves the LFS batch endpoint, a store that keeps what is PUT, and commits
that name stored objects (lfsFile). It implements nothing of the Xet protocol: a request for it is unhandled, and
fails the test.

- huggingface_hub's own progress bars (one per LFS file, written to stderr) and httpx's DeprecationWarning stayed
  in `finetune-studio push`'s output and the app's terminal: the app says a push's progress itself.
- With hf_xet installed (as in .venv), huggingface_hub sends a commit's large files through hf_xet's own HTTP
  stack (and upload_folder through its multi-commit pipeline), which core.hub's time limits and Cancel do not
  reach: a push goes through the LFS protocol instead, in the push's own context only."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.hub_fixtures import MODEL_FILES, WRITE, LfsHandler, lfs_hub_serving, make_finished_run
from tests.hub_server import HubServer


class _LfsHandler(LfsHandler):
    lfs_paths: tuple[str, ...] = ("model.safetensors",)

    def _batch(self, request: dict[str, Any]) -> None:
        self.hub.transfers.append(request.get("transfers"))

    def _store_put(self, path: str, body: bytes) -> None:
        if self.hub.stall.is_set():
            self.hub.stalled.append(path)
            self.hub.release.wait(60)
            self.close_connection = True
            return
        self.hub.store[hashlib.sha256(body).hexdigest()] = body
        self._send(200, b"", {})

    def _route_commit(self, body: bytes, query: str, repo: str, rev: str) -> None:
        """An lfsFile names an object of the store: committed as if its bytes had come inline."""
        lines = []
        for line in body.splitlines():
            item = json.loads(line) if line.strip() else None
            if item and item.get("key") == "lfsFile":
                value = item["value"]
                data = self.hub.store[value["oid"]]
                item = {"key": "file", "value": {"path": value["path"], "encoding": "base64",
                                                 "content": base64.b64encode(data).decode()}}
                line = json.dumps(item).encode()
            lines.append(line)
        super()._route_commit(body=b"\n".join(lines), query=query, repo=repo, rev=rev)


@pytest.fixture
def lfs_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with lfs_hub_serving(monkeypatch, _LfsHandler, tmp_path / "hf_home", store={}, transfers=[], stalled=[],
                         stall=threading.Event()) as server:
        yield server


def _lfs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # as without hf_xet: the LFS protocol


def test_a_push_prints_no_progress_bar_or_deprecation_warning(lfs_hub: HubServer, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capfd: pytest.CaptureFixture[str]) -> None:
    import warnings

    from huggingface_hub.utils import are_progress_bars_disabled

    from finetune_studio.core import hub as core_hub

    _lfs_only(monkeypatch)
    run_dir = make_finished_run(tmp_path / "runs")
    events: list[dict[str, Any]] = []
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # as a terminal shows them: once per place
        result = core_hub.push_run(run_dir, token=WRITE, progress=events.append)
        warnings.warn("another DeprecationWarning still shows", DeprecationWarning)
    err = capfd.readouterr().err
    assert [str(w.message) for w in caught] == ["another DeprecationWarning still shows"]
    assert result.repo_id == "alice/tiny-run"
    assert lfs_hub.repos["alice/tiny-run"].files["model.safetensors"] == MODEL_FILES["model.safetensors"]
    assert lfs_hub.count("/lfs-store/") == 1  # the weights went up through the LFS store
    assert err == "", err  # no "model.safetensors: 100%|██████████| 263k/263k", no DeprecationWarning
    assert [e["phase"] for e in events] == ["account", "repo", "prepare", "upload", "done"]
    assert are_progress_bars_disabled() is False  # as it was before the push


def test_bars_a_user_turned_off_stay_off(lfs_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capfd: pytest.CaptureFixture[str]) -> None:
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    from finetune_studio.core import hub as core_hub

    _lfs_only(monkeypatch)
    disable_progress_bars()
    try:
        core_hub.push_run(make_finished_run(tmp_path / "runs"), token=WRITE)
        assert are_progress_bars_disabled() is True
    finally:
        enable_progress_bars()
    assert lfs_hub.count("/lfs-store/") == 1


def test_bars_are_restored_when_a_push_fails(lfs_hub: HubServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.utils import are_progress_bars_disabled

    from finetune_studio.core import hub as core_hub

    _lfs_only(monkeypatch)
    lfs_hub.fail_next("/commit/", 500, count=10)
    with pytest.raises(core_hub.HubServerError):
        core_hub.push_run(make_finished_run(tmp_path / "runs"), token=WRITE)
    assert are_progress_bars_disabled() is False


# ---- hf_xet: a push goes through the LFS protocol, where its time limits and Cancel reach

needs_xet = pytest.mark.skipif(not __import__("importlib").util.find_spec("hf_xet"), reason="hf_xet not installed")


def _with_xet(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub as a user's has it: hf_xet installed, HF_HUB_DISABLE_XET unset."""
    from huggingface_hub import constants
    from huggingface_hub.utils._runtime import is_xet_available

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    assert is_xet_available() is True


@needs_xet
def test_with_hf_xet_a_push_uploads_through_lfs(lfs_hub: HubServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub._commit_api as commit_api
    import huggingface_hub.hf_api as hf_api

    from finetune_studio.core import hub as core_hub

    _with_xet(monkeypatch)
    result = core_hub.push_run(make_finished_run(tmp_path / "runs"), token=WRITE)
    files = lfs_hub.repos["alice/tiny-run"].files
    assert files["model.safetensors"] == MODEL_FILES["model.safetensors"]
    assert lfs_hub.transfers == [["basic", "multipart"]]  # one LFS batch, Xet not offered
    assert lfs_hub.count("/lfs-store/") == 1 and lfs_hub.count("xet") == 0
    assert len(lfs_hub.repos["alice/tiny-run"].commits) == 1  # one commit: every file or none
    assert sorted(files) == sorted(result.files)
    # outside a push's upload, the library still uses hf_xet (a download of a model, another program's push)
    assert hf_api.is_xet_available() is True and commit_api.is_xet_available() is True


@needs_xet
def test_with_hf_xet_a_stalled_store_ends_within_the_time_limit(lfs_hub: HubServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import hub as core_hub

    _with_xet(monkeypatch)
    monkeypatch.setattr(core_hub, "REQUEST_TIMEOUT_S", 0.5)
    lfs_hub.stall.set()
    started = time.monotonic()
    with pytest.raises(core_hub.HubConnectionError) as raised:
        core_hub.push_run(make_finished_run(tmp_path / "runs"), token=WRITE)
    assert time.monotonic() - started < 30
    assert raised.value.message.startswith(f"The Hugging Face Hub ({lfs_hub.url}) did not answer within 0.5 s while "
                                           "uploading model.safetensors to alice/tiny-run.")
    assert len(lfs_hub.stalled) == 6  # a first try and the client's 5 retries, each ended by the limit
    assert lfs_hub.count("/commit/") == 0


def test_only_a_pushs_upload_is_kept_off_xet(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decision itself, with or without hf_xet: False in a push's upload context, the library's answer
    elsewhere (another thread, or after the push)."""
    from finetune_studio.core import hub as core_hub

    answers = iter([True, False])
    wrapped = core_hub._lfs_in_pushes(lambda: next(answers))
    token = core_hub._upload_stop.set(core_hub._UploadStop(threading.Event()))
    try:
        seen: list[bool] = []
        other = threading.Thread(target=lambda: seen.append(wrapped()))  # another thread: its own context
        other.start()
        other.join()
        assert wrapped() is False  # the push's own context: not asked of the library
    finally:
        core_hub._upload_stop.reset(token)
    assert seen == [True]
    assert wrapped() is False  # the library's second answer, passed on
