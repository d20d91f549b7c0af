"""The Dataset tab's optional tools box (helper-164): rows read as turns (messages, sharegpt, prompt_completion) may
name the column of their tool definitions (core.chat.TOOLS_PART, chat.columns {tools: functions}); the tab had no
box for it, so a dataset whose schemas sit in another column than 'tools' trained without them unless the YAML was
edited by hand. Plain text and alpaca rows have no tools, and no box."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from finetune_studio.core.config import default_config, load_config, save_config
from finetune_studio.gui.forms import DatasetForm

WEATHER = [{"role": "user", "content": "Weather in Oslo?"},
           {"role": "assistant", "content": "", "tool_calls": [
               {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
           {"role": "tool", "name": "get_weather", "content": "12 C, rain"},
           {"role": "assistant", "content": "12 degrees and rain."}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city.",
                                           "parameters": {"type": "object",
                                                          "properties": {"city": {"type": "string"}}}}}]


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _form(qtbot: Any, path: Path, rows: int, **chat: Any) -> DatasetForm:
    config = default_config()
    config.dataset.source = str(path)
    for key, value in chat.items():
        setattr(config.chat, key, value)
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == rows, timeout=30_000)
    return form


def _labels(form: DatasetForm) -> list[str]:
    grid = form.columns_grid
    return [grid.itemAtPosition(r, 0).widget().text() for r in range(grid.rowCount()) if grid.itemAtPosition(r, 0)]


def test_messages_rows_with_a_tools_column_show_it_as_the_automatic_choice(qtbot: Any, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "calls.jsonl", [{"messages": WEATHER, "tools": TOOLS}] * 4)
    form = _form(qtbot, path, 4)
    assert form.effective_format() == "messages"
    assert list(form.column_combos) == ["messages", "tools"]
    box = form.column_combos["tools"]
    assert box.currentText() == "automatic: tools" and box.currentData() is None
    assert [box.itemData(i) for i in range(1, box.count())] == ["messages", "tools"]
    assert "tools (optional)" in _labels(form)
    assert form.columns_hint.text() == "Which column plays each part; automatic picks the usual names."
    stored = default_config()
    form.store(stored)
    assert stored.chat.columns == {}  # automatic: nothing written


def test_choosing_the_tools_column_writes_chat_columns_tools(qtbot: Any, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "calls.jsonl", [{"messages": WEATHER, "functions": json.dumps(TOOLS)}] * 4)
    form = _form(qtbot, path, 4)
    box = form.column_combos["tools"]
    assert box.currentText() == "automatic: none found"
    # An optional part: no "Pick the column that holds tools" while it is unmapped.
    assert form.columns_hint.text() == "Which column plays each part; automatic picks the usual names."
    box.setCurrentIndex(box.findData("functions"))
    saved = tmp_path / "run.yaml"
    config = default_config()
    form.store(config)
    save_config(config, saved)
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["chat"]["columns"] == {"tools": "functions"}
    # Loaded back, the box shows the mapping.
    again = _form(qtbot, path, 4, columns=load_config(saved)[0].chat.columns)
    assert again.column_combos["tools"].currentData() == "functions"
    # Back to automatic: the mapping is gone from the file.
    box.setCurrentIndex(0)
    form.store(config)
    assert config.chat.columns == {}


@pytest.mark.parametrize("fmt, parts", [("sharegpt", ["conversations", "tools"]),
                                        ("prompt_completion", ["prompt", "completion", "tools"]),
                                        ("alpaca", ["instruction", "input", "output", "system"]),
                                        ("text", [])])
def test_the_box_is_shown_for_rows_read_as_turns_only(qtbot: Any, tmp_path: Path, fmt: str,
                                                     parts: list[str]) -> None:
    path = _jsonl(tmp_path / "calls.jsonl", [{"messages": WEATHER, "tools": TOOLS}] * 4)
    form = _form(qtbot, path, 4)
    form.format_combo.setCurrentIndex(form.format_combo.findData(fmt))
    assert list(form.column_combos) == parts


def test_a_tools_mapping_is_not_saved_for_alpaca_rows(qtbot: Any, tmp_path: Path) -> None:
    """Mapped under messages, then the format switched to alpaca: the hidden box's mapping is not saved (validate
    would warn that alpaca rows do not use it, with no box left to clear), and comes back with messages."""
    path = _jsonl(tmp_path / "calls.jsonl", [{"messages": WEATHER, "functions": TOOLS}] * 4)
    form = _form(qtbot, path, 4)
    box = form.column_combos["tools"]
    box.setCurrentIndex(box.findData("functions"))
    form.format_combo.setCurrentIndex(form.format_combo.findData("alpaca"))
    config = default_config()
    form.store(config)
    assert config.chat.format == "alpaca" and config.chat.columns == {}
    form.format_combo.setCurrentIndex(form.format_combo.findData("messages"))
    form.store(config)
    assert config.chat.columns == {"tools": "functions"}
    assert form.column_combos["tools"].currentData() == "functions"
