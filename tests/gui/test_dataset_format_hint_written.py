"""The Dataset tab's Row format hint names a chat.format the app does not read as the config file writes it:
`format: [text]` showed "['text'] is not a row format, ..." (Python's form), and a mapping "{'messages': 1} ...";
a name keeps its quotes, as validation's own message writes it ("chat.format 'chats' is not a row format")."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core.config import from_yaml
from finetune_studio.gui.forms.dataset_form import DatasetForm

TAIL = " is not a row format, so the run cannot start: pick one above."


@pytest.mark.parametrize(("yaml_text", "shown"), [
    ("chat:\n  format: [text]\n", "[text]"),
    ("chat:\n  format: [text, messages]\n", "[text, messages]"),
    ("chat:\n  format: {messages: dialog}\n", "{messages: dialog}"),
    ("chat:\n  format: chats\n", "'chats'"),
], ids=["list", "two", "mapping", "name"])
def test_the_row_format_hint_shows_the_value_as_the_file_writes_it(qtbot: Any, yaml_text: str, shown: str) -> None:
    config, _notices = from_yaml(yaml_text)
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config)
    assert form.format_hint.text() == shown + TAIL
    assert form.format_combo.currentText() == shown.strip("'")  # the box itself too (set_combo_value's label)
    assert form.format_hint.property("role") == "error"
    stored, _ = from_yaml("")
    form.store(stored)
    assert stored.chat.format == config.chat.format  # still kept as written
