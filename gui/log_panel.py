"""What happened during a run, in words: phases, notices, library warnings, evals, checkpoints, the end.

Step and log events are left to the chart and progress bar; this panel is the narrative a user scrolls back
through when something looks off. Repeated library warnings (transformers repeats some every step) are shown once
with a count, and the document is capped so a long run cannot grow it without bound.
"""

from __future__ import annotations

import html
import time
from typing import Any

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QFontDatabase, QResizeEvent, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

MAX_LINES = 5000
REWRAP_MS = 100  # a resize that changed the width, settled: the tail is shown again (LogPanel._follow_rewrapped)
COLORS = {"warning": "#b06000", "error": "#c5221f", "notice": "#1967d2", "success": "#188038", "muted": "#5f6368"}


def _fmt(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


class LogPanel(QPlainTextEdit):
    """Read-only, timestamped run log; `add_event` takes core events, `message` takes the app's own lines."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Run messages, library warnings and checkpoints appear here.")
        self._warnings: dict[str, int] = {}
        # Follow the tail unless the user scrolled up to read. Kept as a flag, not read off the scroll bar when a
        # line arrives: when the panel gets smaller (problems shown above the chart, a smaller window) the range
        # grows under an unchanged value, and the last line would be left half hidden.
        self._following = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)
        # After the width changes, once the resizing stops (a window dragged narrower resizes it many times).
        self._rewrapped = QTimer(self, singleShot=True, interval=REWRAP_MS)
        self._rewrapped.timeout.connect(self._follow_rewrapped)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._following and event.size().width() != event.oldSize().width():
            self._rewrapped.start()

    @Slot()
    def _follow_rewrapped(self) -> None:
        """Show the tail again after the lines wrapped anew. QPlainTextEdit lays out only the blocks it shows, so its
        scroll range kept the old wrapping of the rest: made narrower, a log at the end of its range hid its last
        lines ("The run wrote its config to /a/rather/long/", the rest below the edge) until the next message.
        Every block is laid out at the new width first (about 90 ms for a full log of MAX_LINES on a slow CPU, once
        a resize ends)."""
        if not self._following:
            return
        document = self.document()
        layout = document.documentLayout()
        block = document.firstBlock()
        while block.isValid():
            layout.ensureBlockLayout(block)
            block = block.next()
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _scrolled(self, value: int) -> None:
        self._following = value >= self.verticalScrollBar().maximum()

    def _range_changed(self, _low: int, high: int) -> None:
        if self._following:
            self.verticalScrollBar().setValue(high)

    def clear_log(self) -> None:
        self.clear()
        self._warnings.clear()
        self._following = True

    def message(self, text: str, kind: str | None = None, when: float | None = None) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(when or time.time()))
        body = html.escape(text).replace("\n", "<br>")
        if kind in COLORS:
            body = f"<span style='color:{COLORS[kind]}'>{body}</span>"
        bar = self.verticalScrollBar()
        following = self._following
        self.appendHtml(f"<span style='color:{COLORS['muted']}'>{stamp}</span>&nbsp; {body}")
        if following:  # follow the tail unless the user scrolled up to read
            self.moveCursor(QTextCursor.MoveOperation.End)
            bar.setValue(bar.maximum())
            self._following = True

    def add_event(self, event: dict) -> None:
        text, kind = self.describe(event)
        if text:
            self.message(text, kind, event.get("time"))

    def describe(self, event: dict) -> tuple[str | None, str | None]:
        """(line, color kind) for one event, or (None, None) for events this panel leaves out."""
        kind = event.get("event")
        if kind == "run_start":
            if event.get("resume_from"):
                return f"Resuming {event.get('name')} from {event.get('resume_from')}", None
            return f"Run {event.get('name')} in {event.get('run_dir')}", None
        if kind == "phase":
            return f"{event.get('message')}…", None
        if kind == "notice":
            return f"Note: {event.get('message')}", "notice"
        if kind == "warning":
            message = str(event.get("message", ""))
            seen = self._warnings.get(message, 0)
            self._warnings[message] = seen + 1
            if seen:
                short = message.splitlines()[0][:100] if message else ""
                return (f"Warning repeated {seen + 1} times: {short}", "muted") if seen + 1 in (2, 10, 100, 1000) \
                    else (None, None)
            return f"Warning ({event.get('source')}): {message}", "warning"
        if kind == "data":
            return f"{event.get('train_rows')} rows to train on, {event.get('eval_rows')} to evaluate on", None
        if kind == "train_begin":
            start = event.get("start_step") or 0
            where = f" from step {start}" if start else ""
            return f"Training {event.get('max_steps')} steps{where}", None
        if kind == "eval":
            return f"Step {event.get('step')}: eval loss {_fmt(event.get('eval_loss'), '.4f')}", None
        if kind == "checkpoint":
            return f"Checkpoint saved at step {event.get('step')}: {event.get('path')}", "muted"
        if kind == "summary" and "train_runtime" in event:
            return (f"Trained in {_fmt(event.get('train_runtime'), '.1f')} s, "
                    f"{_fmt(event.get('train_steps_per_second'), '.2f')} steps/s", None)
        if kind == "end":
            state = event.get("state")
            color = {"finished": "success", "failed": "error", "stopped": "notice"}.get(str(state))
            return str(event.get("message")), color
        return None, None
