"""The Hardware tab's sections sit inside the page margin every form tab has (helper-129's review: its content sat at
x 2 while the other tabs' was inset by gui.forms.common.PAGE_MARGINS)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QGroupBox

from tests.gui.test_app import dialog_log, make_window


def _first_box_x(window: Any, title: str, qtbot: Any) -> int:
    for index in range(window.tabs.count()):
        if window.tabs.tabText(index).replace("&", "") == title:
            window.tabs.setCurrentIndex(index)
            qtbot.wait(30)
            boxes = [b for b in window.tabs.widget(index).findChildren(QGroupBox) if b.isVisible()]
            return min(b.mapTo(window, QPoint(0, 0)).x() for b in boxes)
    raise AssertionError(f"no {title} tab")


def test_the_hardware_tabs_sections_start_where_the_dataset_tabs_do(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    window.resize(1280, 800)
    qtbot.wait(50)
    dataset, hardware = _first_box_x(window, "Dataset", qtbot), _first_box_x(window, "Hardware", qtbot)
    assert dataset > 2 and hardware == dataset, (dataset, hardware)
