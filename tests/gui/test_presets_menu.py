"""Presets menu: every preset the CLI knows (core.config.PRESETS) is one click away in the window."""

from __future__ import annotations

from typing import Any

from finetune_studio.core.config import PRESETS
from tests.gui.test_app import dialog_log, make_window


def test_every_cli_preset_is_in_the_menu_and_the_chat_demo_loads_chat_data(make_window: Any) -> None:
    window = make_window(warm=False)
    assert set(window.preset_actions) == set(PRESETS)
    window.preset_actions["chat-demo"].trigger()
    config = window.config
    assert config.dataset.source == "builtin:chat"
    assert config.dataset.source == PRESETS["chat-demo"]().dataset.source
    assert window.windowTitle().startswith("Built-in chat demo")


def test_the_chat_demo_with_lora_shows_the_trainable_count_its_run_logs(qtbot: Any, make_window: Any) -> None:
    """Through the real window: the built-in chat demo switched to LoRA trains ChatML's two added token rows beside
    the adapter, and its run logs "training 39,040 of 231,104 parameters (16.89 %)"; the Model tab says the same
    once the Dataset tab's preview shows the rows are chats (the window connects the two tabs)."""
    window = make_window(warm=False)
    window.preset_actions["chat-demo"].trigger()
    adapter = window.model_form.adapter_form
    adapter.method_combo.setCurrentIndex(adapter.method_combo.findData("lora"))
    qtbot.waitUntil(lambda: adapter.trainable_label.text().startswith("39,040"), timeout=60_000)
    assert adapter.trainable_label.text() == "39,040 of 231,104 (16.89 %)"
    assert "<|im_start|>, <|im_end|>" in adapter.figures_hint.text()
