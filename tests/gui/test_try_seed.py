"""The Try tab's seed takes what `finetune-studio generate --seed` takes: 0 … SEED_LIMIT - 1 (core.generate's one
limit, torch.manual_seed's range); a QSpinBox stopped at 2**31 - 1. Text that is no such seed is marked at the field
and kept as typed, and Send refuses it while sampling.

The runs, the fake loads and answers and the tab are tests/gui/test_try_tab_states.py's (the demo model's real
files, core.generate's jobs replaced by fakes); everything asserted is the real widgets."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from finetune_studio.core import generate
from finetune_studio.core.generate import SEED_LIMIT, GenerationSettings
from tests.gui.test_try_tab_states import WAIT, Fakes, fakes, idle, runs, tab  # noqa: F401 - fixtures

LARGEST = SEED_LIMIT - 1


def typed(box: Any, text: str) -> None:
    """What the user does: select what the field holds and type over it."""
    box.seed.setFocus()
    box.seed.selectAll()
    QTest.keyClick(box.seed, Qt.Key.Key_Delete)
    QTest.keyClicks(box.seed, text)


def test_the_seed_field_takes_the_clis_whole_range_and_sends_it(qtbot: Any, tab: Any, fakes: Fakes,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the seed was a QSpinBox up to 2,147,483,647, so a seed the CLI takes could not be typed."""
    sent: list[int] = []

    def answer_both(loaded: Any, prompt: str, settings: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(settings.seed)
        return fakes.answer_both(loaded, prompt, settings, *args, **kwargs)

    monkeypatch.setattr(generate, "answer_both", answer_both)
    box = tab.settings_box
    assert LARGEST == 2**64 - 1
    box.sample.setChecked(True)
    typed(box, str(LARGEST))
    assert box.settings().seed == LARGEST
    assert box.seed.text() == "18446744073709551615" and not box.seed.property("problem")
    assert box.problem() is None and box.defaults_button.isEnabled()
    tab.prompt_edit.setPlainText("Leo")
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    idle(qtbot, tab)
    assert sent == [LARGEST]
    box.set_settings(GenerationSettings(do_sample=True, seed=2**63 + 5))  # a script's settings, back and forth
    assert box.seed.text() == str(2**63 + 5) and box.settings() == GenerationSettings(do_sample=True, seed=2**63 + 5)


@pytest.mark.parametrize("text", [str(SEED_LIMIT), "-1", "12abc", ""])
def test_text_that_is_no_seed_is_marked_at_the_field_kept_and_not_sent(qtbot: Any, tab: Any, fakes: Fakes,
                                                                       text: str) -> None:
    box = tab.settings_box
    box.sample.setChecked(True)
    typed(box, text)
    got = f" (got '{text}')" if text else ""
    problem = (f"The seed must be a whole number from 0 to 18446744073709551615{got}. To fix: write one, e.g. 0, or "
               "press Defaults.")
    assert box.seed.text() == text, "kept as typed, not clamped or dropped"
    assert box.seed.property("problem") is True and box.seed.toolTip() == problem and box.problem() == problem
    tab.prompt_edit.setPlainText("Leo")
    asked = list(fakes.asked)
    tab.send_button.click()
    qtbot.wait(50)
    assert fakes.asked == asked and not tab.runner.running
    assert tab.status_label.text() == f"Not sent: {problem}" and tab.prompt_edit.toPlainText() == "Leo"
    box.defaults_button.click()
    assert box.seed.text() == "0" and not box.seed.property("problem")
    assert box.seed.toolTip() == generate.GenerationSettings.__dataclass_fields__["seed"].metadata["help"]
    box.sample.setChecked(True)  # Defaults: the model's greedy decoding, the seed field off
    typed(box, text)
    box.sample.setChecked(False)  # greedy decoding uses no seed: the field is still marked, Send goes
    assert box.problem() is None and box.seed.property("problem") is True
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    assert fakes.asked[-1] == "Leo"


def test_a_seed_the_user_typed_stays_as_typed_when_another_model_is_picked(qtbot: Any, tab: Any,
                                                                           fakes: Fakes) -> None:
    """The user's seed is theirs across picks (follow_defaults), the largest one and one still being fixed alike."""
    box = tab.settings_box
    box.sample.setChecked(True)
    for text in (str(LARGEST), "12abc"):
        typed(box, text)
        index = 1 if tab.target_combo.currentIndex() != 1 else 2
        tab.target_combo.setCurrentIndex(index)
        qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
        idle(qtbot, tab)
        assert box.seed.text() == text and box.sample.isChecked()
