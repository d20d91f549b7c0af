"""Cancel (its button, Escape, the dialog's close button) while the push uploads (helper-137). The upload is one
commit: until the commit request is sent a cancel stops the push with nothing committed; Cancel was disabled for
the whole upload and Escape and close did nothing and said nothing, so a Hub that stalled the preupload kept the
window-modal dialog (and the window) for the client's six tries. The local Hub stalls a route for STALL_S."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core import hub as core_hub
from tests import hub_server
from tests.hub_fixtures import Stall, hub, make_finished_run, open_push_dialog, push, push_dialog, run_dir, tree_digest

WAIT = 20_000
LIMIT_S = 3.0  # core.hub's time limit here: a cancel pressed during the first try is seen before the second
STALL_S = 4.0


@pytest.fixture
def dialog(open_push_dialog: Any) -> Any:
    return open_push_dialog(limit_s=LIMIT_S, keep_on_close=True)  # closed by a test, and read after


CANCELS = {
    "the Cancel button": lambda qtbot, dialog: dialog.cancel_button.click(),
    "Escape": lambda qtbot, dialog: qtbot.keyClick(dialog, Qt.Key.Key_Escape),
    "the dialog's close button": lambda qtbot, dialog: dialog.close(),
}


@pytest.mark.parametrize("how", list(CANCELS))
def test_cancel_during_a_stalled_upload_stops_before_the_commit_and_a_retry_works(
        how: str, qtbot: Any, dialog: Any, hub: hub_server.HubServer, run_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_digest(run_dir)
    stall = Stall(monkeypatch, "_route_preupload", STALL_S)
    dialog.push_button.click()
    qtbot.waitUntil(lambda: stall.calls == 1, timeout=WAIT)  # the upload's first request is waiting for the Hub
    qtbot.waitUntil(lambda: dialog.phase_label.text().startswith("Uploading"), timeout=WAIT)
    assert dialog.cancel_button.isEnabled() and dialog.cancel_button.toolTip().startswith(
        "Stops the push before its commit is sent: nothing is committed.")
    CANCELS[how](qtbot, dialog)
    assert dialog.isVisible() and dialog.pushing
    assert dialog.phase_label.text() == ("Cancelling: the push stops before its commit is sent (if the commit is "
                                         "already sent, it runs to its end)…")
    assert not dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    assert dialog.message.property("kind") == "warning"
    assert dialog.message.text() == ("Push cancelled before its commit was sent. alice/tiny-run exists on the Hub, "
                                     "but none of this push's files reached it (the upload is one commit).")
    assert hub.count("/preupload/") == 1 and not hub.count("/commit/")  # no retry after the cancel
    assert not hub.repos["alice/tiny-run"].files and tree_digest(run_dir) == before
    assert dialog.isVisible() and dialog.push_button.isEnabled() and dialog.cancel_button.isEnabled()
    assert dialog.cancel_button.text() == "Close" and dialog.repo_edit.isEnabled()

    stall.on.clear()
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert dialog.message.text().startswith("Pushed 10 files to") and "Cancel" not in dialog.message.text()
    assert len(hub.repos["alice/tiny-run"].commits) == 1 and tree_digest(run_dir) == before
    dialog.cancel_button.click()
    assert not dialog.isVisible()


def test_a_cancel_after_the_commit_was_sent_says_the_push_went_through(
        qtbot: Any, dialog: Any, hub: hub_server.HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    stall = Stall(monkeypatch, "_route_commit", 1.0)  # answered within the limit
    dialog.push_button.click()
    qtbot.waitUntil(lambda: stall.calls == 1, timeout=WAIT)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    url = f"{hub.url}/alice/tiny-run"
    assert dialog.message.property("kind") == "success"
    assert dialog.message.text() == (
        f"Pushed 10 files to <a href='{url}'>{url}</a>. Cancel came after the commit was sent, so the push went "
        f"through; to take the files back, delete them (or the repository) on <a href='{url}'>its page</a>")
    assert len(hub.repos["alice/tiny-run"].commits) == 1 and hub.count("/commit/") == 1
    assert dialog.isVisible() and dialog.cancel_button.text() == "Close" and dialog.cancel_button.isEnabled()



def test_a_cancel_during_a_push_with_nothing_new_stops_it(
        qtbot: Any, dialog: Any, hub: hub_server.HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository holds these files already; Cancel while the preupload is answered stops the push before the
    client's next request, with nothing committed."""
    push(qtbot, dialog)
    assert len(hub.repos["alice/tiny-run"].commits) == 1
    stall = Stall(monkeypatch, "_route_preupload", 1.0)  # answered within the limit
    dialog.push_button.click()
    qtbot.waitUntil(lambda: stall.calls == 1, timeout=WAIT)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    assert dialog.message.property("kind") == "warning"
    assert dialog.message.text() == ("Push cancelled before its commit was sent. alice/tiny-run exists on the Hub, "
                                     "but none of this push's files reached it (the upload is one commit).")
    assert len(hub.repos["alice/tiny-run"].commits) == 1 and hub.count("/commit/") == 1


def test_a_cancel_that_came_too_late_for_a_push_with_nothing_new(qtbot: Any, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no request is left when Cancel comes (core.hub.push_run stood in): the push's own outcome, and why."""
    def push_run(run_dir: Path, progress: Any, cancel: threading.Event, **kw: Any) -> core_hub.PushResult:
        progress({"event": "push", "phase": "upload", "message": "Uploading 10 files"})
        cancel.wait(10)
        return core_hub.PushResult("http://hub.test/alice/tiny-run", "alice/tiny-run", ["a"] * 10, unchanged=True)

    monkeypatch.setattr(core_hub, "push_run", push_run)
    with push_dialog(qtbot, make_finished_run(tmp_path / "runs"),
                     core_hub.Account("alice", "write", "saved login")) as dialog:
        dialog.push_button.click()
        qtbot.waitUntil(lambda: dialog.phase_label.text() == "Uploading 10 files…", timeout=WAIT)
        dialog.cancel_button.click()
        qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
        url = "http://hub.test/alice/tiny-run"
        assert dialog.message.property("kind") == "success"
        assert dialog.message.text() == (
            f"Nothing new to push: <a href='{url}'>{url}</a> holds these 10 files already (no commit was made). "
            "Cancel came after the Hub's last answer; nothing was committed")
