"""A message appearing under one field of the Dataset tab squeezed the rows of another section (helper-77): the
Dataset line edit drawn at about half its height and a gap under Encoding, until the window was resized.

QFormLayout keeps one array of row heights for two cached widths, so a section squeezed a moment (the form laid out
before its scroll area grew it) and resized back laid its rows out with another width's heights (common.FormLayout).
The test asserts real geometry under QT_QPA_PLATFORM=offscreen (it reproduces there, no window system needed):
every editor as tall as it asks to be, and no row over the next one."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QFormLayout, QGroupBox, QScrollArea, QWidget

from finetune_studio.core.config import PRESETS
from finetune_studio.core.errors import WARNING, Problem
from finetune_studio.gui.forms import DatasetForm

LONG_WARNING = ("max_length 1,024 is past this model's context: it was trained on at most 512 tokens "
                "(max_position_embeddings in its config.json). A longer row trains at positions the model never "
                "learned, which usually makes it worse. To fix: set max_length to 512 or less.")


pytestmark = pytest.mark.usefixtures("drain_background")  # tests/gui/conftest.py


def settle(seconds: float = 0.3) -> None:
    """Run the event loop a while: the layouts lay out through posted events, as in the app."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()


def in_scroll_area(form: QWidget, width: int) -> QScrollArea:
    """The form in a scroll area as MainWindow puts each tab (widgetResizable, no frame)."""
    page = QScrollArea()
    page.setWidgetResizable(True)
    page.setFrameShape(QScrollArea.Shape.NoFrame)
    page.setWidget(form)
    page.resize(width, 680)
    page.show()
    return page


def row_fields(layout: QFormLayout) -> list[Any]:
    return [layout.itemAt(row, QFormLayout.ItemRole.FieldRole) for row in range(layout.rowCount())
            if layout.itemAt(row, QFormLayout.ItemRole.FieldRole) is not None]


def assert_rows_whole(box: QGroupBox) -> None:
    """Each visible row at least as tall as its height for its width, and above the next row."""
    layout = box.layout()
    assert isinstance(layout, QFormLayout)
    fields = [item for item in row_fields(layout) if not item.isEmpty()]
    for item in fields:
        want = item.heightForWidth(item.geometry().width()) if item.hasHeightForWidth() else item.minimumSize().height()
        assert item.geometry().height() >= want, (box.title(), item.geometry(), want)
    for upper, lower in zip(fields, fields[1:], strict=False):
        assert upper.geometry().bottom() < lower.geometry().top(), (box.title(), upper.geometry(), lower.geometry())


def test_a_message_under_a_field_leaves_the_source_rows_whole(qtbot: Any) -> None:
    form = DatasetForm()
    page = in_scroll_area(form, 598)  # the tab's width in a 1280 px window, vertical scroll bar shown
    qtbot.addWidget(page)
    settle()  # shown and laid out empty first, as the window is before a config is loaded
    config = PRESETS["demo"]()  # builtin:sample: offline
    config.dataset.text_column = "horoscope_txt"  # a column the sample lacks: marked under Text column
    form.load(config)
    qtbot.waitUntil(lambda: form.preview_model.rowCount() > 0, timeout=60_000)
    label = form._fields["dataset.text_column"].error_label()
    qtbot.waitUntil(lambda: label.isVisible() and "horoscope_txt" in label.text(), timeout=10_000)
    settle()
    assert_fields_whole(form)
    form.set_warnings([Problem("dataset.max_length", LONG_WARNING, WARNING)])  # a second message, longer
    settle()
    assert_fields_whole(form)


def assert_fields_whole(form: DatasetForm) -> None:
    edit = form.source_edit
    assert edit.height() == edit.sizeHint().height()  # was 13 of 22 px: the Dataset box at half height
    assert form.encoding_combo.height() == form.encoding_combo.sizeHint().height()
    for box in form.findChildren(QGroupBox):
        assert_rows_whole(box)
    # The hint under Encoding right under its box, not after a gap.
    combo_frame = form.encoding_combo.parentWidget()
    assert form.encoding_hint.geometry().top() - combo_frame.geometry().bottom() <= 6

