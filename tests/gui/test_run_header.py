"""The run header's state line: a long text is shortened in the middle on screen, never cut off mid-word."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel

from gui.run_header import RunHeader, RunState
from tests.helpers import shown


def test_a_long_state_is_elided_in_the_middle_and_kept_whole(qtbot: Any) -> None:
    header = shown(qtbot, RunHeader(), 360, 60)
    text = "Finished — model saved to /home/someone/finetune-studio/runs/horoscopes-demo-2026-11-29/model"
    header.set_state(RunState.FINISHED, text)
    painted = QLabel.text(header.state_label)  # what the label paints
    assert "…" in painted and painted.startswith("Finished") and painted.endswith("/model")
    assert header.state_label.fontMetrics().horizontalAdvance(painted) <= header.state_label.contentsRect().width()
    assert header.state_label.text() == text and header.state_label.toolTip() == text
    header.resize(1400, 60)  # room for all of it again
    qtbot.waitUntil(lambda: QLabel.text(header.state_label) == text, timeout=2_000)
