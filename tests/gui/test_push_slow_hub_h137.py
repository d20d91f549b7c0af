"""A Hub that takes the connection and never answers (helper-137): the push dialog, the account check and the
login end with a sentence instead of waiting for ever. The local test Hub sleeps in a route; core.hub's time
limit is made short (REQUEST_TIMEOUT_S) and the client's retry back-off returns at once (instant_retries)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from finetune_studio.gui import background
from finetune_studio.gui.hub_dialogs import PushDialog, check_account
from tests import hub_server
from tests.hub_fixtures import WRITE, hub, instant_retries, patch_client, run_dir, tree_digest

WAIT = 20_000
LIMIT_S = 0.5
STALL_S = 2.0  # longer than the limit: a reply that comes after the client gave up


class Stall:
    """Makes a route of the test Hub wait STALL_S before answering, while `on` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, route: str) -> None:
        self.on = threading.Event()
        self.on.set()
        self.calls = 0
        original = getattr(hub_server._Handler, route)

        def stalled(handler: Any, **kw: Any) -> None:
            if self.on.is_set():
                self.calls += 1
                time.sleep(STALL_S)
            try:
                original(handler, **kw)
            except OSError:  # the client gave up and closed the connection: nobody to answer
                pass

        monkeypatch.setattr(hub_server._Handler, route, stalled)


@pytest.fixture
def limited(hub: hub_server.HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    retries = instant_retries(monkeypatch)
    monkeypatch.setattr(core_hub, "REQUEST_TIMEOUT_S", LIMIT_S, raising=False)
    return retries


@pytest.fixture
def dialog(qtbot: Any, hub: hub_server.HubServer, run_dir: Path, limited: Any) -> Any:
    core_hub.login(WRITE)
    made = PushDialog(run_dir, core_hub.whoami())
    qtbot.addWidget(made)
    made.show()
    qtbot.waitUntil(lambda: bool(made.plan), timeout=WAIT)
    yield made
    background.wait_idle()


def test_an_upload_the_hub_never_answers_ends_with_a_sentence_and_a_retry_works(
        qtbot: Any, dialog: Any, hub: hub_server.HubServer, run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_digest(run_dir)
    stall = Stall(monkeypatch, "_route_preupload")
    started = time.monotonic()
    dialog.push_button.click()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    took = time.monotonic() - started
    url = hub.url
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        f"The Hugging Face Hub ({url}) did not answer within 0.5 s while uploading to alice/tiny-run. Nothing in your "
        "run folder changed. alice/tiny-run exists on the Hub, but none of this push's files reached it (the upload "
        "is one commit). To fix: check your network connection (a slow or stalled proxy or VPN), or the Hub's "
        "status, then try again.")
    assert stall.calls == 6 and hub.count("/preupload/") == 6  # the client's first try and its 5 retries
    assert took < 6 * STALL_S  # each try gave up at the limit, not when the reply came
    assert not hub.count("/commit/") and not hub.repos["alice/tiny-run"].files
    assert dialog.push_button.isEnabled() and dialog.push_button.text() == "Push"
    assert dialog.cancel_button.isEnabled() and dialog.cancel_button.text() == "Close"
    assert dialog.repo_edit.isEnabled() and not dialog.busy.isVisible()
    assert tree_digest(run_dir) == before

    stall.on.clear()  # the Hub answers again
    dialog.push_button.click()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert dialog.message.text().startswith("Pushed 10 files to")
    assert len(hub.repos["alice/tiny-run"].commits) == 1 and "model.safetensors" in hub.repos["alice/tiny-run"].files
    assert tree_digest(run_dir) == before


def test_an_account_check_the_hub_never_answers_says_unreachable(
        hub: hub_server.HubServer, limited: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The status bar's check (and the login's) said "Hub: checking…" for as long as the Hub kept the connection."""
    core_hub.login(WRITE)
    Stall(monkeypatch, "_route_whoami")
    status = check_account()
    assert status.kind == "unreachable" and status.label == "Hub unreachable"
    assert status.message == (
        f"The Hugging Face Hub ({hub.url}) did not answer within 0.5 s while checking your Hugging Face account. To "
        "fix: check your network connection (a slow or stalled proxy or VPN), or the Hub's status, then try again.")


def test_the_limit_is_only_on_the_app_s_own_requests(hub: hub_server.HubServer, limited: Any) -> None:
    """Outside core.hub's calls (a model download of transformers, say) the client's requests are as it makes them."""
    from huggingface_hub.utils import get_session

    core_hub.whoami(WRITE)  # installs the hook
    seen: list[Any] = []
    get_session().event_hooks["request"].append(lambda request: seen.append(request.extensions.get("timeout")))
    get_session().get(f"{hub.url}/api/whoami-v2")
    with core_hub._client_lines(None):
        get_session().get(f"{hub.url}/api/whoami-v2")
    assert seen == [{"connect": None, "read": None, "write": None, "pool": None},
                    {"connect": 10.0, "read": 0.5, "write": 0.5, "pool": 0.5}]
