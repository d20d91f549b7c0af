"""The Model tab shows the warnings of its fields (the adapter section's too), as `finetune-studio validate`
prints them: an adapter rank past the adapted layers' break-even (core.adapters.rank_warning, 85a7723) was said by
the CLI only, since the window passed core.validation.warnings_for to the Dataset tab alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window
from tests.helpers import small_config

# The demo's all-linear adapts 98,304 weights; from r 41 on the adapter trains more (test_adapters_rank_warning).
RANK_41 = "r 41 makes the adapter train more weights than the layers it adapts have (99,712 against 98,304)"


def rank_config(small_dataset: Path, runs_dir: Path, r: int) -> Any:
    config = small_config(small_dataset, runs_dir)
    config.adapter.method = "lora"
    config.adapter.target_modules = ["all-linear"]
    config.adapter.r = r
    return config


def test_a_rank_past_break_even_is_warned_at_the_model_tabs_rank_field(qtbot: Any, make_window: Any,
                                                                        small_dataset: Path, runs_dir: Path,
                                                                        dialog_log: DialogLog) -> None:
    window = make_window()
    window.set_config(rank_config(small_dataset, runs_dir, 41))
    window.tabs.setCurrentWidget(window.pages[window.model_form])
    window.validate_now()
    form = window.model_form
    qtbot.waitUntil(lambda: form.warning_text("adapter.r") is not None, timeout=LONG)
    assert form.warning_text("adapter.r").startswith(RANK_41)
    label = form.adapter_form._fields["adapter.r"].error_label()
    assert label.isVisible() and label.text().startswith(RANK_41)  # shown under Rank (r), in amber
    assert window.problems == [] and window.start_action.isEnabled()  # a warning: Start is not held back
    assert window.dataset_form.warning_text("adapter.r") is None  # at its own tab only

    window.set_config(rank_config(small_dataset, runs_dir, 8))
    window.validate_now()
    qtbot.waitUntil(lambda: form.warning_text("adapter.r") is None, timeout=LONG)
    assert not label.isVisible()
    assert dialog_log.errors == []
