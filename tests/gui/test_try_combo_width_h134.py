"""The Try tab's combos never cut their current item (a screenshot review's finding): in a 900x600 window the model
picker beside Run read "final mode". QComboBox works out its least width once, while the model list was still
empty (79 px), and the row, short of room beside Run's 16-character picker and Refresh, squeezed it to that; a long
run name or saved prompt was cut at the combo's edge wherever it fell. Now the model picker is never narrower than
its labels (up to a 6-digit checkpoint), Run's picker takes what is left and shows a longer name cut in the middle
with the whole of it in its tooltip, a saved prompt is cut at its end the same way, and Refresh stays inside the tab.

Measured on the real window, shown offscreen: the text drawn against the room the style gives it (its edit field)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox

from tests.gui.test_try_tab_states import Fakes, make_run
from tests.helpers import window_on_runs

LONG_RUN = "horoscopes-qwen3-0.6b-lora-r16-lr2e-4-chat-template-2026-12-05"
LONG_PROMPT = ("Write a horoscope for Aries for the coming week, in the voice of a weary lighthouse keeper who has "
               "seen every storm")  # over the 80 characters a saved prompt is listed by


def _room(combo: QComboBox) -> int:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    return combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                        QStyle.SubControl.SC_ComboBoxEditField, combo).width()


def _advance(combo: QComboBox, text: str) -> int:
    return QFontMetrics(combo.font()).horizontalAdvance(text)


def _open(qtbot: Any, tmp_path: Path, monkeypatch: Any, size: tuple[int, int], damaged: bool = False) -> Any:
    from finetune_studio.core.demo import demo_model_path

    Fakes(monkeypatch)
    runs = tmp_path / "runs"
    make_run(runs, LONG_RUN, demo_model_path(), steps=(4,))
    first = make_run(runs, "first", demo_model_path(), steps=(4, 12000 if damaged else 12345))
    if damaged:
        (first / "checkpoint-12000" / "config.json").write_text("{ broken", encoding="utf-8")
    return show_try_tab(qtbot, runs, first, monkeypatch, size)


def show_try_tab(qtbot: Any, runs: Path, run: Path, monkeypatch: Any, size: tuple[int, int]) -> Any:
    """The main window on `runs` at `size`, on its Try tab with `run` (of three models) picked and loaded."""
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.resize(*size)
    tab = window.try_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.target_combo.count() == 3)
    tab.select_run(run)
    qtbot.waitUntil(lambda: not tab.runner.running)
    qtbot.wait(50)
    assert window.width() == size[0], "the window keeps the size it was given"
    return window


def _refresh_inside(tab: Any) -> None:
    button = tab.refresh_button
    right = button.mapTo(tab, QPoint(button.width(), 0)).x()
    assert button.isVisible() and button.width() >= button.sizeHint().width()
    assert 0 < right <= tab.width() - tab.layout().contentsMargins().right(), (right, tab.width())
    assert tab.minimumSizeHint().width() <= tab.width()


@pytest.mark.parametrize("size", [(900, 600), (1280, 800)])
def test_the_model_picker_shows_each_label_whole(qtbot: Any, demo_cache: Path, tmp_path: Path, monkeypatch: Any,
                                                 size: tuple[int, int]) -> None:
    window = _open(qtbot, tmp_path, monkeypatch, size)
    tab = window.try_tab
    combo = tab.target_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["final model", "checkpoint-12345", "checkpoint-4"]
    for index in range(combo.count()):
        combo.setCurrentIndex(index)
        qtbot.waitUntil(lambda: not tab.runner.running)
        qtbot.wait(20)
        text = combo.currentText()
        assert _advance(combo, text) <= _room(combo), (text, _advance(combo, text), _room(combo), combo.width())
        assert combo.shown_text() == text and combo.toolTip() == ""
    run = tab.run_combo
    assert run.currentText() == "first" and run.shown_text() == "first"
    assert _advance(run, "first") <= _room(run)
    _refresh_inside(tab)


def test_a_long_run_name_is_cut_in_the_middle_with_the_whole_in_its_tooltip(qtbot: Any, demo_cache: Path,
                                                                             tmp_path: Path, monkeypatch: Any) -> None:
    window = _open(qtbot, tmp_path, monkeypatch, (900, 600))
    tab = window.try_tab
    run = tab.run_combo
    tab.select_run(tmp_path / "runs" / LONG_RUN)
    qtbot.waitUntil(lambda: not tab.runner.running)
    qtbot.wait(50)
    assert run.currentText() == LONG_RUN
    shown = run.shown_text()
    head, _, tail = shown.partition("…")
    assert tail and LONG_RUN.startswith(head) and LONG_RUN.endswith(tail), shown
    assert len(head) >= 4 and len(tail) >= 4, shown  # enough of the name to tell runs apart
    assert _advance(run, shown) <= _room(run) - 2, (shown, _room(run))
    assert run.toolTip() == LONG_RUN
    assert tab.target_combo.currentText() == "final model"
    assert _advance(tab.target_combo, "final model") <= _room(tab.target_combo)
    _refresh_inside(tab)
    window.resize(1280, 800)
    qtbot.wait(50)
    assert "…" in run.shown_text() and len(run.shown_text()) > len(shown)  # more of it where there is more room
    tab.select_run(tmp_path / "runs" / "first")
    qtbot.waitUntil(lambda: not tab.runner.running)
    qtbot.wait(50)
    assert run.shown_text() == "first" and run.toolTip() == ""  # a name shown whole has no tooltip to repeat it


def test_a_damaged_checkpoint_keeps_the_row_inside_a_900_px_window(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                                   monkeypatch: Any) -> None:
    """Its label ("checkpoint-12000 (damaged)", 178 px of text) does not fit beside Run and Refresh at 900 px, and a
    damaged model is never the current item (picked, it is let go: _target_gone): the picker keeps every whole
    label whole there, and the longest label only where there is room for it (1280 px), rather than widen the
    window."""
    window = _open(qtbot, tmp_path, monkeypatch, (900, 600), damaged=True)
    tab = window.try_tab
    combo = tab.target_combo
    damaged = "checkpoint-12000 (damaged)"
    assert [combo.itemText(i) for i in range(combo.count())] == ["final model", damaged, "checkpoint-4"]
    assert combo.currentText() == "final model" and combo.shown_text() == "final model"
    assert window.width() == 900
    assert combo.width() < combo.sizeHint().width()  # no room for the damaged label's width here
    assert _advance(combo, "checkpoint-999999") <= _room(combo) - 2  # every whole label still fits
    assert _advance(tab.run_combo, tab.run_combo.shown_text()) <= _room(tab.run_combo)
    _refresh_inside(tab)
    combo.setCurrentIndex(2)
    qtbot.waitUntil(lambda: not tab.runner.running)
    qtbot.wait(50)
    assert combo.shown_text() == "checkpoint-4" and _advance(combo, "checkpoint-4") <= _room(combo)
    window.resize(1280, 800)
    qtbot.wait(50)
    assert combo.width() == combo.sizeHint().width() and _advance(combo, damaged) <= _room(combo) - 2
    _refresh_inside(tab)


def test_a_long_saved_prompt_is_cut_at_its_end_with_the_whole_in_its_tooltip(qtbot: Any, demo_cache: Path,
                                                                              tmp_path: Path, monkeypatch: Any) -> None:
    window = _open(qtbot, tmp_path, monkeypatch, (900, 600))
    tab = window.try_tab
    window.session.config.prompts[:] = [LONG_PROMPT, "Pisces"]
    tab._load_prompts()
    combo = tab.saved_combo
    assert combo.shown_text() == "Saved prompts"  # the placeholder, whole
    scroll = tab.pages.widget(0)
    scroll.ensureWidgetVisible(combo)
    combo.setCurrentIndex(0)
    qtbot.wait(50)
    text = combo.currentText()
    assert text == LONG_PROMPT[:80]
    shown = combo.shown_text()
    assert shown.endswith("…") and text.startswith(shown[:-1]) and len(shown) > 20, shown
    assert _advance(combo, shown) <= _room(combo) - 2 and combo.toolTip() == LONG_PROMPT  # whole, not the 80
    combo.setCurrentIndex(1)
    qtbot.wait(50)
    assert combo.shown_text() == "Pisces" and combo.toolTip() == ""
    for widget in (tab.save_prompt_button, tab.remove_prompt_button):
        right = widget.mapTo(scroll.widget(), QPoint(widget.width(), 0)).x()
        assert right <= scroll.viewport().width(), widget.objectName()
    window.session.set_modified(False)
