"""The Launch tab's Processes box takes what validation accepts: core.launch.MAX_PROCESSES (1024). It stopped at
256, so a config's 512 processes, valid, showed as 256 and was named as a value to fix."""

from __future__ import annotations

from typing import Any

from finetune_studio.core.config import RunConfig
from finetune_studio.core.launch import MAX_PROCESSES
from finetune_studio.gui.forms.launch_form import LaunchForm


def test_the_boxs_most_is_validations_cap(qtbot: Any) -> None:
    form = LaunchForm()
    qtbot.addWidget(form)
    assert (form.processes_spin.minimum(), form.processes_spin.maximum()) == (1, MAX_PROCESSES) == (1, 1024)


def test_a_valid_count_past_256_is_shown_and_counted_not_named_as_a_value_to_fix(qtbot: Any) -> None:
    config = RunConfig()
    config.name = "r"
    config.launch.processes = 512
    form = LaunchForm()
    qtbot.addWidget(form)
    form.load(config)
    assert form.processes_spin.value() == 512
    assert form.summary.text().startswith("512 processes on this machine (512 in all) under torchrun.")
    stored = RunConfig()
    form.store(stored)
    assert stored.launch.processes == 512
