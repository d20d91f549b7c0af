"""The Dataset tab given a config whose text column the data lacks (helper-64): it kept the preview's detected column
instead, without a word, while the CLI refused the same config. Now it keeps the user's value and marks it in the
CLI's words; picking a column the data has clears the mark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms import DatasetForm

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def test_a_missing_text_column_is_kept_and_marked_in_the_cli_words(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "tb.jsonl"
    path.write_text("".join(json.dumps({"title": f"T{i}", "body": f"body text number {i}"}) + "\n"
                            for i in range(8)), encoding="utf-8")
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(path), "text"
    cli = [p.message for p in validate(config) if p.field == "dataset.text_column"]
    assert cli == [f"{path}: there is no column 'text'. Columns: title, body. To fix: pick the column that holds "
                   "the text (Text column in the Dataset tab, or dataset.text_column)."]
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 8, timeout=30_000)
    combo = form.text_column_combo
    assert form.dataset_config().text_column == "text" and combo.currentText() == "text"  # not replaced by 'body'
    label = form._fields["dataset.text_column"].error_label()
    qtbot.waitUntil(lambda: label.text() == cli[0], timeout=5_000)
    assert combo.property("problem") and combo.toolTip() == cli[0]
    combo.setCurrentText("body")  # the user's pick clears the mark
    assert label.text() == "" and not combo.property("problem")
    assert form.dataset_config().text_column == "body"


def test_auto_with_chat_columns_shows_the_format_the_run_trains(qtbot: Any, tmp_path: Path) -> None:
    """Finding 1 on the tab: chat.columns {prompt: title, completion: body} under format auto; the tab showed plain
    text (detect_format of the rows alone) while the run now trains prompt/completion (core.chat.resolve_format)."""
    path = tmp_path / "tb.jsonl"
    path.write_text("".join(json.dumps({"title": f"T{i}", "body": f"body text number {i}"}) + "\n"
                            for i in range(8)), encoding="utf-8")
    config = default_config()
    config.dataset.source, config.dataset.text_column = str(path), "body"
    config.chat.columns = {"prompt": "title", "completion": "body"}
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() == 8, timeout=30_000)
    assert form.effective_format() == "prompt_completion"
    assert form.format_hint.text() == ("Detected: prompt/completion — chat.columns maps 'prompt', 'completion', "
                                       "parts of prompt/completion rows.")
    assert [combo.currentData() for combo in form.column_combos.values()] == ["title", "body", None]  # tools: auto
