"""The Training and All arguments tabs probed as a demanding user (helper-163): bf16 and fp16 both true in a file,
searching All arguments the way people write names, warmup_ratio from a transformers 4 config, and keyboard-only
editing of the generated rows."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

from finetune_studio.core.config import RunConfig, default_config, load_config, save_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms import ArgumentsPanel, TrainingForm
from tests.gui.test_app import DialogLog, dialog_log, make_window, window


@pytest.fixture(scope="module")
def fields() -> Any:
    from finetune_studio.core.validation import training_fields

    return training_fields()


def saved(form: Any, tmp_path: Path) -> RunConfig:
    """What the form stores, written to a YAML file and read back as the CLI reads it."""
    config = default_config()
    form.store(config)
    path = tmp_path / "run.yaml"
    save_config(config, path)
    return load_config(path)[0]


def test_bf16_and_fp16_both_true_are_kept_as_written_until_a_precision_is_picked(qtbot: Any, tmp_path: Path) -> None:
    """A file with bf16: true and fp16: true showed "bf16" in the Precision combo beside validate's "bf16 and fp16 are
    both true. To fix: choose bf16 or fp16", and the next edit anywhere on the tab (the run name) stored bf16 alone:
    fp16: true left the file unasked while the combo had not changed. Both are now shown and kept as written until
    the user picks a precision."""
    form = TrainingForm()
    qtbot.addWidget(form)
    config = default_config()
    config.training.update({"bf16": True, "fp16": True})
    form.load(config)
    combo = form.precision_combo
    assert combo.currentText() == "bf16: true, fp16: true  (as written)"
    form.name_edit.setText("mine")
    form.name_edit.textEdited.emit("mine")
    back = saved(form, tmp_path)
    assert (back.name, back.training["bf16"], back.training["fp16"]) == ("mine", True, True)
    both = [p.message for p in validate(back, check_files=False) if p.field == "training.fp16"]
    assert "bf16 and fp16 are both true. To fix: choose bf16 or fp16, not both (set the other to false)." in both

    index = combo.findData("fp16")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert combo.findText("bf16: true, fp16: true  (as written)") < 0 and combo.currentData() == "fp16"
    back = saved(form, tmp_path)
    assert (back.training.get("bf16"), back.training["fp16"]) == (None, True)


def test_the_filter_finds_a_name_written_with_spaces_or_capitals(qtbot: Any, fields: Any) -> None:
    """'warmup steps' and 'Warmup_Steps' listed nothing ("No argument matches the filter.") beside a row named
    warmup_steps: the filter looked for the text as typed, whole."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    panel.load(default_config())
    for text in ("warmup steps", "Warmup_Steps", "  warmup   STEPS "):
        panel.filter_edit.setText(text)
        assert "warmup_steps" in [name for name, row in panel._rows.items() if not row.isHidden()], text
        assert panel.no_match.isHidden(), text
    panel.filter_edit.setText("adam beta")
    assert sorted(n for n, r in panel._rows.items() if not r.isHidden()) == ["adam_beta1", "adam_beta2"]


