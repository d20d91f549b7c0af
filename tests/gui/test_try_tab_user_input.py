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


def settings_shown(tab: Any) -> dict[str, Any]:
    box = tab.settings_box
    return {"do_sample": box.sample.isChecked(), "temperature": box.temperature.value(), "top_p": box.top_p.value(),
            "top_k": box.top_k.value(), "repetition_penalty": box.repetition_penalty.value(),
            "max_new_tokens": box.max_new_tokens.value(), "seed": box.seed.value()}


def test_settings_the_user_changed_are_kept_across_picks_and_the_others_follow_the_model(
        qtbot: Any, tab: Any, fakes: Fakes, monkeypatch: Any) -> None:
    """Before: picking another checkpoint put Sample, max new tokens and seed back to the model's defaults without
    a word, so a comparison at seed 1234 went on greedy and at 128 tokens. Now the user's settings stay; the ones
    not changed follow the picked model's generation_config; Defaults puts them all back to it."""
    from types import SimpleNamespace

    from finetune_studio.core import generate

    box = tab.settings_box
    box.sample.setChecked(True)  # what the user does in the boxes
    box.max_new_tokens.setValue(300)
    box.seed.setValue(1234)
    real_load = generate.load

    def load_with_defaults(source: Any, progress: Any = None, **kwargs: Any) -> Any:
        loaded = real_load(source, progress, **kwargs)
        config = SimpleNamespace(temperature=0.7, top_k=20, max_new_tokens=64)
        loaded.models = {side: SimpleNamespace(generation_config=config) for side in loaded.models}
        return loaded

    monkeypatch.setattr(generate, "load", load_with_defaults)
    tab.target_combo.setCurrentIndex(tab.target_combo.findText("checkpoint-8"))
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert tab.loaded.source.name == "newer · checkpoint-8"
    assert settings_shown(tab) == {"do_sample": True, "temperature": 0.7, "top_p": 1.0, "top_k": 20,
                                   "repetition_penalty": 1.0, "max_new_tokens": 300, "seed": 1234}
    assert box.defaults_button.isEnabled()
    box.defaults_button.click()
    assert settings_shown(tab) == {"do_sample": False, "temperature": 0.7, "top_p": 1.0, "top_k": 20,
                                   "repetition_penalty": 1.0, "max_new_tokens": 64, "seed": 0}
    assert not box.defaults_button.isEnabled()
    monkeypatch.setattr(generate, "load", real_load)  # the next model sets no defaults: all follow it
    tab.target_combo.setCurrentIndex(tab.target_combo.findText("checkpoint-4"))
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert settings_shown(tab) == {"do_sample": False, "temperature": 1.0, "top_p": 1.0, "top_k": 50,
                                   "repetition_penalty": 1.0, "max_new_tokens": 128, "seed": 0}


def test_the_system_prompt_box_is_off_for_a_text_run_and_says_why(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    """Before: a text run's System prompt box took text and Send dropped it without a word."""
    system = tab.system_edit
    assert not tab.chat_check.isChecked(), "the demo runs are text runs"
    assert not system.isEnabled()
    assert system.toolTip().startswith("Not used: this run continues the prompt as plain text, which has no system "
                                       "turn. Tick Chat")
    assert system.placeholderText() == "System prompt: chat runs only"
    tab.chat_check.setChecked(True)  # the user tries the run as a chat: the box is theirs
    assert system.isEnabled() and system.placeholderText() == "System prompt (optional)"
    system.setText("Answer in French.")
    tab.target_combo.setCurrentIndex(tab.target_combo.findText("checkpoint-8"))  # a new pick: Chat from the run
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    assert not tab.chat_check.isChecked() and not system.isEnabled() and system.text() == "Answer in French."
