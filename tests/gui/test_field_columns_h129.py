"""Every form tab starts its fields at one x, inside one page margin (a screenshot review's finding): the editors
started at x 119 on the Dataset tab, 120 on Model, 165 on Training, 91 on Hub, 136 on Launch and 254 on All
arguments, whose filter and note sat at the window's edge (x 0) while the other tabs' content was inset.

Measured on the real window, shown offscreen, at the default size and at 900×600, in window coordinates: each
visible QFormLayout row's label and field, and All arguments' name labels and editors."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QFormLayout, QLabel, QPushButton

from finetune_studio.gui.forms.common import PAGE_MARGINS, SECTION_MARGINS, ProblemFrame
from tests.gui.test_app import LONG, dialog_log, make_window

TABS = ("Dataset", "Model", "Training", "All arguments", "Hub", "Launch")
ARGUMENTS = ("output_dir", "seed", "max_steps", "optim", "average_tokens_across_devices", "tf32")


def _form_columns(window: Any, page: Any) -> list[tuple[str, int, int]]:
    """(label, label x, field x) of every visible labelled row of the QFormLayouts on the page."""
    found = []
    for layout in page.findChildren(QFormLayout):
        host = layout.parentWidget()
        for row in range(layout.rowCount()):
            label = layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = layout.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is None or field is None or not isinstance(label.widget(), QLabel):
                continue
            if not label.widget().isVisible():
                continue
            found.append((label.widget().text(), label.widget().mapTo(window, QPoint(0, 0)).x(),
                          host.mapTo(window, field.geometry().topLeft()).x()))
    return found


def _argument_columns(window: Any, qtbot: Any) -> list[tuple[str, int, int]]:
    panel = window.arguments_panel
    qtbot.waitUntil(lambda: all(panel.row(name) is not None for name in ARGUMENTS), timeout=LONG)
    qtbot.wait(50)
    found = []
    for name in ARGUMENTS:
        row = panel.row(name)
        editor = row.editor.parentWidget() if isinstance(row.editor.parentWidget(), ProblemFrame) else row.editor
        found.append((name, row.name_label.mapTo(window, QPoint(0, 0)).x(),  # its ProblemFrame, as the forms'
                      editor.mapTo(window, QPoint(0, 0)).x()))
    return found


@pytest.mark.parametrize("size", [(1280, 800), (900, 600)])
def test_every_form_tab_starts_its_fields_at_one_x(qtbot: Any, make_window: Any, size: tuple[int, int]) -> None:
    window = make_window()  # warmed: All arguments builds its rows from the installed transformers
    window.resize(*size)
    qtbot.wait(50)
    columns: dict[str, list[tuple[str, int, int]]] = {}
    for index in range(window.tabs.count()):
        title = window.tabs.tabText(index).replace("&", "")
        if title not in TABS:
            continue
        window.tabs.setCurrentIndex(index)
        qtbot.wait(30)
        page = window.tabs.widget(index)
        columns[title] = (_argument_columns(window, qtbot) if title == "All arguments"
                          else _form_columns(window, page))
        assert columns[title], f"no labelled fields measured on the {title} tab"
    assert set(columns) == set(TABS)
    fields = {title: sorted({x for _, _, x in rows}) for title, rows in columns.items()}
    labels = {title: sorted({x for _, x, _ in rows}) for title, rows in columns.items()}
    everything = [x for xs in fields.values() for x in xs]
    assert max(everything) - min(everything) <= 2, fields
    every_label = [x for xs in labels.values() for x in xs]
    assert max(every_label) - min(every_label) <= 2, labels
    # The names of All arguments are whole: a long one wraps after an underscore instead of being cut short.
    long_name = window.arguments_panel.row("average_tokens_across_devices").name_label
    assert long_name.text().replace("\u200b", "") == "average_tokens_across_devices" and long_name.wordWrap()
    assert long_name.height() >= long_name.heightForWidth(long_name.width())


def test_the_all_arguments_tab_has_the_other_pages_margin(qtbot: Any, make_window: Any) -> None:
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.pages[window.arguments_panel])
    qtbot.wait(30)
    panel = window.arguments_panel
    margins = panel.layout().contentsMargins()
    assert (margins.left(), margins.top(), margins.right(), margins.bottom()) == PAGE_MARGINS
    assert panel.filter_edit.mapTo(panel, QPoint(0, 0)).x() == PAGE_MARGINS[0]
    for form in (window.dataset_form, window.model_form, window.training_form, window.hub_form, window.launch_form,
                 window.try_tab):
        margins = form.layout().contentsMargins()
        assert (margins.left(), margins.top(), margins.right(), margins.bottom()) == PAGE_MARGINS, form


def test_the_dataset_buttons_wrap_instead_of_widening_the_form(qtbot: Any, make_window: Any) -> None:
    """With the shared label column the Dataset row's three buttons were wider than a 900 px window leaves."""
    window = make_window(warm=False)
    window.resize(900, 600)
    window.tabs.setCurrentWidget(window.pages[window.dataset_form])
    qtbot.wait(50)
    form = window.dataset_form
    assert not window.pages[form].horizontalScrollBar().isVisible()
    buttons: list[QPushButton] = [form.open_file_button, form.open_folder_button, form.sample_button]
    edges = [button.mapTo(form, QPoint(button.width(), 0)).x() for button in buttons]
    assert max(edges) <= form.width() - SECTION_MARGINS[2]
    assert all(button.isVisible() and button.width() >= button.sizeHint().width() for button in buttons)
    assert form.sample_button.y() > form.open_file_button.y()  # on a second line
    assert form.open_folder_button.x() > form.open_file_button.x()
