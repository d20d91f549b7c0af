"""The Dataset Inspector window: rows as the model will see them, tokens coloured by what the loss is on.

A thin skin over `core.inspector.Inspector` (Qt-free): it loads the tokenizer and the data in the background,
renders one row at a time in the background, and runs the whole-dataset checks in the background with a progress
bar and a Stop button. Each problem the checks find comes with buttons that apply its fix; the window only emits
`fix_requested(overrides)`: the Dataset tab owns those settings and applies them, then hands the window the new
config (`set_config`), which checks again (from the cache when those settings were checked before).
"""

from __future__ import annotations

import gc
import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core import collection
from finetune_studio.core.config import RunConfig
from finetune_studio.core.inspector import (
    ROLES,
    CheckProblem,
    DatasetChecks,
    Inspector,
    is_blank,
    row_as_written,
)
from finetune_studio.gui.background import IMPORT_LOCK, BackgroundTask
from finetune_studio.gui.forms.common import ERROR_COLOR, WARNING_COLOR, hint_label
from finetune_studio.gui.small_plot import style_small_plot

# Two tints per role, alternating token by token, so token boundaries show inside a run of one role.
ROLE_COLORS: dict[str, tuple[str, str]] = {
    "trained": ("#b7e4bd", "#d3f0d6"),
    "prompt": ("#e3e5e8", "#f1f2f4"),
    "system": ("#ddd3f3", "#ebe4fa"),
    "special": ("#ffd98a", "#ffe8b8"),
    "cut": ("#f4b9b4", "#f9d5d2"),
}
ROLE_NAMES = {"trained": "Trained", "prompt": "Masked: prompt", "system": "Masked: system", "special": "Special",
              "cut": "Cut by max_length"}
# The legend's tooltips: what each colour holds, tool rows included. ChatML (built in) and Qwen3 write a row's tool
# definitions as a system turn (core.chat._tools_block), so that block is masked and coloured as the system prompt;
# the replies' tool calls train; tool results are a user turn (ChatML's <tool_response> blocks), so a prompt.
LEGEND_TIPS = {
    "trained": "Trained: the loss is on these tokens (the replies, tool calls included, or the completion).",
    "prompt": "Masked: the prompt (user turns, the instruction, tool results). The model reads them; no loss is on "
              "them.",
    "system": "Masked: the system prompt, and the tools block (the row's tool definitions, which ChatML and Qwen3 "
              "write into the system turn). The model reads them; no loss is on them.",
    "special": "Masked: special tokens the template writes (e.g. <|im_start|>). The end-of-turn token that closes a "
               "reply is trained, so it is coloured as trained.",
    "cut": "Cut off by max_length: the model never sees these tokens.",
}
TEXT_COLOR = "#202124"
# What a run says in its log of prompt/completion rows that are plain text (core.chat.prepare_dataset).
NO_TEMPLATE_WORDS = ("No chat template: prompt and completion are plain text, joined as they are, with the EOS token "
                     "after the completion (as TRL does).")
TOKEN_VIEW_LIMIT = 6000
# Drawn for a token with no text of its own (a byte of a character the next token completes, in a byte-level
# tokenizer): nothing, so 'café' reads as written; a space, even a thin one, is a full cell in a monospace font.
NO_TEXT = "\u200b"
# A word of a line this long is cut in its middle: a label wraps only between words, and a value of one long word
# in a message (a 100,000-character role, a long path) asked for its whole width, widening the window past the
# screen. The whole line is the tooltip while it is no longer than TOOLTIP_CHARS.
LONG_WORD_CHARS = 100
TOOLTIP_CHARS = 2000  # tokens drawn per row; longer rows say how many more there are


# ---- background jobs (heavy imports allowed here)

def load_inspector(config: RunConfig, cache: Path | None = None) -> Inspector:
    """The tokenizer and the rows, with the garbage collector paused while `datasets` builds its table: reading
    100k conversations makes millions of short-lived objects, and a full collection over them held the GIL for
    0.1-0.2 s at a time (the window froze). Afterwards what survived is frozen out of later collections, as the
    warm-up does with the training stack (gui.warmup)."""
    with IMPORT_LOCK:  # the first imports of transformers/datasets must not race another thread's
        import datasets  # noqa: F401
        from transformers import AutoTokenizer  # noqa: F401

        from finetune_studio.core import chat, data, model  # noqa: F401
    with _gc_paused():
        return Inspector(config, cache=cache).load()


