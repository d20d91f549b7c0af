"""What the push dialog says it waits for after Cancel, by the phase the push is in (helper-137). A merged push
merges for minutes; the dialog said it waited for 'the Hub to answer the request under way'. Since 04c22ad the merge
stops at its next step (loading the base model, merging, saving: the one under way runs to its end) and deletes what
it wrote (helper-180: the dialog said it waited for the whole merge to end). core.hub.push_run is a stand-in here that
reports the phases and waits, as the real one does, for Cancel, then raises the real one's HubCancelled words (those
of Cancel during the merge are the real push_run's, made by the merge_cancelled fixture)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import export
from finetune_studio.core import hub as core_hub
from tests.core.test_cli_push_export_input import _adapter_run
from tests.hub_fixtures import WRITE, hub, make_finished_run, patch_client, push_dialog
from tests.hub_server import HubServer

WAIT = 20_000


MERGING = ("Cancelling: the push stops once the merge's current step ends (loading the base model, merging or "
           "saving); no file is uploaded and the merged files are deleted…")
NOTHING_SENT = "Push cancelled: nothing was sent to the Hub."
MERGE_CANCELLED = "merge_cancelled"  # core.hub's words for Cancel during the merge: the fixture of that name


@pytest.fixture
def merge_cancelled(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What core.hub.push_run raises when Cancel stops a merged push's merge (since d30c5f1: "Push cancelled while
    merging the adapter into its base model: nothing of the merge was kept. Nothing was sent to the Hub, and
    alice/tiny-run was not created."): the real push_run, against the local test Hub, its merge stood in for by
    core.export's refusal once cancelled. Made here, not copied, so the stand-in below says what the real one does."""
    with monkeypatch.context() as patched:
        patch_client(patched, hub.url, tmp_path / "hf_home")
        patched.setenv("HF_TOKEN", WRITE)

        def merge(*args: Any, **kwargs: Any) -> Any:
            raise export.ExportError("Export cancelled: nothing of it was kept.", kind=export.CANCELLED)

        patched.setattr(export, "export_merged", merge)
        with pytest.raises(core_hub.HubCancelled) as raised:
            core_hub.push_run(_adapter_run(tmp_path / "adapter runs"), repo_id="alice/tiny-run",
                              form=core_hub.PUSH_MERGED, cancel=threading.Event())
    assert "alice/tiny-run" not in hub.repos  # the merge comes before the repository is created
    return str(raised.value)


@pytest.mark.parametrize(("phases", "said", "ended"), [
    (["account", "repo"], "Cancelling: the push stops after the Hub answers the request under way…", NOTHING_SENT),
    (["account", "repo", "merge"], MERGING, MERGE_CANCELLED),
    (["account", "repo", "merge", "retry"], MERGING, MERGE_CANCELLED),  # a retry line is no phase: still merging
    (["account", "repo", "prepare", "upload"],
     "Cancelling: the push stops before its commit is sent (if the commit is already sent, it runs to its end)…",
     NOTHING_SENT),
])
def test_cancel_says_what_the_push_waits_for(phases: list[str], said: str, ended: str, qtbot: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    if ended == MERGE_CANCELLED:
        ended = request.getfixturevalue(MERGE_CANCELLED)
    reached = threading.Event()

    def push_run(run_dir: Path, progress: Any, cancel: threading.Event, **kw: Any) -> Any:
        for phase in phases:
            progress({"event": "push", "phase": phase, "message": f"Phase {phase}"})
        reached.set()
        cancel.wait(10)
        raise core_hub.HubCancelled(ended)

    monkeypatch.setattr(core_hub, "push_run", push_run)
    with push_dialog(qtbot, make_finished_run(tmp_path / "runs"),
                     core_hub.Account("alice", "write", "saved login")) as dialog:
        dialog.push_button.click()
        qtbot.waitUntil(reached.is_set, timeout=WAIT)
        qtbot.waitUntil(lambda: dialog.phase_label.text() == f"Phase {phases[-1]}…", timeout=WAIT)
        width = dialog.width()
        dialog.cancel_button.click()
        assert dialog.phase_label.text() == said
        # the line wraps within the dialog's width (it widened the dialog, 1000 px for the merge's), every line shown
        label = dialog.phase_label
        qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()), timeout=WAIT)
        assert dialog.width() == width and label.geometry().right() < dialog.width()
        qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
        assert dialog.message.property("kind") == "warning"
        assert dialog.message.text() == ended
        assert dialog.push_button.isEnabled() and dialog.cancel_button.text() == "Close"
