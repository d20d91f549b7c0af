"""The Hardware tab with `launch: devices: [true]`: True is an int in Python (== 1), but no GPU: nothing ticked."""

from __future__ import annotations

from PySide6.QtCore import Qt

from finetune_studio.core import launch
from finetune_studio.core.config import default_config
from finetune_studio.gui.hardware_panel import HardwarePanel
from tests.core.test_gpus_nvml import two_gpus


def ticks(panel: HardwarePanel) -> list[bool]:
    return [panel.table.item(r, 0).checkState() == Qt.CheckState.Checked for r in range(panel.table.rowCount())]


def test_true_in_devices_ticks_no_gpu_and_shows_validations_problem(qtbot, monkeypatch) -> None:
    two_gpus(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    config = default_config()
    config.launch.devices = [True]
    panel.load(config)
    assert ticks(panel) == [False, False]  # was GPU 1 ticked
    assert panel.devices == []
    assert panel.table.rowCount() == 2  # no "not on this machine" row for it either
    panel.show_problems(launch.launch_problems(config, gpu_count=2))
    assert not panel.error.isHidden()
    assert "true is not a GPU number" in panel.error.text()


def test_gpu_numbers_beside_a_bool_are_still_ticked(qtbot, monkeypatch) -> None:
    two_gpus(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    config = default_config()
    config.launch.devices = [0, False]
    panel.load(config)
    assert ticks(panel) == [True, False]  # False is not GPU 0 ticked twice
    assert panel.devices == [0]


def test_devices_the_ticks_cannot_show_are_kept_until_a_gpu_is_ticked(qtbot, monkeypatch) -> None:
    """`devices: 1` (not a list) or [0, true]: the ticks show what they can, and the value is stored as loaded, so
    validation names it at the field and the user's GPU 1 is not lost. Before: stored as the ticks, [] and [0],
    the problem gone without a word. Ticking a GPU makes the ticks the value."""
    two_gpus(monkeypatch)
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.refresh()
    for written, ticked in ((1, [False, False]), ("0,1", [False, False]), ([0, True], [True, False])):
        config = default_config()
        config.launch.devices = written
        panel.load(config)
        assert ticks(panel) == ticked
        stored = default_config()
        panel.store(stored)
        assert stored.launch.devices == written
        assert launch.launch_problems(stored, gpu_count=2), written  # validation still says what is wrong
    panel.table.item(1, 0).setCheckState(Qt.CheckState.Checked)  # the user ticks GPU 1
    panel.store(stored)
    assert stored.launch.devices == [0, 1]
