"""The window's two Stops say what each stops: the toolbar's stops training, the Try tab's stops the answers (the
Try tab's was renamed "Stop answering" in 4f29ae7; the toolbar's tip and the tab's busy message still said a bare
"Stop")."""

from __future__ import annotations

from typing import Any

from tests.gui.test_app import dialog_log, make_window


def test_the_toolbar_stop_says_it_stops_training_and_the_try_tab_names_its_own(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    assert window.stop_action.toolTip() == "Stop training after the current step and save a checkpoint"
    assert window.try_tab.stop_button.text() == "Stop answering"
