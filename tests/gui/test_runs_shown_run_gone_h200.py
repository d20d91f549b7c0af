"""The run shown on the right, opened from the Runs tab, whose folder another window deletes (or a file manager
renames): when the tab's poll sees it gone, the header says the folder is gone and Resume no longer offers to
continue it; it said 'stopped: … — Resume continues from the latest checkpoint' for a folder that was not there.

Two real windows on one runs folder of fabricated runs (tests/core/test_runs_history.py's builders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.session import folder_gone_text
from finetune_studio.gui import history
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import rows, wait_rows
from tests.helpers import checkpoint

pytestmark = pytest.mark.usefixtures("drain_background")

DEMO = {"model": "builtin:demo", "dataset": "builtin:sample"}


def test_a_shown_run_deleted_in_another_window_is_said_gone_and_not_resumed(qtbot: Any, make_window: Any,
                                                                             runs_dir: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = fab.make_run(runs_dir, "halfway", fab.segment(2, 12, end="stopped", max_steps=40),
                           {"state": "stopped", "message": "Stopped at step 12 of 40.", "step": 12, "max_steps": 40,
                            **DEMO})
    checkpoint(stopped, 12)
    other = fab.make_run(runs_dir, "other", fab.segment(2, 20),
                         {"state": "finished", "message": "Finished 20 steps.", "step": 20, **DEMO})
    first, second = make_window(warm=False), make_window(warm=False)
    for window in (first, second):
        window.tabs.setCurrentWidget(window.history)
        wait_rows(qtbot, window.history, lambda r: sorted(r) == ["halfway", "other"])
    second.history.select([stopped])
    second.history.open_selected()
    assert second.session.run_dir == stopped and second.session.resumable == stopped
    assert second.header.state_label.text().startswith("halfway: Stopped at step 12 of 40. — Resume continues")

    monkeypatch.setattr(history, "confirm_delete", lambda parent, names: True)
    first.history.select([stopped])
    first.history.delete_selected()
    assert not stopped.exists()
    wait_rows(qtbot, second.history, lambda r: sorted(r) == ["other"])
    assert second.session.resumable is None and second.session.state_text == folder_gone_text(stopped)
    assert second.header.state_label.text().startswith("halfway: folder gone (renamed, moved or deleted)")
    assert not second.resume_action.isEnabled()

    second.history.select([other])  # another run opens as before
    second.history.open_selected()
    assert second.session.run_dir == other and second.session.state_text.startswith("Finished")
    other.rename(runs_dir / "other-renamed")  # renamed outside the app while shown
    wait_rows(qtbot, second.history, lambda r: sorted(r) == ["other-renamed"])
    assert second.session.state_text == folder_gone_text(other) and second.session.model_dir is None
    assert "other-renamed" in rows(second.history)
