"""What the push dialog says it waits for after Cancel, by the phase the push is in (helper-137). A merged push
merges for minutes and cannot be interrupted; the dialog said it waited for 'the Hub to answer the request under
way'. core.hub.push_run is a stand-in here that reports the phases and waits, as the real one does, for Cancel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import hub as core_hub
from tests.hub_fixtures import make_finished_run, push_dialog

WAIT = 20_000


@pytest.mark.parametrize(("phases", "said"), [
    (["account", "repo"], "Cancelling: the push stops after the Hub answers the request under way…"),
    (["account", "repo", "merge"],
     "Cancelling: the push stops once the merge into the base model ends; no file is uploaded…"),
    (["account", "repo", "merge", "retry"],  # a retry line is no phase of its own: the merge still runs
     "Cancelling: the push stops once the merge into the base model ends; no file is uploaded…"),
    (["account", "repo", "prepare", "upload"],
     "Cancelling: the push stops before its commit is sent (if the commit is already sent, it runs to its end)…"),
])
def test_cancel_says_what_the_push_waits_for(phases: list[str], said: str, qtbot: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    reached = threading.Event()

    def push_run(run_dir: Path, progress: Any, cancel: threading.Event, **kw: Any) -> Any:
        for phase in phases:
            progress({"event": "push", "phase": phase, "message": f"Phase {phase}"})
        reached.set()
        cancel.wait(10)
        raise core_hub.HubCancelled("Push cancelled: nothing was sent to the Hub.")

    monkeypatch.setattr(core_hub, "push_run", push_run)
    with push_dialog(qtbot, make_finished_run(tmp_path / "runs"),
                     core_hub.Account("alice", "write", "saved login")) as dialog:
        dialog.push_button.click()
        qtbot.waitUntil(reached.is_set, timeout=WAIT)
        qtbot.waitUntil(lambda: dialog.phase_label.text() == f"Phase {phases[-1]}…", timeout=WAIT)
        dialog.cancel_button.click()
        assert dialog.phase_label.text() == said
        qtbot.waitUntil(lambda: not dialog.pushing, timeout=WAIT)
        assert dialog.message.property("kind") == "warning"
        assert dialog.message.text() == "Push cancelled: nothing was sent to the Hub."
        assert dialog.push_button.isEnabled() and dialog.cancel_button.text() == "Close"
