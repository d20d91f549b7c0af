"""Nothing is cut at the window sizes people use (issue 12 item 13): labels get the height their wrapped text
needs, labels drawn on charts stay inside the chart, the log shows its last line whole, and problems listed above
the chart keep the room they need.

Each test looks at the real widgets laid out at a given size (offscreen), the way a screenshot would show them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.gui.test_app import DialogLog, dialog_log, make_window
from tests.helpers import shown


def test_the_max_length_label_stays_inside_the_histogram(qtbot: Any) -> None:
    from finetune_studio.gui.forms.dataset_form import TokenHistogram

    histogram = shown(qtbot, TokenHistogram(), 380, 230)
    edges = list(range(0, 270, 10))
    histogram.set_histogram(edges, [600, 5, 120, 260, 240, 120, 130] + [20] * 19)
    view = histogram.plot.getPlotItem().vb
    for max_length in (2, 8, 32, 128, 250):
        histogram.set_max_length(max_length)
        qtbot.wait(10)
        label = histogram.line.label
        assert label.isVisible() and label.toPlainText() == f"max_length {max_length}"
        inside = view.sceneBoundingRect().adjusted(-1, -1, 1, 1)
        assert inside.contains(label.sceneBoundingRect()), max_length  # whole, not cut by the axis


def _last_line_shown_whole(log: Any) -> bool:
    from PySide6.QtGui import QTextCursor

    cursor = log.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    bottom = log.cursorRect(cursor).bottom()
    return 0 <= bottom <= log.viewport().height()


def test_the_log_keeps_its_last_line_whole_when_it_gets_smaller(qtbot: Any) -> None:
    """Problems shown above the chart, or a smaller window, take height from the log: a log following its tail
    still shows its last line whole (it was cut in half, "…config. Th"); one scrolled up stays where it is."""
    from finetune_studio.gui.log_panel import LogPanel

    log = shown(qtbot, LogPanel(), 600, 240)
    for i in range(60):
        log.message(f"line {i}: the run wrote its config. The next line follows.")
    bar = log.verticalScrollBar()
    assert bar.value() == bar.maximum() and _last_line_shown_whole(log)
    for height in (170, 113, 151, 97, 260):
        log.resize(600, height)
        qtbot.wait(20)
        assert bar.value() == bar.maximum() and _last_line_shown_whole(log), height
    bar.setValue(10)  # the user scrolled up to read
    log.resize(600, 140)
    log.message("one more")
    qtbot.wait(20)
    assert bar.value() == 10


@pytest.mark.parametrize("size", [(900, 600), (1280, 800)])
def test_every_form_fits_its_tab_without_a_sideways_scroll(qtbot: Any, make_window: Any, size: tuple) -> None:
    """At 900×600 the window was 922 px wide and the Dataset form scrolled sideways in its pane (the Recompute
    button, the histogram's right edge and preview cells cut off); a label that wraps beside a button was cut at
    the top and bottom."""
    from PySide6.QtWidgets import QScrollArea

    window = make_window()
    window.resize(*size)
    qtbot.wait(50)
    assert (window.width(), window.height()) == size  # the window's minimum size is within it
    for form, page in window.pages.items():
        window.tabs.setCurrentWidget(page)
        qtbot.wait(20)
        if isinstance(page, QScrollArea):
            assert not page.horizontalScrollBar().isVisible(), type(form).__name__
            assert form.width() >= form.minimumSizeHint().width(), type(form).__name__
    label = window.dataset_form.stats_label
    label.setText("243 of 2,000 rows will be truncated at max_length (128 tokens) — a text that needs two lines.")
    window.tabs.setCurrentWidget(window.pages[window.dataset_form])
    qtbot.wait(50)
    assert label.height() >= label.heightForWidth(label.width())


def test_a_long_status_message_ends_in_an_ellipsis_not_cut_off(qtbot: Any, make_window: Any) -> None:
    window = make_window(warm=False)
    window.resize(900, 600)
    qtbot.wait(50)
    bar = window.statusBar()
    text = "Finished 40 steps. Model saved to /home/someone/.local/share/finetune-studio/runs/" + "x" * 80 + "/model."
    bar.showMessage(text, 5000)
    shown = bar.currentMessage()
    assert shown != text and "…" in shown and shown.endswith("/model.")  # the end stays in view
    assert bar.fontMetrics().horizontalAdvance(shown) <= bar.message_room()
    assert bar.toolTip() == text and bar.full_message == text
    bar.showMessage("Saved config.yaml", 5000)
    assert bar.currentMessage() == "Saved config.yaml" and bar.toolTip() == ""


def test_every_tab_title_shows_at_the_default_size(qtbot: Any, make_window: Any) -> None:
    """At 1280×800 the first split gave the forms 526 px, and the last two of the nine tabs (Runs and Try, the
    Try tab a headline feature) hid behind the tab bar's scroll arrows, Hardware cut in half."""
    window = make_window(warm=False)
    window.resize(1280, 800)
    qtbot.wait(50)
    bar = window.tabs.tabBar()
    titles = [bar.tabText(i) for i in range(bar.count())]
    assert titles[-2:] == ["Runs", "Try"]
    hidden = [title for i, title in enumerate(titles) if bar.tabRect(i).right() >= bar.width()]
    assert hidden == [], f"behind the scroll arrows: {hidden} (tab bar {bar.width()} px)"
    assert window.splitter.sizes()[1] >= 640 - window.splitter.handleWidth()  # the chart keeps its room


def test_a_wide_window_gives_half_its_extra_width_to_the_forms_until_the_user_moves_the_splitter(
        qtbot: Any, make_window: Any) -> None:
    """On a 1920 px screen the forms column stayed ~600 px and the chart took 1300 px, so the Runs tab kept its Model
    and Dataset columns hidden for lack of room with half the screen blank beside it."""
    window = make_window(warm=False)
    window.resize(1280, 800)
    qtbot.wait(20)
    narrow = window.splitter.sizes()
    assert narrow[0] == window.forms_width
    window.resize(1920, 1080)
    qtbot.wait(20)
    width = window.splitter.width()
    forms, chart = window.splitter.sizes()
    assert forms == window.forms_width + (width - 1280) // 2 and chart >= 900
    window.resize(1280, 800)  # narrower again: the first split comes back
    qtbot.wait(20)
    assert window.splitter.sizes() == narrow
    window.resize(1920, 1080)
    qtbot.wait(20)
    window.splitter.moveSplitter(700, 1)  # the user's hand (emits splitterMoved as a drag does)
    mine = window.splitter.sizes()
    assert mine[0] == 700 - window.splitter.handleWidth() or abs(mine[0] - 700) <= window.splitter.handleWidth()
    window.resize(1800, 1000)
    qtbot.wait(20)
    assert window.splitter.sizes()[0] == mine[0]  # kept: the chart's column gives way
