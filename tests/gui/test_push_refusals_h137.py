"""Refusals of the Hub that are neither 401, 403, 404, 429 nor 5xx (helper-137): the push dialog said the Hub's
reason with no way forward ("The Hub refused creating alice/_x (HTTP 400): Invalid repository name: '_x'.")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from tests import hub_server
from tests.hub_fixtures import WRITE, hub, open_push_dialog, push, run_dir, tree_digest


@pytest.fixture
def dialog(open_push_dialog: Any) -> Any:
    return open_push_dialog()


def test_a_name_only_the_hub_refuses_says_to_choose_another_and_another_is_pushed(
        qtbot: Any, dialog: Any, hub: hub_server.HubServer, run_dir: Path) -> None:
    before = tree_digest(run_dir)
    dialog.repo_edit.setText("alice/_x")  # the app's own rule lets it through; this Hub wants a letter or digit first
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        "The Hub refused creating alice/_x (HTTP 400): Invalid repository name: '_x'. To fix: change what the Hub's "
        "reason names (a name it will not take: choose another, in the push dialog's Repository field or "
        "finetune-studio push --repo), then push again.")
    assert set(hub.repos) == set() and tree_digest(run_dir) == before
    assert dialog.push_button.isEnabled() and dialog.repo_edit.isEnabled() and dialog.cancel_button.text() == "Close"

    dialog.repo_edit.setText("alice/x")
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert set(hub.repos) == {"alice/x"} and len(hub.repos["alice/x"].commits) == 1
    assert tree_digest(run_dir) == before


@pytest.mark.parametrize(("status", "fix"), [
    (413, "To fix: change what the Hub's reason names, then push again."),
    (422, "To fix: change what the Hub's reason names, then push again."),
])
def test_an_upload_refused_for_another_reason_says_what_next_and_a_retry_works(
        status: int, fix: str, qtbot: Any, dialog: Any, hub: hub_server.HubServer, run_dir: Path) -> None:
    hub.fail_next("/commit/", status)
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        f"The Hub refused uploading to alice/tiny-run (HTTP {status}): Injected fault: HTTP {status}. alice/tiny-run "
        f"exists on the Hub, but none of this push's files reached it (the upload is one commit). {fix}")
    assert not hub.repos["alice/tiny-run"].files
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert len(hub.repos["alice/tiny-run"].commits) == 1


def test_a_refusal_with_no_reason_says_to_try_again() -> None:
    """Said of an answer with no message at all (the client's HfHubHTTPError with an empty body)."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    response = httpx2.Response(418, request=httpx2.Request("POST", "http://127.0.0.1:9/api/repos/create"))
    error = core_hub._translate(HfHubHTTPError("418", response=response), "creating alice/x", WRITE,
                                core_hub.FROM_SAVED_LOGIN, "alice/x")
    assert str(error) == ("The Hub refused creating alice/x (HTTP 418). To fix: push again in a moment; if the Hub "
                          "refuses again, push to another repository name.")
