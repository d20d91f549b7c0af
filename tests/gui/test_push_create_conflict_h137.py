"""A Hub that answers the repository's create with 409 'Cannot create repo: another conflicting operation is in
progress' (helper-137). huggingface_hub sends the create again at once, for as long as the Hub says so: the push
dialog said 'Creating alice/tiny-run on the Hub…' with Cancel unheard, and the client spun without a pause. The
local Hub answers so for CONFLICT_S, then creates; core.hub's limit is made shorter than that."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from tests import hub_server
from tests.hub_fixtures import hub, open_push_dialog, push, run_dir, tree_digest

WAIT = 20_000
CONFLICT_S = 4.0


class Conflict:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.until = time.monotonic() + CONFLICT_S
        self.calls = 0
        original = hub_server._Handler._route_create_repo

        def create(handler: Any, **kw: Any) -> None:
            self.calls += 1
            if time.monotonic() < self.until:
                time.sleep(0.01)
                raise hub_server._Reply(409, "Cannot create repo: another conflicting operation is in progress")
            original(handler, **kw)

        monkeypatch.setattr(hub_server._Handler, "_route_create_repo", create)


@pytest.fixture
def dialog(open_push_dialog: Any) -> Any:
    return open_push_dialog(keep_on_close=True)


def test_a_create_the_hub_keeps_in_conflict_ends_with_a_sentence_and_a_retry_works(
        qtbot: Any, dialog: Any, hub: hub_server.HubServer, run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_hub, "REQUEST_TIMEOUT_S", 1.0, raising=False)
    before = tree_digest(run_dir)
    conflict = Conflict(monkeypatch)
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        "The Hub kept answering that another operation on alice's repositories is in progress while creating "
        "alice/tiny-run, for 1 s. Nothing was uploaded. To fix: let the other push or upload of the account end (or "
        "wait a few minutes), then push again.")
    assert time.monotonic() < conflict.until and conflict.calls > 1  # given up before the Hub would have created it
    assert hub.repos == {} and tree_digest(run_dir) == before
    assert dialog.push_button.isEnabled() and dialog.cancel_button.text() == "Close"

    qtbot.waitUntil(lambda: time.monotonic() > conflict.until, timeout=WAIT)  # the other operation has ended
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert len(hub.repos["alice/tiny-run"].commits) == 1 and tree_digest(run_dir) == before


def test_cancel_stops_a_create_the_hub_keeps_in_conflict(qtbot: Any, dialog: Any, hub: hub_server.HubServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    conflict = Conflict(monkeypatch)
    dialog.push_button.click()
    qtbot.waitUntil(lambda: conflict.calls >= 3, timeout=WAIT)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    assert time.monotonic() < conflict.until  # stopped by Cancel, not by the Hub giving in
    assert dialog.message.property("kind") == "warning"
    assert dialog.message.text() == "Push cancelled: nothing was sent to the Hub."
    assert hub.repos == {} and not hub.count("/commit/")
    dialog.close()
    assert not dialog.isVisible()
