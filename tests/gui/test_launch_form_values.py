"""The Launch tab keeps a loaded value its boxes cannot show as it is (5000 processes past the box's 1024, "two",
0, -1, 1.5): an edit of another field used to store the box's clamped value in its place (5000 became 1024, "two"
became 1) without a word. It is kept until the user edits that box, as the Dataset tab does; validation names it."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core.config import RunConfig
from finetune_studio.gui.forms.launch_form import LaunchForm
from tests.gui.test_app import dialog_log, make_window, window  # fixtures


def _loaded(qtbot: Any, **launch_fields: Any) -> LaunchForm:
    config = RunConfig()
    config.name = "r"
    for key, value in launch_fields.items():
        setattr(config.launch, key, value)
    form = LaunchForm()
    qtbot.addWidget(form)
    form.load(config)
    return form


def _stored(form: LaunchForm) -> Any:
    config = RunConfig()
    form.store(config)
    return config.launch


@pytest.mark.parametrize("processes", [5000, "two", 0, -1, 2.0, True])
def test_an_edit_of_another_field_keeps_a_loaded_value_the_box_cannot_show(qtbot: Any, processes: Any) -> None:
    form = _loaded(qtbot, processes=processes, nodes=0, node_rank=-1, join_timeout="soon")
    form.endpoint_edit.setText("10.0.0.5:29500")
    form.endpoint_edit.textEdited.emit("10.0.0.5:29500")  # the user's edit of another Launch field
    launch = _stored(form)
    assert (launch.processes, launch.nodes, launch.node_rank, launch.join_timeout) == (processes, 0, -1, "soon")
    assert launch.rdzv_endpoint == "10.0.0.5:29500"
    form.join_timeout_spin.setValue(600)  # another box: the kept values stay
    launch = _stored(form)
    assert (launch.processes, launch.nodes, launch.node_rank, launch.join_timeout) == (processes, 0, -1, 600)


def test_the_users_edit_of_the_box_replaces_the_kept_value(qtbot: Any) -> None:
    form = _loaded(qtbot, processes=5000, nodes=0, node_rank=-1)
    assert form.processes_spin.value() == 1024  # the box's most: 5000 is kept, not shown
    form.processes_spin.setValue(8)
    assert _stored(form).processes == 8 and _stored(form).nodes == 0
    form.nodes_spin.setValue(3)  # Machines: This machine's box follows it, which is not an edit of that box
    launch = _stored(form)
    assert (launch.nodes, launch.node_rank) == (3, -1)
    form.node_rank_spin.setValue(2)
    assert _stored(form).node_rank == 2


def test_typing_the_value_the_box_shows_already_replaces_the_kept_value(qtbot: Any) -> None:
    form = _loaded(qtbot, nodes=0)  # shown as 1; Machines takes a value when typed whole (Enter)
    form.nodes_spin.setFocus()
    form.nodes_spin.selectAll()
    with qtbot.waitSignal(form.changed):
        qtbot.keyClicks(form.nodes_spin, "1")  # what it shows: no valueChanged, and still the user's value
    qtbot.keyClick(form.nodes_spin, Qt.Key.Key_Return)
    assert _stored(form).nodes == 1


def test_the_summary_names_kept_values_instead_of_counting_them(qtbot: Any) -> None:
    """Before: "5000 processes on each of 0 machines (5000 in all)" beside boxes showing 1024 and 1."""
    form = _loaded(qtbot, processes=5000, nodes=0)
    assert (form.processes_spin.value(), form.nodes_spin.value()) == (1024, 1)
    assert form.summary.text() == (
        "The config has values to fix before the processes can be counted: Processes 5000 (the box takes 1 to 1024), "
        "Machines 0 (the box takes 1 to 64). To fix: type a value in each of those boxes, or correct the config "
        "file and open it again.")
    form = _loaded(qtbot, processes="two")  # before: "One process: …", the box's 1 counted in its place
    assert form.summary.text() == (
        "The config has values to fix before the processes can be counted: Processes 'two' (the box takes 1 to "
        "1024). To fix: type a value in that box, or correct the config file and open it again.")
    form.processes_spin.setValue(8)  # the user's edit replaces the kept value: counted again
    assert form.summary.text().startswith("8 processes on this machine (8 in all) under torchrun.")
    form = _loaded(qtbot, processes=4, node_rank=-1, join_timeout="soon")  # kept, but not counted: validation's
    assert form.summary.text().startswith("4 processes on this machine (4 in all) under torchrun.")


def test_a_count_validation_refuses_is_named_until_its_box_is_edited(qtbot: Any) -> None:
    """The box shows the value (Machines 50), but validation refuses it (here a made-up refusal): the summary names
    it rather than counting 200 processes, whatever the refusal's words; an edit of the box counts again."""
    from finetune_studio.core.errors import WARNING, Problem

    form = _loaded(qtbot, processes=4, nodes=50, rdzv_endpoint="10.0.0.5:29500")
    assert form.summary.text().startswith("4 processes on each of 50 machines (200 in all)")
    form.show_problems([Problem("launch.nodes", "nodes is 50; this cluster takes at most 40 machines."),
                        Problem("launch.processes", "more processes than cores", WARNING)])
    assert form.summary.text() == (
        "The config has values to fix before the processes can be counted: Machines 50 (see the message under the "
        "box). To fix: type a value in that box, or correct the config file and open it again.")
    form.nodes_spin.setValue(3)
    assert form.summary.text().startswith("4 processes on each of 3 machines (12 in all)")


