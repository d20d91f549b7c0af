"""Tooltips that show the user's text (a saved prompt in the Try tab's Saved prompts, a prompt or an answer in the
Compare table) stay within the screen: cut at 600 characters or 15 lines with '…' and where the rest is, wrapped
as rich text (a run of characters with no space in it gets places to wrap), the start of the text shown word for
word. Asserted on the tooltip Qt really shows (its QLabel's size) as well as on its text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QToolTip

from tests.gui.test_compare_view_h138 import as_read, on_disk, record, shown_view
from tests.gui.test_try_tab_states import Fakes, fakes, open_try_tab, runs  # noqa: F401 - fixtures

# 20,000 characters of words, as a pasted document: the Saved prompts item's tooltip was all of it, one line.
WORDS = "Write a horoscope for Aries in the voice of a weary lighthouse keeper who has seen every storm. "
PROMPT = (WORDS * 220)[:20_000]
MORE_SAVED = "(pick it to read it all in the prompt box)"

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support raise")  # a tooltip shown offscreen


def shown_tip(qtbot: Any, widget: Any, tip: str) -> QLabel:
    """The label Qt shows for `tip` over `widget` (QToolTip's own), once it is shown."""
    QToolTip.showText(widget.mapToGlobal(QPoint(5, 5)), tip, widget)
    labels: list[QLabel] = []

    def found() -> bool:
        labels[:] = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, QLabel) and w.objectName() == "qtooltip_label" and w.isVisible()]
        return bool(labels)

    qtbot.waitUntil(found, timeout=2000)
    return labels[0]


def within_screen(label: QLabel) -> bool:
    screen = QGuiApplication.primaryScreen().availableGeometry()
    return label.width() <= min(700, screen.width()) and label.height() <= screen.height()


@pytest.fixture(autouse=True)
def _hide_tips() -> Any:
    yield
    QToolTip.hideText()


def test_a_long_saved_prompts_tooltip_shows_its_start_cut_and_wrapped(qtbot: Any, runs: Path, fakes: Fakes) -> None:
    tab = open_try_tab(qtbot, runs)
    try:
        tab.session.config.prompts[:] = [PROMPT, "Pisces"]
        tab._load_prompts()
        combo = tab.saved_combo
        tip = combo.itemData(0, 3)  # Qt.ItemDataRole.ToolTipRole
        assert as_read(tip) == PROMPT[:600] + "… " + MORE_SAVED
        assert combo.itemData(1, 3) is None  # a short one needs none: it is listed whole
        label = shown_tip(qtbot, combo, tip)
        assert label.text() == tip and within_screen(label), (label.width(), label.height())
        combo.setCurrentIndex(0)
        tab._use_saved(0)  # picked: the prompt box gets all of it
        assert tab.prompt_edit.toPlainText() == PROMPT
    finally:
        fakes.gate.set()
        tab.shutdown()


def test_compare_tooltips_of_an_unbroken_answer_and_a_prompt_of_many_lines_fit_the_screen(
        qtbot: Any, tmp_path: Path) -> None:
    view = shown_view(qtbot)
    view.set_run(tmp_path)
    prompt = "".join(f"line {i}\n" for i in range(300))  # a pasted list: its tooltip was 4,200 px high
    view.set_prompts([prompt])
    on_disk(view, record(prompt, "base", "!" * 3000))  # a model's run of one token: a tooltip 4,265 px wide
    answer_tip = view.table.item(0, 0).toolTip()
    assert as_read(answer_tip).replace("\u200b", "") == "!" * 600 + "… (click the cell to read it all under the table)"
    label = shown_tip(qtbot, view.table, answer_tip)
    assert within_screen(label), (label.width(), label.height())
    QToolTip.hideText()
    prompt_tip = view.table.verticalHeaderItem(0).toolTip()
    assert as_read(prompt_tip) == "".join(f"line {i}\n" for i in range(15)).rstrip("\n") + \
        "… (click a cell of the row to read it all)"
    label = shown_tip(qtbot, view.table, prompt_tip)
    assert within_screen(label), (label.width(), label.height())