@contextmanager
def _gc_paused() -> Iterator[None]:
    with collection.paused():
        try:
            yield
        finally:
            gc.freeze()


def render_row(inspector: Inspector, index: int) -> tuple[int, Any, list[tuple[str, str]], dict | None]:
    """Row `index` labelled, its tokens, and (for a row that gives no tokens, or blank text a run leaves out though
    it gives tokens: core.inspector.is_blank) the row as the data holds it."""
    raw = inspector.raw_row(index)
    labeled = inspector.label(raw)
    left_out = not labeled.roles or is_blank(raw, inspector.format, inspector.text_column, has_tokens=True)
    return index, labeled, inspector.pieces(labeled), raw if left_out else None


def run_checks(inspector: Inspector, progress: Any, stop: threading.Event) -> DatasetChecks | None:
    return inspector.check(progress=progress, stop=stop)


class _Progress(QObject):
    """Lives in the GUI thread; a worker calls `report`, and the signal reaches the GUI thread queued."""

    changed = Signal(int, int)

    def report(self, done: int, total: int) -> None:
        self.changed.emit(done, total)


# ---- what is shown, as text (tests read these)

def token_html(pieces: list[tuple[str, str]], limit: int = TOKEN_VIEW_LIMIT) -> str:
    """The row's tokens as HTML: each token a span with its role's background (alternating tints), whitespace
    kept, a newline drawn as ↵ before the line break; each token is a link named tok:<index> for the hover
    details."""
    parts = []
    for i, (text, role) in enumerate(pieces[:limit]):
        background = ROLE_COLORS.get(role, ROLE_COLORS["prompt"])[i % 2]
        shown = html.escape(text).replace("\n", "↵\n") if text else NO_TEXT
        decoration = "line-through" if role == "cut" else "none"
        parts.append(f'<a href="tok:{i}" style="background-color:{background}; color:{TEXT_COLOR}; '
                     f'text-decoration:{decoration};">{shown}</a>')
    more = len(pieces) - limit
    tail = f"<p><i>… {more:,} more tokens not drawn.</i></p>" if more > 0 else ""
    return (f'<div style="white-space: pre-wrap; font-family: monospace; line-height: 150%;">{"".join(parts)}'
            f"</div>{tail}")


def fit_words(text: str, limit: int = LONG_WORD_CHARS) -> str:
    """`text` with each word over `limit` characters cut in its middle ('abc…xyz'), its lines kept."""
    half = limit // 2

    def cut(match: re.Match) -> str:
        word = match.group(0)
        return f"{word[:half]}…{word[-half:]}"

    return re.sub(rf"\S{{{limit + 1},}}", cut, text)


def _width_given(label: QLabel) -> QLabel:
    """A word-wrapped label that takes the width its layout gives and asks for none (its height still follows its
    width): a word that is still wider than its line is cut off at the edge, not given the window's width."""
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label


def say(label: QLabel, text: str) -> None:
    """`text` in `label` with its long words cut (fit_words), and whole in the tooltip where it was cut."""
    shown = fit_words(text)
    label.setText(shown)
    label.setToolTip(text if shown != text and len(text) <= TOOLTIP_CHARS else "")


def failed_row_html(row: dict[str, Any], blank: bool = False) -> str:
    """A row that gives no tokens, or a blank one a run leaves out, shown as the data holds it (no tokens to colour:
    a row of spaces gives some, which a run never sees)."""
    what = "This row is blank, so a run leaves it out." if blank else "This row gives no tokens."
    return (f"<p><i>{what} Here it is as the data holds it:</i></p>"
            f'<pre style="white-space: pre-wrap;">{html.escape(row_as_written(row))}</pre>')


def counts_text(roles: list[str]) -> str:
    counts = {role: roles.count(role) for role in ROLES}
    parts = [f"{counts[r]:,} {ROLE_NAMES[r].lower()}" for r in ROLES if counts[r] or r == "trained"]
    return f"{len(roles):,} tokens: " + " · ".join(parts)


def hover_text(index: int, token_id: int, text: str, role: str, label: int) -> str:
    trained = "trained (its label is the token itself)" if label != -100 else "not trained (label -100)"
    shown = repr(text) if text else "(no text of its own: part of a character whose bytes lie in several tokens)"
    return f"Token {index + 1}: id {token_id} {shown} — {ROLE_NAMES.get(role, role)}; {trained}"


