"""The Training tab probed as a demanding user (helper-118): numbers written the European way, max_steps beside
epochs, and the File menu's save of a config."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core.config import RunConfig, default_config, load_config, save_config
from finetune_studio.gui import dialogs
from finetune_studio.gui.forms import TrainingForm
from tests.gui.test_app import DialogLog, dialog_log, make_window, window
from tests.gui.test_typed_values import error_line, retype


def test_a_comma_for_the_decimal_point_is_kept_and_the_number_to_write_is_named(qtbot: Any) -> None:
    """'1,5e-4' (a European comma) was marked "'1,5e-4' is not a number: write a number such as 2e-5, 0.0001 or 10."
    with no word of the comma, so the user, sure they wrote a number, could not tell what to change. It is still
    kept as typed and stored as text (never read as 15e-4), and the message names the number to write."""
    form = TrainingForm()
    qtbot.addWidget(form)
    form.load(default_config())
    cases = [
        (form.lr_edit, "learning_rate", "1,5e-4",
         "'1,5e-4' is not a number: a comma cannot mark the decimals here. To fix: write 1.5e-4, with a decimal "
         "point."),
        (form.epochs_edit, "num_train_epochs", "0,5",
         "'0,5' is not a number: a comma cannot mark the decimals here. To fix: write 0.5, with a decimal point."),
        (form.batch_edit, "per_device_train_batch_size", "8,",
         "'8,' is not a number: a comma is no part of a number. To fix: write 8."),
        (form.logging_edit, "logging_steps", "1,000",
         "'1,000' is not a number: a comma cannot group the digits nor mark the decimals here. To fix: write 1000, "
         "or 1.000 if the comma marks the decimals."),
        (form.accum_edit, "gradient_accumulation_steps", "1,5",
         "'1,5' is not a number: a comma cannot mark the decimals, and this field takes whole numbers only. "
         "To fix: write one, such as 1."),
    ]
    for edit, key, text, message in cases:
        retype(qtbot, edit, text)
        assert edit.text() == text
        assert edit.property("problem") is True
        assert error_line(form, f"training.{key}").text() == message
        assert error_line(form, f"training.{key}").isVisibleTo(form)
    config = RunConfig()
    form.store(config)
    assert [config.training[key] for _, key, *_ in cases] == ["1,5e-4", "0,5", "8,", "1,000", "1,5"]

    retype(qtbot, form.lr_edit, "1.5e-4")  # written as the message says: the mark goes
    assert form.lr_edit.property("problem") is False
    assert not error_line(form, "training.learning_rate").isVisibleTo(form)
    form.store(config)
    assert config.training["learning_rate"] == 1.5e-4


# ---- File > Save over a file another program changed

def test_save_over_a_file_another_program_changed_asks_first(window: Any, qtbot: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """File > Save wrote over the config file whatever another program (an editor, a git pull) had written there
    since the window opened it, without a word: those changes were gone. Save now asks (Replace, Save As…, Cancel)
    when the file holds something else than the window read or last wrote."""
    from finetune_studio.gui import document

    asked: list[Path] = []
    answer: list[str | None] = [None]
    monkeypatch.setattr(document, "ask_replace_changed", lambda parent, path: asked.append(path) or answer[0],
                        raising=False)
    path = tmp_path / "run.yaml"
    save_config(default_config(), path)
    assert window.open_config(path)
    retype(qtbot, window.training_form.lr_edit, "3e-4")
    assert window.session.modified

    theirs = path.read_text().replace("learning_rate: 2.0e-05", "learning_rate: 5.0e-05")
    assert theirs != path.read_text()
    path.write_text(theirs)  # the other program

    assert window.save() is False  # cancelled: their file as they wrote it, the window's edit kept, unsaved
    assert asked == [path]
    assert path.read_text() == theirs
    assert window.session.modified and window.training_form.lr_edit.text() == "3e-4"

    answer[0] = "save-as"
    copy = tmp_path / "mine.yaml"
    monkeypatch.setattr(dialogs, "choose_save_path", lambda *args: str(copy))
    assert window.save() is True
    assert asked == [path, path]
    assert path.read_text() == theirs
    assert load_config(copy)[0].training["learning_rate"] == 3e-4
    assert window.session.path == copy and not window.session.modified

    assert window.open_config(path)  # their version now
    assert window.training_form.lr_edit.text() == "5e-5"
    retype(qtbot, window.training_form.lr_edit, "1e-4")
    assert window.save() is True  # nobody changed it since: no question
    assert asked == [path, path]
    assert load_config(path)[0].training["learning_rate"] == 1e-4

    path.write_text(path.read_text().replace("logging_steps: 10", "logging_steps: 7"))
    retype(qtbot, window.training_form.lr_edit, "2e-4")
    answer[0] = "replace"
    assert window.save() is True
    assert asked == [path, path, path]
    saved = load_config(path)[0].training
    assert (saved["learning_rate"], saved["logging_steps"]) == (2e-4, 10)


def test_the_changed_file_question_names_the_file_and_its_choices(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from finetune_studio.gui import document

    seen: dict[str, Any] = {}

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen["text"], seen["info"] = box.text(), box.informativeText()
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        next(b for b in box.buttons() if b.text() == "Save As…").click()

    QTimer.singleShot(50, answer)
    assert document.ask_replace_changed(None, tmp_path / "run.yaml") == "save-as"
    assert seen["text"] == "run.yaml was changed by another program since this window opened or saved it."
    assert seen["info"].endswith("To keep both, choose Save As… and another file name.")
    assert seen["buttons"] == ["Cancel", "Replace", "Save As…"]


# ---- max_steps beside epochs

def test_the_epochs_field_says_when_max_steps_ends_the_run(window: Any, qtbot: Any, tmp_path: Path) -> None:
    """max_steps above 0 (All arguments, or a loaded YAML) ends the run whatever the epochs say (transformers
    trains max_steps optimizer steps then), yet the Training tab showed Epochs 3 with nothing to tell the user that
    it did not apply. It now says so under the field, and follows max_steps as it is edited on All arguments."""
    form = window.training_form
    config = default_config()
    config.training["max_steps"] = 100
    path = tmp_path / "steps.yaml"
    save_config(config, path)
    assert window.open_config(path)
    from PySide6.QtWidgets import QLabel

    shown = [label.text() for label in form.findChildren(QLabel) if label.isVisibleTo(form)]
    assert [text for text in shown if "max_steps" in text] == [
        "max_steps 100 (All arguments) ends the run: the epochs set here do not apply. To train by epochs, reset "
        "max_steps there."]
    assert form.epochs_hint.isVisibleTo(form)
    assert form.epochs_hint.text() == ("max_steps 100 (All arguments) ends the run: the epochs set here do not "
                                       "apply. To train by epochs, reset max_steps there.")
    assert form.epochs_edit.text() == "3" and form.epochs_edit.property("problem") is not True

    window.tabs.setCurrentWidget(window.pages[window.arguments_panel])
    qtbot.waitUntil(lambda: window._arguments_ready, timeout=120_000)
    panel = window.arguments_panel
    panel.row("max_steps").reset_button.click()
    assert not form.epochs_hint.isVisibleTo(form) and form.epochs_hint.text() == ""
    assert "max_steps" not in window.session.config.training

    editor = panel.row("max_steps").editor
    editor.setText("1,500")  # no number: no claim about which wins; the row says what is wrong
    editor.textEdited.emit("1,500")
    assert not form.epochs_hint.isVisibleTo(form)
    editor.setText("50")
    editor.textEdited.emit("50")
    assert form.epochs_hint.isVisibleTo(form)
    assert form.epochs_hint.text().startswith("max_steps 50 (All arguments) ends the run")
    editor.setText("-1")  # the default: epochs decide again
    editor.textEdited.emit("-1")
    assert not form.epochs_hint.isVisibleTo(form)


# ---- File > Save where it cannot write

def test_save_where_it_cannot_write_says_so_and_keeps_the_file(window: Any, qtbot: Any, tmp_path: Path,
                                                               dialog_log: DialogLog,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A config file made read-only was replaced by Save all the same (the save writes a new file and renames it
    over the old one, which the folder allows), and a folder Save cannot write to said "Saving to … failed:
    Permission denied. Choose another folder." with no way named. Now the read-only file is left as it is, and both
    say what happened and what to do, the edits kept, unsaved."""
    from finetune_studio.gui import document

    path = tmp_path / "kept.yaml"
    save_config(default_config(), path)
    assert window.open_config(path)
    before = path.read_text()
    retype(qtbot, window.training_form.lr_edit, "3e-4")
    real_access = os.access
    monkeypatch.setattr(os, "access",
                        lambda p, mode: False if Path(p) == path and mode == os.W_OK else real_access(p, mode))
    assert window.save() is False
    assert path.read_text() == before
    assert dialog_log.errors[-1] == (
        "Cannot save config",
        f"{path} was not saved: the file is read-only. Nothing was written, and the window keeps your settings, "
        "unsaved. To fix: choose File > Save As… and another file, or make this one writable.", None)
    assert window.session.modified and window.training_form.lr_edit.text() == "3e-4"

    folder = tmp_path / "locked"

    def refused(config: Any, target: Any) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(document, "save_config", refused)
    monkeypatch.setattr(dialogs, "choose_save_path", lambda *args: str(folder / "new.yaml"))
    assert window.save_as() is False
    assert dialog_log.errors[-1][1] == (
        f"{folder / 'new.yaml'} was not saved: permission denied. Nothing was written, and the window keeps your "
        "settings, unsaved. To fix: choose File > Save As… and a folder you can write to.")
    assert window.session.path == path and window.session.modified


