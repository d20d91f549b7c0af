"""The All arguments tab's help line kept the description of the last focused row after the filter hid that row,
so it read as the description of a row still listed (or of none). It now goes back to the placeholder when the
filter hides the row it describes, and stays when the row is still listed."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from typing import Any

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.gui.forms import ArgumentsPanel
from finetune_studio.gui.forms.arguments_panel import HELP_PLACEHOLDER

PLACEHOLDER = "Select an argument to read its description here."


@pytest.fixture(scope="module")
def fields() -> Any:
    from finetune_studio.core.validation import training_fields

    return training_fields()


@pytest.fixture
def panel(qtbot: Any, fields: Any) -> Any:
    made = ArgumentsPanel()
    qtbot.addWidget(made)
    made.populate(fields)
    made.load(default_config())
    made.show()
    made.activateWindow()
    qtbot.waitExposed(made)
    return made


def _focus(qtbot: Any, panel: Any, name: str) -> None:
    row = panel.row(name)
    row.editor.setFocus()
    qtbot.waitUntil(lambda: panel.help_label.text().startswith(f"<b>{name}</b>"), timeout=2000)


def test_the_help_line_goes_back_to_the_placeholder_when_the_filter_hides_its_row(qtbot: Any, panel: Any) -> None:
    assert HELP_PLACEHOLDER == PLACEHOLDER and panel.help_label.text() == PLACEHOLDER
    _focus(qtbot, panel, "adam_beta1")
    described = panel.help_label.text()
    assert "—" in described

    panel.filter_edit.setFocus()
    panel.filter_edit.setText("adam")  # the row is still listed: its description stays
    assert not panel.row("adam_beta1").isHidden()
    assert panel.help_label.text() == described

    panel.filter_edit.setText("max_grad_norm")  # the row is hidden: no description of a row not listed
    assert panel.row("adam_beta1").isHidden() and not panel.row("max_grad_norm").isHidden()
    assert panel.help_label.text() == PLACEHOLDER

    panel.filter_edit.setText("")  # listed again, not focused: the placeholder until a row is focused
    assert not panel.row("adam_beta1").isHidden()
    assert panel.help_label.text() == PLACEHOLDER
    _focus(qtbot, panel, "max_grad_norm")
    assert panel.help_label.text().startswith("<b>max_grad_norm</b> — ")


def test_show_changed_only_hides_the_described_row_too(qtbot: Any, panel: Any) -> None:
    _focus(qtbot, panel, "adam_beta1")
    panel.changed_only_check.setChecked(True)  # nothing changed: every row hidden
    assert panel.row("adam_beta1").isHidden()
    assert panel.help_label.text() == PLACEHOLDER
