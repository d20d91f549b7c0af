"""The Hub in the window: the account in the status bar, the login dialog, the push dialog, against the local Hub.

huggingface_hub in this process is re-pointed at tests/hub_server.py (hub_fixtures.patch_client: the client read
HF_ENDPOINT and HF_HOME when it was first imported), so the dialogs' background jobs talk to the test server and
save the login under the test's HF_HOME. Assertions are on widget text, files, and the requests the server got.
Modal helpers in gui.dialogs are replaced by recorders so nothing blocks.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit

from finetune_studio.gui import background, dialogs
from tests.helpers import SAMPLE, small_config
from tests.hub_fixtures import (  # hub: a fixture
    BOB,
    MODEL_FILES,
    READ,
    WRITE,
    files_containing,
    hub,
    instant_retries,
    make_finished_run,
    patch_client,
    tree_digest,
)
from tests.hub_server import HubServer

UPLOADS = ("/preupload/", "/commit/", "/api/repos/create")
WAIT = 20_000  # ms


class StandIns:
    """Records what would have been modal; answers folder questions with `folder`."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str, str | None]] = []
        self.folder: str | None = None
        self.save_path: str | None = None

    def show_error(self, parent: Any, title: str, message: str, details: str | None = None) -> None:
        self.errors.append((title, message, details))

    def choose_folder(self, *args: Any) -> str | None:
        return self.folder

    def choose_save_path(self, *args: Any) -> str | None:
        return self.save_path


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> StandIns:
    record = StandIns()
    monkeypatch.setattr(dialogs, "show_error", record.show_error)
    monkeypatch.setattr(dialogs, "choose_folder", record.choose_folder)
    monkeypatch.setattr(dialogs, "choose_save_path", record.choose_save_path)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: dialogs.SaveChoice.DISCARD)
    monkeypatch.setattr(dialogs, "ask_cli_form", lambda *a: dialogs.CliChoice.FLAGS)
    monkeypatch.setattr(dialogs, "confirm_stop_and_close", lambda *a: True)
    return record