def template_words(name: str, note: str, tools: bool) -> str:
    """The Inspector's template line: its name, the note only where it adds to the name ("the chatml chat template"
    repeated "chatml"), and for rows with tools under ChatML, where the tools and the calls go."""
    words = f"Chat template: {name}"
    if note and note not in (f"the {name} chat template", f"{name} chat template"):
        words += f" — {note}"
    if tools and name == "chatml":
        words += (". It writes the tools into the system turn (masked, coloured as system) and each tool call of a "
                  "reply as a <tool_call> block, which trains.")
    return words


def confirm_untrained(parent: QWidget | None, message: str) -> bool:
    """Start's question when some rows would train nothing. Tests replace this function."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Some rows train nothing", message,
                      QMessageBox.StandardButton.Cancel, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    start = box.addButton("Start anyway", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is start


# ---- the histogram of trained vs prompt tokens per row

_LEGEND = ('<span style="color:#34a853">■</span> trained tokens &nbsp; '
           '<span style="color:#9aa0a6">■</span> prompt + system tokens')


class TrainedHistogram(QWidget):
    """Rows by token count: trained tokens (green) beside prompt + system tokens (grey), bin by bin."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        import pyqtgraph as pg

        palette = self.palette()
        self.plot = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base))
        item = style_small_plot(self.plot, palette, "tokens per row", "rows", 150, 260)
        self.trained = pg.BarGraphItem(x0=[0], x1=[1], height=[0], brush=pg.mkBrush("#34a853"), pen=pg.mkPen(None))
        self.prompt = pg.BarGraphItem(x0=[0], x1=[1], height=[0], brush=pg.mkBrush("#9aa0a6"), pen=pg.mkPen(None))
        item.addItem(self.prompt)
        item.addItem(self.trained)
        self.legend = QLabel(_LEGEND)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot)
        self.edges: list[int] = []

    def set_data(self, edges: list[int], trained: list[int], prompt: list[int], prompts: bool = True) -> None:
        """`prompts` False (plain text: every token is trained): no grey bars, and the legend names green only; a
        grey bar of every row at 0 prompt tokens said nothing but looked like a finding."""
        self.edges = list(edges)
        left, right = edges[:-1], edges[1:]
        middle = [(a + b) / 2 for a, b in zip(left, right, strict=True)]
        if not prompts:
            prompt = [0] * len(prompt)
        self.trained.setOpts(x0=left, x1=middle, height=trained)
        self.prompt.setOpts(x0=middle, x1=right, height=prompt)
        self.legend.setText(_LEGEND if prompts else _LEGEND.split(" &nbsp; ")[0])
        top = max([1, *trained, *prompt]) * 1.08
        self.plot.setYRange(0, top, padding=0)
        self.plot.setXRange(edges[0], edges[-1], padding=0.01)


# ---- the window

