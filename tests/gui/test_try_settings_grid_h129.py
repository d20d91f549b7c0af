"""The Try tab's settings grid and its buttons, as a screenshot review found them: the Sample check had no label in
its row, the seed's problem was only a red field (its words in a tooltip, or after Send), and the tab's Stop sat
under the toolbar's Stop with the same word, though one stops the answers and the other training.

The settings box is tested on its own; the Stop button on the Try tab of tests/gui/test_try_tab_states.py (the
demo model's real files, core.generate's jobs replaced by fakes)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QGridLayout, QLabel

from finetune_studio.gui.try_tab import FIELD_LABELS, SettingsBox
from tests.gui.test_try_tab_states import Fakes, fakes, idle, runs, tab  # noqa: F401 - fixtures

SEED_PROBLEM = ("The seed must be a whole number from 0 to 18446744073709551615 (got '{}'). To fix: write one, e.g. "
                "0, or press Defaults.")


def _settings_box(qtbot: Any) -> SettingsBox:
    box = SettingsBox()
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    return box


def _row_labels(box: SettingsBox) -> dict[str, str]:
    """Each field's object name -> the text of the label left of it in the grid ('' when none)."""
    grid = box.layout()
    assert isinstance(grid, QGridLayout)
    found = {}
    for index in range(grid.count()):
        row, column, _, columns = grid.getItemPosition(index)
        widget = grid.itemAt(index).widget()
        if column % 2 == 1 and columns == 1 and not isinstance(widget, QLabel):
            left = grid.itemAtPosition(row, column - 1)
            found[widget.objectName()] = left.widget().text() if left is not None and left.widget() else ""
    return found


def test_every_setting_has_a_label_the_sample_check_too(qtbot: Any) -> None:
    box = _settings_box(qtbot)
    labels = _row_labels(box)
    assert labels == {"setting_do_sample": "Decoding", "setting_temperature": "Temperature", "setting_top_p": "Top-p",
                      "setting_top_k": "Top-k", "setting_repetition_penalty": "Repetition penalty",
                      "setting_max_new_tokens": "Max new tokens", "setting_seed": "Seed", "settings_defaults": ""}
    assert box.labels["setting_do_sample"].buddy() is box.sample and box.sample.text() == "Sample"
    assert set(FIELD_LABELS.values()) <= {label.text() for label in box.labels.values()}


def test_the_seed_refuses_letters_with_a_message_under_the_settings(qtbot: Any) -> None:
    box = _settings_box(qtbot)
    assert not box.seed_error.isVisibleTo(box)
    box.sample.setChecked(True)
    assert box.seed.isEnabled() and box.seed.placeholderText() == "e.g. 0"
    box.seed.setFocus()
    box.seed.selectAll()
    QTest.keyClicks(box.seed, "12abc")
    problem = SEED_PROBLEM.format("12abc")
    assert box.seed.text() == "12abc" and box.seed.value() is None  # kept as typed, not taken as a seed
    assert box.problem() == problem and box.seed.property("problem") is True
    assert box.seed_error.isVisibleTo(box) and box.seed_error.text() == problem
    box.sample.setChecked(False)  # greedy decoding uses no seed: nothing to say while the field is off
    assert not box.seed.isEnabled() and not box.seed_error.isVisibleTo(box)
    box.sample.setChecked(True)
    assert box.seed_error.isVisibleTo(box) and box.seed_error.text() == problem
    box.seed.selectAll()
    QTest.keyClicks(box.seed, "42")
    assert box.seed.value() == 42 and box.problem() is None
    assert not box.seed_error.isVisibleTo(box) and box.seed_error.text() == ""


def test_the_try_tab_has_one_stop_and_it_says_what_it_stops(qtbot: Any, tab: Any, fakes: Fakes) -> None:
    tab.show()
    idle(qtbot, tab)
    chat_page = tab.pages.widget(0)
    stops = [button.objectName() for button in chat_page.findChildren(QAbstractButton)
             if button.text().replace("&", "").startswith("Stop")]
    assert stops == ["try_stop"]
    assert tab.stop_button.text() == "Stop answering" and not tab.stop_button.isEnabled()
    assert "Training, if a run is training, goes on" in tab.stop_button.toolTip()
    fakes.stream = True  # answers stream until stopped
    tab.prompt_edit.setPlainText("Leo")
    tab.send_button.click()
    qtbot.waitUntil(tab.stop_button.isEnabled, timeout=10_000)
    QTest.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    idle(qtbot, tab)
    assert not tab.stop_button.isEnabled()
