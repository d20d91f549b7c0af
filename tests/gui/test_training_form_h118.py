"""The Training tab probed as a demanding user (helper-118): numbers written the European way, max_steps beside
epochs, and the File menu's save of a config."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from typing import Any

from finetune_studio.core.config import RunConfig, default_config
from finetune_studio.gui.forms import TrainingForm


def retype(qtbot: Any, edit: Any, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def error_line(form: Any, key: str) -> Any:
    return form._fields[key].error_label()


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
