"""The Compare page's Stop during a checkpoint's load: it waited for the whole load (then said only "Stopped: 2 of 8
answers kept …"). Now the load ends within a moment, and the page and the tab say that model was stopped while it
loaded and nothing of it is kept (d3cfddd's words for the Chat page), the answers made before stay in answers.jsonl
and in the table.

The runs and the tab are tests/gui/test_try_tab_states.py's; the comparison is the real one (the demo model), its
checkpoint load made slow as in tests/core/test_compare_load_stop_h191.py (SLOW_S per tensor from the 2nd load)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import answers as saved
from finetune_studio.core import generate
from tests.core.test_compare_load_stop_h191 import SlowTensors, tensors  # noqa: F401 - tensors: fixture
from tests.gui.test_try_tab_states import REAL_COMPARE, fakes, idle, runs, save_prompts, tab  # noqa: F401

pytestmark = pytest.mark.usefixtures("drain_background")


def test_stop_while_a_checkpoint_loads_says_so_and_keeps_the_answers_made(
        qtbot: Any, tab: Any, runs: Path, tensors: SlowTensors, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "compare_checkpoints", REAL_COMPARE)
    tab.settings_box.max_new_tokens.setValue(2)
    save_prompts(tab, ["Aries", "Leo"])
    view = tab.compare
    tab.pages.setCurrentWidget(view)
    tensors.slow_from = 2  # the base model loads as it does; checkpoint-4, the next load, slowly
    view.compare_button.click()
    qtbot.waitUntil(lambda: tensors.read >= 2, timeout=60_000)
    assert view.status.text() == "Loading checkpoint-4…"
    assert view.stop_button.isEnabled()
    view.stop_button.click()
    clicked = time.monotonic()
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=10_000)
    took = time.monotonic() - clicked
    assert took < 3.0, f"{took:.2f} s from Stop to the end of the comparison"  # old code: 5.75 s
    idle(qtbot, tab)
    assert tensors.read < 24, f"{tensors.read} of 24 tensors read: the load went on to its end"
    said = ("2 of 8 answers kept in newer/answers.jsonl. It was stopped while checkpoint-4 loaded: nothing of it is "
            "kept. Press Compare checkpoints to compare again.")
    assert view.status.text() == f"Stopped: {said}"
    # said once, on the page (9c0ed45); the status line says what became of the Chat page's models
    assert tab.status_label.text() == ("newer · final model is picked; its models load at the next Send (a comparison "
                                       "loads its own, one at a time).")
    assert [(r["prompt"], r["model"]) for r in saved.read_answers(runs / "newer")] == [("Aries", "base"),
                                                                                        ("Leo", "base")]
    assert view.answer("Aries", "base") is not None and view.answer("Leo", "base") is not None
    assert view.answer("Aries", "checkpoint-4") is None
    assert not view.stop_button.isEnabled() and view.compare_button.isEnabled()
