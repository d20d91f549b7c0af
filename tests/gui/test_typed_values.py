"""Typed values are never changed behind the user's back (issue 12, item 5).

The Training tab used spin boxes and a validated line edit: "abc" typed as the learning rate was swallowed key by
key, "-1" became "1" (the "-" was refused), and a batch size of 0 snapped back to 1. Now every number field keeps
what was typed, marks text that is no number at the field, and stores it as typed, so the window's validation
names the problem and Start stays disabled with the reason. A very large learning rate is a warning: shown at the
field in amber, Start stays enabled. The All arguments tab's number editors behave the same way.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from typing import Any

import pytest

from finetune_studio.core.config import RunConfig, default_config
from finetune_studio.gui.forms import ArgumentsPanel, TrainingForm
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, window

# attribute of TrainingForm, config key, whole numbers only
NUMBER_FIELDS = [
    ("epochs_edit", "num_train_epochs", False),
    ("batch_edit", "per_device_train_batch_size", True),
    ("accum_edit", "gradient_accumulation_steps", True),
    ("lr_edit", "learning_rate", False),
    ("logging_edit", "logging_steps", False),
]


def retype(qtbot: Any, edit: Any, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def error_line(form: Any, key: str) -> Any:
    return form._fields[key].error_label()


@pytest.mark.parametrize("attr, key, integer", NUMBER_FIELDS, ids=[f[1] for f in NUMBER_FIELDS])
def test_training_number_fields_keep_what_was_typed(qtbot: Any, attr: str, key: str, integer: bool) -> None:
    form = TrainingForm()
    qtbot.addWidget(form)
    form.load(default_config())
    edit = getattr(form, attr)

    retype(qtbot, edit, "abc")
    assert edit.text() == "abc"  # not swallowed
    assert edit.property("problem") is True
    wanted = ("'abc' is not a whole number. To fix: write one such as 8." if integer
              else "'abc' is not a number. To fix: write one such as 2e-5, 0.0001 or 10.")
    assert error_line(form, f"training.{key}").text() == wanted
    assert error_line(form, f"training.{key}").isVisibleTo(form)
    config = RunConfig()
    form.store(config)
    assert config.training[key] == "abc"  # validate() names the field; no stale value trains

    for typed, stored in (("-1", -1), ("0", 0)):
        retype(qtbot, edit, typed)
        assert edit.text() == typed  # not "1", not clamped to a minimum
        assert not edit.property("problem")  # a number: whether it is in range is validate()'s to say
        form.store(config)
        assert config.training[key] == stored

    retype(qtbot, edit, "nan")
    assert edit.property("problem") is True
    assert error_line(form, f"training.{key}").text() == ("'nan' is not a finite number. To fix: write a "
                                                          + ("whole number such as 8." if integer else
                                                             "number such as 2e-5, 0.0001 or 10."))
    if integer:
        retype(qtbot, edit, "2.5")
        assert error_line(form, f"training.{key}").text() == "2.5 is not a whole number. To fix: write one such as 2."
        form.store(config)
        assert config.training[key] == "2.5"
    retype(qtbot, edit, "1e3")
    line = error_line(form, f"training.{key}")
    assert not edit.property("problem")
    assert not line.isVisibleTo(form) or line.property("level") == "warning"  # a learning rate of 1000 is warned of
    form.store(config)
    assert config.training[key] == 1000 and isinstance(config.training[key], int) == integer


def test_a_config_with_wrong_values_is_shown_as_it_is(qtbot: Any) -> None:
    config = default_config()
    config.training.update(per_device_train_batch_size=0, learning_rate="fast", num_train_epochs=-2)
    form = TrainingForm()
    qtbot.addWidget(form)
    form.load(config)
    assert (form.batch_edit.text(), form.lr_edit.text(), form.epochs_edit.text()) == ("0", "fast", "-2")
    assert form.lr_edit.property("problem") is True
    stored = RunConfig()
    form.store(stored)
    assert {k: stored.training[k] for k in ("per_device_train_batch_size", "learning_rate", "num_train_epochs")} \
        == {"per_device_train_batch_size": 0, "learning_rate": "fast", "num_train_epochs": -2}



@pytest.mark.parametrize("max_length, test_size", [(0, 1.5), (1.5, -0.1), ("long", "abc"), (2048, 0.95),
                                                   (512, 0.12345)])
def test_the_dataset_tab_saves_a_loaded_value_its_boxes_cannot_show_as_it_is(qtbot: Any, max_length: Any,
                                                                              test_size: Any) -> None:
    """The Dataset tab's spin boxes clamp and round (0 → 1, 1.5 → 0.9999, 0.12345 → 0.1235): a config opened and
    saved again must keep what it said, for validation to name at the field, until the user edits the box."""
    from finetune_studio.gui.forms import DatasetForm

    config = default_config()
    config.dataset.max_length, config.dataset.test_size = max_length, test_size
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config)
    stored = RunConfig()
    form.store(stored)
    assert (stored.dataset.max_length, stored.dataset.test_size) == (max_length, test_size)
    form.max_length_spin.setValue(256)  # the user's own edit replaces it
    form.test_size_spin.setValue(0.2)
    form.store(stored)
    assert (stored.dataset.max_length, stored.dataset.test_size) == (256, 0.2)


def _settled(qtbot: Any, window: Any) -> None:
    qtbot.wait(400)  # the window validates 300 ms after the last edit
    window.validator.wait()
    qtbot.wait(50)


def test_bad_typed_values_disable_start_with_the_reason(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    form = window.training_form
    window.tabs.setCurrentWidget(window.pages[form])

    retype(qtbot, form.lr_edit, "abc")
    _settled(qtbot, window)
    assert form.lr_edit.text() == "abc" and window.config.training["learning_rate"] == "abc"
    assert not window.start_action.isEnabled()
    assert window.start_action.toolTip() == ("Fix 1 problem to start: learning_rate must be a number (got 'abc'). To "
                                             "fix: write a number, or remove learning_rate to use the default.")
    assert error_line(form, "training.learning_rate").text() == ("'abc' is not a number. To fix: write one such "
                                                                 "as 2e-5, 0.0001 or 10.")

    retype(qtbot, form.lr_edit, "-1")
    _settled(qtbot, window)
    assert form.lr_edit.text() == "-1" and window.config.training["learning_rate"] == -1
    assert not window.start_action.isEnabled()
    fix = " To fix: set learning_rate above 0 (1e-5 to 1e-3 is usual for fine-tuning)."
    assert window.start_action.toolTip() == ("Fix 1 problem to start: learning_rate must be above 0 (got -1); the "
                                             "seed uses 2e-5." + fix)
    assert error_line(form, "training.learning_rate").text() == ("learning_rate must be above 0 (got -1); the seed "
                                                                 "uses 2e-5." + fix)

    retype(qtbot, form.lr_edit, "2e-5")
    retype(qtbot, form.batch_edit, "0")
    _settled(qtbot, window)
    assert form.batch_edit.text() == "0" and window.config.training["per_device_train_batch_size"] == 0
    assert window.start_action.toolTip() == ("Fix 1 problem to start: per_device_train_batch_size must be at least 1 "
                                             "(got 0). To fix: set per_device_train_batch_size to 1 or more.")
    assert form.effective_hint.text() == ""  # no "= 0 rows per optimizer step"

    retype(qtbot, form.batch_edit, "2")
    _settled(qtbot, window)
    assert window.problems == [] and window.start_action.isEnabled()


def test_large_learning_rate_warns_at_the_field_without_blocking_start(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    form = window.training_form
    window.tabs.setCurrentWidget(window.pages[form])
    retype(qtbot, form.lr_edit, "5")
    _settled(qtbot, window)
    message = ("learning_rate 5 is unusually large: fine-tuning uses about 1e-5 to 1e-3, and above 1 the loss almost "
               "always diverges. The seed uses 2e-5.")
    line = error_line(form, "training.learning_rate")
    assert line.isVisibleTo(form) and line.text() == message and line.property("level") == "warning"
    assert not form.lr_edit.property("problem")  # no red border: it is not a problem
    assert form.lr_edit.toolTip().startswith(message)
    assert window.problems == [] and window.start_action.isEnabled()  # Start is not blocked

    retype(qtbot, form.lr_edit, "0.001")
    _settled(qtbot, window)
    assert not line.isVisibleTo(form) and form.warning_text("training.learning_rate") is None


@pytest.fixture(scope="module")
def fields() -> Any:
    from finetune_studio.core.validation import training_fields

    return training_fields()


# row, kind, text typed, what is stored, the message at the row (None: no mark)
ARGUMENT_EDITS = [
    ("seed", "int", "abc", "abc", "'abc' is not a whole number. To fix: write one such as 8."),
    ("seed", "int", "-7", -7, None),
    ("seed", "int", "1.5", "1.5", "1.5 is not a whole number. To fix: write one such as 1."),
    ("max_steps", "int", "-1x", "-1x", "'-1x' is not a whole number. To fix: write one such as 8."),
    ("save_total_limit", "int", "two", "two", "'two' is not a whole number. To fix: write one such as 8."),
    ("weight_decay", "float", "abc", "abc", "'abc' is not a number. To fix: write one such as 2e-5, 0.0001 or 10."),
    ("weight_decay", "float", "-0.5", -0.5, None),
    ("weight_decay", "float", "inf", "inf",
     "'inf' is not a finite number. To fix: write a number such as 2e-5, 0.0001 or 10."),
]


@pytest.mark.parametrize("name, kind, typed, stored, message", ARGUMENT_EDITS,
                         ids=[f"{a[0]}={a[2]}" for a in ARGUMENT_EDITS])
def test_all_arguments_number_editors_keep_what_was_typed(qtbot: Any, fields: Any, name: str, kind: str,
                                                          typed: str, stored: Any, message: str | None) -> None:
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.load(default_config())
    panel.populate(fields)
    row = panel.row(name)
    assert row.spec.kind == kind
    retype(qtbot, row.editor, typed)
    assert row.editor.text() == typed
    assert bool(row.editor.property("problem")) == (message is not None)
    if message:
        assert row.error_label().text() == message and row.error_label().isVisibleTo(panel)
    config = default_config()
    panel.store(config)
    assert config.training[name] == stored


def test_text_in_an_all_arguments_number_disables_start(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    window.tabs.setCurrentWidget(window.pages[window.arguments_panel])  # builds the rows on first show
    qtbot.waitUntil(lambda: window.arguments_panel.row("seed") is not None, timeout=LONG)
    editor = window.arguments_panel.row("seed").editor
    retype(qtbot, editor, "abc")
    _settled(qtbot, window)
    assert editor.text() == "abc" and window.config.training["seed"] == "abc"
    assert not window.start_action.isEnabled()
    assert window.start_action.toolTip() == ("Fix 1 problem to start: seed must be a whole number (got 'abc'). To "
                                             "fix: write a whole number, or remove seed to use the default.")


def test_every_max_length_validation_accepts_shows_as_it_is_and_can_be_typed(qtbot: Any) -> None:
    """The box stopped at 1,048,576: a config's max_length of 10,000,000 (the most validation accepts) showed as
    1,048,576 while the config kept 10,000,000, and typing 10000000 lost its last digit without a word."""
    from PySide6.QtCore import Qt

    from finetune_studio.core.validation import MAX_CONTEXT_TOKENS
    from finetune_studio.gui.forms import DatasetForm

    config = default_config()
    config.dataset.max_length = MAX_CONTEXT_TOKENS
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(config)
    assert form.max_length_spin.value() == MAX_CONTEXT_TOKENS and "max_length" not in form._kept
    form.max_length_spin.lineEdit().selectAll()
    qtbot.keyClicks(form.max_length_spin.lineEdit(), str(MAX_CONTEXT_TOKENS))
    qtbot.keyClick(form.max_length_spin.lineEdit(), Qt.Key.Key_Tab)
    assert form.max_length_spin.value() == MAX_CONTEXT_TOKENS
    config.dataset.max_length = MAX_CONTEXT_TOKENS + 1  # beyond: kept as it is, for validation to name
    form.load(config)
    stored = RunConfig()
    form.store(stored)
    assert stored.dataset.max_length == MAX_CONTEXT_TOKENS + 1
