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
