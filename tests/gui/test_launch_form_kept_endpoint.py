"""A config file's launch.rdzv_endpoint that is no text (`rdzv_endpoint: [node0, node1]`, `!!bool true`, a mapping)
showed an empty Rendezvous field, and the first edit of any Launch field stored "" in its place (one machine, a free
port): the written value was gone without a word, and validation had nothing left to refuse. The field now shows
the value as the file writes it, the form stores it as written until the user edits the field, and validation's
message about it stands under the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from finetune_studio.core.config import RunConfig, from_yaml, load_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms.launch_form import LaunchForm
from tests.gui.test_app import dialog_log, make_window, window  # fixtures
from tests.helpers import delete_last_character

ENDPOINT = "launch.rdzv_endpoint"
CASES = [  # (as the file writes it, as the app's YAML reads it, as the field shows it)
    ("[node0, node1]", ["node0", "node1"], "[node0, node1]"),
    ("[]", [], "[]"),
    ("!!bool true", True, "true"),
    ("!!bool false", False, "false"),
    ("{host: node0, port: 29500}", {"host": "node0", "port": 29500}, "{host: node0, port: 29500}"),
    ("{port: 29500, host: node0}", {"port": 29500, "host": "node0"}, "{port: 29500, host: node0}"),  # file's order
]


def _loaded(qtbot: Any, written: str) -> tuple[LaunchForm, RunConfig]:
    config, _ = from_yaml(f"name: r\nlaunch:\n  processes: 2\n  rdzv_endpoint: {written}\n")
    form = LaunchForm()
    qtbot.addWidget(form)
    form.load(config)
    return form, config


def refusal(endpoint: Any) -> str:
    """validate()'s message about launch.rdzv_endpoint for this value."""
    config = RunConfig()
    config.name, config.launch.rdzv_endpoint = "r", endpoint
    (message,) = [p.message for p in validate(config, check_files=False) if p.field == ENDPOINT]
    return message


def _stored(form: LaunchForm) -> Any:
    config = RunConfig()
    config.name = "r"
    form.store(config)
    return config


@pytest.mark.parametrize(("written", "read", "shown"), CASES, ids=[c[0] for c in CASES])
def test_an_endpoint_that_is_no_text_is_shown_and_stored_as_written(qtbot: Any, written: str, read: Any,
                                                                    shown: str) -> None:
    form, config = _loaded(qtbot, written)
    assert config.launch.rdzv_endpoint == read and type(config.launch.rdzv_endpoint) is type(read)
    assert form.endpoint_edit.text() == shown
    form.processes_spin.setValue(4)  # an edit of another Launch field stores every field
    stored = _stored(form)
    assert stored.launch.rdzv_endpoint == read and type(stored.launch.rdzv_endpoint) is type(read)
    assert stored.launch.processes == 4
    # validation refuses it in its own words (naming the value), and the form shows them under the field
    problems = [p for p in validate(stored, check_files=False) if p.field == ENDPOINT]
    assert len(problems) == 1 and f"must be text such as 192.168.1.10:29500 (got {shown}, " in problems[0].message
    assert problems[0].message.endswith(". To fix: write machine 0's address and a free port as text, e.g. "
                                        "192.168.1.10:29500, or leave it empty on one machine.")
    message = problems[0].message
    form.show_problems(problems)
    label = form._fields[ENDPOINT].error_label()
    assert label.text() == message and not label.isHidden()
    assert form.endpoint_edit.property("problem") is True
    assert not form.copy_button.isEnabled()  # the lines would carry it: Copy waits for the fix


def test_the_users_edit_of_the_field_replaces_the_kept_endpoint(qtbot: Any) -> None:
    form, _ = _loaded(qtbot, "[node0, node1]")
    form.endpoint_edit.setFocus()
    form.endpoint_edit.selectAll()
    qtbot.keyClicks(form.endpoint_edit, "10.0.0.5:29500")
    assert _stored(form).launch.rdzv_endpoint == "10.0.0.5:29500"
    form, _ = _loaded(qtbot, "!!bool true")
    delete_last_character(qtbot, form, form.endpoint_edit)  # one key on the shown text: the user's text from now on
    assert _stored(form).launch.rdzv_endpoint == "tru"
    form, _ = _loaded(qtbot, "[node0, node1]")
    form.show()
    qtbot.waitExposed(form)
    clear = form.endpoint_edit.findChild(QToolButton)  # the field's clear button (setClearButtonEnabled)
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)  # empty, as the user asked: one machine, a free port
    assert form.endpoint_edit.text() == ""
    assert _stored(form).launch.rdzv_endpoint == ""


def test_yes_is_text_in_the_apps_yaml_and_is_kept_as_text(qtbot: Any) -> None:
    """`rdzv_endpoint: yes` is the text 'yes' as the app reads a config file (no YAML 1.1 boolean): shown and
    stored as it is, and refused as no host:port."""
    form, config = _loaded(qtbot, "yes")
    assert config.launch.rdzv_endpoint == "yes" and form.endpoint_edit.text() == "yes"
    form.processes_spin.setValue(4)
    stored = _stored(form)
    assert stored.launch.rdzv_endpoint == "yes"
    assert "The rendezvous endpoint 'yes' is not host:port" in refusal("yes")
    assert [p.message for p in validate(stored, check_files=False) if p.field == ENDPOINT] == [refusal("yes")]


def test_the_window_shows_the_files_endpoint_refused_and_saves_it_as_written(qtbot: Any, window: Any,
                                                                              tmp_path: Path) -> None:
    path = tmp_path / "list-endpoint.yaml"
    path.write_text("name: two\nlaunch:\n  processes: 2\n  rdzv_endpoint: [node0, node1]\n", encoding="utf-8")
    assert window.open_config(path)
    form = window.launch_form
    window.tabs.setCurrentWidget(window.pages[form])
    window.validator.wait()
    qtbot.wait(50)
    message = refusal(["node0", "node1"])
    assert "must be text such as 192.168.1.10:29500 (got [node0, node1], a list). To fix: " in message
    assert form.endpoint_edit.text() == "[node0, node1]"
    label = form._fields[ENDPOINT].error_label()
    assert label.text() == message and label.isVisible()
    assert message in [p.message for p in window.problems if p.field == ENDPOINT]
    assert not window.start_action.isEnabled()
    form.join_timeout_spin.setValue(600)  # the user edits another Launch field: the window stores the whole form
    qtbot.wait(400)  # the window validates 300 ms after the last edit
    window.validator.wait()
    qtbot.wait(50)
    assert window.config.launch.rdzv_endpoint == ["node0", "node1"]
    assert label.text() == message and label.isVisible()  # still refused in validation's words, at the field
    assert window.save()
    saved, _ = load_config(path)
    assert saved.launch.rdzv_endpoint == ["node0", "node1"] and saved.launch.join_timeout == 600
    assert "rdzv_endpoint:\n  - node0\n  - node1\n" in path.read_text(encoding="utf-8")
