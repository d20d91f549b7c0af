"""The Inspector's words for tool rows (helper-179). 1b53c5d made the built-in ChatML template write tool calls
(Hermes style, as Qwen2.5) and train them, and the tools block it writes into the system turn is coloured as
"system"; the legend's tooltip still said "masked: system prompt", and the template line read "Chat template:
chatml — the chatml chat template", the name twice, in the warning colour, for a template the user picked."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from finetune_studio.core.config import default_config
from finetune_studio.gui.inspector import InspectorWindow, template_words
from tests.gui.test_app import LONG

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city.",
                                           "parameters": {"type": "object",
                                                          "properties": {"city": {"type": "string"}}}}}]
ROW = {"messages": [{"role": "user", "content": "Weather in Oslo?"},
                    {"role": "assistant", "content": "", "tool_calls": [
                        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
                    {"role": "tool", "name": "get_weather", "content": "12 C, rain"},
                    {"role": "assistant", "content": "12 degrees and rain."}],
       "tools": TOOLS}


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def test_the_template_line_names_a_picked_template_once_and_says_where_tools_go() -> None:
    assert template_words("chatml", "the chatml chat template", False) == "Chat template: chatml"
    assert template_words("the model's own", "the model's own chat template", False) == (
        "Chat template: the model's own")
    assert template_words("chatml", "ChatML: the tokenizer has no template", False) == (
        "Chat template: chatml — ChatML: the tokenizer has no template")
    assert template_words("chatml", "the chatml chat template", True) == (
        "Chat template: chatml. It writes the tools into the system turn (masked, coloured as system) and each tool "
        "call of a reply as a <tool_call> block, which trains.")
    assert template_words("qwen3", "the qwen3 chat template", True) == "Chat template: qwen3"


def test_a_zip_of_tool_rows_under_chatml_says_the_tools_block_is_masked_as_the_system_prompt(
        qtbot: Any, demo_cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "calls.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("chats/train.jsonl", "".join(json.dumps(ROW) + "\n" for _ in range(3)))
    config = default_config()
    config.dataset.source = str(path)
    config.chat.format = "messages"
    config.chat.template = "chatml"
    window = InspectorWindow(config)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: bool(window.pieces) and window.checks is not None, timeout=LONG)
    tips = {role: window.findChild(QLabel, f"legend_{role}").toolTip() for role in ("trained", "prompt", "system")}
    assert tips["system"] == ("Masked: the system prompt, and the tools block (the row's tool definitions, which "
                              "ChatML and Qwen3 write into the system turn). The model reads them; no loss is on them.")
    assert tips["trained"] == ("Trained: the loss is on these tokens (the replies, tool calls included, or the "
                               "completion).")
    assert "tool results" in tips["prompt"]
    # What the tips say is what the row shows: the tools block is "system", the call trains, the result is prompt.
    joined: dict[str, str] = {}
    for text, role in window.pieces:
        joined[role] = joined.get(role, "") + text
    assert "<tools>" in joined["system"] and '"get_weather"' in joined["system"]
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>' in joined["trained"]
    assert "<tool_response>\n12 C, rain\n</tool_response>" in joined["prompt"]
    assert window.template_label.text() == (
        "Chat template: chatml. It writes the tools into the system turn (masked, coloured as system) and each tool "
        "call of a reply as a <tool_call> block, which trains.")
    assert window.template_label.styleSheet() == ""  # picked by the user: nothing to warn about
    window.close()
