"""Return pressed twice in the push and login dialogs (helper-137). Starting a push (or a token check) disables
Push (Log in) and the fields, so focus went to Cancel, which, auto-default, then took Return: the second Return
cancelled what the first had started ('Push cancelled: nothing was sent to the Hub.')."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from finetune_studio.gui import background
from finetune_studio.gui.hub_dialogs import LoginDialog
from tests import hub_server
from tests.hub_fixtures import WRITE, hub, open_push_dialog, patch_client, run_dir

WAIT = 20_000


def return_in_focus(qtbot: Any, dialog: Any) -> None:
    """Return where the keyboard is: the focused widget of the dialog (the dialog itself when none is)."""
    focused = QApplication.focusWidget()
    qtbot.keyClick(focused if focused is not None and dialog.isAncestorOf(focused) else dialog, Qt.Key.Key_Return)


def test_return_twice_in_the_push_dialog_pushes_once(qtbot: Any, hub: hub_server.HubServer,
                                                     open_push_dialog: Any) -> None:
    dialog = open_push_dialog(keep_on_close=True)
    dialog.push_button.setFocus()
    return_in_focus(qtbot, dialog)  # Push
    assert dialog.pushing
    return_in_focus(qtbot, dialog)  # again, impatient
    assert not dialog._cancel.is_set() and dialog.cancel_button.text() == "Cancel"
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert hub.count("/api/repos/create") == 1 and len(hub.repos["alice/tiny-run"].commits) == 1
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Escape still cancels (here: closes)
    assert not dialog.isVisible()


def test_return_twice_in_the_login_dialog_logs_in(qtbot: Any, hub: hub_server.HubServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    answered = threading.Event()
    original = hub_server._Handler._route_whoami

    def whoami(handler: Any, **kw: Any) -> None:
        answered.wait(10)  # the check waits until the second Return was pressed
        original(handler, **kw)

    monkeypatch.setattr(hub_server._Handler, "_route_whoami", whoami)
    dialog = LoginDialog()
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    qtbot.addWidget(dialog)
    logged: list[Any] = []
    dialog.logged_in.connect(logged.append)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=WAIT)
    dialog.token_edit.setText(WRITE)
    dialog.token_edit.setFocus()
    return_in_focus(qtbot, dialog)  # Log in
    assert dialog.checking
    assert QApplication.focusWidget() is not None  # the keyboard is in the dialog: the Return below reaches it
    return_in_focus(qtbot, dialog)
    answered.set()
    assert dialog.isVisible() and dialog.checking
    qtbot.waitUntil(lambda: not dialog.checking, timeout=WAIT)
    assert [account.name for account in logged] == ["alice"] and not dialog.isVisible()
    assert (tmp_path / "hf_home" / "token").read_text().strip() == WRITE
    background.wait_idle()
