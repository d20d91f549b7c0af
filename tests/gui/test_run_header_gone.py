"""The window's header for a shown run whose folder was renamed away, or whose status.json is missing: it says
what happened and what still works (core.session's words), and Resume follows — never "No status recorded."."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.core.test_session_missing import stopped_run
from tests.gui.test_app import DialogLog, dialog_log, make_window


@pytest.mark.slow
def test_header_and_resume_for_a_renamed_run_and_a_missing_status(make_window: Any, runs_dir: Path,
                                                                    dialog_log: DialogLog) -> None:
    window = make_window()
    run = stopped_run(runs_dir, "good")
    window.resize(900, 600)  # the smallest window the app is laid out for: the header is narrowest
    window.show_run(run)
    assert window.resume_action.isEnabled()
    os.rename(run, runs_dir / "good-renamed")
    window.show_run(run)  # what following the old path does once it is gone
    text = window.header.state_label.text()
    assert text.startswith(f"good: folder gone (renamed, moved or deleted), so nothing is left at {run} to show")
    shown = window.header.state_label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle,
                                                                window.header.state_label.contentsRect().width())
    assert shown.startswith("good: folder gone")  # what happened stays in view at 900 px
    assert "No status recorded" not in text and not window.resume_action.isEnabled()

    moved = runs_dir / "good-renamed"
    (moved / "status.json").unlink()
    window.show_run(moved)
    text = window.header.state_label.text()
    assert text.startswith("good-renamed: status.json is missing")
    assert text.endswith("Its config and checkpoint-12 are intact. To fix: resume it (open it, then Resume; or "
                         f"finetune-studio resume {moved}): it continues from checkpoint-12 and writes a new "
                         "status.json.")
    assert window.resume_action.isEnabled()
