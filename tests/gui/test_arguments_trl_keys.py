"""TRL's training keys (max_seq_length, packing…) in a loaded config: the All arguments tab says where this app sets
them, as the CLI does (core.config.ELSEWHERE_TRAINING_KEYS, a0819e5), instead of "Did you mean …?" or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.validation import training_fields
from finetune_studio.gui.forms.arguments_panel import ArgumentsPanel

HEAD = "is not a TrainingArguments field of the installed transformers."


@pytest.fixture(scope="module")
def fields() -> Any:
    return training_fields()


def loaded(qtbot: Any, fields: Any, **training: Any) -> ArgumentsPanel:
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.populate(fields)
    config = default_config()
    config.training.update(training)
    panel.load(config)
    return panel


def test_a_trl_key_in_a_loaded_config_says_where_it_is_set(qtbot: Any, fields: Any) -> None:
    panel = loaded(qtbot, fields, max_seq_length=1024, packing=True, group_by_length=False)
    assert panel.row("max_seq_length").error_label().text() == (
        f"'max_seq_length' {HEAD} It is older TRL scripts' name for the longest row in tokens; this app sets that "
        "in dataset.max_length. To fix: remove it (↺) and set dataset.max_length to 1024 on the Dataset tab.")
    assert panel.row("packing").error_label().text() == (
        f"'packing' {HEAD} It is TRL's SFTConfig switch for rows packed into max_length blocks; this app sets that "
        "in dataset.batching. To fix: remove it (↺) and set dataset.batching to packed on the Dataset tab.")
    assert panel.row("group_by_length").error_label().text() == (
        f"'group_by_length' {HEAD} It is transformers 4's switch for batches of rows of like length; this app sets "
        "that in dataset.batching, on the Dataset tab. To fix: remove it (↺).")


def test_the_filter_names_where_a_trl_key_lives(qtbot: Any, fields: Any) -> None:
    panel = loaded(qtbot, fields)
    panel.show()
    panel.filter_edit.setText("dataset_text_field")
    assert panel.no_match.isVisible()
    assert panel.no_match.text().splitlines()[-1] == (
        "dataset_text_field is TRL's SFTConfig name for the column the model trains on: this app sets it in "
        "dataset.text_column, on the Dataset tab.")
