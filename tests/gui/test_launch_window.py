"""The Launch tab in the window: the copied torchrun lines name the file the window has open (every machine reads
that YAML), and a run renamed on another tab makes the lines shown stale (they name the old run's folder)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication

from finetune_studio.core.config import RunConfig, save_config
from finetune_studio.gui.forms.launch_form import STALE
from tests.gui.test_app import dialog_log, make_window


def test_the_copied_lines_name_the_open_file_and_a_rename_makes_them_stale(qtbot: Any, make_window: Any,
                                                                           tmp_path: Path) -> None:
    window = make_window(warm=False)
    config = RunConfig()
    config.name = "two-machines"
    config.launch.processes, config.launch.nodes, config.launch.rdzv_endpoint = 1, 2, "10.0.0.1:29500"
    path = tmp_path / "twonode.yaml"
    save_config(config, path)
    window.set_config(config, path)
    launch = window.launch_form
    launch.copy_button.click()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert len(lines) == 2
    assert all(shlex.split(line)[-2:] == ["--config", str(path)] for line in lines)  # was CONFIG.yaml
    form = window.training_form
    form.name_edit.setText("renamed")
    form.name_edit.textEdited.emit("renamed")  # as typing does
    assert launch.copied_label.text() == STALE and not launch.commands_view.isVisibleTo(launch)
