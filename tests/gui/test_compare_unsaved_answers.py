"""The Compare page when answers.jsonl cannot be written (here a full disk): the comparison ended at the first
answer with "make the run folder writable". Now every answer is made and stays in the table, and the last word
says they were not saved, why, and what to do; it no longer says "kept in …answers.jsonl".

The runs and the tab are tests/gui/test_try_tab_states.py's; the comparison is the real one (the demo model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate
from tests.core.test_answers_write_failures import _disk_full
from tests.gui.test_try_tab_states import REAL_COMPARE, fakes, idle, runs, save_prompts, tab  # noqa: F401


def test_a_full_disk_leaves_the_answers_on_screen_and_says_they_are_not_saved(
        qtbot: Any, tab: Any, runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "compare_checkpoints", REAL_COMPARE)
    tab.settings_box.max_new_tokens.setValue(2)
    save_prompts(tab, ["Aries", "Leo"])
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    _disk_full(monkeypatch)
    view.compare_button.click()
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=60_000)
    idle(qtbot, tab)
    path = runs / "newer" / "answers.jsonl"
    said = ("8 answers. The answers are shown but not saved from here on (0 of this comparison's answers were saved "
            f"before). Cannot save answers to {path}: the disk is full. To fix: free space on the disk that holds "
            f"{path.parent} (df -h '{path.parent}' shows how much is left), then compare again.")
    assert view.status.text() == f"Done: {said}"
    # said once, on the page (9c0ed45); the status line says what became of the Chat page's models
    assert tab.status_label.text() == ("newer · final model is picked; its models load at the next Send (a comparison "
                                       "loads its own, one at a time).")
    assert view.table_data.models == ["base", "checkpoint-4", "checkpoint-8", "final"]
    assert all(view.answer(p, m) is not None for p in ("Aries", "Leo") for m in view.table_data.models)
    assert view.table.rowCount() == 2 and view.table.item(1, 3) is not None  # still shown after the end
