"""The Launch tab: processes, machines, this machine's number and the endpoint, stored in config.launch; Copy
launch command puts every machine's torchrun line on the clipboard; launch problems are marked on its fields."""

from __future__ import annotations

import shlex
from typing import Any

from PySide6.QtGui import QGuiApplication

from finetune_studio.core.config import RunConfig
from finetune_studio.core.errors import Problem
from finetune_studio.gui.forms.launch_form import LaunchForm


def _form(qtbot: Any) -> LaunchForm:
    form = LaunchForm()
    qtbot.addWidget(form)
    return form


def test_the_form_loads_and_stores_the_launch_section_and_leaves_devices_alone(qtbot: Any) -> None:
    config = RunConfig()
    config.launch.processes, config.launch.nodes, config.launch.node_rank = 4, 2, 1
    config.launch.rdzv_endpoint, config.launch.devices = "10.0.0.5:29400", [0, 1, 2, 3]
    form = _form(qtbot)
    form.load(config)
    assert (form.processes_spin.value(), form.nodes_spin.value(), form.node_rank_spin.value()) == (4, 2, 1)
    assert form.endpoint_edit.text() == "10.0.0.5:29400"
    assert "4 processes on each of 2 machines (8 in all)" in form.summary.text()
    with qtbot.waitSignal(form.changed):
        form.processes_spin.setValue(2)
    out = RunConfig()
    out.launch.devices = [5]
    form.store(out)
    assert (out.launch.processes, out.launch.nodes, out.launch.node_rank) == (2, 2, 1)
    assert out.launch.rdzv_endpoint == "10.0.0.5:29400" and out.launch.devices == [5]


def test_one_process_says_it_trains_in_the_app_and_copy_is_off(qtbot: Any) -> None:
    form = _form(qtbot)
    form.load(RunConfig())
    assert form.summary.text().startswith("One process: the run trains inside the app")
    assert not form.copy_button.isEnabled()
    form.processes_spin.setValue(2)
    assert form.copy_button.isEnabled() and "2 processes on this machine" in form.summary.text()
    form.processes_spin.setValue(1)
    form.nodes_spin.setValue(2)  # one process on each of two machines: the singular, not "1 processes"
    assert form.summary.text().startswith("1 process on each of 2 machines (2 in all)")


def test_copy_launch_command_puts_each_machines_line_on_the_clipboard(qtbot: Any) -> None:
    config = RunConfig()
    config.name = "shared-run"
    config.runs_dir = "/shared/runs"
    config.launch.processes, config.launch.nodes, config.launch.rdzv_endpoint = 2, 3, "node0:29500"
    form = _form(qtbot)
    form.load(config)
    form.config_path = "/shared/run.yaml"
    form.copy_button.click()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert len(lines) == 3
    for rank, line in enumerate(lines):
        argv = shlex.split(line)
        assert "torchrun" in argv[0] or "torch.distributed.run" in argv  # torchrun, or python -m its module
        assert argv[argv.index("--node-rank") + 1] == str(rank)
        assert argv[argv.index("--rdzv-endpoint") + 1] == "node0:29500"
        assert argv[-4:] == ["worker", "/shared/runs/shared-run", "--config", "/shared/run.yaml"]
    assert form.commands_view.isVisibleTo(form)
    assert form.commands_view.toPlainText().splitlines() == ["# machine 0", lines[0], "# machine 1", lines[1],
                                                             "# machine 2", lines[2]]


def test_launch_problems_are_marked_on_the_launch_fields(qtbot: Any) -> None:
    form = _form(qtbot)
    form.load(RunConfig())
    assert form.owns("launch.rdzv_endpoint") and not form.owns("training.learning_rate")
    form.show_problems([Problem("launch.rdzv_endpoint", "Port 29500 is in use by another program.")])
    labels = [label.text() for label in form.findChildren(type(form.summary)) if label.isVisibleTo(form)]
    assert "Port 29500 is in use by another program." in labels