def test_the_windows_launch_tab_names_the_files_values_to_fix(qtbot: Any, window: Any) -> None:
    """Through the window: the YAML's values the boxes cannot show stay named after validation ran, and typed
    values are counted."""
    config = RunConfig()
    config.name = "r"
    config.launch.processes, config.launch.nodes = 5000, 0
    window.set_config(config)
    form = window.launch_form
    window.tabs.setCurrentWidget(window.pages[form])
    window.validator.wait()
    qtbot.wait(50)
    assert "nodes is 0" in form._fields["launch.nodes"].error_label().text()
    assert form.summary.text().startswith("The config has values to fix before the processes can be counted: "
                                          "Processes 5000 (the box takes 1 to 1024), Machines 0 (the box takes 1 to "
                                          "64).")
    form.processes_spin.setValue(8)
    form.nodes_spin.setValue(2)
    assert form.summary.text().startswith("8 processes on each of 2 machines (16 in all) under torchrun.")


def test_a_value_the_box_shows_as_it_is_is_the_boxs(qtbot: Any) -> None:
    form = _loaded(qtbot, processes=4, nodes=2, node_rank=1, join_timeout=90, rdzv_endpoint="10.0.0.5:29500")
    launch = _stored(form)
    assert (launch.processes, launch.nodes, launch.node_rank, launch.join_timeout) == (4, 2, 1, 90)


def test_the_window_keeps_and_names_the_loaded_values_after_an_edit_of_another_field(qtbot: Any, window: Any) -> None:
    config = RunConfig()
    config.name = "r"
    config.launch.processes, config.launch.nodes = "two", 0
    window.set_config(config)
    form = window.launch_form
    window.tabs.setCurrentWidget(window.pages[form])
    form.endpoint_edit.setFocus()
    qtbot.keyClicks(form.endpoint_edit, "10.0.0.5:29500")
    qtbot.wait(400)  # the window validates 300 ms after the last edit
    window.validator.wait()
    qtbot.wait(50)
    assert window.config.launch.rdzv_endpoint == "10.0.0.5:29500"
    assert (window.config.launch.processes, window.config.launch.nodes) == ("two", 0)
    assert form._fields["launch.processes"].error_label().text() == (
        "processes must be a whole number (got 'two'). To fix: set processes to a whole number, 1 or more (1: one "
        "process, the usual run).")
    assert "nodes is 0" in form._fields["launch.nodes"].error_label().text()
    assert not window.start_action.isEnabled()


def test_machines_box_stops_at_the_most_validation_accepts(qtbot: Any) -> None:
    """The box used to go to 4096 machines while validation refuses more than MAX_NODES: a count it offers must
    be one a run can take, and a loaded count above it is kept and named (as 5000 processes are)."""
    from finetune_studio.core.launch import MAX_NODES

    form = _loaded(qtbot, processes=2, nodes=2)
    assert form.nodes_spin.maximum() == MAX_NODES == 64
    form.nodes_spin.setValue(1000)
    assert form.nodes_spin.value() == MAX_NODES
    form = _loaded(qtbot, processes=2, nodes=100)
    assert form.nodes_spin.value() == MAX_NODES
    assert form.summary.text().startswith("The config has values to fix before the processes can be counted: "
                                          "Machines 100 (the box takes 1 to 64).")
    assert _stored(form).nodes == 100  # kept until the user edits the box
