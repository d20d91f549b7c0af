"""A config file's model.name_or_path or dataset.source that is no text (`name_or_path: [a, b]`, a mapping) was shown
as Python writes it ("['a', 'b']") and stored as that text on the next save: a different, wrong value took the place
of the one written, and validation had only a plausible folder name left to look at. The field now shows the value as
the file writes it ([a, b]), the form stores it as written until the user changes the field (typing, its clear
button, a button that fills it), validation's message about it stands under the field, and Start waits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from finetune_studio.core.config import DEMO_MODEL_ID, RunConfig, from_yaml, load_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms.dataset_form import SAMPLE_DATASET_ID, DatasetForm
from finetune_studio.gui.forms.model_form import ModelForm
from tests.gui.test_app import dialog_log, make_window, window  # fixtures
from tests.helpers import delete_last_character

MODEL, DATASET = "model.name_or_path", "dataset.source"
CASES = [  # (as the file writes it, as the app's YAML reads it, as the field shows it)
    ("[a, b]", ["a", "b"], "[a, b]"),
    ("[]", [], "[]"),
    ("{org: a, name: b}", {"org": "a", "name": "b"}, "{org: a, name: b}"),
]
IDS = [case[0] for case in CASES]


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def _config(written: str) -> RunConfig:
    config, _ = from_yaml(f"model:\n  name_or_path: {written}\ndataset:\n  source: {written}\n")
    return config


def _refusal(config: RunConfig, field: str) -> str:
    (message,) = [p.message for p in validate(config, check_files=False) if p.field == field]
    return message


def _model_form(qtbot: Any, written: str) -> ModelForm:
    form = ModelForm()
    qtbot.addWidget(form)
    form.load(_config(written))
    return form


def _dataset_form(qtbot: Any, written: str) -> DatasetForm:
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(_config(written))
    return form


def _stored(form: Any) -> RunConfig:
    config = RunConfig()
    form.store(config)
    return config


TABS = [  # (the tab's form, its source field, another field of the tab and the text typed in it, both as stored)
    (_model_form, MODEL, "revision_edit", "v2", lambda c: (c.model.name_or_path, c.model.revision)),
    (_dataset_form, DATASET, "split_edit", "validation", lambda c: (c.dataset.source, c.dataset.split)),
]


@pytest.mark.parametrize(("written", "read", "shown"), CASES, ids=IDS)
@pytest.mark.parametrize(("make", "field", "other", "typed", "stored_as"), TABS, ids=["model", "dataset"])
def test_a_source_that_is_no_text_is_shown_and_stored_as_written(qtbot: Any, written: str, read: Any, shown: str,
                                                                 make: Any, field: str, other: str, typed: str,
                                                                 stored_as: Any) -> None:
    form = make(qtbot, written)
    assert form.source_edit.text() == shown
    getattr(form, other).setText(typed)  # an edit of another field of the tab stores every field
    stored = _stored(form)
    value, other_value = stored_as(stored)
    assert value == read and type(value) is type(read)
    assert other_value == typed
    problems = [p for p in validate(stored, check_files=False) if p.field == field]
    assert [p.message for p in problems] == [_refusal(_config(written), field)]
    form.show_problems(problems)
    label = form._fields[field].error_label()
    assert label.text() == problems[0].message and not label.isHidden()
    assert form.source_edit.property("problem") is True
    if field == DATASET:  # nothing is read for a source that is no text: the preview says why, without an error
        qtbot.waitUntil(lambda: "No preview" in form.preview_status.text(), timeout=5_000)
        assert form.preview_status.text() == ("No preview: the source is not one file, folder or Hub id (see the "
                                              "message under Dataset).")


def test_the_users_change_of_the_model_field_replaces_the_kept_value(qtbot: Any) -> None:
    form = _model_form(qtbot, "[a, b]")
    delete_last_character(qtbot, form, form.source_edit)  # one key on the shown text: the user's text from now on
    assert _stored(form).model.name_or_path == "[a, b"
    form = _model_form(qtbot, "[a, b]")
    form.show()
    qtbot.waitExposed(form)
    qtbot.mouseClick(form.source_edit.findChild(QToolButton), Qt.MouseButton.LeftButton)  # its clear button
    assert form.source_edit.text() == "" and _stored(form).model.name_or_path == ""
    form = _model_form(qtbot, "[a, b]")
    qtbot.mouseClick(form.demo_button, Qt.MouseButton.LeftButton)
    assert _stored(form).model.name_or_path == DEMO_MODEL_ID
    form.load(_config("[a, b]"))  # loading again keeps it again; loading text keeps nothing
    assert _stored(form).model.name_or_path == ["a", "b"]
    form.load(_config("org/model"))
    assert _stored(form).model.name_or_path == "org/model"


def test_the_users_change_of_the_dataset_field_replaces_the_kept_value(qtbot: Any) -> None:
    form = _dataset_form(qtbot, "[a, b]")
    form.show()
    qtbot.waitExposed(form)
    form.source_edit.setFocus()
    form.source_edit.selectAll()
    qtbot.keyClicks(form.source_edit, "data.jsonl")
    assert _stored(form).dataset.source == "data.jsonl"
    form = _dataset_form(qtbot, "[a, b]")
    qtbot.mouseClick(form.sample_button, Qt.MouseButton.LeftButton)
    assert _stored(form).dataset.source == SAMPLE_DATASET_ID


def test_the_window_shows_the_files_values_refused_and_saves_them_as_written(qtbot: Any, window: Any,
                                                                            tmp_path: Path) -> None:
    path = tmp_path / "list-model.yaml"
    path.write_text("name: r\nmodel:\n  name_or_path: [a, b]\ndataset:\n  source: {train: a.jsonl}\n",
                    encoding="utf-8")
    assert window.open_config(path)
    window.validator.wait()
    qtbot.wait(50)
    for form, field, shown in ((window.model_form, MODEL, "[a, b]"),
                               (window.dataset_form, DATASET, "{train: a.jsonl}")):
        window.tabs.setCurrentWidget(window.pages[form])
        qtbot.wait(50)
        assert form.source_edit.text() == shown
        message = _refusal(window.config, field)
        label = form._fields[field].error_label()
        assert label.text() == message and label.isVisible()
        assert message in [p.message for p in window.problems if p.field == field]
    assert not window.start_action.isEnabled()
    window.model_form.revision_edit.setText("v2")  # the user edits another field of each tab: the window stores
    window.model_form.revision_edit.textEdited.emit("v2")  # every field of the form
    window.dataset_form.split_edit.setText("validation")
    window.dataset_form.split_edit.textEdited.emit("validation")
    qtbot.wait(400)  # the window validates 300 ms after the last edit
    window.validator.wait()
    qtbot.wait(50)
    assert window.config.model.name_or_path == ["a", "b"] and window.config.model.revision == "v2"
    assert window.config.dataset.source == {"train": "a.jsonl"} and window.config.dataset.split == "validation"
    assert not window.start_action.isEnabled()
    assert window.save()
    saved, _ = load_config(path)
    assert saved.model.name_or_path == ["a", "b"] and saved.dataset.source == {"train": "a.jsonl"}
    text = path.read_text(encoding="utf-8")
    assert "name_or_path:\n  - a\n  - b\n" in text and "source:\n    train: a.jsonl\n" in text