class InspectorWindow(QDialog):
    """Browse rows with coloured tokens; check the whole dataset; apply a fix in one click."""

    fix_requested = Signal(dict)  # dotted config key -> value; the Dataset tab applies it
    checks_ready = Signal(object)  # DatasetChecks, for the Dataset tab's summary and Start's warning

    def __init__(self, config: RunConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Dataset Inspector")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(1100, 720)
        self.config = config.copy()
        self.inspector: Inspector | None = None
        self.checks: DatasetChecks | None = None
        self.labeled: Any = None
        self.pieces: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._loading = False

        # -- top: what is being inspected
        self.status_label = QLabel("Loading the tokenizer and the data…")
        self.status_label.setWordWrap(True)
        self.template_label = QLabel()
        self.template_label.setWordWrap(True)
        self.template_label.hide()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        for label in (self.status_label, self.template_label, self.error_label):
            _width_given(label)

        # -- row browser
        self.row_spin = QSpinBox()
        self.row_spin.setRange(1, 1)
        self.row_spin.setEnabled(False)
        self.row_spin.setKeyboardTracking(False)
        self.of_label = QLabel("of 0")
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.token_view = QTextBrowser()
        self.token_view.setOpenLinks(False)
        self.token_view.setMinimumHeight(220)
        self.token_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.row_problems_label = QLabel()
        self.row_problems_label.setWordWrap(True)
        self.row_problems_label.setStyleSheet(f"color: {WARNING_COLOR};")
        self.row_problems_label.hide()
        _width_given(self.row_problems_label)
        self.hover_label = hint_label("Point at a token to see its id and role.")
        self.legend = self._legend()

        # -- whole dataset
        self.check_button = QPushButton("Check all rows")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.summary_label = QLabel("Whole-dataset checks run once the data is loaded.")
        self.summary_label.setWordWrap(True)
        self.problems_box = QVBoxLayout()
        self.problems_box.setSpacing(8)
        problems_host = QWidget()
        problems_host.setLayout(self.problems_box)
        self.problems_scroll = QScrollArea()
        self.problems_scroll.setWidgetResizable(True)
        self.problems_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.problems_scroll.setWidget(problems_host)
        self.problems_scroll.setMinimumHeight(190)
        self.histogram: TrainedHistogram | None = None
        self.histogram_host = QVBoxLayout()
        self.histogram_host.setContentsMargins(0, 0, 0, 0)

        # -- layout
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        nav = QHBoxLayout()
        nav.addWidget(QLabel("Row"))
        nav.addWidget(self.row_spin)
        nav.addWidget(self.of_label)
        nav.addStretch(1)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.next_button)
        lay.addLayout(nav)
        lay.addWidget(self.legend)
        lay.addWidget(self.token_view, 1)
        lay.addWidget(self.counts_label)
        lay.addWidget(self.row_problems_label)
        lay.addWidget(self.hover_label)

        right = QGroupBox("Whole dataset")
        rlay = QVBoxLayout(right)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.progress_bar, 1)
        rlay.addLayout(buttons)
        rlay.addWidget(self.summary_label)
        rlay.addWidget(self.problems_scroll, 1)
        rlay.addLayout(self.histogram_host)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640, 440])
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.template_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.splitter, 1)

        # -- background work
        self.load_task = BackgroundTask(self)
        self.load_task.result.connect(self._loaded)
        self.load_task.error.connect(self._load_failed)
        self.row_task = BackgroundTask(self)
        self.row_task.result.connect(self._row_ready)
        self.row_task.error.connect(self._row_failed)
        self.check_task = BackgroundTask(self)
        self.check_task.result.connect(self._checks_done)
        self.check_task.error.connect(self._checks_failed)
        self._progress = _Progress(self)
        self._progress.changed.connect(self._progress_changed)

        self.row_spin.valueChanged.connect(lambda value: self.show_row(value - 1))
        self.prev_button.clicked.connect(lambda: self.row_spin.setValue(self.row_spin.value() - 1))
        self.next_button.clicked.connect(lambda: self.row_spin.setValue(self.row_spin.value() + 1))
        self.token_view.highlighted.connect(self._hovered)
        self.check_button.clicked.connect(self.start_checks)
        self.stop_button.clicked.connect(self.stop_checks)
        self._update_buttons()
        self._start_loading()

    def _legend(self) -> QWidget:
        host = QWidget()
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        for role in ROLES:
            chip = QLabel(ROLE_NAMES[role])
            decoration = "text-decoration: line-through;" if role == "cut" else ""
            chip.setStyleSheet(f"background: {ROLE_COLORS[role][0]}; color: {TEXT_COLOR}; border-radius: 3px; "
                               f"padding: 2px 6px; {decoration}")
            chip.setToolTip(LEGEND_TIPS[role])
            chip.setObjectName(f"legend_{role}")
            row.addWidget(chip)
        row.addStretch(1)
        return host

    # ---- config
    def set_config(self, config: RunConfig) -> None:
        """Inspect with new settings (after a fix, or edits in the Dataset tab): reload, then check again."""
        self.config = config.copy()
        self.stop_checks()
        self._start_loading()

    def _start_loading(self) -> None:
        self._loading = True
        self.inspector = None
        self.checks = None
        self.status_label.setText("Loading the tokenizer and the data…")
        self.error_label.hide()
        self._update_buttons()
        self.load_task.submit(load_inspector, self.config)

    def _loaded(self, inspector: Inspector) -> None:
        self._loading = False
        self.inspector = inspector
        chat = inspector.chat
        detected = f" (detected: {inspector.detection.reason})" if chat.format == "auto" else ""
        source = self.config.dataset.source
        from finetune_studio.core.chat import CHATML_NOTE, FORMAT_NAMES, TOOLS_PART

        rows = f"{len(inspector):,} row{'' if len(inspector) == 1 else 's'}"
        say(self.status_label, f"{source} · {rows} · {FORMAT_NAMES.get(inspector.format, '?')}"
                               f"{detected} · max_length {inspector.max_length:,} · trained: {inspector.train_on}")
        note = inspector.template_note
        name = inspector.template_name
        if inspector.format == "text":  # set, or detected: no template renders plain text
            note = inspector.column_note  # the text column as the data spells it, as a run says in its log
            say(self.template_label, "Plain text: no chat template; every token is trained."
                + (f" {note}" if note else ""))
        elif not inspector.uses_template:  # plain prompt/completion text: the run's words for it
            say(self.template_label, NO_TEMPLATE_WORDS)
        else:
            say(self.template_label, template_words(name, note, TOOLS_PART in inspector.detection.columns))
            note = note if note == CHATML_NOTE else ""  # only ChatML picked for the user is worth the warning colour
        self.template_label.setStyleSheet(f"color: {WARNING_COLOR};" if note else "")
        self.template_label.show()
        with _blocked(self.row_spin):
            self.row_spin.setRange(1, max(1, len(inspector)))
            self.row_spin.setValue(1)
        self.of_label.setText(f"of {len(inspector):,}")
        self._update_buttons()
        self.show_row(0)
        self.start_checks()

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = False
        from finetune_studio.gui.forms.dataset_form import describe_error

        self.status_label.setText("Nothing to inspect.")
        say(self.error_label, describe_error(exc, "loading the tokenizer and the data"))
        self.error_label.show()
        self._update_buttons()

    # ---- one row
    def show_row(self, index: int) -> None:
        if self.inspector is None or not 0 <= index < len(self.inspector):
            return
        if self.row_spin.value() != index + 1:
            with _blocked(self.row_spin):
                self.row_spin.setValue(index + 1)
        self._update_buttons()
        self.counts_label.setText("Rendering…")
        self.row_task.submit(render_row, self.inspector, index)

    def _row_ready(self, result: tuple[int, Any, list[tuple[str, str]], dict | None]) -> None:
        index, labeled, pieces, raw = result
        self.labeled, self.pieces = labeled, pieces
        problems = list(getattr(labeled, "problems", None) or [])
        if raw is not None and self.inspector is not None:  # no tokens, or blank: the row as written, and why
            blank = is_blank(raw, self.inspector.format, self.inspector.text_column,  # a run leaves it out
                             bool(getattr(labeled, "roles", None)))
            self.token_view.setHtml(failed_row_html(raw, blank))
            self.counts_label.setText(f"Row {index + 1}: " + ("blank, a run leaves it out." if blank
                                                              else "no tokens (it cannot be trained)."))
            say(self.row_problems_label, self.inspector.row_message(index, raw, labeled))
            self.row_problems_label.setStyleSheet(f"color: {WARNING_COLOR if blank else ERROR_COLOR};")
            self.row_problems_label.show()
            return
        self.token_view.setHtml(token_html(pieces))
        self.counts_label.setText(f"Row {index + 1}: " + counts_text([role for _, role in pieces]))
        say(self.row_problems_label, "\n".join(problems))
        self.row_problems_label.setStyleSheet(f"color: {WARNING_COLOR};")
        self.row_problems_label.setVisible(bool(problems))

    def _row_failed(self, exc: BaseException) -> None:
        self.labeled, self.pieces = None, []
        self.token_view.setHtml("")
        self.counts_label.setText("")
        say(self.row_problems_label, f"This row cannot be rendered: {exc}")
        self.row_problems_label.show()

    def _hovered(self, url: QUrl) -> None:
        text = url.toString()
        if not text.startswith("tok:") or self.labeled is None:
            return
        i = int(text[4:])
        if i >= len(self.pieces):
            return
        token, role = self.pieces[i]
        self.hover_label.setText(hover_text(i, self.labeled.input_ids[i], token, role, self.labeled.labels[i]))

    # ---- whole dataset
    def start_checks(self) -> None:
        if self.inspector is None:
            return
        self._stop = threading.Event()
        self.progress_bar.setRange(0, max(1, len(self.inspector)))
        self.progress_bar.setValue(0)
        self.summary_label.setText("Checking every row…")
        self._clear_problems()
        self.check_task.submit(run_checks, self.inspector, self._progress.report, self._stop)
        self._update_buttons()

    def stop_checks(self) -> None:
        self._stop.set()
        if self.check_task.busy:
            self.check_task.cancel()
            self.summary_label.setText("Checks stopped. “Check all rows” starts them again.")
        self._update_buttons()

    def _progress_changed(self, done: int, total: int) -> None:
        if self.check_task.busy:
            self.progress_bar.setRange(0, max(1, total))
            self.progress_bar.setValue(done)

    def _checks_done(self, checks: DatasetChecks | None) -> None:
        self._update_buttons()
        if checks is None:
            self.summary_label.setText("Checks stopped. “Check all rows” starts them again.")
            return
        self.checks = checks
        self.progress_bar.setRange(0, max(1, checks.rows))
        self.progress_bar.setValue(checks.rows)
        from finetune_studio.core.inspector import checks_summary

        when = "from the cache" if checks.from_cache else f"in {checks.seconds:.1f} s"
        self.summary_label.setText(f"{checks_summary(checks)} (checked {when})")
        self._clear_problems()
        problems = self.inspector.problems(checks) if self.inspector else checks.problems()
        if not problems:
            ok = QLabel("✔ No problems: every row trains something, and none is cut by max_length."  # no replies
                        if checks.format == "text" else
                        "✔ No problems: every row trains something, no reply is cut, every reply trains its end.")
            ok.setObjectName("no_problems")
            ok.setWordWrap(True)
            ok.setStyleSheet("color: #137333;")
            self.problems_box.addWidget(ok)
        for problem in problems:
            self.problems_box.addWidget(self._problem_widget(problem))
        self.problems_box.addStretch(1)
        if self.histogram is None:
            self.histogram = TrainedHistogram()
            self.histogram_host.addWidget(self.histogram)
        self.histogram.set_data(*checks.histogram(), prompts=checks.format != "text")
        self.checks_ready.emit(checks)

    def _checks_failed(self, exc: BaseException) -> None:
        self._update_buttons()
        from finetune_studio.gui.forms.dataset_form import describe_error

        say(self.summary_label, describe_error(exc, "checking the rows"))

    def _problem_widget(self, problem: CheckProblem) -> QWidget:
        frame = QFrame()
        frame.setObjectName(f"problem_{problem.kind}")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        color = ERROR_COLOR if problem.severity == "error" else WARNING_COLOR
        lay = QVBoxLayout(frame)
        lay.setContentsMargins(8, 6, 8, 6)
        text = _width_given(QLabel())
        say(text, problem.message)
        text.setWordWrap(True)
        text.setStyleSheet(f"color: {color};")
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(text)
        buttons = QHBoxLayout()
        if problem.rows:
            show = QPushButton(f"Show row {problem.rows[0] + 1}")
            show.clicked.connect(lambda _=False, r=problem.rows[0]: self.show_row(r))
            buttons.addWidget(show)
        for fix in problem.fixes:
            button = QPushButton(fix.label)
            button.setObjectName("fix")
            button.setToolTip(", ".join(f"{k} = {v}" for k, v in fix.overrides.items()))
            button.clicked.connect(lambda _=False, o=dict(fix.overrides): self.fix_requested.emit(o))
            buttons.addWidget(button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        return frame

    def _clear_problems(self) -> None:
        while self.problems_box.count():
            item = self.problems_box.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()

    def problem_widgets(self) -> list[QFrame]:
        widgets = [self.problems_box.itemAt(i).widget() for i in range(self.problems_box.count())]
        return [w for w in widgets if w is not None and w.objectName().startswith("problem_")]

    def _update_buttons(self) -> None:
        ready = self.inspector is not None
        rows = len(self.inspector) if ready else 0
        self.row_spin.setEnabled(ready and rows > 0)
        self.prev_button.setEnabled(ready and self.row_spin.value() > 1)
        self.next_button.setEnabled(ready and self.row_spin.value() < rows)
        self.check_button.setEnabled(ready and not self.check_task.busy)
        self.stop_button.setEnabled(self.check_task.busy)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self._stop.set()  # a running check ends at its next row; its result is dropped
        self.check_task.cancel()
        super().closeEvent(event)


class _blocked:
    def __init__(self, widget: QObject):
        self.widget = widget

    def __enter__(self) -> None:
        self.widget.blockSignals(True)

    def __exit__(self, *_: Any) -> None:
        self.widget.blockSignals(False)