def test_a_search_for_a_key_listed_elsewhere_says_where_it_is(qtbot: Any, fields: Any) -> None:
    """Searching All arguments for learning_rate, bf16 or evaluation_strategy said only "No argument matches the
    filter.", though the Training tab sets them: the user was left to guess that the field exists, and where."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    panel.load(default_config())
    panel.show()
    panel.filter_edit.setText("bf16")  # bf16_full_eval is a row here: it is shown, and where bf16 is said too
    assert not panel._rows["bf16_full_eval"].isHidden()
    assert panel.no_match.isVisible() and panel.no_match.text() == "bf16 is on the Training tab (Precision)."
    panel.filter_edit.setText("evaluation_strategy")  # rows whose help speaks of it are listed; the key is said
    assert panel.no_match.text().splitlines()[-1] == "evaluation_strategy is now eval_strategy (on the Training tab)."
    panel.filter_edit.setText("gradient accumulation steps")
    assert panel.no_match.text().splitlines()[-1] == ("gradient_accumulation_steps is on the Training tab (Gradient "
                                                      "accumulation).")
    panel.filter_edit.setText("warmup ratio")  # the help of warmup_steps says "ratio": it is listed
    assert panel.no_match.text() == ("warmup_ratio is gone from transformers 5: warmup_steps takes the ratio now: a "
                                     "value below 1 is a share of the run's steps.")
    panel.filter_edit.setText("zzz")
    assert panel.no_match.text() == "No argument here matches the filter."
    panel.filter_edit.clear()
    assert panel.no_match.isHidden()


def test_warmup_ratio_from_a_transformers_4_config_names_what_to_write(qtbot: Any, fields: Any, tmp_path: Path) -> None:
    """warmup_ratio: 0.1 (a transformers 4 config) was marked "'warmup_ratio' is not a TrainingArguments field of the
    installed transformers. To fix: correct the name in the file, or remove it (↺)." with no word of the name to
    correct it to: transformers 5 folded it into warmup_steps, which takes a value below 1 as the ratio."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    config = default_config()
    config.training["warmup_ratio"] = 0.1
    panel.load(config)
    row = panel.row("warmup_ratio")
    assert row.error_label().text() == (
        "'warmup_ratio' is not a TrainingArguments field of the installed transformers. transformers 5 removed it: "
        "warmup_steps takes the ratio now: a value below 1 is a share of the run's steps. To fix: remove it (↺) "
        "and set warmup_steps to 0.1 in its own row here.")
    panel.reset("warmup_ratio")
    steps = panel.row("warmup_steps")
    steps.editor.setText("0.1")
    steps.editor.textEdited.emit("0.1")
    back = saved(panel, tmp_path)
    assert "warmup_ratio" not in back.training and back.training["warmup_steps"] == 0.1
    assert [p for p in validate(back, check_files=False) if "warmup" in p.field] == []


def test_tab_goes_from_the_filter_through_the_rows_in_order(qtbot: Any, fields: Any) -> None:
    """The rows are built after the window is shown, so they joined its focus chain at the end: Tab went from "Show
    changed only" to the log and chart beside the tab and reached the rows only after all of them. Tab now goes from
    the filter to each row's editor, then its reset button, then the next row."""
    host = QWidget()
    layout = QVBoxLayout(host)
    panel = ArgumentsPanel()
    layout.addWidget(panel)
    after = QLineEdit()  # stands for the window's widgets beside the tab, made before the rows
    layout.addWidget(after)
    qtbot.addWidget(host)
    host.show()
    host.activateWindow()
    qtbot.waitActive(host)
    panel.populate_in_steps(fields)
    qtbot.waitUntil(lambda: not panel.building, timeout=30_000)
    rows = [panel.rows_layout.itemAt(i).widget() for i in range(panel.rows_layout.count())]
    rows = [row for row in rows if row is not None and hasattr(row, "spec")]
    panel.filter_edit.setFocus()
    qtbot.waitUntil(lambda: panel.filter_edit.hasFocus())
    visited = []
    for _ in range(6):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    first, second = rows[0], rows[1]
    assert visited[0] is panel.changed_only_check
    assert visited[1] is first.editor, (type(visited[1]).__name__, rows[0].spec.name)
    assert visited[2] is first.reset_button or not first.reset_button.isEnabled()
    assert second.editor in visited[2:4]
    assert after not in visited


def test_a_number_row_saved_as_text_reopens_as_typed(qtbot: Any, fields: Any, tmp_path: Path) -> None:
    """1.5 typed into max_steps (a whole number) is saved as the text '1.5', so validate names it; reopened, the row
    read "'1.5'" in quotes and its mark "''1.5'' is not a whole number": neither what the user typed nor what the
    Training tab shows for the same mistake. The row shows 1.5 again, with the same mark as when typed."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    panel.load(default_config())
    for name, text, mark in (("max_steps", "1.5", "1.5 is not a whole number. To fix: write one such as 1."),
                             ("seed", "4,2", "'4,2' is not a number: a comma cannot mark the decimals, and this "
                                             "field takes whole numbers only. To fix: write one, such as 4.")):
        row = panel.row(name)
        row.editor.setText(text)
        row.editor.textEdited.emit(text)
        assert row.error_label().text() == mark
        back = saved(panel, tmp_path)
        assert back.training[name] == text
        assert any(p.field == f"training.{name}" and f"(got '{text}')" in p.message
                   for p in validate(back, check_files=False))
        reopened = ArgumentsPanel()
        qtbot.addWidget(reopened)
        reopened.populate(fields)
        reopened.load(back)
        assert reopened.row(name).editor.text() == text
        assert reopened.row(name).error_label().text() == mark
        assert saved(reopened, tmp_path).training[name] == text  # kept as written until edited
    quoted = default_config()
    quoted.training["max_steps"] = "8"  # text that reads as a number keeps the quotes that make it text
    panel.load(quoted)
    assert panel.row("max_steps").editor.text() == "'8'"


def test_a_search_for_a_renamed_or_removed_key_names_what_took_its_place(qtbot: Any, fields: Any) -> None:
    """no_cuda, per_gpu_train_batch_size and overwrite_output_dir (transformers 4 names) found nothing here."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    panel.load(default_config())
    for text, said in (("no_cuda", "no_cuda is now use_cpu."),
                       ("per_gpu_train_batch_size", "per_gpu_train_batch_size is now per_device_train_batch_size (on "
                                                    "the Training tab)."),
                       ("overwrite_output_dir", "overwrite_output_dir is gone from transformers 5.")):
        panel.filter_edit.setText(text)
        assert panel.no_match.text().splitlines()[-1] == said


