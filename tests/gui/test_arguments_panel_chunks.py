"""The All arguments rows are built a few per event-loop turn (ArgumentsPanel.populate_in_steps), not ~100 at once
on the GUI thread (0.1-0.6 s with the window frozen, on a 2-core machine). What is loaded, edited, reset or marked
while the rows are still being built must reach them, and the config stored mid-build is the one that was set."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QLineEdit

from finetune_studio.core.config import RunConfig, default_config
from finetune_studio.core.errors import Problem
from finetune_studio.gui.forms import ArgumentsPanel
from finetune_studio.gui.forms.arguments_panel import HIDDEN_KEYS, ArgRow
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, window

LATE = "seed"  # far down TrainingArguments: never among the rows of the first turns


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


@pytest.fixture(scope="module")
def fields() -> Any:
    from finetune_studio.core.validation import training_fields

    return training_fields()


@pytest.fixture
def panel(qtbot: Any) -> ArgumentsPanel:
    """Shown, as the window's tab is when it builds the rows."""
    panel = ArgumentsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def built(panel: ArgumentsPanel) -> list[str]:
    """The rows that exist now (without panel.row(), which finishes the build)."""
    return [row.spec.name for row in panel.rows_widget.findChildren(ArgRow)]


def listed(panel: ArgumentsPanel) -> list[str]:
    """The rows in the order the list shows them."""
    items = (panel.rows_layout.itemAt(i).widget() for i in range(panel.rows_layout.count()))
    return [widget.spec.name for widget in items if isinstance(widget, ArgRow)]


def drain(qtbot: Any, panel: ArgumentsPanel) -> None:
    qtbot.waitUntil(lambda: not panel.building, timeout=30_000)
    end = time.monotonic() + 0.1
    while time.monotonic() < end:  # the last layout and paint
        QApplication.processEvents()


def owned(config: RunConfig, panel: ArgumentsPanel) -> dict[str, Any]:
    return {k: v for k, v in config.training.items() if panel.owns(f"training.{k}")}


def test_the_rows_are_built_over_several_turns_and_all_exist_after(qtbot: Any, panel: ArgumentsPanel,
                                                                    fields: Any) -> None:
    expected = [name for name in fields if name not in HIDDEN_KEYS]
    assert len(expected) > 50
    panel.populate_in_steps(fields)
    first = built(panel)
    assert panel.building and 0 < len(first) < len(expected)  # the first rows at once, not all of them
    assert panel.stack.currentWidget() is panel.scroll
    QApplication.processEvents()  # one turn of the event loop
    second = built(panel)
    assert len(first) < len(second) < len(expected)
    assert panel.count_label.text() == "Listing the arguments…"

    drain(qtbot, panel)
    assert sorted(built(panel)) == sorted(expected)
    assert listed(panel) == expected  # in the dataclass's order
    assert panel.count_label.text() == f"{len(expected)} arguments · 0 changed from the default"
    assert not panel.no_match.isVisible()
    rows = [panel._rows[name] for name in expected]
    for row, below in zip(rows, rows[1:]):  # laid out whole: none squeezed, none over the next one
        assert row.height() == row.sizeHint().height(), row.spec.name
        assert row.geometry().bottom() < below.geometry().top(), row.spec.name
    assert all(row.isVisible() for row in rows)


def test_a_config_loaded_mid_build_reaches_the_rows_built_later(qtbot: Any, panel: ArgumentsPanel,
                                                                 fields: Any) -> None:
    panel.populate_in_steps(fields)
    assert LATE not in built(panel)
    config = default_config()
    config.training.update({LATE: 7, "weight_decay": 0.01, "lr_scheduler_kwargs": {"min_lr": 1e-6},
                            "not_a_field": 3})
    panel.load(config)  # a config opened while the rows are built
    stored = RunConfig()
    panel.store(stored)  # what saving reads mid-build
    assert owned(stored, panel) == owned(config, panel)
    assert owned(stored, panel) == {LATE: 7, "weight_decay": 0.01, "lr_scheduler_kwargs": {"min_lr": 1e-6},
                                    "not_a_field": 3}
    assert panel.building

    drain(qtbot, panel)
    seed = panel._rows[LATE]
    assert isinstance(seed.editor, QLineEdit) and seed.editor.text() == "7"
    assert panel.is_changed(LATE) and seed.name_label.font().bold() and seed.reset_button.isEnabled()
    assert panel._rows["weight_decay"].editor.text() == "0.01"
    assert panel._rows["lr_scheduler_kwargs"].editor.text() == "{min_lr: 1.0e-06}"
    assert listed(panel)[0] == "not_a_field"  # the config's unknown key: at the top, marked
    assert panel._rows["not_a_field"].editor.property("problem") is True
    assert panel.count_label.text().endswith(" · 4 changed from the default")
    after = RunConfig()
    panel.store(after)
    assert owned(after, panel) == owned(config, panel)


