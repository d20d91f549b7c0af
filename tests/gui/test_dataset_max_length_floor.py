"""The Max length box starts where validation does (MIN_TRAINING_TOKENS): it offered 1 token, which validation
refuses because a 1-token row trains nothing."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core.config import MIN_TRAINING_TOKENS, default_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms import DatasetForm

pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def max_length_problems(config: Any) -> list[str]:
    return [p.message for p in validate(config, check_files=False) if p.field == "dataset.max_length"]


def test_max_length_box_floor_is_validations(qtbot: Any) -> None:
    form = DatasetForm()
    qtbot.addWidget(form)
    form.load(default_config())
    assert MIN_TRAINING_TOKENS == 2
    assert form.max_length_spin.minimum() == 2
    form.max_length_spin.setValue(1)  # typed or stepped down as far as it goes
    assert form.max_length_spin.value() == 2
    config = default_config()
    form.store(config)
    assert config.dataset.max_length == 2
    assert max_length_problems(config) == []


def test_a_loaded_one_token_length_is_kept_for_validation_to_name(qtbot: Any) -> None:
    form = DatasetForm()
    qtbot.addWidget(form)
    loaded = default_config()
    loaded.dataset.max_length = 1
    form.load(loaded)
    config = default_config()
    form.store(config)
    assert config.dataset.max_length == 1  # not silently raised to 2 by the box
    assert max_length_problems(config)[0].startswith("max_length 1 cuts every row to a single token")
