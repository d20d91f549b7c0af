"""A Hub that takes the connection and never answers (helper-137): the push dialog, the account check and the
login end with a sentence instead of waiting for ever. The local test Hub sleeps in a route; core.hub's time
limit is made short (REQUEST_TIMEOUT_S) and the client's retry back-off returns at once (instant_retries)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from finetune_studio.gui.hub_dialogs import check_account
from tests import hub_server
from tests.hub_fixtures import WRITE, Stall, connect_client, hub, open_push_dialog, push, run_dir, tree_digest

LIMIT_S = 0.5
STALL_S = 2.0  # longer than the limit: a reply that comes after the client gave up


@pytest.fixture
def limited(hub: hub_server.HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    return connect_client(monkeypatch, hub, tmp_path / "hf_home", limit_s=LIMIT_S)


@pytest.fixture
def dialog(open_push_dialog: Any) -> Any:
    return open_push_dialog(limit_s=LIMIT_S)


def test_an_upload_the_hub_never_answers_ends_with_a_sentence_and_a_retry_works(
        qtbot: Any, dialog: Any, hub: hub_server.HubServer, run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_digest(run_dir)
    stall = Stall(monkeypatch, "_route_preupload", STALL_S)
    started = time.monotonic()
    push(qtbot, dialog)
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
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert dialog.message.text().startswith("Pushed 10 files to")
    assert len(hub.repos["alice/tiny-run"].commits) == 1 and "model.safetensors" in hub.repos["alice/tiny-run"].files
    assert tree_digest(run_dir) == before


def test_an_account_check_the_hub_never_answers_says_unreachable(
        hub: hub_server.HubServer, limited: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The status bar's check (and the login's) said "Hub: checking…" for as long as the Hub kept the connection."""
    core_hub.login(WRITE)
    Stall(monkeypatch, "_route_whoami", STALL_S)
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
