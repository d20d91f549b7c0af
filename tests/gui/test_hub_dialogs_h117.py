"""The push dialog against the local test Hub: refusals found by helper-117 (in process: patch_client)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from finetune_studio.gui import background
from finetune_studio.gui.hub_dialogs import PushDialog
from tests import hub_server
from tests.hub_fixtures import WRITE, hub, instant_retries, patch_client, run_dir

WAIT = 20_000


@pytest.fixture
def dialog(qtbot: Any, hub: hub_server.HubServer, run_dir: Path, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Any:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    instant_retries(monkeypatch)
    made = PushDialog(run_dir, core_hub.whoami(WRITE))
    qtbot.addWidget(made)
    made.show()
    qtbot.waitUntil(lambda: bool(made.plan), timeout=WAIT)
    yield made
    background.wait_idle()


def push(qtbot: Any, dialog: Any, repo_id: str) -> None:
    dialog.repo_edit.setText(repo_id)
    dialog.push_button.click()
    qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)


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
