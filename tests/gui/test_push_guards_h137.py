"""Guards (helper-137): what the push dialog already did right when pushed on, kept so. Push pressed twice; the
main window closed during a push (as Ctrl-C in the terminal closes it); the run folder deleted before Push, then
put back; a write-protected run folder; a run that trains again while the dialog is open. The local test Hub."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt

from finetune_studio.core.runs import RunLock
from finetune_studio.gui import background, dialogs
from tests import hub_server
from tests.hub_fixtures import WRITE, connect_client, hub, open_push_dialog, push, run_dir, tree_digest

WAIT = 20_000


@pytest.fixture
def logged_in(hub: hub_server.HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect_client(monkeypatch, hub, tmp_path / "hf_home", token=WRITE)


@pytest.fixture
def dialog(open_push_dialog: Any) -> Any:
    return open_push_dialog(keep_on_close=True)


def test_push_pressed_twice_pushes_once(qtbot: Any, dialog: Any, hub: hub_server.HubServer) -> None:
    dialog.push_button.click()
    dialog.push_button.click()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert not dialog.push_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    background.wait_idle()
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert hub.count("/api/repos/create") == 1 and hub.count("/commit/") == 1
    assert len(hub.repos["alice/tiny-run"].commits) == 1


def test_closing_the_window_during_a_push_leaves_the_dialog_to_finish_it(
        qtbot: Any, logged_in: None, hub: hub_server.HubServer, run_dir: Path, runs_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.gui.main_window import MainWindow

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: dialogs.SaveChoice.DISCARD)
    original = hub_server._Handler._route_commit

    def slow_commit(handler: Any, **kw: Any) -> None:
        time.sleep(2)
        original(handler, **kw)

    monkeypatch.setattr(hub_server._Handler, "_route_commit", slow_commit)
    before = tree_digest(run_dir)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.hub.status.kind == "account", timeout=WAIT)
    dialog = window.hub.open_push(run_dir)
    qtbot.waitUntil(lambda: bool(dialog.plan), timeout=WAIT)
    dialog.push_button.click()
    qtbot.waitUntil(lambda: hub.count("/commit/") == 1, timeout=WAIT)
    window.close()
    assert not window.isVisible() and shiboken6.isValid(dialog) and dialog.isVisible() and dialog.pushing
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert len(hub.repos["alice/tiny-run"].commits) == 1 and tree_digest(run_dir) == before
    dialog.close()
    background.wait_idle()
    window.validator.wait()


def test_a_run_folder_deleted_before_push_is_said_and_pushed_once_back(
        qtbot: Any, dialog: Any, hub: hub_server.HubServer, run_dir: Path, tmp_path: Path) -> None:
    shutil.move(str(run_dir), str(tmp_path / "away"))
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text() == (  # the dialog's words (5fbd1e4), not the command line's "No run folder at"
        f"The run {run_dir.name} is no longer in {run_dir.parent} (deleted, moved or renamed since it was shown), so "
        "there is nothing to push there. Nothing was sent to the Hub. To fix: if it was moved or renamed, choose it "
        "in its new place (Choose…).")
    assert hub.paths() == ["/api/whoami-v2"] * 3 and dialog.push_button.isEnabled()
    shutil.move(str(tmp_path / "away"), str(run_dir))
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()


def test_a_write_protected_run_folder_is_pushed_and_left_as_it_is(qtbot: Any, dialog: Any,
                                                                   hub: hub_server.HubServer, run_dir: Path) -> None:
    before = tree_digest(run_dir)
    paths = [run_dir, *run_dir.rglob("*")]
    modes = {path: path.stat().st_mode for path in paths}
    for path in paths:
        path.chmod(modes[path] & ~0o222)
    try:
        push(qtbot, dialog)
        assert dialog.message.property("kind") == "success", dialog.message.text()
        assert tree_digest(run_dir) == before and {path: path.stat().st_mode & ~0o222 for path in paths} == {
            path: mode & ~0o222 for path, mode in modes.items()}
    finally:
        for path in paths:
            path.chmod(modes[path])


def test_a_run_training_again_is_refused_then_pushed_once_it_ends(qtbot: Any, dialog: Any,
                                                                    hub: hub_server.HubServer, run_dir: Path) -> None:
    lock = RunLock.acquire(run_dir)  # a resume began in this process after the dialog listed the files
    try:
        push(qtbot, dialog)
    finally:
        lock.release()
    assert dialog.message.property("kind") == "error"
    assert dialog.message.text().startswith("The run tiny-run is training again (process ")
    assert dialog.message.text().endswith("its model folder still holds the previous result, which would be pushed "
                                          "as if it were this run's. Nothing was pushed. To fix: wait until it ends "
                                          "(or stop it), then try again.")
    assert not hub.count("/api/repos/create")
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
