"""The Dataset tab shows the warnings of its fields that depend on another tab, as `finetune-studio validate`
prints them: max_length past the model's context (core.validation.warnings_for, c5bb4ae) was said by the CLI only;
in the window the field showed nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window
from tests.helpers import small_config


def test_max_length_past_the_models_context_is_warned_at_its_field(qtbot: Any, make_window: Any,
                                                                    small_dataset: Path, runs_dir: Path,
                                                                    dialog_log: DialogLog) -> None:
    window = make_window()
    config = small_config(small_dataset, runs_dir)
    config.dataset.max_length = 1024  # the demo model's context is 512 (max_position_embeddings)
    window.set_config(config)
    window.validate_now()
    form = window.dataset_form
    qtbot.waitUntil(lambda: form.warning_text("dataset.max_length") is not None, timeout=LONG)
    text = form.warning_text("dataset.max_length")
    assert text.startswith("max_length 1,024 is past this model's context: it was trained on at most 512 tokens "
                           "(max_position_embeddings in its config.json).")
    assert window.problems == [] and window.start_action.isEnabled()  # a warning: Start is not held back

    config.dataset.max_length = 512
    window.set_config(config)
    window.validate_now()
    qtbot.waitUntil(lambda: form.warning_text("dataset.max_length") is None, timeout=LONG)
    assert dialog_log.errors == []
