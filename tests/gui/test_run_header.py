"""The run header's state line: a long text is shortened in the middle on screen, never cut off mid-word."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtWidgets import QLabel

from finetune_studio.gui.run_header import RunHeader, RunState
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


def test_problems_take_one_line_each_and_keep_their_whole_text(qtbot: Any) -> None:
    """Issue 12 item 13: long problems wrapped into more height than a 900×600 window could give the header, so
    the squeezed label cut them mid-line ("… The"). Each problem now takes one line, shortened with "…" on
    screen (whole in text() and the tooltip), so the label always gets the height it asks for."""
    from finetune_studio.core.errors import Problem

    header = shown(qtbot, RunHeader(), 420, 200)
    problems = [Problem("training.learning_rate", "learning_rate must be above 0 (got -1); the seed uses 2e-5. The "
                                                  "optimizer cannot take a step with it."),
                Problem("dataset.source", "Dataset not found: /home/someone/data/a/long/path/to/exist.csv. The "
                                          "path must point to a file."),
                Problem("training.num_train_epochs", "num_train_epochs must be above 0."),
                Problem("", "The fourth problem, listed in the tooltip and marked at its field.")]
    header.set_problems(problems)
    label = header.problems_label
    qtbot.waitUntil(label.isVisible, timeout=2_000)
    painted = QLabel.text(label)
    assert painted.count("<li>") == 3
    shown_texts = re.findall(r"<a [^>]*>([^<]*)</a>", painted)
    assert shown_texts[0].endswith("…") and problems[0].message.startswith(shown_texts[0][:-1])
    width = label.contentsRect().width()
    assert all(label.fontMetrics().horizontalAdvance(text) <= width - 40 for text in shown_texts)
    assert "Fix 4 problems to start (3 shown" in painted
    lines = 4  # the title and one line per problem shown
    assert label.height() >= label.sizeHint().height()
    assert label.sizeHint().height() <= lines * label.fontMetrics().lineSpacing() + 24
    for problem in problems:
        assert problem.message in label.text() and problem.message in label.toolTip()
    header.resize(1400, 200)  # wider: the short problems are shown whole
    qtbot.waitUntil(lambda: "num_train_epochs must be above 0.<" in QLabel.text(label), timeout=2_000)
