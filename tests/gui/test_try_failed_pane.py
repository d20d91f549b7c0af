"""A side whose model did not load (core.generate.Loaded.failed) says why once in its pane; the chat's turns go on
in the other pane only. Real models: the demo model (its embeddings grown to its tokenizer's chat tokens, as a chat
run saves them) answers for the fine-tuned side, the run's base is a folder that is gone, and core.generate loads
and answers as in the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.generate import BASE, TUNED
from tests.gui.test_try_tab_states import make_run, open_try_tab

WAIT = 60_000


@pytest.fixture
def tab(qtbot: Any, demo_cache: Path, tmp_path: Path) -> Any:
    """The Try tab, shown, on one run whose fine-tuned model is the demo model and whose base model has moved."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune_studio.core.adapters import grow_embeddings
    from finetune_studio.core.config import load_config, save_config
    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.generate import chat_template

    run_dir = make_run(tmp_path / "runs", "moved-base", demo_model_path(), steps=())
    tokenizer = AutoTokenizer.from_pretrained(run_dir / "model")
    chat_template(tokenizer, None)  # adds the template's tokens, as a chat run's training does
    model = AutoModelForCausalLM.from_pretrained(run_dir / "model")
    grow_embeddings(model, len(tokenizer))  # saved as a chat run saves it: with rows for those tokens
    model.save_pretrained(run_dir / "model")
    tokenizer.save_pretrained(run_dir / "model")
    config = load_config(run_dir / "config.yaml")[0]
    config.model.name_or_path = str(tmp_path / "moved-away")
    save_config(config, run_dir / "config.yaml")
    made = open_try_tab(qtbot, tmp_path / "runs", WAIT)
    yield made
    made.shutdown()


def test_a_pane_whose_model_did_not_load_says_why_once_and_does_not_grow_each_turn(qtbot: Any, tab: Any,
                                                                                   tmp_path: Path) -> None:
    """Before: every chat Send added "You: <prompt>" and the same load error to the base pane again, and the status
    said "The base model's answer failed (the other one is in)" at each turn though nothing was asked of it."""
    loaded = tab.loaded
    assert set(loaded.failed) == {BASE} and str(tmp_path / "moved-away") in loaded.failed[BASE]
    said = f"⚠ This model could not load, so it does not answer: {loaded.failed[BASE]}"
    base, tuned = tab.panes[BASE], tab.panes[TUNED]
    tab.chat_check.setChecked(True)
    tab.settings_box.max_new_tokens.setValue(3)
    for turn, prompt in enumerate(["Leo", "Aries", "Virgo"], 1):
        tab.prompt_edit.setPlainText(prompt)
        with qtbot.waitSignal(tab.answered, timeout=WAIT):
            tab.send_button.click()
        qtbot.waitUntil(lambda: not tab.runner.running, timeout=WAIT)
        assert base.text.toPlainText() == ""
        assert base.stats.text() == said
        assert tuned.text.toPlainText().count("You: ") == turn and f"You: {prompt}\n" in tuned.text.toPlainText()
        assert tab.status_label.text() == loaded.describe()
        assert tab.prompt_edit.toPlainText() == "", "the turn is kept: every side that can answer answered"
    assert tab.conversation.history[BASE] == []
    assert [t["content"] for t in tab.conversation.history[TUNED] if t["role"] == "user"] == ["Leo", "Aries", "Virgo"]
    tab.new_button.click()  # a new conversation: the pane still says why it has no answers
    assert base.text.toPlainText() == "" and base.stats.text() == said and tuned.text.toPlainText() == ""
    tab.release("")
    base.clear()
    tab.load()  # loaded again: said as soon as the models are in, before any Send
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    assert base.text.toPlainText() == "" and base.stats.text() == said
