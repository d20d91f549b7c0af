"""The window's header for a shown run whose folder was renamed away, or whose status.json is missing: it says
what happened and what still works (core.session's words), and Resume follows — never "No status recorded."."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.gui import dialogs
from tests.core.test_runs_history import make_run, segment

LONG = 120_000  # ms; the warm-up imports the training stack


@pytest.fixture
def window(qtbot: Any, demo_cache: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from finetune_studio.gui.main_window import MainWindow

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *args: dialogs.SaveChoice.DISCARD)
    made = MainWindow()
    qtbot.addWidget(made)
    made.show()
    qtbot.waitExposed(made)
    made.begin_warmup()
    qtbot.waitUntil(lambda: made.warm is not None, timeout=LONG)
    yield made
    made.validator.wait()


def stopped_run(runs: Path, name: str) -> Path:
    run = make_run(runs, name, segment(2, 12, end="stopped", max_steps=40),
                   {"state": "stopped", "message": "Stopped at step 12 of 40."})
    (run / "checkpoint-12").mkdir()
    (run / "checkpoint-12" / "trainer_state.json").write_text(json.dumps({"global_step": 12}))
    return run


@pytest.mark.slow
def test_header_and_resume_for_a_renamed_run_and_a_missing_status(window: Any, runs_dir: Path) -> None:
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
    assert text.endswith("Its config and checkpoint-12 are intact: Resume continues from there and writes a new "
                         "status.")
    assert window.resume_action.isEnabled()