def test_an_empty_strategy_is_shown_and_kept_as_written_with_a_fix(qtbot: Any, tmp_path: Path) -> None:
    """eval_strategy: null (a key left empty in the file) was shown as "no  (never)" while the config still held
    null, which TrainingArguments refuses ("None is not a valid IntervalStrategy") on Start and in the CLI; the next
    edit anywhere on the tab stored "no" unasked. The combo now shows the value as written, marks it with what to
    do, stores it as written, and the mark goes once a strategy is picked."""
    form = TrainingForm()
    qtbot.addWidget(form)
    config = default_config()
    config.training.update({"eval_strategy": None, "save_strategy": "", "load_best_model_at_end": False})
    form.load(config)
    assert form.eval_combo.currentText() == "null  (as written)"
    assert form.save_combo.currentText() == "''  (as written)"
    assert form._fields["training.eval_strategy"].error_label().text() == (
        "eval_strategy is empty in the file (null), which transformers refuses. To fix: pick one here: no (never), "
        "steps or epoch.")
    assert form._fields["training.save_strategy"].error_label().text() == (
        "save_strategy is empty in the file (''), which transformers refuses. To fix: pick one here: no (never), "
        "steps or epoch.")
    assert form.eval_combo.property("problem") is True
    form.name_edit.setText("mine")
    form.name_edit.textEdited.emit("mine")
    back = saved(form, tmp_path)
    assert (back.training["eval_strategy"], back.training["save_strategy"]) == (None, "")

    index = form.eval_combo.findData("steps")
    form.eval_combo.setCurrentIndex(index)
    form.eval_combo.activated.emit(index)
    assert not form._fields["training.eval_strategy"].error_label().isVisibleTo(form)
    assert form.eval_combo.property("problem") is False
    assert form._fields["training.save_strategy"].error_label().text().startswith("save_strategy is empty")
    back = saved(form, tmp_path)
    assert (back.training["eval_strategy"], back.training["save_strategy"]) == ("steps", "")

    form.load(default_config())  # a config with strategies: no marks
    assert form.eval_combo.currentData() == "epoch" and form.eval_combo.property("problem") is False
    assert form.save_combo.property("problem") is False


