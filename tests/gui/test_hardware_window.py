"""The Hardware tab in the window: the estimate follows the config, Start asks before a run it says will not fit,
and a fix applies to the config in one click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from finetune_studio.core.estimate import WONT_FIT
from finetune_studio.core.gpus import CpuInfo, GpuTable
from finetune_studio.gui import dialogs

LONG = 120_000
pytestmark = pytest.mark.slow  # a warm window and fake forward passes


@pytest.fixture
def window(qtbot: Any, demo_cache: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from finetune_studio.gui import background
    from finetune_studio.gui.main_window import MainWindow

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *args: dialogs.SaveChoice.DISCARD)
    monkeypatch.setattr(dialogs, "confirm_stop_and_close", lambda *args: True)
    made = MainWindow()
    qtbot.addWidget(made)
    made.show()
    qtbot.waitExposed(made)
    made.begin_warmup()
    qtbot.waitUntil(lambda: made.warm is not None, timeout=LONG)
    yield made
    if made.runner.running:  # Start did not ask (a regression): stop the run it began, so the test fails, not hangs
        made.runner.stop()
        assert made.runner.wait(60_000), "the training thread did not end"
    qtbot.waitUntil(lambda: not made.runner.running, timeout=LONG)
    made.validator.wait()
    made.hardware_panel.estimate_bar.wait()
    background.wait_idle()
    made.close()


def test_start_asks_and_a_fix_applies(qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    panel, bar = window.hardware_panel, window.hardware_panel.estimate_bar
    # a machine with 40 MiB of free RAM: the demo recipe (batch 2 x 512, eval batch 8) will not fit
    panel.set_table(GpuTable(unavailable="No NVIDIA GPU found.", cpu=CpuInfo(2, 2**30, 40 * 2**20)))
    with qtbot.waitSignal(bar.shown, timeout=LONG, check_params_cb=lambda result: result.estimate is not None):
        window.validate_now()
    assert bar.verdict == WONT_FIT, bar.verdict_label.text()
    assert bar.verdict_label.text().startswith("Will not fit: about")
    assert bar.fix_buttons, "a recipe that does not fit gets fixes"
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args[2]) or QMessageBox.StandardButton.No)
    assert window.start_action.isEnabled()
    window.start_action.trigger()
    assert len(asked) == 1 and "Start anyway?" in asked[0]
    assert not window.runner.running and window.state.value == "idle"
    # the first fix, applied with one click, is in the config and the forms; the config is modified
    first = bar.result.fixes[0]
    with qtbot.waitSignal(bar.shown, timeout=LONG):
        bar.fix_buttons[0].click()
    for key, value in first.overrides.items():
        section, name = key.split(".", 1)
        held = window.config.training.get(name) if section == "training" else getattr(getattr(window.config,
                                                                                               section), name)
        assert held == value, key
    assert window.session.modified
    assert bar.result.estimate.total == first.estimate.total


def test_a_gpu_this_machine_lacks_disables_start(qtbot: Any, window: Any) -> None:
    panel = window.hardware_panel
    panel.set_table(GpuTable(unavailable="No NVIDIA GPU found.", cpu=CpuInfo(2, 8 * 2**30, 4 * 2**30)))
    config = window.config.copy()
    config.launch.devices = [3]
    window.set_config(config)
    qtbot.waitUntil(lambda: not window.start_action.isEnabled(), timeout=LONG)
    assert any(p.field == "launch.devices" and "GPU 3 does not exist: this machine has no GPU" in p.message
               for p in window.problems)
    assert "GPU 3 does not exist" in window.start_action.toolTip()
    assert "GPU 3 does not exist" in panel.error.text()
    # the way out, in the panel the message points to: GPU 3's own row, ticked, to untick
    assert not panel.table.isHidden() and panel.table.item(0, 1).text() == "3: not on this machine"
    panel.table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    assert window.config.launch.devices == [] and window.session.modified
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    assert panel.table.isHidden() and panel.error.isHidden()


def test_gpus_ticked_in_the_hardware_tab_are_the_launch_tabs_processes(qtbot: Any, window: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Two GPUs ticked mean two processes under torchrun: the Launch tab says so at once, not after a reload."""
    from tests.core.test_gpus_nvml import two_gpus

    two_gpus(monkeypatch)
    panel, launch = window.hardware_panel, window.launch_form
    panel.refresh()
    assert launch.summary.text().startswith("One process: the run trains inside the app")
    assert not launch.copy_button.isEnabled()
    panel.table.item(0, 0).setCheckState(Qt.CheckState.Checked)
    panel.table.item(1, 0).setCheckState(Qt.CheckState.Checked)
    assert window.config.launch.devices == [0, 1]
    assert launch.summary.text().startswith("2 processes on this machine (2 in all) under torchrun")
    assert launch.copy_button.isEnabled()
    launch.set_document(Path("/shared/run.yaml"))  # a saved document: the lines name its file
    assert "--nproc-per-node 2" in launch.commands()[0], launch.commands()
    panel.table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)
    assert launch.summary.text().startswith("One process: the run trains inside the app")
