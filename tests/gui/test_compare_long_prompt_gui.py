"""The Compare page with one saved prompt longer than the model reads: the comparison went no further than it
("Comparison failed: The prompt is … tokens long … start a new conversation"). Now the others are answered by every
model and the last word says which prompt was skipped and why.

The runs and the tab are tests/gui/test_try_tab_states.py's; the comparison is the real one (the demo model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate
from tests.gui.test_try_tab_states import REAL_COMPARE, fakes, idle, runs, save_prompts, tab  # noqa: F401

LONG = "word " * 600


def test_a_long_saved_prompt_is_skipped_and_the_rest_are_compared(qtbot: Any, tab: Any, runs: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "compare_checkpoints", REAL_COMPARE)
    tab.settings_box.max_new_tokens.setValue(2)
    save_prompts(tab, ["Aries", LONG.strip()])
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    view.compare_button.click()
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=60_000)
    idle(qtbot, tab)
    assert view.status.text().startswith("Done: 4 answers, kept in newer/answers.jsonl. prompt 2 (\"word word word "
                                         "word word word…\") is longer than the model's context (")
    assert view.status.text().endswith("limit 512, prompt and answer together): skipped on every model. To fix: "
                                       "shorten it to well under 512 tokens (save the shorter one, remove this one), "
                                       "then compare again.")
    assert "conversation" not in view.status.text() + tab.status_label.text()
    assert view.table_data.models == ["base", "checkpoint-4", "checkpoint-8", "final"]
    assert all(view.answer("Aries", model) is not None for model in view.table_data.models)