def test_null_in_a_list_with_no_not_set_is_shown_as_written(qtbot: Any, fields: Any, tmp_path: Path) -> None:
    """lr_scheduler_type: null showed 'linear' and logging_strategy: null showed 'no' (the first choice, not even
    the default 'steps') while the config held null and validate said nothing: what was shown was not what
    trained. The row now shows null as written, says the default and what to do, keeps it until a choice is
    picked, and reset removes it."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    config = default_config()
    config.training.update({"lr_scheduler_type": None, "logging_strategy": None})
    panel.load(config)
    row = panel.row("logging_strategy")
    assert row.editor.currentText() == "null  (as written)"
    assert row.error_label().text() == (
        "logging_strategy is empty in the file (null), and it has no 'not set': its default is steps. To fix: pick "
        "one here, or reset it (↺) to use the default.")
    assert row.editor.property("problem") is True
    row.editor.activated.emit(row.editor.currentIndex())  # the same entry picked again: still null, still marked
    assert row.error_label().text().startswith("logging_strategy is empty in the file (null)")
    back = saved(panel, tmp_path)
    assert (back.training["lr_scheduler_type"], back.training["logging_strategy"]) == (None, None)

    index = row.editor.findData("epoch")
    row.editor.setCurrentIndex(index)
    row.editor.activated.emit(index)
    assert row.editor.property("problem") is False and not row.error_label().isVisibleTo(panel)
    panel.reset("lr_scheduler_type")
    assert panel.row("lr_scheduler_type").editor.currentText() == "linear"
    back = saved(panel, tmp_path)
    assert back.training["logging_strategy"] == "epoch" and "lr_scheduler_type" not in back.training


def test_null_in_a_number_row_with_no_not_set_is_marked(qtbot: Any, fields: Any, tmp_path: Path) -> None:
    """max_steps: null showed an empty field under its placeholder 'default: -1', as if the default applied, while
    the config held null (validate passes it; the Trainer compares max_steps with 0). The row now says so and what to
    do; clearing the field (the default) or writing a number removes the mark."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    config = default_config()
    config.training.update({"max_steps": None, "weight_decay": None})
    panel.load(config)
    row = panel.row("max_steps")
    assert (row.editor.text(), row.editor.placeholderText()) == ("", "default: -1")
    assert row.error_label().text() == (
        "max_steps is empty in the file (null), and it has no 'not set': its default is -1. To fix: write one here, "
        "or reset it (↺) to use the default.")
    assert saved(panel, tmp_path).training["max_steps"] is None
    row.editor.setText("20")
    row.editor.textEdited.emit("20")
    assert row.editor.property("problem") is False
    weight = panel.row("weight_decay")
    weight.editor.textEdited.emit("")  # edited and left empty: the default applies
    assert weight.editor.property("problem") is False
    back = saved(panel, tmp_path)
    assert back.training["max_steps"] == 20 and "weight_decay" not in back.training


def test_the_window_keeps_values_as_written_through_an_edit_and_save(make_window: Any, dialog_log: Any,
                                                                       tmp_path: Path, qtbot: Any) -> None:
    """End to end on the window: a file with bf16 and fp16 both true, eval_strategy and lr_scheduler_type null is
    opened, shown as written and marked; the run name is typed and File → Save writes the file: what it held is
    still there, with the new name. Tab from "Show changed only" reaches the first row of All arguments."""
    config = default_config()
    config.training.update({"bf16": True, "fp16": True, "eval_strategy": None, "load_best_model_at_end": False,
                            "lr_scheduler_type": None})
    path = tmp_path / "written.yaml"
    save_config(config, path)
    window = make_window()
    assert window.open_config(path)
    form, panel = window.training_form, window.arguments_panel
    window.tabs.setCurrentWidget(window.pages[panel])  # its rows are built when it is first shown
    qtbot.waitUntil(lambda: panel._rows and not panel.building, timeout=60_000)
    window.validate_now()
    window.validator.wait()
    qtbot.wait(100)
    assert form.precision_combo.currentText() == "bf16: true, fp16: true  (as written)"
    assert form.eval_combo.currentText() == "null  (as written)"
    assert form._fields["training.eval_strategy"].error_label().text().startswith("eval_strategy is empty")
    assert panel.row("lr_scheduler_type").editor.currentText() == "null  (as written)"
    window.tabs.setCurrentWidget(window.pages[form])
    form.name_edit.setFocus()
    QTest.keyClicks(form.name_edit, "kept")
    assert window.session.modified
    assert window.save()
    back = load_config(path)[0]
    assert back.name == "kept"
    assert {k: back.training[k] for k in ("bf16", "fp16", "eval_strategy", "lr_scheduler_type")} == {
        "bf16": True, "fp16": True, "eval_strategy": None, "lr_scheduler_type": None}

    window.tabs.setCurrentWidget(window.pages[panel])
    window.activateWindow()
    qtbot.waitActive(window)
    panel.changed_only_check.setFocus()
    qtbot.waitUntil(lambda: panel.changed_only_check.hasFocus())
    QTest.keyClick(panel.changed_only_check, Qt.Key.Key_Tab)
    first = next(panel.rows_layout.itemAt(i).widget() for i in range(panel.rows_layout.count())
                 if hasattr(panel.rows_layout.itemAt(i).widget(), "spec"))
    assert QApplication.focusWidget() is first.editor