def test_the_number_fields_with_a_hint_are_as_wide_as_the_others(qtbot: Any) -> None:
    """Epochs and Gradient accumulation (the fields with a hint under them) stretched across the whole row while
    Batch size and Learning rate kept a number's width: one column of numbers, two widths."""
    form = TrainingForm()
    qtbot.addWidget(form)
    config = default_config()
    config.training["max_steps"] = 10  # the Epochs hint shown too
    form.load(config)
    form.resize(800, 1200)
    form.show()
    qtbot.waitExposed(form)
    widths = {edit.width() for edit in (form.epochs_edit, form.batch_edit, form.accum_edit, form.lr_edit,
                                        form.logging_edit)}
    assert len(widths) == 1 and widths.pop() < 300
    assert form.epochs_hint.isVisible() and form.epochs_hint.width() > 300  # the hint keeps the row's width


def test_number_fields_keep_a_loaded_value_that_is_no_number_as_written(qtbot: Any) -> None:
    """A YAML whose number settings hold no number: the fields showed Python's text for them and stored that text,
    so as soon as any field of the tab was edited learning_rate: {a: 1} became the text "{'a': 1}", true 'True',
    [8, 16] '[8, 16]' and null '' — the file saved back no longer said what the user wrote. They are now shown as
    the file writes them, marked, and stored as written until the user edits that field."""
    from finetune_studio.core.config import from_yaml, to_yaml

    written = {"learning_rate": {"a": 1}, "num_train_epochs": True, "per_device_train_batch_size": [8, 16],
               "gradient_accumulation_steps": None, "logging_steps": "10"}
    config, _ = from_yaml("training:\n  learning_rate: {a: 1}\n  num_train_epochs: true\n"
                          "  per_device_train_batch_size: [8, 16]\n  gradient_accumulation_steps: null\n"
                          "  logging_steps: '10'\n")
    assert {k: config.training[k] for k in written} == written
    form = TrainingForm()
    qtbot.addWidget(form)
    form.load(config)
    edits = [form.lr_edit, form.epochs_edit, form.batch_edit, form.accum_edit, form.logging_edit]
    assert [e.text() for e in edits] == ["{a: 1}", "true", "[8, 16]", "", "10"]
    assert [e.property("problem") for e in edits[:4]] == [True, True, True, True]

    form.eval_combo.setCurrentIndex(form.eval_combo.findData("steps"))  # another field of the tab edited
    form.eval_combo.activated.emit(form.eval_combo.currentIndex())
    stored = config.copy()
    form.store(stored)
    assert {k: stored.training[k] for k in written} == written
    again, _ = from_yaml(to_yaml(stored))  # the file saved back reads the same values
    assert {k: again.training[k] for k in written} == written
    assert again.training["eval_strategy"] == "steps"

    retype(qtbot, form.lr_edit, "2e-5")  # edited: the user's value now
    retype(qtbot, form.batch_edit, "8")
    form.store(stored)
    assert (stored.training["learning_rate"], stored.training["per_device_train_batch_size"]) == (2e-5, 8)
    assert stored.training["num_train_epochs"] is True


