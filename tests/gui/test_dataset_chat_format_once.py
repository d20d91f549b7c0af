"""A config's chat.format the app does not read (`format: chatml_typo`, a list) was said twice under Row format: by
the tab's hint ("'chatml_typo' is not a row format, so the run cannot start: pick one above.") and, beneath it, by
validation's line ("chat.format must be one of auto, text, … (got 'chatml_typo')."). The hint, in the tab's words
and in red, is now the one message at the field; the box keeps its red border with validation's words in its
tooltip (and the header lists them), and the value is still stored as written until a format is picked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from finetune_studio.core.config import default_config, load_config, save_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms.dataset_form import DatasetForm
from tests.gui.test_app import dialog_log, make_window, window  # fixtures
from tests.helpers import small_config

FIELD = "chat.format"


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def _said(form: DatasetForm, word: str) -> list[str]:
    """The texts on the form's visible labels that name `word`."""
    return [label.text() for label in form.findChildren(QLabel) if label.isVisibleTo(form) and word in label.text()]


def _validation_message(written: Any) -> str:
    """validate()'s message about this chat.format (it names the value and the formats it reads)."""
    config = default_config()
    config.chat.format = written
    (message,) = [p.message for p in validate(config, check_files=False) if p.field == FIELD]
    assert message.startswith("chat.format ") and message.endswith(
        ". To fix: write one of auto, text, prompt_completion, alpaca, messages, sharegpt.")
    return message


@pytest.mark.parametrize(("written", "shown"), [("chatml_typo", "'chatml_typo'"), (["text"], "[text]")],
                         ids=["typo", "list"])
def test_a_format_the_app_does_not_read_is_said_once_at_the_field(qtbot: Any, written: Any, shown: str) -> None:
    form = DatasetForm()
    qtbot.addWidget(form)
    config = default_config()
    config.chat.format = written
    form.load(config)
    stored = default_config()
    form.store(stored)
    assert stored.chat.format == written  # kept as written
    problems = [p for p in validate(stored, check_files=False) if p.field == FIELD]
    assert [p.message for p in problems] == [_validation_message(written)]
    form.show_problems(problems)
    hint = f"{shown} is not a row format, so the run cannot start: pick one above."  # as written, not ['text']
    assert _said(form, shown) == [hint]  # was [hint, validation's message]
    assert form.format_hint.text() == hint and form.format_hint.property("role") == "error"  # red, as a message
    label = form._fields[FIELD].error_label()
    assert label.isHidden() and label.text() == ""
    assert form.format_combo.property("problem") is True  # the box's red border stays
    assert form.format_combo.toolTip() == _validation_message(written)

    form.format_combo.setCurrentIndex(form.format_combo.findData("text"))  # the user picks a format
    form.show_problems([])  # the window's check of the new value
    assert form.format_hint.text() == "Rows are read as plain text." and form.format_hint.property("role") is None
    assert _said(form, shown) == [] and label.isHidden()
    assert form.format_combo.property("problem") is False
    form.store(stored)
    assert stored.chat.format == "text"


def test_the_hint_marks_the_box_before_validation_has_spoken(qtbot: Any) -> None:
    """The form knows the value is none it reads as it loads it: the box is red at once, the hint says why."""
    form = DatasetForm()
    qtbot.addWidget(form)
    config = default_config()
    config.chat.format = "chatml_typo"
    form.load(config)
    assert form.format_combo.property("problem") is True
    assert form.format_combo.toolTip() == "'chatml_typo' is not a row format, so the run cannot start: pick one above."
    assert _said(form, "chatml_typo") == [form.format_hint.text()]


def test_the_window_says_a_bad_format_once_and_saves_it_as_written(qtbot: Any, window: Any, tmp_path: Path,
                                                                  small_dataset: Path, runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir)
    config.chat.format = "chatml_typo"
    path = tmp_path / "typo.yaml"
    save_config(config, path)
    assert "format: chatml_typo" in path.read_text(encoding="utf-8")
    assert window.open_config(path)
    form = window.dataset_form
    window.tabs.setCurrentWidget(window.pages[form])
    window.validator.wait()
    qtbot.wait(50)
    message = _validation_message("chatml_typo")
    assert message in [p.message for p in window.problems if p.field == FIELD]  # the header's list: Start waits
    assert not window.start_action.isEnabled()
    hint = "'chatml_typo' is not a row format, so the run cannot start: pick one above."
    assert _said(form, "chatml_typo") == [hint]
    assert form.format_hint.isVisible() and not form._fields[FIELD].error_label().isVisible()
    assert form.format_combo.property("problem") is True and form.format_combo.toolTip() == message
    form.test_size_spin.setValue(0.2)  # the user edits another Dataset field: the window stores the whole form
    qtbot.wait(400)  # the window validates 300 ms after the last edit
    window.validator.wait()
    qtbot.wait(50)
    assert _said(form, "chatml_typo") == [hint]
    assert window.config.chat.format == "chatml_typo"
    assert window.save()
    saved, _ = load_config(path)
    assert saved.chat.format == "chatml_typo" and saved.dataset.test_size == 0.2
