"""The Try tab's settings start their fields at the x the form tabs start theirs (a screenshot review's finding): the
settings grid had its own narrow label column and margin, so its first fields started at x 133 while every form
tab's start at 171 in the same window. It now takes the forms' section margin, label column and label spacing
(gui.forms.common), and still fits a 900×600 window: the long labels are in its left column.

Measured on the real window, shown offscreen, at the default size and at 900×600, in window coordinates."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from finetune_studio.gui.forms.common import SECTION_MARGINS
from tests.gui.test_app import dialog_log, make_window  # fixtures
from tests.gui.test_field_columns_h129 import _form_columns

FIRST_COLUMN = ("setting_do_sample", "setting_temperature", "setting_repetition_penalty", "setting_max_new_tokens")


def _x(widget: QWidget, window: Any) -> int:
    return widget.mapTo(window, QPoint(0, 0)).x()


@pytest.mark.parametrize("size", [(1280, 800), (900, 600)])
def test_the_try_settings_start_their_fields_where_the_forms_do(qtbot: Any, make_window: Any,
                                                                size: tuple[int, int]) -> None:
    window = make_window(warm=False)
    window.resize(*size)
    qtbot.wait(50)
    forms = {}
    for form in (window.dataset_form, window.training_form):
        window.tabs.setCurrentWidget(window.pages[form])
        qtbot.wait(30)
        forms[form.objectName() or type(form).__name__] = _form_columns(window, window.pages[form])
    field_xs = {x for rows in forms.values() for _, _, x in rows}
    label_xs = {x for rows in forms.values() for _, x, _ in rows}
    assert len(field_xs) == 1 and len(label_xs) == 1, forms  # the forms agree among themselves
    window.tabs.setCurrentWidget(window.pages.get(window.try_tab, window.try_tab))
    qtbot.wait(50)
    box = window.try_tab.settings_box
    assert box.isVisible()
    fields = {name: _x(box.findChild(QWidget, name), window) for name in FIRST_COLUMN}
    labels = {name: _x(box.labels[name], window) for name in FIRST_COLUMN}
    assert set(fields.values()) == field_xs, (fields, field_xs)
    assert set(labels.values()) == label_xs, (labels, label_xs)
    assert box.sample.text() == "Sample" and box.labels["setting_do_sample"].text() == "Decoding"
    # Nothing cut at the right: the whole box inside the Chat page's view, each field at least its least width.
    chat = window.try_tab.pages.widget(0)
    assert box.minimumSizeHint().width() <= box.width() <= chat.viewport().width()
    assert chat.widget().width() <= chat.viewport().width()
    for name in ("sample", "seed", "temperature", "top_p", "repetition_penalty", "top_k", "max_new_tokens",
                 "defaults_button"):
        widget = getattr(box, name)
        right = widget.mapTo(box, QPoint(widget.width(), 0)).x()
        assert right <= box.width() - SECTION_MARGINS[2], (name, right, box.width())
        assert widget.width() >= (widget.minimumWidth() or widget.minimumSizeHint().width()), name
    assert not chat.horizontalScrollBar().isVisible()


def test_tab_moves_through_the_settings_as_they_read(qtbot: Any, make_window: Any) -> None:
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.pages.get(window.try_tab, window.try_tab))
    qtbot.wait(30)
    box = window.try_tab.settings_box
    box.sample.setChecked(True)  # every field takes part
    window.activateWindow()
    box.sample.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is box.sample)
    order = [QApplication.focusWidget().objectName()]
    for _ in range(6):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        order.append(focused.objectName() if focused.objectName() else focused.parentWidget().objectName())
    assert order == ["setting_do_sample", "setting_seed", "setting_temperature", "setting_top_p",
                     "setting_repetition_penalty", "setting_top_k", "setting_max_new_tokens"]
