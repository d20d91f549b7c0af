"""The Launch tab's states as a user meets them: This machine's number follows Machines, the copied lines name the
document's file and follow the fields, and Copy waits while validation finds launch problems."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication

from finetune_studio.core.config import RunConfig
from finetune_studio.core.errors import WARNING, Problem
from finetune_studio.gui.forms.launch_form import SAVE_FIRST, STALE, LaunchForm


def _form(qtbot: Any, config: RunConfig | None = None) -> LaunchForm:
    form = LaunchForm()
    qtbot.addWidget(form)
    form.load(config or RunConfig())
    return form


def _two_machines() -> RunConfig:
    config = RunConfig()
    config.name = "r"
    config.launch.processes, config.launch.nodes, config.launch.rdzv_endpoint = 2, 2, "10.0.0.1:29500"
    return config


def test_this_machine_follows_machines_and_is_off_for_one(qtbot: Any) -> None:
    config = _two_machines()
    config.launch.nodes, config.launch.node_rank = 3, 2
    form = _form(qtbot, config)
    assert form.node_rank_spin.isEnabled() and form.node_rank_spin.maximum() == 2
    form.nodes_spin.setValue(2)
    assert form.node_rank_spin.value() == 1 and form.node_rank_spin.maximum() == 1
    with qtbot.waitSignal(form.changed):
        form.nodes_spin.setValue(1)
    assert form.node_rank_spin.value() == 0 and not form.node_rank_spin.isEnabled()
    out = RunConfig()
    form.store(out)
    assert (out.launch.nodes, out.launch.node_rank) == (1, 0)
    form.nodes_spin.setValue(4)
    assert form.node_rank_spin.isEnabled() and form.node_rank_spin.maximum() == 3
    form.node_rank_spin.setValue(9)
    assert form.node_rank_spin.value() == 3


def test_a_files_number_past_its_machines_stays_as_written_to_be_fixed(qtbot: Any) -> None:
    config = RunConfig()
    config.launch.nodes, config.launch.node_rank = 1, 1  # validation marks it; the form must not hide it
    form = _form(qtbot, config)
    assert form.node_rank_spin.value() == 1 and form.node_rank_spin.isEnabled()
    out = RunConfig()
    form.store(out)
    assert out.launch.node_rank == 1
    form.node_rank_spin.stepBy(-1)  # the user fixes it: now one machine has nothing to choose
    assert form.node_rank_spin.value() == 0 and not form.node_rank_spin.isEnabled()
    config.launch.nodes, config.launch.node_rank = 2, 5
    form.load(config)
    form.node_rank_spin.stepBy(-1)  # 4 is still past 2 machines: clamped to the last one
    assert form.node_rank_spin.value() == 1 and form.node_rank_spin.maximum() == 1


def test_copied_lines_name_the_documents_file(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    form = _form(qtbot, _two_machines())
    monkeypatch.chdir(tmp_path)
    form.set_document(Path("twonode.yaml"))  # a relative path still names the one file every machine reads
    form.copy_button.click()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert len(lines) == 2
    for line in lines:
        argv = shlex.split(line)
        assert argv[-2:] == ["--config", str(tmp_path / "twonode.yaml")]
    assert form.copied_label.text().startswith("Copied 2 line(s)") and form.commands_view.isVisibleTo(form)


def test_an_unsaved_document_is_asked_to_be_saved_before_copying(qtbot: Any, tmp_path: Path) -> None:
    QGuiApplication.clipboard().setText("before")
    form = _form(qtbot, _two_machines())
    form.set_document(None)
    form.copy_button.click()
    assert QGuiApplication.clipboard().text() == "before"
    assert form.copied_label.text() == SAVE_FIRST and form.copied_label.isVisibleTo(form)
    assert not form.commands_view.isVisibleTo(form)
    form.set_document(tmp_path / "run.yaml", modified=True)  # saved once, edited since
    assert not form.copied_label.isVisibleTo(form)
    form.copy_button.click()
    assert QGuiApplication.clipboard().text().count("--config " + str(tmp_path / "run.yaml")) == 2
    assert "unsaved changes: save it before running them" in form.copied_label.text()
    form.set_document(tmp_path / "run.yaml", modified=False)
    assert "unsaved" not in form.copied_label.text()


def test_shown_lines_follow_the_fields(qtbot: Any, tmp_path: Path) -> None:
    form = _form(qtbot, _two_machines())
    form.set_document(tmp_path / "run.yaml")
    form.copy_button.click()
    copied = form.commands_view.toPlainText()
    assert "--nnodes 2" in copied
    form.nodes_spin.setValue(3)
    form.processes_spin.setValue(4)
    assert form.summary.text().startswith("4 processes on each of 3 machines")
    assert form.copied_label.text() == STALE and not form.commands_view.isVisibleTo(form)
    form.copy_button.click()
    assert form.copied_label.text().startswith("Copied 3 line(s)") and form.commands_view.isVisibleTo(form)
    assert "--nproc-per-node 4" in form.commands_view.toPlainText()
    form.processes_spin.setValue(1)
    form.nodes_spin.setValue(1)  # one process on one machine: trains in the app, nothing to copy
    assert not form.copy_button.isEnabled()
    assert not form.copied_label.isVisibleTo(form) and not form.commands_view.isVisibleTo(form)


def test_copy_waits_for_launch_problems_and_says_why(qtbot: Any, tmp_path: Path) -> None:
    config = _two_machines()
    config.launch.rdzv_endpoint = ""
    form = _form(qtbot, config)
    form.set_document(tmp_path / "run.yaml")
    assert form.copy_button.isEnabled()
    needs = "A run on 2 machines needs a rendezvous endpoint."
    form.show_problems([Problem("launch.rdzv_endpoint", needs), Problem("training.learning_rate", "Too high.")])
    assert not form.copy_button.isEnabled()
    assert needs in form.copy_button.toolTip() and "Too high" not in form.copy_button.toolTip()
    form.show_problems([Problem("launch.processes", "Many processes.", WARNING),
                        Problem("training.learning_rate", "Too high.")])  # a warning, elsewhere an error
    assert form.copy_button.isEnabled() and form.copy_button.toolTip().startswith("Copy the torchrun line")
    form.show_problems([Problem("name", "A run on several machines needs a name.")])
    assert not form.copy_button.isEnabled() and "needs a name" in form.copy_button.toolTip()


def test_lines_of_one_machine_stay_shown_until_a_field_changes_them(qtbot: Any, tmp_path: Path) -> None:
    config = RunConfig()
    config.launch.processes = 2  # one machine, no endpoint: its lines take a free port each time they are made
    form = _form(qtbot, config)
    form.set_document(tmp_path / "run.yaml")
    form.copy_button.click()
    assert form.copied_label.text().startswith("Copied 1 line(s)")
    form.show_problems([])  # validation came back: nothing changed
    form.node_rank_spin.setValue(0)
    assert form.copied_label.text().startswith("Copied 1 line(s)") and form.commands_view.isVisibleTo(form)
    form.processes_spin.setValue(3)
    assert form.copied_label.text() == STALE


def test_copy_before_validation_caught_up_says_why_nothing_was_copied(qtbot: Any, tmp_path: Path,
                                                                      monkeypatch: Any) -> None:
    from finetune_studio.core import launch
    from finetune_studio.core.errors import ConfigError

    def refuse(*args: Any, **kwargs: Any) -> list[str]:
        raise ConfigError([Problem("launch.rdzv_endpoint", "A run on 2 machines needs a rendezvous endpoint.")])

    monkeypatch.setattr(launch, "node_commands", refuse)  # core refuses lines torchrun would refuse
    QGuiApplication.clipboard().setText("before")
    form = _form(qtbot, _two_machines())
    form.set_document(tmp_path / "run.yaml")
    form.copy_button.click()
    assert QGuiApplication.clipboard().text() == "before"
    assert form.copied_label.text() == "Not copied: A run on 2 machines needs a rendezvous endpoint."
    assert not form.commands_view.isVisibleTo(form)


def test_launch_warnings_show_at_their_fields_as_they_are_typed(qtbot: Any) -> None:
    """validate warns when several machines meet at a loopback address (machine 1 would wait at its own) and when
    CPU processes outnumber the cores; the Launch tab never said so (helper-33's note). Now in amber under the
    field, as the Training tab does for a large learning rate, and gone when fixed."""
    form = _form(qtbot, _two_machines())
    assert form.warning_text("launch.rdzv_endpoint") is None
    form.endpoint_edit.setText("127.0.0.1:29500")
    form.endpoint_edit.textEdited.emit("127.0.0.1:29500")  # as typing does
    warning = form.warning_text("launch.rdzv_endpoint")
    assert warning is not None and warning.startswith("With 2 machines the rendezvous endpoint must be machine 0's "
                                                      "network address")
    form.endpoint_edit.setText("10.0.0.1:29500")
    form.endpoint_edit.textEdited.emit("10.0.0.1:29500")
    assert form.warning_text("launch.rdzv_endpoint") is None


def test_the_wait_for_machines_is_set_on_the_form_and_reaches_every_copied_line(qtbot: Any, tmp_path: Path) -> None:
    """launch.join_timeout: how long each machine waits at the rendezvous (300 s by default, too short when the
    other machines are started by hand, too long to learn of a typo in the address). The form edits it, the
    copied lines carry it to torchrun, and one machine alone (nothing to wait for) greys it out."""
    config = _two_machines()
    config.launch.join_timeout = 900
    form = _form(qtbot, config)
    form.set_document(tmp_path / "run.yaml")
    assert form.join_timeout_spin.value() == 900 and form.join_timeout_spin.isEnabled()
    form.copy_button.click()
    assert form.commands_view.toPlainText().count("--rdzv-conf join_timeout=900") == 2  # machine 0's adds ",is_host=1"
    with qtbot.waitSignal(form.changed):
        form.join_timeout_spin.setValue(60)
    assert form.copied_label.text() == STALE  # the lines copied before say 900
    form.copy_button.click()
    assert QGuiApplication.clipboard().text().count("--rdzv-conf join_timeout=60") == 2
    out = RunConfig()
    form.store(out)
    assert out.launch.join_timeout == 60
    form.nodes_spin.setValue(1)
    assert not form.join_timeout_spin.isEnabled()
