"""The progress figures: shown at once after a quiet spell, at most 4 times a second, without re-laying out the
window around them."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from finetune_studio.gui import progress as progress_module
from finetune_studio.gui import throttle
from finetune_studio.gui.progress import ProgressWidget
from tests.helpers import shown


class LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


@pytest.fixture
def page(qtbot: Any) -> tuple[QWidget, ProgressWidget]:
    """The widget in a laid-out parent, as in the main window's right side."""
    parent = QWidget()
    layout = QVBoxLayout(parent)
    widget = ProgressWidget()
    layout.addWidget(widget)
    layout.addWidget(QWidget(), 1)
    return shown(qtbot, parent, 700, 200), widget


def step(n: int, total: int = 1000) -> dict:
    return {"event": "step", "step": n, "max_steps": total, "epoch": n / 100, "elapsed_s": n * 0.5,
            "eta_s": (total - n) * 0.5, "tokens_per_s": 1000.0 + n}


def test_figures_change_without_relayout_of_the_parent(page: tuple[QWidget, ProgressWidget],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    parent, widget = page
    counter = LayoutRequests()
    parent.installEventFilter(counter)
    clock = [1000.0]
    monkeypatch.setattr(throttle.time, "monotonic", lambda: clock[0])
    for n in (1, 9, 99, 999):  # texts of growing width, each after a quiet spell: shown at once
        clock[0] += 1
        widget.add_event(step(n))
        assert widget.values["step"].text() == f"{n:,} / 1,000"
        QApplication.processEvents()
    assert widget.bar.value() == 999 and widget.values["tokens"].text() == "1,999"
    assert counter.count == 0  # a QLabel's setText would ask the window for a relayout every time
    for field in widget.values.values():  # and every figure fits its field
        assert field.fontMetrics().horizontalAdvance(field.text()) < field.width()


def test_steps_close_together_are_shown_once_when_the_interval_is_up(page: tuple[QWidget, ProgressWidget],
                                                                      qtbot: Any, monkeypatch: pytest.MonkeyPatch
                                                                      ) -> None:
    _, widget = page
    # The throttle's clock stands still: a stall of the test's own thread longer than REFRESH_MS (a garbage
    # collection took up to 0.9 s on a loaded CI box) would otherwise let step 2 show. Its timer still fires.
    monkeypatch.setattr(throttle.time, "monotonic", lambda: 1000.0)
    widget.add_event(step(1))
    assert widget.values["step"].text() == "1 / 1,000"  # the first step after a quiet spell: at once
    for n in range(2, 50):
        widget.add_event(step(n))
    assert widget.values["step"].text() == "1 / 1,000"  # within REFRESH_MS: not yet
    qtbot.waitUntil(lambda: widget.values["step"].text() == "49 / 1,000",
                    timeout=progress_module.REFRESH_MS * 4)
    assert widget.step == 49


def test_a_start_or_resume_shows_its_figures_at_once(page: tuple[QWidget, ProgressWidget]) -> None:
    """"Train 1 more epoch" right after a run: its train_begin comes within the refresh interval of the
    last figures, and the window must not show the finished run's "12 / 12" while the new one trains."""
    _, widget = page
    widget.add_event({"event": "train_begin", "step": 0, "max_steps": 12, "num_train_epochs": 3})
    widget.add_event({"event": "step", "step": 12, "max_steps": 12, "epoch": 3.0})
    widget.add_event({"event": "end", "state": "finished", "step": 12, "max_steps": 12})
    assert widget.values["step"].text() == "12 / 12"
    widget.add_event({"event": "train_begin", "step": 12, "max_steps": 16, "num_train_epochs": 4})
    assert widget.values["step"].text() == "12 / 16"


class Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def paints_over(qtbot: Any, bar: QWidget, ms: int) -> int:
    """The bar's paints over `ms` of the event loop (the busy animation's ticks are timer events)."""
    counter = Paints()
    bar.installEventFilter(counter)
    qtbot.wait(ms)
    bar.removeEventFilter(counter)
    return counter.count


@pytest.mark.parametrize("leave", ["train_begin", "not busy"])
def test_the_busy_animation_ends_with_the_busy_state(page: tuple[QWidget, ProgressWidget], qtbot: Any,
                                                     leave: str) -> None:
    """A run at train_begin waits for its first step at 0 of its steps: Qt's style went on animating the bar that
    was busy until then (30-60 repaints a second, GUI work taking a core from that step) because it stops the
    animation only when it paints a value past the minimum."""
    _, widget = page
    widget.set_busy(True)
    assert paints_over(qtbot, widget.bar, 400) >= 4  # busy: it animates
    if leave == "train_begin":
        widget.add_event({"event": "train_begin", "step": 0, "max_steps": 339, "num_train_epochs": 3})
        assert (widget.bar.minimum(), widget.bar.maximum(), widget.bar.value()) == (0, 339, 0)
    else:
        widget.set_busy(False)
        assert (widget.bar.minimum(), widget.bar.maximum()) == (0, 1)
    qtbot.wait(50)  # the repaint of the change itself
    assert paints_over(qtbot, widget.bar, 500) == 0
    widget.set_busy(True)  # a next run's set-up animates again
    assert paints_over(qtbot, widget.bar, 400) >= 4