@pytest.fixture
def hf_home(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    instant_retries(monkeypatch)  # the client's retry back-off (1, 2, 4, 8, 8 s) returns at once
    return tmp_path / "hf_home"


@pytest.fixture
def make_window(qtbot: Any, hf_home: Path, stand_ins: StandIns, runs_dir: Path) -> Any:
    made: list[Any] = []

    def make(wait_for_account: bool = True) -> Any:
        from finetune_studio.gui.main_window import MainWindow

        window = MainWindow()
        qtbot.addWidget(window)
        made.append(window)
        window.show()
        qtbot.waitExposed(window)
        if wait_for_account:
            qtbot.waitUntil(lambda: window.hub.status.kind != "checking", timeout=WAIT)
        return window

    yield make
    for window in made:
        background.wait_idle()
        window.close()
        window.validator.wait()
    background.wait_idle()


@pytest.fixture
def window(make_window: Any) -> Any:
    return make_window()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_finished_run(tmp_path / "runs")


@pytest.fixture(scope="module")
def trained_run(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (tiny) demo run: the built-in demo model trained 4 steps on 200 sample rows."""
    from finetune_studio.core.training import run

    folder = tmp_path_factory.mktemp("trained")
    dataset = folder / "small.jsonl"
    dataset.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:200]) + "\n", encoding="utf-8")
    config = small_config(dataset, folder / "runs", max_steps=4, eval_steps=2, save_steps=2)
    config.name = "tiny-demo"
    result = run(config)
    assert result.state == "finished", result.message
    return result.run_dir


def log_in(qtbot: Any, window: Any, token: str) -> None:
    dialog = window.hub.open_login()
    dialog.token_edit.setText(token)
    dialog.login_button.click()
    qtbot.waitUntil(lambda: window.hub.status.kind == "account", timeout=WAIT)


def wait_push(qtbot: Any, dialog: Any) -> None:
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)


def open_push(qtbot: Any, window: Any, run: Path) -> Any:
    dialog = window.hub.open_push(run)
    qtbot.waitUntil(lambda: bool(dialog.plan), timeout=WAIT)
    return dialog


# ---- account: status bar and login ---------------------------------------------------------------------------


def test_not_logged_in_at_start(window: Any) -> None:
    assert window.hub.status_button.text() == "Hub: not logged in"
    assert "Click to log in" in window.hub.status_button.toolTip()
    assert window.hub_form.account_label.text() == "Not logged in to the Hugging Face Hub."
    assert [a.text() for a in window.hub.menu.actions() if a.text()] == [
        "Log in…", "Log out", "Push run to Hub…", "Push a run folder…"]
    assert not window.hub.logout_action.isEnabled()
    assert [a.text() for a in window.hub.status_button.menu().actions()] == ["Log in…", "Log out", "Check again"]


def test_login_with_a_good_token(qtbot: Any, window: Any, hub: HubServer, hf_home: Path) -> None:
    window.hub.login_action.trigger()
    dialog = window.hub.login_dialog
    assert dialog.isVisible() and dialog.windowTitle() == "Log in to the Hugging Face Hub"
    assert f"href='{hub.url}/settings/tokens'" in dialog.intro.text()
    assert dialog.token_edit.echoMode() == QLineEdit.EchoMode.Password
    dialog.show_check.setChecked(True)
    assert dialog.token_edit.echoMode() == QLineEdit.EchoMode.Normal
    dialog.show_check.setChecked(False)
    assert not dialog.login_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(dialog.token_edit, WRITE)
    qtbot.keyClick(dialog.token_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.hub.status.kind == "account", timeout=WAIT)

    assert window.hub.status_button.text() == "Hub: alice (write)"
    assert window.hub.status_button.toolTip().startswith("Logged in as alice (write token).")
    assert window.hub_form.account_label.text() == "Logged in as alice (write token)."
    assert (hf_home / "token").read_text().strip() == WRITE
    assert "[studio-write]" in (hf_home / "stored_tokens").read_text()
    assert window.hub.logout_action.isEnabled()
    assert window.hub.login_action.text() == "Log in with another token…"
    assert "Logged in to the Hugging Face Hub as alice" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())


def test_a_bad_token_keeps_the_dialog_open_and_saves_nothing(qtbot: Any, window: Any, hf_home: Path) -> None:
    dialog = window.hub.open_login()
    bad = "hf_TESTSECRETbadbadbadAbCdEfGhIjKlMnOpQr"
    dialog.token_edit.setText(bad)
    dialog.login_button.click()
    assert dialog.checking and not dialog.token_edit.isEnabled()  # checked in the background
    qtbot.waitUntil(lambda: not dialog.checking, timeout=WAIT)
    assert dialog.isVisible() and dialog.message.isVisible()
    assert dialog.message.text().startswith("This Hugging Face token was rejected")
    assert "mistyped" in dialog.message.text() and bad not in dialog.message.text()
    assert not (hf_home / "token").exists() and not (hf_home / "stored_tokens").exists()
    assert window.hub.status_button.text() == "Hub: not logged in"

    dialog.token_edit.setText(WRITE)  # retry in the same dialog
    dialog.login_button.click()
    qtbot.waitUntil(lambda: window.hub.status.kind == "account", timeout=WAIT)
    assert (hf_home / "token").read_text().strip() == WRITE


def test_cancel_while_checking_saves_nothing(qtbot: Any, window: Any, hf_home: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import hub as core_hub

    release = threading.Event()
    real_whoami = core_hub.whoami

    def slow_whoami(token: str | None = None) -> Any:
        release.wait(10)
        return real_whoami(token)

    monkeypatch.setattr(core_hub, "whoami", slow_whoami)
    dialog = window.hub.open_login()
    dialog.token_edit.setText(WRITE)
    dialog.login_button.click()
    dialog.cancel_button.click()
    assert not dialog.isVisible()
    assert window.hub.open_login() is not dialog  # reopening at once gives a fresh dialog, not the closing one
    release.set()
    background.wait_idle()
    assert not (hf_home / "token").exists()
    assert window.hub.status_button.text() == "Hub: not logged in"


def test_log_out(qtbot: Any, window: Any, hf_home: Path) -> None:
    log_in(qtbot, window, WRITE)
    window.hub.logout_action.trigger()
    qtbot.waitUntil(lambda: window.hub.status.kind == "logged_out", timeout=WAIT)
    assert window.hub.status_button.text() == "Hub: not logged in"
    assert not (hf_home / "token").exists()
    assert window.statusBar().currentMessage() == "Logged out of the Hugging Face Hub."


def test_hf_token_in_the_environment_is_shown(qtbot: Any, make_window: Any, hf_home: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (hf_home / "token").write_text(WRITE)  # a saved login of alice …
    monkeypatch.setenv("HF_TOKEN", BOB)  # … overridden by the environment
    window = make_window()
    assert window.hub.status_button.text() == "Hub: bob (write) · HF_TOKEN"
    tooltip = window.hub.status_button.toolTip()
    assert "from the HF_TOKEN environment variable" in tooltip
    assert "HF_TOKEN is set and is used instead of the login saved on this computer" in tooltip
    dialog = window.hub.open_login()
    assert dialog.env_note.isVisible() and "HF_TOKEN is set" in dialog.env_note.text()


def test_the_account_check_never_delays_the_window(qtbot: Any, make_window: Any, hf_home: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import hub as core_hub

    (hf_home / "token").write_text(WRITE)
    release = threading.Event()
    real_whoami = core_hub.whoami
    monkeypatch.setattr(core_hub, "whoami", lambda token=None: release.wait(10) and real_whoami(token))
    window = make_window(wait_for_account=False)  # returns while the Hub has not answered
    assert window.isVisible() and window.hub.status_button.text() == "Hub: checking…"
    release.set()
    qtbot.waitUntil(lambda: window.hub.status_button.text() == "Hub: alice (write)", timeout=WAIT)


def test_unreachable_hub_at_start_then_check_again(qtbot: Any, make_window: Any, hub: HubServer,
                                                   hf_home: Path) -> None:
    (hf_home / "token").write_text(WRITE)
    hub.stop()
    window = make_window()
    assert window.hub.status_button.text() == "Hub unreachable"
    assert window.hub.status_button.toolTip().startswith("Cannot reach the Hugging Face Hub")
    hub.start()
    window.hub.refresh_action.trigger()
    qtbot.waitUntil(lambda: window.hub.status_button.text() == "Hub: alice (write)", timeout=WAIT)


# ---- push ----------------------------------------------------------------------------------------------------


def test_read_only_token_is_refused_before_any_upload(qtbot: Any, window: Any, hub: HubServer,
                                                      run_dir: Path) -> None:
    log_in(qtbot, window, READ)
    assert window.hub.status_button.text() == "Hub: alice (read)"
    before = tree_digest(run_dir)
    dialog = open_push(qtbot, window, run_dir)
    assert dialog.account_label.isVisible() and "read-only token" in dialog.account_label.text()
    dialog.push_button.click()
    wait_push(qtbot, dialog)
    assert "is read-only, so it cannot push" in dialog.message.text()
    assert dialog.login_button.isVisible()  # one click to log in with a write token
    assert not any(hub.count(part) for part in UPLOADS) and not hub.repos
    assert tree_digest(run_dir) == before


@pytest.mark.slow
def test_push_a_trained_run_from_the_finished_header_and_download_it(qtbot: Any, window: Any, hub: HubServer,
                                                                     trained_run: Path, hf_home: Path) -> None:
    from huggingface_hub import hf_hub_download

    from finetune_studio.core.hub import plan_push

    log_in(qtbot, window, WRITE)
    before = tree_digest(trained_run)
    window.show_run(trained_run)
    assert window.hub.push_button.isVisible()  # offered beside "Open folder" for a finished run
    qtbot.mouseClick(window.hub.push_button, Qt.MouseButton.LeftButton)
    dialog = window.hub.push_dialog
    qtbot.waitUntil(lambda: bool(dialog.plan), timeout=WAIT)
    assert dialog.repo_edit.text() == "alice/tiny-demo"
    assert dialog.private_check.isChecked()
    listed = [dialog.files.topLevelItem(i).text(0) for i in range(dialog.files.topLevelItemCount())]
    assert listed == [name for name, _ in plan_push(trained_run)]
    assert {"model.safetensors", "README.md", "loss_curve.svg", "metrics.jsonl"} <= set(listed)
    dialog.message_edit.setText("Tiny demo, 4 steps")
    dialog.push_button.click()
    assert dialog.busy.isVisible() and not dialog.push_button.isEnabled()
    wait_push(qtbot, dialog)

    assert dialog.message.property("kind") == "success"
    assert f"<a href='{hub.url}/alice/tiny-demo'>" in dialog.message.text()
    assert dialog.cancel_button.text() == "Close" and dialog.push_button.text() == "Push again"
    repo = hub.repos["alice/tiny-demo"]
    assert repo.private and repo.commit_messages == ["Tiny demo, 4 steps"]
    model_dir = trained_run / "model"
    for name in listed:
        path = Path(hf_hub_download("alice/tiny-demo", name, token=WRITE))
        assert path.read_bytes() == repo.files[name]
        if (model_dir / name).is_file():
            assert path.read_bytes() == (model_dir / name).read_bytes(), name
    assert tree_digest(trained_run) == before
    assert window.hub.push_result.isVisible() and "alice/tiny-demo" in window.hub.push_result.text()


FAULTS = {
    # name: (words in the dialog's message)
    "revoked token (401)": "token was rejected",
    "server error creating the repo (500)": "server error (HTTP 500)",
    "server error on every retry (500)": "server error (HTTP 500)",
    "dropped connection": "Cannot reach the Hugging Face Hub",
    "someone else's repository": "You cannot push to bob/stolen",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failed_push_shows_why_changes_nothing_and_can_be_retried(fault: str, qtbot: Any, window: Any,
                                                                    hub: HubServer, run_dir: Path) -> None:
    log_in(qtbot, window, WRITE)
    before = tree_digest(run_dir)
    dialog = open_push(qtbot, window, run_dir)
    if fault.startswith("revoked"):
        del hub.tokens[WRITE]
    elif fault == "server error creating the repo (500)":
        hub.fail_next("/api/repos/create", 500)
    elif fault.startswith("server error on every retry"):
        hub.fail_next("/preupload/", 500, count=6)  # the client tries 6 times with back-off
    elif fault == "dropped connection":
        hub.fail_next("/api/repos/create", "drop")
    else:
        dialog.repo_edit.setText("bob/stolen")
    dialog.push_button.click()
    wait_push(qtbot, dialog)

    assert dialog.isVisible() and dialog.message.property("kind") == "error"
    assert FAULTS[fault] in dialog.message.text(), dialog.message.text()
    assert WRITE not in dialog.message.text()
    assert tree_digest(run_dir) == before
    assert not hub.count("/commit/")
    assert dialog.push_button.isEnabled() and dialog.push_button.text() == "Push"
    assert dialog.login_button.isVisible() == fault.startswith("revoked")

    hub.add_token(WRITE, "alice", "write")  # clear the fault
    dialog.repo_edit.setText("alice/tiny-run")
    dialog.push_button.click()
    wait_push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert dialog.message.text().startswith("Pushed 10 files to")
    assert set(hub.repos) == {"alice/tiny-run"} and len(hub.repos["alice/tiny-run"].commits) == 1
    assert tree_digest(run_dir) == before


def test_cancel_before_the_upload(qtbot: Any, window: Any, hub: HubServer, run_dir: Path) -> None:
    log_in(qtbot, window, WRITE)
    dialog = open_push(qtbot, window, run_dir)
    dialog.push_button.click()
    dialog.cancel_button.click()  # cancels (the dialog stays until the push has stopped)
    assert dialog.isVisible()
    wait_push(qtbot, dialog)
    assert dialog.message.property("kind") == "warning"
    assert dialog.message.text().startswith("Push cancelled")
    assert not hub.count("/commit/") and not hub.count("/preupload/")
    dialog.cancel_button.click()
    assert not dialog.isVisible()


def test_push_any_run_folder_from_the_hub_menu(qtbot: Any, window: Any, hub: HubServer, stand_ins: StandIns,
                                               tmp_path: Path) -> None:
    log_in(qtbot, window, WRITE)
    first = make_finished_run(tmp_path / "elsewhere", name="first")
    second = make_finished_run(tmp_path / "elsewhere", name="second")
    stand_ins.folder = str(first)
    window.hub.push_action.trigger()  # no run shown: asks for a folder
    dialog = window.hub.push_dialog
    qtbot.waitUntil(lambda: bool(dialog.plan), timeout=WAIT)
    assert dialog.run_dir == first and dialog.repo_edit.text() == "alice/first"
    stand_ins.folder = str(second)
    dialog.choose_button.click()
    qtbot.waitUntil(lambda: bool(dialog.plan), timeout=WAIT)
    assert dialog.run_dir == second and dialog.repo_edit.text() == "alice/second"
    dialog.private_check.setChecked(False)
    dialog.push_button.click()
    wait_push(qtbot, dialog)
    assert set(hub.repos) == {"alice/second"} and not hub.repos["alice/second"].private


def test_the_push_dialog_follows_the_account_in_use(qtbot: Any, window: Any, hub: HubServer, tmp_path: Path) -> None:
    """Logging in as another user while the dialog is open proposes that user's namespace (and pushes there); a
    repository the user typed stays; logging out withdraws the proposal."""
    run = make_finished_run(tmp_path / "runs", name="shared-run")
    log_in(qtbot, window, WRITE)
    dialog = open_push(qtbot, window, run)
    assert dialog.repo_edit.text() == "alice/shared-run"

    login = window.hub.open_login()  # Hub → Log in with another token…, the push dialog still open
    login.token_edit.setText(BOB)
    login.login_button.click()
    qtbot.waitUntil(lambda: window.hub.account is not None and window.hub.account.name == "bob", timeout=WAIT)
    assert window.hub.push_dialog is dialog and dialog.isVisible()
    assert dialog.repo_edit.text() == "bob/shared-run"
    assert "Logged in as bob" in dialog.account_label.text()
    dialog.push_button.click()
    wait_push(qtbot, dialog)
    assert set(hub.repos) == {"bob/shared-run"}, dialog.message.text()

    dialog.repo_edit.setText("bob/my-name")  # typed: a later login does not overwrite it
    log_in_again = window.hub.open_login()
    log_in_again.token_edit.setText(WRITE)
    log_in_again.login_button.click()
    qtbot.waitUntil(lambda: window.hub.account is not None and window.hub.account.name == "alice", timeout=WAIT)
    assert dialog.repo_edit.text() == "bob/my-name"

    dialog.repo_edit.clear()
    dialog.set_run(run)  # the proposal again, for alice
    assert dialog.repo_edit.text() == "alice/shared-run"
    window.hub.log_out()
    qtbot.waitUntil(lambda: window.hub.status.kind == "logged_out", timeout=WAIT)
    assert dialog.repo_edit.text() == "" and not dialog.account_label.isVisible()


def test_push_to_hub_in_all_arguments_is_refused_at_the_field(qtbot: Any, window: Any, demo_cache: Path) -> None:
    """TrainingArguments(push_to_hub) would make the Trainer upload the run folder to a public repository: the
    window marks the box with a pointer to the Hub tab and keeps Start disabled until it is reset."""
    window.begin_warmup()
    qtbot.waitUntil(lambda: window.warm is not None and window.start_action.isEnabled(), timeout=60_000)
    window.tabs.setCurrentWidget(window.pages[window.arguments_panel])  # builds the rows on first show
    row = window.arguments_panel.row("push_to_hub")
    assert row is not None and window.arguments_panel.row("hub_token") is None  # no box to type a token into
    row.editor.setChecked(True)
    assert window.config.training["push_to_hub"] is True
    qtbot.waitUntil(lambda: not window.start_action.isEnabled(), timeout=10_000)
    qtbot.waitUntil(lambda: row.editor.property("problem") is True, timeout=10_000)
    assert row.error_label().isVisible()
    assert "'Push when training ends' on the Hub tab (hub.push_when_done)" in row.error_label().text()
    assert "public repository" in window.header.problems_label.text()
    row.editor.setChecked(False)
    qtbot.waitUntil(window.start_action.isEnabled, timeout=10_000)
    assert not row.error_label().isVisible()


def test_a_token_in_a_loaded_config_is_refused_hidden_and_removable(qtbot: Any, window: Any, demo_cache: Path,
                                                                     tmp_path: Path, stand_ins: StandIns) -> None:
    """A config written by hand (or by an older version) with training.hub_token: Start is disabled with the
    reason, the All arguments tab has a row for it that never shows the token, ↺ removes it, and saving writes no
    token."""
    path = tmp_path / "with-token.yaml"
    path.write_text(f"training:\n  learning_rate: 0.0001\n  hub_token: {WRITE}\n")
    window.begin_warmup()
    assert window.open_config(path)
    qtbot.waitUntil(lambda: any(p.field == "training.hub_token" for p in window.problems), timeout=60_000)
    assert not window.start_action.isEnabled()
    assert "log in instead" in window.header.problems_label.text()
    window.show_field("training.hub_token")  # what clicking the problem's link does
    assert window.tabs.currentWidget() is window.pages[window.arguments_panel]
    row = window.arguments_panel.row("hub_token")
    assert row is not None and row.editor.isReadOnly() and row.editor.text() == ""
    assert row.editor.property("problem") is True and "log in instead" in row.error_label().text()
    assert not [edit.text() for edit in window.findChildren(QLineEdit) if WRITE in edit.text()]
    row.reset_button.click()
    qtbot.waitUntil(window.start_action.isEnabled, timeout=60_000)
    assert "hub_token" not in window.config.training and window.arguments_panel.row("hub_token") is None
    assert window.config.training["learning_rate"] == 1e-4  # the rest of the config is kept
    stand_ins.save_path = str(tmp_path / "saved.yaml")
    window.config.training["hub_token"] = WRITE  # even if one got back in, saving leaves it out
    window.save_as_action.trigger()
    assert WRITE not in Path(stand_ins.save_path).read_text()


def test_a_folder_without_a_model_cannot_be_pushed(qtbot: Any, window: Any, tmp_path: Path) -> None:
    run = make_finished_run(tmp_path / "runs", name="no-model")
    shutil.rmtree(run / "model")
    dialog = window.hub.open_push(run)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=WAIT)
    assert "finished, but its model folder" in dialog.message.text()  # not "finish it first"
    assert "so there is no model to push. To fix: put the model folder back" in dialog.message.text()
    assert not dialog.push_button.isEnabled()


def test_push_when_done_outcome_is_shown(qtbot: Any, window: Any, hub: HubServer, run_dir: Path) -> None:
    """The events core.training sends after a run with hub.push_when_done (see test_hub_cli for the real run)."""
    from finetune_studio.gui.run_header import RunState

    window.run_dir = run_dir
    window.runner.event.emit({"event": "phase", "phase": "push", "message": "Uploading 10 files (270 kB)"})
    assert window.statusBar().currentMessage() == "Hub: Uploading 10 files (270 kB)…"
    url = f"{hub.url}/alice/tiny-run"
    window.runner.event.emit({"event": "notice", "push": "done", "url": url, "repo_id": "alice/tiny-run",
                              "message": f"Pushed the model to {url}"})
    window._set_state(RunState.FINISHED, "Finished")
    assert window.hub.push_result.isVisible()
    assert window.hub.push_result.text() == f"Pushed to <a href='{url}'>alice/tiny-run</a>"
    window.runner.event.emit({"event": "warning", "source": "hub", "push": "failed",
                              "message": "The model was not pushed to the Hub: HTTP 500. The run itself …",
                              "problem": "The model was not pushed to the Hub: HTTP 500.",
                              "fix": "The run itself …"})
    assert window.statusBar().currentMessage() == "The model was not pushed to the Hub: HTTP 500."
    assert window.hub.push_result.text() == "Not pushed (see the log)"
    assert "HTTP 500" in window.hub.push_result.toolTip()
    window.run_dir = None  # what Start does before a new run
    window._set_state(RunState.PREPARING, "Preparing…")
    assert not window.hub.push_result.isVisible() and not window.hub.push_button.isVisible()


def test_push_when_done_without_login_is_a_problem_on_the_checkbox(qtbot: Any, window: Any) -> None:
    from finetune_studio.core.validation import validate

    window.hub_form.push_check.setChecked(True)
    assert window.config.hub.push_when_done
    problems = [p for p in validate(window.config, check_files=False) if p.field == "hub.push_when_done"]
    assert problems and "not logged in" in problems[0].message
    window.hub_form.show_problems(problems)
    assert window.hub_form.push_check.property("problem") is True


# ---- the token stays secret ------------------------------------------------------------------------------------


def test_the_token_is_only_in_huggingface_hubs_token_files(qtbot: Any, window: Any, hub: HubServer,
                                                           stand_ins: StandIns, run_dir: Path, tmp_path: Path,
                                                           hf_home: Path) -> None:
    from finetune_studio.gui import settings as store

    log_in(qtbot, window, WRITE)
    window.show_run(run_dir)
    dialog = open_push(qtbot, window, run_dir)
    hub.fail_next("/api/repos/create", 500)
    dialog.push_button.click()
    wait_push(qtbot, dialog)
    failure = dialog.message.text()
    dialog.push_button.click()
    wait_push(qtbot, dialog)
    success = dialog.message.text()
    assert success.startswith("Pushed 10 files")

    window.copy_cli_command()
    command = QGuiApplication.clipboard().text()
    assert command.startswith("finetune-studio train")
    stand_ins.save_path = str(tmp_path / "configs" / "pushed.yaml")
    (tmp_path / "configs").mkdir()
    assert window.save_as()
    window.close()  # writes the window state to QSettings
    store.settings().sync()
    settings_dir = Path(store.settings().fileName()).parent

    secret = WRITE.encode()
    homes = {Path(os.environ["HOME"]), tmp_path, settings_dir}
    found = sorted({hit for root in homes for hit in files_containing(root, secret)})
    assert found == sorted(str(hf_home / name) for name in ("stored_tokens", "token"))
    texts = [command, failure, success, window.log.toPlainText(), window.hub.status_button.toolTip(),
             window.statusBar().currentMessage(), *(text for _, text, _ in stand_ins.errors)]
    assert not [text for text in texts if WRITE in text]
    assert not [p for p in Path(tempfile_dir()).glob("finetune-studio-push-*")]  # staging removed
    assert not [name for repo in hub.repos.values() for name, data in repo.files.items() if secret in data]
    assert MODEL_FILES["model.safetensors"] == hub.repos["alice/tiny-run"].files["model.safetensors"]


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()
