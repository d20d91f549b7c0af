"""File > Save leaves a read-only (0444) config file as it is for root too: os.access says root may write any file,
so the window's check passed and Save replaced the file its owner had made read-only. Not patched here: the tests
run as root on this machine, and the file's mode bits are what is checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from finetune_studio.core.config import default_config, save_config
from tests.gui.test_app import DialogLog, dialog_log, make_window, window
from tests.gui.test_typed_values import retype


def test_read_only_reads_the_mode_bits(tmp_path: Path) -> None:
    from finetune_studio.gui.document import read_only

    path = tmp_path / "run.yaml"
    path.write_text("name: x\n")
    assert read_only(path) is False
    path.chmod(0o444)
    assert read_only(path) is True  # for root as well: os.access(path, os.W_OK) is True for root
    path.chmod(0o644)
    assert read_only(path) is False
    assert read_only(tmp_path / "missing.yaml") is False and read_only(tmp_path) is False


def test_save_keeps_a_0444_file_even_for_root(window: Any, qtbot: Any, tmp_path: Path,
                                               dialog_log: DialogLog) -> None:
    path = tmp_path / "kept.yaml"
    save_config(default_config(), path)
    assert window.open_config(path)
    path.chmod(0o444)
    before = path.read_text()
    retype(qtbot, window.training_form.lr_edit, "3e-4")
    if os.geteuid() == 0:
        assert os.access(path, os.W_OK)  # what the old check relied on
    assert window.save() is False
    assert path.read_text() == before and (path.stat().st_mode & 0o777) == 0o444
    assert dialog_log.errors[-1] == (
        "Cannot save config",
        f"{path} was not saved: the file is read-only. Nothing was written, and the window keeps your settings, "
        "unsaved. To fix: choose File > Save As… and another file, or make this one writable.", None)
    assert window.session.modified and window.training_form.lr_edit.text() == "3e-4"
    path.chmod(0o644)  # made writable again: Save writes it
    assert window.save() is True
    assert "learning_rate: 0.0003" in path.read_text() and not window.session.modified
