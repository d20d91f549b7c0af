"""The Dataset tab's hints after a hostile look (helper-179, helper-184): the Chat template box showed only the names
of its templates, so ChatML's way with tools (calls as trained <tool_call> blocks, the tools in the masked system
turn) was said nowhere; before the warm-up ends the template hint of chat rows said "Plain text has no chat template"
and the row checks waited for "a model" already chosen; after a refused source Row format promised a detection that
would never come, and the Text column box repeated the refusal at length."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core.chat_templates import NAMED_TEMPLATES
from finetune_studio.core.config import DEMO_MODEL_ID, ModelConfig, default_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms import DatasetForm
from tests.gui.test_dataset_form_tools_h164 import TOOLS, WEATHER, _jsonl  # one tool-call sample for both

WAIT = 30_000
TOOLS_SENTENCE = ("ChatML writes tool calls as <tool_call> blocks (Qwen2.5's style), which train, and the tools into "
                  "the system turn, masked.")
HELLO = [{"role": "user", "content": "Hello?"}, {"role": "assistant", "content": "Hello."}]


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def _form(qtbot: Any, source: str, rows: int | None) -> DatasetForm:
    config = default_config()
    config.dataset.source = source
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config)
    if rows is not None:
        qtbot.waitUntil(lambda: form.preview_model.rowCount() == rows, timeout=WAIT)
    return form


def _pick(combo: Any, value: str) -> None:
    combo.setCurrentIndex(combo.findData(value))


def test_each_template_item_has_its_whole_label_as_tooltip(qtbot: Any) -> None:
    form = _form(qtbot, default_config().dataset.source, 20)
    combo = form.template_combo
    tips = {combo.itemData(i): combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count())}
    assert {k: v for k, v in tips.items() if k != "auto"} == {k: v[0] for k, v in NAMED_TEMPLATES.items()}
    assert tips["auto"] == "The model's own chat template; ChatML when its tokenizer has none"
    chatml = combo.findData("chatml")
    assert combo.itemText(chatml) == "ChatML (<|im_start|> … <|im_end|>)"
    assert tips["chatml"] == ("ChatML (<|im_start|> … <|im_end|>): the default for a model without a template; writes "
                              "tool calls as <tool_call> blocks (Qwen2.5's style), which train, and the tools into "
                              "the system turn, masked")


@pytest.mark.parametrize(("rows", "said"), [([{"messages": WEATHER, "tools": TOOLS}] * 3, True),
                                            ([{"messages": HELLO}] * 3, False)])
def test_the_chatml_hint_says_where_tools_go_for_rows_with_tools(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                                 rows: list[dict], said: bool) -> None:
    form = _form(qtbot, str(_jsonl(tmp_path / "chats.jsonl", rows)), 3)
    _pick(form.format_combo, "messages")
    _pick(form.template_combo, "chatml")
    form.refresh_statistics(ModelConfig(name_or_path=DEMO_MODEL_ID))
    qtbot.waitUntil(lambda: form.template_hint.text().startswith("Rows are rendered"), timeout=WAIT)
    expected = "Rows are rendered with the chatml chat template." + (f" {TOOLS_SENTENCE}" if said else "")
    assert form.template_hint.text() == expected
    _pick(form.format_combo, "text")  # plain text, then chat rows again: the same template, said again
    assert form.template_hint.text() == "Plain text has no chat template: every token is trained, as in the seed."
    _pick(form.format_combo, "messages")
    assert form.template_hint.text() == expected


def test_before_the_warm_up_chat_rows_say_what_the_template_and_checks_wait_for(qtbot: Any) -> None:
    form = _form(qtbot, default_config().dataset.source, 20)  # no refresh_statistics: the stack has not loaded
    _pick(form.format_combo, "messages")
    _pick(form.template_combo, "auto")
    assert form.template_hint.text() == ("The template is read from the model's tokenizer once the training stack "
                                         "has loaded.")
    _pick(form.template_combo, "chatml")  # picked by name: known before any tokenizer is read
    assert form.template_hint.text() == "Rows are rendered with the chatml chat template."
    assert form.checks_label.text() == ("Every row is checked with the model's tokenizer once the training stack has "
                                        "loaded.")
    assert form.checks_label.isVisibleTo(form)


def two_file_zip(folder: Path) -> Path:
    """A zip holding two chat files: a source refused (which to train on is not guessed), for preview and validation."""
    body = "".join(json.dumps({"messages": HELLO}) + "\n" for _ in range(4))
    two = folder / "two_files.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("train.jsonl", body)
        archive.writestr("valid.jsonl", body)
    return two


def test_a_refused_source_is_said_once_row_format_says_it_is_not_detected(qtbot: Any, tmp_path: Path) -> None:
    two = two_file_zip(tmp_path)
    form = _form(qtbot, default_config().dataset.source, 20)
    form._choose_source(str(two))
    qtbot.waitUntil(lambda: not form.error_label.isHidden(), timeout=WAIT)
    assert form.format_hint.text() == "Not detected: the data could not be read (see under Preview)."
    problems = validate(form_config(form))
    assert any(p.field == "dataset.source" and "2 data files" in p.message for p in problems)
    form.show_problems(problems)  # the window's validation: the refusal under Dataset
    source = form._fields["dataset.source"].error_label()
    assert "2 data files" in source.text() and not source.isHidden()
    assert form.format_hint.text() == "Not detected: the data could not be read (see under Dataset)."
    column = form._fields["dataset.text_column"].error_label()
    assert column.text() == "Not checked: the data could not be read (see under Dataset)."
    assert column.property("level") == "warning"


def form_config(form: DatasetForm) -> Any:
    config = default_config()
    form.store(config)
    return config
