"""The Launch tab keeps a loaded value its boxes cannot show as it is (1000 processes past the box's 256, "two",
0, -1, 1.5): an edit of another field used to store the box's clamped value in its place (1000 became 256, "two"
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


@pytest.mark.parametrize("processes", [1000, "two", 0, -1, 2.0, True])
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
    form = _loaded(qtbot, processes=1000, nodes=0, node_rank=-1)
    assert form.processes_spin.value() == 256  # the box's most: 1000 is kept, not shown
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


def test_the_summary_counts_the_kept_processes(qtbot: Any) -> None:
    form = _loaded(qtbot, processes=1000)
    assert "1000 processes on this machine" in form.summary.text()
    form = _loaded(qtbot, processes="two", nodes="three")  # no number: the summary speaks of what the boxes show
    assert "One process" in form.summary.text()


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
    assert form._fields["launch.processes"].error_label().text() == "processes must be a whole number (got 'two')."
    assert "nodes is 0" in form._fields["launch.nodes"].error_label().text()
    assert not window.start_action.isEnabled()
