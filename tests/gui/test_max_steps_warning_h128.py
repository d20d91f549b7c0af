"""The window says at max_steps what `finetune-studio validate` says (core.validation's warning), on the All
arguments tab where max_steps is set, and the Training tab keeps its own hint under Epochs, said once there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune_studio.core.config import default_config, save_config
from tests.gui.test_app import DialogLog, dialog_log, make_window, window

WARNING = ("max_steps 100 ends the run: the epochs set in num_train_epochs do not apply. To train by epochs, remove "
           "max_steps (or set it to -1).")


def test_all_arguments_warns_at_max_steps_and_epochs_say_it_once(window: Any, qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QLabel

    config = default_config()
    config.training["max_steps"] = 100
    path = tmp_path / "steps.yaml"
    save_config(config, path)
    assert window.open_config(path)
    window.validate_now()
    qtbot.waitUntil(lambda: window.arguments_panel.warning_text("training.max_steps") is not None, timeout=30_000)
    assert window.arguments_panel.warning_text("training.max_steps") == WARNING
    form = window.training_form
    assert form.warning_text("training.max_steps") is None and form.warning_text("training.num_train_epochs") is None
    shown = [label.text() for label in form.findChildren(QLabel) if label.isVisibleTo(form)]
    assert [text for text in shown if "max_steps" in text] == [form.epochs_hint.text()]
