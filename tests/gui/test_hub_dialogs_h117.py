"""The push dialog against the local test Hub: refusals found by helper-117 (in process: patch_client)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal

from finetune_studio.core.session import Session
from finetune_studio.gui import background
from finetune_studio.gui.hub_dialogs import HubController, LoginDialog
from tests import hub_server
from tests.hub_fixtures import WRITE, connect_client, hub, open_push_dialog, patch_client, push, run_dir

WAIT = 20_000


@pytest.fixture
def dialog(open_push_dialog: Any) -> Any:
    return open_push_dialog(login=False)  # the token given to the dialog, none saved


def test_an_over_long_repository_id_keeps_the_dialog_its_width(qtbot: Any, dialog: Any,
                                                                hub: hub_server.HubServer) -> None:
    """A 126-character id was said twice in one unbroken word: the message widened the dialog to 906 px."""
    width = dialog.width()
    push(qtbot, dialog, "alice/" + "x" * 120)
    assert dialog.message.property("kind") == "error"
    assert "its name is 120 characters long, and the Hub allows at most 96" in dialog.message.text()
    assert dialog.width() == width == 640 and dialog.minimumSizeHint().width() <= 640
    assert dialog.push_button.isEnabled() and dialog.repo_edit.isEnabled()
    assert hub.paths() == ["/api/whoami-v2"]  # the dialog's own account check only


class _Events(QObject):
    event = Signal(object)


def test_a_token_rejected_at_the_upload_is_said_above_and_in_the_status_bar(
        qtbot: Any, hub: hub_server.HubServer, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Revoked (or expired) after the login: the push's 401 said 'Log in again' under 'Logged in as alice (write
    token).', and the status bar kept 'Hub: alice (write)'."""
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)
    said: list[str] = []
    events = _Events()
    controller = HubController(Session(), lambda text, ms: said.append(text), events.event)
    qtbot.waitUntil(lambda: controller.status.kind == "account", timeout=WAIT)
    dialog = controller.open_push(run_dir)  # deleted on close
    qtbot.waitUntil(lambda: bool(dialog.plan), timeout=WAIT)
    assert dialog.account_label.text() == "Logged in as alice (write token)."

    def revoked(handler: Any, **kw: Any) -> None:  # the login expires between the account check and the upload
        hub.tokens.pop(WRITE, None)
        raise hub_server._Reply(401, "Invalid credentials in Authorization header")

    monkeypatch.setattr(hub_server._Handler, "_route_preupload", revoked)
    with caplog.at_level(logging.DEBUG):
        dialog.push_button.click()
        qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
        qtbot.waitUntil(lambda: controller.status.kind == "rejected", timeout=WAIT)
    assert dialog.message.text() == (
        "Your Hugging Face token was rejected while uploading to alice/tiny-run (it may have been revoked or expired). "
        "alice/tiny-run exists on the Hub, but none of this push's files reached it (the upload is one commit). To "
        "fix: log in again with a valid token.")
    assert dialog.account_label.text() == ("The Hub rejected the login in use (revoked or expired), so this push "
                                           "cannot be sent. To fix: log in again (Log in…).")
    assert dialog.account_label.property("kind") == "warning" and dialog.login_button.isVisible()
    assert controller.status_button.text() == "Hub: token rejected"
    assert dialog.repo_edit.text() == "alice/tiny-run"  # what the message names, kept for the next login
    assert dialog.push_button.isEnabled() and dialog.repo_edit.isEnabled() and dialog.cancel_button.text() == "Close"
    assert not hub.repos["alice/tiny-run"].files and not hub.count("/commit/")
    shown = " ".join([dialog.message.text(), dialog.account_label.text(), controller.status_button.toolTip(),
                      *said, caplog.text])
    assert WRITE not in shown
    dialog.grab().save(str(tmp_path / "push_dialog_token_rejected.png"))
    if os.environ.get("H117_GRAB"):
        dialog.grab().save(os.environ["H117_GRAB"])

    monkeypatch.undo()  # the Hub takes the token again (a renewed one, say), and the push is retried
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    hub.add_token(WRITE, "alice", "write")
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    qtbot.waitUntil(lambda: controller.status.kind == "account", timeout=WAIT)
    assert dialog.account_label.text() == "Logged in as alice (write token)." and not dialog.login_button.isVisible()
    assert controller.status_button.text() == "Hub: alice (write)"
    dialog.close()
    background.wait_idle()


def test_a_token_pasted_with_a_zero_width_space_is_said_in_the_login_dialog(
        qtbot: Any, hub: hub_server.HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    pasted = WRITE[:10] + "\u200b" + WRITE[10:]
    dialog = LoginDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.token_edit.setText(pasted)
    dialog.login_button.click()
    qtbot.waitUntil(lambda: not dialog.checking, timeout=WAIT)
    assert dialog.isVisible() and dialog.message.property("kind") == "error"
    assert dialog.message.text() == (
        "This Hugging Face token has a character that no token has: zero width space (U+200B) at character 11. "
        f"Nothing was sent to the Hub. To fix: copy the token again with the copy button at {hub.url}/settings/tokens, "
        "or type it (hf_ then letters and digits).")
    assert dialog.token_edit.isEnabled() and dialog.login_button.isEnabled() and dialog.token_edit.text() == pasted
    assert hub.paths() == [] and not (tmp_path / "hf_home" / "token").exists()
    background.wait_idle()