def test_edits_resets_and_problems_mid_build_are_kept(qtbot: Any, panel: ArgumentsPanel, fields: Any) -> None:
    config = default_config()
    config.training.update({LATE: 7, "data_seed": 3})
    panel.load(config)  # before the build (as the window loads every form at start)
    panel.populate_in_steps(fields)
    first = panel._rows[built(panel)[0]]
    assert isinstance(first.editor, QLineEdit)  # output_dir
    with qtbot.waitSignal(panel.changed):
        qtbot.keyClicks(first.editor, "out")  # the user types in a row already there
    assert LATE not in built(panel) and "data_seed" not in built(panel)
    panel.reset(LATE)  # ↺ on a row not built yet: gone from the config now
    panel.show_problems([Problem("training.data_seed", "data_seed must be a whole number.")])
    stored = RunConfig()
    panel.store(stored)
    assert owned(stored, panel) == {"data_seed": 3, first.spec.name: "out"}

    drain(qtbot, panel)
    seed = panel._rows[LATE]
    assert seed.editor.text() == "42" and not panel.is_changed(LATE) and not seed.reset_button.isEnabled()  # default
    data_seed = panel._rows["data_seed"].editor
    assert data_seed.text() == "3" and data_seed.property("problem") is True
    assert data_seed.toolTip() == "data_seed must be a whole number."
    assert first.editor.text() == "out"
    after = RunConfig()
    panel.store(after)
    assert owned(after, panel) == {"data_seed": 3, first.spec.name: "out"}


def test_the_filter_set_mid_build_applies_to_the_rows_built_later(qtbot: Any, panel: ArgumentsPanel,
                                                                   fields: Any) -> None:
    panel.populate_in_steps(fields)
    panel.filter_edit.setText("liger")  # matches none of the first rows: no "No argument matches" yet
    assert "use_liger_kernel" not in built(panel)
    assert not panel.no_match.isVisible()
    drain(qtbot, panel)
    assert panel._rows["use_liger_kernel"].isVisible() and not panel._rows[LATE].isVisible()
    shown = [name for name, row in panel._rows.items() if not row.isHidden()]
    assert "use_liger_kernel" in shown and len(shown) < 5
    assert panel.count_label.text().startswith(f"{len(shown)} of {len(panel._rows)} arguments shown")


def test_a_problem_link_to_a_row_not_built_yet_focuses_it_once_built(qtbot: Any, panel: ArgumentsPanel,
                                                                      fields: Any) -> None:
    panel.activateWindow()
    panel.populate_in_steps(fields)
    assert panel.field_widget(f"training.{LATE}") is None  # what MainWindow.show_field asks right after the tab
    assert panel.field_widget("training.no_such_key") is None
    drain(qtbot, panel)
    editor = panel._rows[LATE].editor
    qtbot.waitUntil(editor.hasFocus, timeout=5_000)
    assert panel.help_label.text().startswith(f"<b>{LATE}</b>")


def test_row_finishes_the_build(qtbot: Any, panel: ArgumentsPanel, fields: Any) -> None:
    panel.populate_in_steps(fields)
    assert panel.building
    row = panel.row(LATE)  # as before: the row, whatever turn of the build it is
    assert row is not None and row.spec.name == LATE and not panel.building
    assert len(built(panel)) == len([name for name in fields if name not in HIDDEN_KEYS])
    assert panel.row("no_such_key") is None


def test_the_window_builds_the_tab_in_steps_when_first_shown(qtbot: Any, window: Any) -> None:
    config = default_config()
    config.training[LATE] = 7
    window.set_config(config)
    qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
    panel = window.arguments_panel
    assert not built(panel)  # nothing before the tab is shown
    window.tabs.setCurrentWidget(window.pages[panel])
    assert panel.building and 0 < len(built(panel)) and LATE not in built(panel)
    drain(qtbot, panel)
    assert panel._rows[LATE].editor.text() == "7" and panel.is_changed(LATE)
    assert not window.isWindowModified()  # the rows built on later turns are the window filling them, no edit
    assert window.config.training[LATE] == 7
