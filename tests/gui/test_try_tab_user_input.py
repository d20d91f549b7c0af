"""What the user typed or set in the Try tab is kept, or said to be unused: a chat prompt whose turn not every side
answered, the generation settings across checkpoint and run picks, and a system prompt a text run cannot use.

The runs, the fake loads and answers and the tab are tests/gui/test_try_tab_states.py's (the demo model's real
files, core.generate's jobs replaced by fakes); everything asserted is the real widgets."""

from __future__ import annotations

from typing import Any

from finetune_studio.core.generate import BASE, SIDES, TUNED
from tests.gui.test_try_tab_states import WAIT, Fakes, fakes, idle, runs, tab, texts  # noqa: F401 - fixtures


def roles_and_contents(tab: Any) -> dict[str, list[tuple[str, str]]]:
    return {side: [(turn["role"], turn["content"]) for turn in tab.conversation.history[side]] for side in SIDES}


def test_stop_before_the_fine_tuned_model_answers_keeps_the_prompt_and_one_conversation(qtbot: Any, tab: Any,
                                                                                      fakes: Fakes) -> None:
    """Chat, sides answering in turn, Stop while the base answers. Before: the prompt box was emptied and the
    base's history held the turn while the fine-tuned one's did not, so from then on the two answered different
    conversations. Now the one-sided turn is not kept, the prompt stays, and the next Send's turn replaces it on
    screen."""
    tab.chat_check.setChecked(True)
    tab.prompt_edit.setPlainText("Leo")
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    first = {side: [("user", "Leo"), ("assistant", f" {side} says last")] for side in SIDES}
    assert roles_and_contents(tab) == first and tab.prompt_edit.toPlainText() == ""
    fakes.stream = True
    tab.prompt_edit.setPlainText("My important question")
    tab.send_button.click()
    qtbot.waitUntil(lambda: "more" in tab.panes[BASE].text.toPlainText(), timeout=WAIT)
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.stop_button.click()
    idle(qtbot, tab)
    assert tab.prompt_edit.toPlainText() == "My important question"
    assert roles_and_contents(tab) == first, "both sides go on from the same turns"
    assert tab.status_label.text() == ("Stopped by the user. The base model's answer is shown but not kept in the "
                                       "conversation, so both sides go on from the same turns; your prompt is kept "
                                       "in the box: press Send to ask both again.")
    assert tab.panes[BASE].stats.text().endswith("\nNot kept in the conversation: the fine-tuned model did not "
                                                 "answer this turn.")
    assert tab.panes[TUNED].stats.text() == "Stopped by the user before it answered."
    assert "My important question\n base says more" in tab.panes[BASE].text.toPlainText()  # still readable
    fakes.stream = False
    with qtbot.waitSignal(tab.answered, timeout=WAIT):
        tab.send_button.click()
    assert texts(tab) == [f"You: Leo\n {side} says last\n\nYou: My important question\n {side} says last"
                          for side in SIDES]
    assert roles_and_contents(tab) == {side: first[side] + [("user", "My important question"),
                                                            ("assistant", f" {side} says last")] for side in SIDES}
    assert tab.prompt_edit.toPlainText() == ""
