"""The Try tab's combos (FittedCombo) after a second look (helper-136).

1. The tooltip of a cut item (the whole of it) was set only as the combo was painted, so a combo never shown (in a
   tab not yet opened) had none, or the last item's, until it was drawn. It now follows one rule from the moment
   the item is set, shown or not (the whole item while it is elided, else the combo's own tooltip), and again as
   the combo is sized.
2. At 900x600 a damaged checkpoint's label ("checkpoint-12000 (damaged)", 178 px) is wider than the model picker's
   141 px of text room. Picking it from the list let the loaded models go and left the picker blank; a pick damaged
   since it loaded, listed again by Refresh, read "checkpoin…(damaged)": which checkpoint was lost. Now a damaged
   model is greyed in the list and cannot be picked (its tooltip says why and what to do), and the picker cuts a
   label at its end, so the name stays whole.

Measured on real widgets offscreen: the text drawn against the room the style gives it (QFontMetrics)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QToolTip, QWidget

from tests.gui.test_try_combo_width_h134 import show_try_tab
from tests.gui.test_try_tab_states import Fakes, make_run
from tests.helpers import window_on_runs

LONG_RUN = "horoscopes-qwen3-0.6b-lora-r16-lr2e-4-chat-template-2026-12-05"
BROKEN_JSON = "its config.json cannot be read (Expecting property name enclosed in double quotes: line 1 column 3 " \
              "(char 2))"
TO_FIX = "To fix: put its files back from a copy of the run, or pick another model."


def _advance(combo: QComboBox, text: str) -> int:
    return QFontMetrics(combo.font()).horizontalAdvance(text)


def _pick_silently(combo: QComboBox, index: int) -> None:
    """As the Try tab lists a run's models: the combo's signals blocked."""
    combo.blockSignals(True)
    combo.setCurrentIndex(index)
    combo.blockSignals(False)


def test_a_combo_never_shown_has_its_tooltip_from_the_moment_its_item_is_set(qtbot: Any) -> None:
    from finetune_studio.gui.try_tab import FittedCombo

    parent = QWidget()
    qtbot.addWidget(parent)
    run = FittedCombo(Qt.TextElideMode.ElideMiddle, parent=parent)  # as the Try tab's run picker
    run.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    run.setMinimumContentsLength(6)
    run.setToolTip("The run to try")
    run.addItem(LONG_RUN)  # the first item becomes the current one
    assert not run.isVisible() and not run.testAttribute(Qt.WidgetAttribute.WA_Resized)
    shown = run.shown_text()
    assert "…" in shown and _advance(run, shown) <= run.text_room() <= run.sizeHint().width()
    assert run.toolTip() == LONG_RUN  # was "": no paint yet
    run.addItem("first")
    _pick_silently(run, 1)
    assert run.shown_text() == "first" and run.toolTip() == "The run to try"  # was LONG_RUN, the last item's
    _pick_silently(run, 0)
    assert run.toolTip() == LONG_RUN
    run.setItemText(0, "second")  # the current item's text changes under it
    assert run.toolTip() == "The run to try"
    run.setItemText(0, LONG_RUN)
    assert run.toolTip() == LONG_RUN

    # The model picker's kind (as wide as its longest item, squeezed where the row is short): whole at its size
    # hint before it is shown; shown at a narrow width, it is cut and says so at once, before any paint.
    target = FittedCombo(Qt.TextElideMode.ElideRight, whole_up_to="checkpoint-000000", parent=parent)
    target.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    damaged = "checkpoint-12000 (damaged)"
    target.addItems(["final model", damaged])
    target.setItemData(1, "Cannot load: its weights are gone.", Qt.ItemDataRole.ToolTipRole)
    _pick_silently(target, 1)
    assert target.shown_text() == damaged and target.toolTip() == ""
    row = QHBoxLayout(parent)
    row.addWidget(run, 1)
    row.addWidget(target)
    parent.resize(run.minimumSizeHint().width() + target.minimumSizeHint().width() + 30, 40)
    parent.show()  # no qtbot.wait: the tooltips are right before the first paint
    room = target.text_room()
    assert target.width() < target.sizeHint().width() and _advance(target, damaged) > room, (target.width(), room)
    shown = target.shown_text()
    assert shown.startswith("checkpoint-12000") and shown.endswith("…") and _advance(target, shown) <= room, shown
    assert target.toolTip() == "Cannot load: its weights are gone."  # the item's own tooltip, as for a shown one
    assert run.toolTip() == LONG_RUN
    parent.resize(parent.width() + _advance(target, damaged) + _advance(run, LONG_RUN), 40)
    assert target.shown_text() == damaged and target.toolTip() == ""
    assert run.shown_text() == LONG_RUN and run.toolTip() == "The run to try"


def test_the_run_picker_of_a_tab_not_yet_opened_has_its_tooltip(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                                 monkeypatch: Any) -> None:
    from finetune_studio.core.demo import demo_model_path

    Fakes(monkeypatch)
    runs = tmp_path / "runs"
    make_run(runs, "first", demo_model_path(), steps=(4,))
    long_run = make_run(runs, LONG_RUN, demo_model_path(), steps=(4,))
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.resize(900, 600)
    tab = window.try_tab
    assert window.tabs.currentWidget() is not tab and not tab.isVisible()
    tab.select_run(long_run)
    qtbot.waitUntil(lambda: not tab.runner.running)
    run = tab.run_combo
    assert run.currentText() == LONG_RUN and not run.isVisible()
    assert run.toolTip() == LONG_RUN  # was "" until the tab was opened and painted
    window.tabs.setCurrentWidget(tab)
    qtbot.wait(50)
    shown = run.shown_text()
    assert "…" in shown and _advance(run, shown) <= run.text_room() and run.toolTip() == LONG_RUN, shown
    tab.select_run(runs / "first")
    qtbot.waitUntil(lambda: not tab.runner.running)
    assert run.shown_text() == "first" and run.toolTip() == ""
    window.session.set_modified(False)


def _window(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> tuple[Any, Fakes]:
    from finetune_studio.core.demo import demo_model_path

    fakes = Fakes(monkeypatch)
    runs = tmp_path / "runs"
    first = make_run(runs, "first", demo_model_path(), steps=(4, 12000))
    (first / "checkpoint-12000" / "config.json").write_text("{ broken", encoding="utf-8")
    return show_try_tab(qtbot, runs, first, monkeypatch, (900, 600)), fakes


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")  # the open list, offscreen
def test_a_damaged_model_at_900_px_is_listed_whole_and_cannot_be_picked(qtbot: Any, demo_cache: Path,
                                                                         tmp_path: Path, monkeypatch: Any) -> None:
    window, fakes = _window(qtbot, tmp_path, monkeypatch)
    tab = window.try_tab
    combo = tab.target_combo
    damaged = "checkpoint-12000 (damaged)"
    assert [combo.itemText(i) for i in range(combo.count())] == ["final model", damaged, "checkpoint-4"]
    tip = f"Cannot load: {BROKEN_JSON}. {TO_FIX}"
    assert [combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(3)] == [None, tip, None]
    enabled = [bool(combo.model().flags(combo.model().index(i, 0)) & Qt.ItemFlag.ItemIsEnabled) for i in range(3)]
    assert enabled == [True, False, True]
    room = combo.text_room()
    assert _advance(combo, damaged) > room >= _advance(combo, "checkpoint-000000") + 2  # 178 px > 141 px here

    # Every model the user can pick is whole in the closed combo when current.
    for label in ("checkpoint-4", "final model"):
        combo.setCurrentIndex(combo.findText(label))
        qtbot.waitUntil(lambda: not tab.runner.running)
        assert combo.shown_text() == label and _advance(combo, label) <= combo.text_room() and combo.toolTip() == ""
    assert fakes.loads == ["first · final model", "first · checkpoint-4", "first · final model"]

    # Keys pass over it (Up from checkpoint-4 lands on the final model), a click on it in the open list does nothing.
    combo.setCurrentIndex(2)
    qtbot.waitUntil(lambda: not tab.runner.running)
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: not tab.runner.running)
    assert combo.currentText() == "final model"
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: not tab.runner.running)
    assert combo.currentText() == "checkpoint-4"
    loads = list(fakes.loads)
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    rect = view.visualRect(combo.model().index(1, 0))
    assert rect.width() >= _advance(combo, damaged) + 4, (rect.width(), view.width())  # whole in the open list
    QToolTip.hideText()
    hover = QHelpEvent(QEvent.Type.ToolTip, rect.center(), view.viewport().mapToGlobal(rect.center()))
    view.viewportEvent(hover)
    assert QToolTip.text() == tip  # the reason and the fix, on hover in the open list
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.wait(50)
    assert combo.currentText() == "checkpoint-4" and combo.currentIndex() == 2  # was -1: blank
    assert tab.loaded is not None and tab.loaded.source.name == "first · checkpoint-4"  # was None: let go
    assert fakes.loads == loads and not tab.status_label.text().startswith("first · checkpoint-12000 is damaged")
    if not view.isVisible():
        combo.showPopup()
        qtbot.waitUntil(view.isVisible)
    whole = view.visualRect(combo.model().index(0, 0)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=whole)  # the same click on a whole one picks it
    qtbot.waitUntil(lambda: not tab.runner.running)
    assert combo.currentText() == "final model" and fakes.loads == [*loads, "first · final model"]
    assert not view.isVisible()
    window.session.set_modified(False)


def test_a_pick_damaged_since_it_loaded_keeps_its_name_whole(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                             monkeypatch: Any) -> None:
    """The one way a damaged model is the current item: the picked checkpoint's files are damaged while it is loaded,
    and Refresh lists the run again, keeping the pick. Its label is cut at its end: the checkpoint's name whole."""
    from finetune_studio.core.demo import demo_model_path

    window, fakes = _window(qtbot, tmp_path, monkeypatch)
    tab = window.try_tab
    combo = tab.target_combo
    ok = make_run(tmp_path / "runs", "ok", demo_model_path(), steps=(4, 12000))
    tab.select_run(ok)
    qtbot.waitUntil(lambda: not tab.runner.running)
    combo.setCurrentIndex(combo.findText("checkpoint-12000"))
    qtbot.waitUntil(lambda: not tab.runner.running)
    qtbot.wait(50)
    assert combo.shown_text() == "checkpoint-12000" and combo.toolTip() == ""
    (ok / "checkpoint-12000" / "model.safetensors").unlink()
    tab.refresh_button.click()
    qtbot.waitUntil(lambda: not tab.runner.running)
    qtbot.wait(50)
    damaged = "checkpoint-12000 (damaged)"
    assert combo.currentText() == damaged and tab.loaded.source.name == "ok · checkpoint-12000"
    room = combo.text_room()
    shown = combo.shown_text()
    assert _advance(combo, damaged) > room, (room, combo.width())
    assert shown.startswith("checkpoint-12000 ") and shown.endswith("…") and _advance(combo, shown) <= room, shown
    assert combo.toolTip() == f"Cannot load: it holds no weights (model*.safetensors). {TO_FIX}"
    assert window.width() == 900
    window.session.set_modified(False)
