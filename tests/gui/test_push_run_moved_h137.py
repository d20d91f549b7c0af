"""A run folder moved or deleted while the push dialog uploads it (helper-137). The push links the run's files into
a staging folder; the upload then failed as "Failed while uploading to alice/tiny-run: FileNotFoundError: [Errno 2]
No such file or directory: '/tmp/finetune-studio-push-…/chat_template.jinja'." (a folder the user never saw) with
no way forward."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests import hub_server
from tests.hub_fixtures import hub, open_push_dialog, push, run_dir, tree_digest


@pytest.fixture
def dialog(open_push_dialog: Any) -> Any:
    return open_push_dialog()


def test_a_run_folder_moved_during_the_upload_is_said_and_a_push_after_it_is_back_works(
        qtbot: Any, dialog: Any, hub: hub_server.HubServer, run_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_digest(run_dir)
    moved = threading.Event()
    original = hub_server._Handler._route_preupload

    def preupload_then_move(handler: Any, **kw: Any) -> None:  # the files are read after the preupload
        if not moved.is_set():
            shutil.move(str(run_dir), str(tmp_path / "elsewhere"))
            moved.set()
        original(handler, **kw)

    monkeypatch.setattr(hub_server._Handler, "_route_preupload", preupload_then_move)
    push(qtbot, dialog)
    assert moved.is_set()
    text = dialog.message.text()
    assert dialog.message.property("kind") == "error"
    assert text.startswith(f"The run folder {run_dir} changed while it was being pushed: ")
    assert "of its files to upload (" in text and "can no longer be read there (moved, deleted or made unreadable " \
                                                  "since the push began)." in text
    assert text.endswith(
        "alice/tiny-run exists on the Hub, but none of this push's files reached it (the upload is one commit). To "
        "fix: put the run folder back as it was (or choose it where it is now, with Choose… in the push dialog, or "
        "give its new place to finetune-studio push), then push again.")
    assert "finetune-studio-push-" not in text and "FileNotFoundError" not in text
    assert not hub.count("/commit/") and not hub.repos["alice/tiny-run"].files
    assert dialog.push_button.isEnabled() and dialog.cancel_button.text() == "Close"

    shutil.move(str(tmp_path / "elsewhere"), str(run_dir))  # put back
    assert tree_digest(run_dir) == before
    started = time.monotonic()
    push(qtbot, dialog)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert len(hub.repos["alice/tiny-run"].commits) == 1 and time.monotonic() - started < 15
    weights = (run_dir / "model" / "model.safetensors").read_bytes()
    assert hub.repos["alice/tiny-run"].files["model.safetensors"] == weights
