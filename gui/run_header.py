"""The strip above the chart that says what the run is doing and, when Start is disabled, why.

Problems are links: clicking one asks the window to show the field it is about.
"""

from __future__ import annotations

from html import escape as html_escape
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from finetune_studio.core.errors import Problem
from finetune_studio.core.events import RunState  # declared once in core; imported from here by older code

SHOWN_PROBLEMS = 3  # one line each, so the list above the chart keeps its height at 900×600
LIST_INDENT = 40  # QTextDocument's indent per list level, in pixels (the bullet sits inside it)


STATE_COLORS = {RunState.FINISHED: "#188038", RunState.FAILED: "#c5221f", RunState.STOPPED: "#b06000",
                RunState.STOPPING: "#b06000"}


def problems_summary(problems: list[Problem], limit: int = 2) -> str:
    """"Fix 2 problems: learning_rate must be above 0 …; …" for the Start tooltip and the status line."""
    count = len(problems)
    head = f"Fix {count} problem{'s' if count != 1 else ''} to start: "
    shown = "; ".join(p.message for p in problems[:limit])
    return head + shown + (f"; and {count - limit} more" if count > limit else "")


class ElidedLabel(QLabel):
    """One line that shows "…" in the middle when the text is wider than the label (a long model path keeps its
    end in view). text() and the tooltip keep the whole text."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt name
        self._full = text
        self._elide()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width) if width > 0 \
            else self._full
        if shown != super().text():
            super().setText(shown)


class ProblemsLabel(QLabel):
    """The problems above the chart, one line each: a message wider than the label is shortened with "…" on
    screen, so the list never wraps into more height than the window can give it (a squeezed label cut its text
    mid-line). text() and the tooltip keep every message whole; clicking one shows its field, marked in full."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self._render: Any = None  # width -> the HTML to paint

    def set_content(self, full: str, render: Any) -> None:
        self._full, self._render = full, render
        self.setToolTip(full)
        self._refresh()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._refresh()

    def _refresh(self) -> None:
        shown = self._render(self.contentsRect().width()) if self._render is not None else self._full
        if shown != super().text():
            super().setText(shown)


class RunHeader(QWidget):
    field_requested = Signal(str)  # a problem's dotted field path was clicked
    open_folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state_label = ElidedLabel()
        self.state_label.setObjectName("run_state")
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = self.state_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        font.setBold(True)
        self.state_label.setFont(font)
        self.open_folder = QPushButton("Open folder")
        self.open_folder.setToolTip("Open the folder with the trained model in the file manager.")
        self.open_folder.clicked.connect(self.open_folder_requested)
        self.open_folder.hide()

        self.problems_label = ProblemsLabel()
        self.problems_label.setObjectName("start_problems")
        self.problems_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.problems_label.setTextFormat(Qt.TextFormat.RichText)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                                    | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label.linkActivated.connect(self.field_requested)
        self.problems_label.setStyleSheet("QLabel { background: #fce8e6; color: #a50e0e; border: 1px solid #f4c7c3;"
                                          " border-radius: 4px; padding: 6px 8px; }")
        self.problems_label.hide()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.state_label, 1)
        top.addWidget(self.open_folder)
        self._actions_row = top
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.problems_label)

    def add_actions(self, *widgets: QWidget) -> None:
        """Put more of what can be done with the shown run (the Hub's push button and its outcome) beside "Open
        folder", in this order; whoever adds them shows and hides them."""
        index = self._actions_row.indexOf(self.open_folder)
        for offset, widget in enumerate(widgets):
            self._actions_row.insertWidget(index + offset, widget)

    def set_state(self, state: RunState, text: str) -> None:
        color = STATE_COLORS.get(state)
        self.state_label.setStyleSheet(f"color: {color};" if color else "")
        self.state_label.setText(text)
        self.state_label.setToolTip(text)
        self.open_folder.setVisible(state is RunState.FINISHED)

    def set_problems(self, problems: list[Problem]) -> None:
        """The visible reason Start is disabled; empty hides it."""
        if not problems:
            self.problems_label.hide()
            self.problems_label.set_content("", None)
            return
        count = len(problems)
        shown = problems[:SHOWN_PROBLEMS]
        more = f" ({len(shown)} shown; all are marked at their fields)" if count > SHOWN_PROBLEMS else ""
        title = f"<b>Fix {count} problem{'s' if count != 1 else ''} to start{more}:</b>"
        metrics = self.problems_label.fontMetrics()

        def html(width: int | None) -> str:
            items = []
            for problem in shown:
                message = problem.message if width is None else metrics.elidedText(
                    " ".join(problem.message.split()), Qt.TextElideMode.ElideRight, max(40, width - LIST_INDENT - 4))
                message = html_escape(message)
                if problem.field:  # the message names the setting; clicking it shows the field
                    link = html_escape(problem.field, quote=True)
                    items.append(f"<li><a href='{link}' style='color:#a50e0e'>{message}</a></li>")
                else:
                    items.append(f"<li>{message}</li>")
            hidden = "".join(f"<li>{html_escape(p.message)}</li>" for p in problems[SHOWN_PROBLEMS:]) \
                if width is None else ""
            return f"{title}<ul style='margin:0; -qt-list-indent:1'>{''.join(items)}{hidden}</ul>"

        self.problems_label.set_content(html(None), html)
        self.problems_label.show()