def test_precision_written_as_text_is_shown_as_written(qtbot: Any) -> None:
    """bf16: yes (text to the app's YAML) showed "fp32  (full precision)" in the Precision combo — a precision the
    file does not name — beside the message about what it does name, and storing it added fp16: false the file did
    not have. The combo now shows the value as written, stores bf16/fp16 exactly as loaded, and the entry goes once
    the user picks a precision."""
    form = TrainingForm()
    qtbot.addWidget(form)
    config = default_config()
    config.training["bf16"] = "yes"
    form.load(config)
    combo = form.precision_combo
    assert combo.currentText() == "bf16: yes  (as written)"
    stored = RunConfig()
    form.store(stored)
    assert {k: stored.training[k] for k in ("bf16", "fp16") if k in stored.training} == {"bf16": "yes"}

    form.load(default_config())  # another config: the entry goes
    assert combo.findText("bf16: yes  (as written)") < 0 and combo.currentData() != "as-written"

    form.load(config)
    index = combo.findData("bf16")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert combo.findText("bf16: yes  (as written)") < 0 and combo.currentData() == "bf16"
    form.store(stored)
    assert (stored.training["bf16"], stored.training.get("fp16")) == (True, None)


def test_no_blank_line_between_gradient_accumulation_and_its_message(qtbot: Any) -> None:
    """With no effective batch to say (a batch size or accumulation that is no number), the hint under Gradient
    accumulation was emptied but still laid out: a blank line between the field and its red message."""
    form = TrainingForm()
    qtbot.addWidget(form)
    form.load(default_config())
    form.resize(800, 1200)
    form.show()
    qtbot.waitExposed(form)
    assert form.effective_hint.isVisible() and form.effective_hint.text().startswith("= ")
    retype(qtbot, form.accum_edit, "1,000")
    message = error_line(form, "training.gradient_accumulation_steps")
    qtbot.waitUntil(lambda: message.isVisible())
    assert not form.effective_hint.isVisible()
    qtbot.wait(50)
    frame = form.accum_edit.parentWidget()  # the red frame around the field
    gap = message.mapTo(form, message.rect().topLeft()).y() - frame.mapTo(form, frame.rect().bottomLeft()).y()
    batch = error_line(form, "training.per_device_train_batch_size")
    retype(qtbot, form.batch_edit, "0,")
    qtbot.waitUntil(lambda: batch.isVisible())
    batch_frame = form.batch_edit.parentWidget()
    qtbot.wait(50)
    batch_gap = (batch.mapTo(form, batch.rect().topLeft()).y()
                 - batch_frame.mapTo(form, batch_frame.rect().bottomLeft()).y())
    assert gap == batch_gap  # the message right under its field, as under Batch size
    retype(qtbot, form.accum_edit, "4")
    retype(qtbot, form.batch_edit, "2")
    assert form.effective_hint.isVisible() and form.effective_hint.text() == "= 8 rows per optimizer step"


def test_a_cleared_number_field_asks_for_a_number_of_its_own_kind(qtbot: Any) -> None:
    """Epochs or Log every cleared said "Enter a number, such as 2e-5 or 0.01." — a learning rate's example, so
    0.01 epochs looked like what was wanted. Each field now gives its own example (its placeholder's)."""
    form = TrainingForm()
    qtbot.addWidget(form)
    form.load(default_config())
    for edit in (form.epochs_edit, form.batch_edit, form.accum_edit, form.lr_edit, form.logging_edit):
        edit.setFocus()
        edit.selectAll()
        qtbot.keyClick(edit, Qt.Key.Key_Delete)
        assert edit.text() == ""
    messages = [error_line(form, f"training.{key}").text() for key in (
        "num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate",
        "logging_steps")]
    assert messages == ["Enter a number, such as 3.", "Enter a whole number, such as 8.",
                        "Enter a whole number, such as 1.", "Enter a number, such as 2e-5.",
                        "Enter a number, such as 10."]
    stored = RunConfig()
    form.store(stored)
    assert stored.training["num_train_epochs"] == ""  # cleared stays cleared: validate names it, nothing trains
