"""Compare checkpoints: the saved prompts, answered greedily by the base model and by every complete checkpoint
(and the final model) of a run, in a table of prompt × checkpoint.

The work is core.generate.compare_checkpoints, run as a job of the Try tab's GenerateRunner (one model job at a
time, and training frees it like the chat). Each answer is appended to the run's answers.jsonl as it comes, so the
table of a run reopens from its folder, `finetune-studio generate RUN --answers` prints it, and a comparison cut
short keeps what it had. The view gets what it may do as callables; it never holds the tab.
"""

from __future__ import annotations

import html
import re
import textwrap
import threading
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.answers import AnswerTable, SavedAnswers, answer_table, answers_path, load_answers, shown
from finetune_studio.gui import settings as store
from finetune_studio.gui.background import BackgroundTask

AUTO_KEY = "try/compare_when_run_finishes"
COMPARE_TIP = ("Answer every saved prompt greedily with the base model and each complete checkpoint of the run; the "
               "answers are kept in the run folder (answers.jsonl).")
TRAINING_TIP = "A training run is using the memory; compare when it ends."
Job = Callable[[Callable[[dict], None], threading.Event], Any]


# An answers file larger than this is read, and its table made, in the background: a comparison run a thousand
# times leaves 100,000 answers (60 MB), which load_answers read on the GUI thread in 0.5-1.4 s at every run picked,
# page shown or comparison ended. A smaller one (a few thousand answers) is read in place, in milliseconds.
# Kept as two paths on purpose (measured on 2 shared cores, offscreen, median of 7 reads): up to this size
# load_answers takes 0.2 ms (50 answers) to 5.7 ms (1,500 answers, 0.9 MB) on the GUI thread, under one frame;
# through the background its table came 0.6-11.6 ms after the request, a turn of the event loop later, so every run
# picked would flash the other run's table away and "Reading the saved answers…" for that turn, and what reads the
# table right after set_run/reload (the Try tab's status line, several test files) would have to wait for it. A read in
# a worker thread is also where a garbage collection can destroy a Qt object off the GUI thread
# (test_try_answers_read_h158's note): only the reads that would freeze the window go there.
READ_IN_PLACE_BYTES = 1_000_000


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # none yet, or one that cannot be read: load_answers says which, in place
        return 0


def _read_table(run_dir: Path, extra: list[dict[str, Any]], prompts: list[str]) -> tuple[SavedAnswers, AnswerTable]:
    """The background read: the run's answers, and the table they make with `extra` (answers not saved) over them."""
    saved = load_answers(run_dir)
    return saved, answer_table(saved.records + extra, prompts)


HEADER_MIN_WIDTH = 90  # the row titles' width never goes under this (a third of a narrow table would be a word)
LONG_WORD_CHARS = 60  # a word of a line this long may not fit it: the whole line is the label's tooltip


def _width_of_the_page(label: QLabel) -> QLabel:
    """A word-wrapped line whose width is the page's, whatever it says: a label wraps only between words, and a line
    naming a run or a path of one long word ('kept in <247-character name>/answers.jsonl') asked for all of it,
    widening the tab and the window past the screen. Its height still follows its width; _say_in gives the tooltip."""
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label


def _say_in(label: QLabel, text: str) -> None:
    """`text` in a _width_of_the_page label; whole in its tooltip when a word of it may not fit the line."""
    label.setText(text)
    label.setToolTip(text if any(len(word) > LONG_WORD_CHARS for word in text.split()) else "")


CELL_CHARS = 1000  # more than a cell shows: at most 160 px high, about 10 lines of a column made 600 px wide
TIP_CHARS = 600  # a longer answer's tooltip is cut here: a click on its cell shows it whole under the table
TIP_LINES = 15  # and after this many lines: 300 short lines were a tooltip 4,200 px high
PLAIN_TIP_CHARS = 120  # a tooltip of one line up to this long stays plain text: no wider than a screen
TIP_WORD = 80  # a run of this many characters with no space is given a place to wrap (U+200B) after it


def bounded_tip(text: str, more: str = "") -> str:
    """`text` as a tooltip shows it, word for word, and no larger than a screen. Qt takes a tooltip for markup when
    its first line has a tag ('<b>', 'what does <div> do?', even 'a < b and c > d') or '&lt;', and showed 'a  d'; a
    plain one is not wrapped, so a long answer was one line wider than the screen. Escaped rich text is neither. Cut
    at TIP_CHARS characters or TIP_LINES lines, with '…' and `more` (where the rest is) after it. Rich text wraps at
    spaces only: a run of characters without one ('x' * 600, a URL, a model's '!!!!…') was one line 4,265 px wide,
    so such a run gets a zero-width space every TIP_WORD characters, where it may wrap. A short line that Qt does not
    take for markup is fine as it is: it is its own tooltip."""
    if len(text) <= PLAIN_TIP_CHARS and "\n" not in text and not GuiQt.mightBeRichText(text):
        return text
    cut = text[:TIP_CHARS]
    lines = cut.split("\n")
    if len(lines) > TIP_LINES:
        cut = "\n".join(lines[:TIP_LINES])
    if cut != text:
        cut = f"{cut}… {more}".rstrip()
    cut = re.sub(rf"\S{{{TIP_WORD}}}(?=\S)", lambda match: match.group(0) + "\u200b", cut)
    return f"<p style='white-space:pre-wrap'>{html.escape(cut)}</p>"


TITLE_LINES = 3


def _row_title(prompt: str, chars: int) -> str:
    """A prompt as its row's title: its words in at most TITLE_LINES lines of `chars` characters, the last cut
    with '…' when it goes on. Prompts that begin alike ('Write a horoscope for sign 0 about work…', '… sign 1 …')
    differ a few words in, which a title of one line at a third of the table's width cut off."""
    head = prompt[:chars * (TITLE_LINES + 1)]  # what the lines can hold: a long prompt is wrapped at each resize
    lines = textwrap.wrap(" ".join(head.split()), chars) or [""]
    if len(lines) > TITLE_LINES or (len(head) < len(prompt) and prompt[len(head):].strip()):
        lines = lines[:TITLE_LINES]
        lines[-1] = lines[-1][:chars - 1].rstrip() + "…"
    return "\n".join(lines)


def _column_title(model: str) -> str:
    return {"base": "Base model", "final": "Final model"}.get(model, model)


ENDED = {"eos": "it ended its answer", "max_new_tokens": "cut off at max new tokens: it may go on",
         "user": "stopped by the user"}


def _how_it_ended(record: dict[str, Any]) -> str:
    """' (12 tokens, cut off at max new tokens: it may go on)' from a record's tokens and stop_reason, as far as the
    line holds them (a line written by hand or another version may hold neither)."""
    parts = []
    tokens = record.get("tokens")
    if isinstance(tokens, int) and not isinstance(tokens, bool):
        parts.append(f"{tokens} token{'s' if tokens != 1 else ''}")
    reason = record.get("stop_reason")
    if isinstance(reason, str) and reason:
        parts.append(ENDED.get(reason, f"ended: {reason}"))
    return f" ({', '.join(parts)})" if parts else ""


class CompareView(QWidget):
    """The table and its buttons. `owner` is the Try tab: it runs the job (`start_job(kind, job)`), stops it, and
    gives the settings' max new tokens."""

    # The last comparison's line went (reload: its answers file is gone or cannot be read), for whoever shows what
    # it said elsewhere (the tab's status line no longer repeats it: the line is said once, here).
    comparison_line_dropped = Signal()

    def __init__(self, owner: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("compare_view")
        self._start_job: Callable[[str, Job], bool] = owner.start_job
        self._stop_job: Callable[[], None] = owner.stop
        self._release: Callable[[str], None] = owner.release
        self._settings = lambda: owner.settings_box.settings()
        self.run_dir: Path | None = None
        self.prompts: list[str] = []
        self.table_data: AnswerTable = answer_table([])
        self._running = False
        self._expected: int | None = None  # answers the running comparison would give in all (prompts × models)
        self._shape: tuple[int, int] = (0, 0)  # its prompts and models, less those skipped (for _expected)
        self.skipped: list[str] = []  # what the running comparison skipped and why (a damaged checkpoint)
        self.unsaved = ""  # why the running comparison's answers are not being saved (core.answers), once said
        # The answers a comparison made but could not write, by run folder: shown over the file's whenever the run's
        # table is read again (the page shown again, Refresh), which dropped them while the line above still said
        # "the answers are shown but not saved". Kept while the window is open; the line says they are not saved.
        self._not_saved: dict[Path, list[dict[str, Any]]] = {}
        self._last_answer: dict[str, Any] | None = None  # the latest answer's record (the first one not written)
        self._load_stopped = ""  # the model whose load Stop ended ("checkpoint-4"): said when the comparison ends
        self._stop_why: tuple[str, str] = ("", "")  # why the running comparison is being stopped, and what to do next
        # The running comparison's models damaged at its start, by key ("final", "checkpoint-4": answers.jsonl's
        # names) with their labels: they give no answers, and are named at the end even when it stopped before it
        # reached them (their "skipped" event names them when it comes).
        self._left_out: dict[str, str] = {}
        self._skipped_models: set[str] = set()
        # The running comparison's models by key, with their labels and folders: one deleted while it runs is said
        # so, not called damaged. And whether Stop was pressed: its line stays "Stopping…" until the job ends.
        self._folders: dict[str, tuple[str, Path]] = {}
        self._stopping = False
        self._training = False
        self._busy = False
        # What the tab's model picker says of the run (set_models): its damaged models, left out of a comparison, and
        # why none can be compared (every one damaged): Compare is disabled and says why, as Send does.
        self._damaged: list[str] = []
        self._none_usable = ""
        # The background read of a large answers file (READ_IN_PLACE_BYTES): the run it reads, whether the last
        # comparison's line is checked against it when it comes (reload), and the run the table shows now.
        self._reader = BackgroundTask(self)
        self._reader.result.connect(self._table_read)
        self._reader.error.connect(self._table_not_read)
        self._reading: Path | None = None
        self._check_line_after_read = False
        self._table_run: Path | None = None

        self.explain = QLabel("", objectName="compare_explain", wordWrap=True)
        self.compare_button = QPushButton("Compare checkpoints", objectName="compare_start")
        self.compare_button.setToolTip(COMPARE_TIP)
        self.stop_button = QPushButton("Stop", objectName="compare_stop", enabled=False)
        self.auto_check = QCheckBox("Compare automatically when a run finishes", objectName="compare_auto")
        self.auto_check.setChecked(str(store.settings().value(AUTO_KEY, "false")).lower() == "true")
        self.auto_check.toggled.connect(lambda on: store.settings().setValue(AUTO_KEY, "true" if on else "false"))
        # Plain text: the lines quote prompts, paths and error messages, which Qt took for markup ('<b>…' bold).
        self.status = _width_of_the_page(QLabel("", objectName="compare_status", wordWrap=True,
                                                textFormat=Qt.TextFormat.PlainText))
        self.status.setHidden(True)
        # Why the answers file (or some of its lines) could not be read: else an empty table looks like no answers.
        self.read_note = _width_of_the_page(QLabel("", objectName="compare_read_note", wordWrap=True,
                                                   textFormat=Qt.TextFormat.PlainText))
        self.read_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.read_note.setHidden(True)
        self.table = QTableWidget(objectName="compare_table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(220)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setMaximumSectionSize(160)
        self.table.currentCellChanged.connect(lambda *_cells: self._show_picked())
        # The picked cell whole: a cell is at most 160 px high and a row title three short lines, so a long answer, or
        # two prompts that begin alike, could only be told apart in a tooltip (one line, wider than the screen).
        # Shown once a cell is picked: at 900×600 a box always there took a third of the table's height.
        self.detail = QPlainTextEdit(objectName="compare_detail", readOnly=True, visible=False)
        self._picked: tuple[str, str] | None = None  # (prompt, model) of the picked cell, kept over refills
        self._rows: list[str] = []  # the prompts shown, one a row
        self.splitter = QSplitter(Qt.Orientation.Vertical, objectName="compare_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        self.detail.setMinimumHeight(self.detail.fontMetrics().lineSpacing() * 3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.explain)
        layout.addLayout(buttons)
        # A row of its own: beside the buttons, at 900×600 its text was cut to "Compare automatically when".
        layout.addWidget(self.auto_check)
        layout.addWidget(self.status)
        layout.addWidget(self.read_note)
        layout.addWidget(self.splitter, 1)
        self.compare_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(lambda: self.stop())  # not self.stop: clicked(bool) would be its `why`
        self._explain()

    # ------------------------------------------------------------------ what is shown
    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """The row titles take at most a third of the table's width, in up to TITLE_LINES lines: in the window at
        900×600 the Try tab has about 440 px, and a one-line title of 40 characters took two thirds of it, leaving a
        sliver of one answer. The tooltip and the box under the table say the prompt whole."""
        super().resizeEvent(event)
        self._fit_titles()

    def _title_chars(self) -> int:
        width = max(HEADER_MIN_WIDTH, self.table.width() // 3)
        self.table.verticalHeader().setMaximumWidth(width)
        average = max(1, self.table.verticalHeader().fontMetrics().averageCharWidth())
        return max(8, (width - 16) // average)  # 16: the section's margins

    def _fit_titles(self) -> None:
        chars = self._title_chars()
        for row, prompt in enumerate(self._rows):
            item = self.table.verticalHeaderItem(row)
            if item is not None:
                item.setText(_row_title(prompt, chars))

    def _set_status(self, text: str) -> None:
        """The comparison's line; hidden while empty, so no blank row sits above the table."""
        _say_in(self.status, text)
        self.status.setHidden(not text)

    def set_run(self, run_dir: Path | None) -> None:
        self.run_dir = run_dir
        self._show_saved()

    def reload(self) -> None:
        """Show the run's answers file as it is on disk now: it may have been deleted or replaced since it was read
        (the run picked again, Refresh, the page or the tab shown again). While a comparison runs the table is
        that comparison's, and it is read again when it ends."""
        if not self._running:
            self.set_run(self.run_dir)
            if self._reading is not None:
                self._check_line_after_read = True  # the file's lines are known once read (_table_read)
            else:
                self._check_comparison_line()

    def _check_comparison_line(self) -> None:
        if not self.read_note.isHidden() or not self.table_data.cells:
            # "Done: 9 answers, kept in …" beside a file now unreadable or gone said the opposite of the table
            self._set_status("")
            self.comparison_line_dropped.emit()

    def set_prompts(self, prompts: list[str]) -> None:
        self.prompts = list(prompts)
        if self._running:
            self.table_data = answer_table([r for r in self.table_data.cells.values()], self.prompts)
            self._fill()
            self._explain()
        else:  # what is on disk, not what was read when the run was picked
            self._show_saved()

    def reading(self) -> bool:
        """A large answers file is being read in the background (its table comes when it is read)."""
        return self._reading is not None

    def _show_saved(self) -> None:
        """The run's answers on disk, in the table: read in place when the file is small, else in the background
        (READ_IN_PLACE_BYTES), the window usable meanwhile; the line under the status says it is being read, and
        the table keeps what it showed of the same run (or shows only its answers not saved, for another run)."""
        run_dir = self.run_dir
        not_saved = list(self._not_saved.get(run_dir, [])) if run_dir is not None else []
        size = _file_size(answers_path(run_dir)) if run_dir is not None else 0
        if run_dir is None or size <= READ_IN_PLACE_BYTES:
            self._reader.cancel()
            self._reading, self._check_line_after_read = None, False
            self._show_table(load_answers(run_dir) if run_dir is not None else None, None, not_saved)
            return
        self._reading, self._check_line_after_read = run_dir, False
        self._reader.submit(_read_table, run_dir, not_saved, list(self.prompts))
        _say_in(self.read_note, f"Reading the saved answers in {answers_path(run_dir)} ({size / 1e6:.0f} MB)…")
        self.read_note.setHidden(False)
        if self._table_run != run_dir:  # another run's answers are not this one's: only its unsaved ones meanwhile
            self._table_run = run_dir
            self.table_data = answer_table(not_saved, self.prompts)
            self._fill()
        self._explain()

    def _show_table(self, saved: SavedAnswers | None, table: AnswerTable | None,
                    not_saved: list[dict[str, Any]]) -> None:
        """What could not be read (the file, or some lines) said under the status, and the table filled."""
        note = saved.note if saved is not None else ""
        _say_in(self.read_note, note)
        self.read_note.setHidden(not note)
        if table is None:
            table = answer_table((saved.records if saved is not None else []) + not_saved, self.prompts)
        self.table_data = table
        self._table_run = self.run_dir
        self._fill()
        self._explain()

    def _table_read(self, outcome: tuple[SavedAnswers, AnswerTable]) -> None:
        saved, table = outcome
        if self._reading is None or saved.path != answers_path(self._reading) or self._reading != self.run_dir:
            return  # read for a run no longer shown (the BackgroundTask drops most of those itself)
        self._reading = None
        if self._running:  # a comparison began meanwhile: its answers are newer than the file's
            table = answer_table(list(table.cells.values()) + list(self.table_data.cells.values()), self.prompts)
        self._show_table(saved, table, [])
        if self._check_line_after_read:
            self._check_line_after_read = False
            self._check_comparison_line()

    def _table_not_read(self, error: BaseException) -> None:
        """load_answers says what it cannot read; anything else (a bug, memory) is said here, with what to do."""
        run_dir, self._reading = self._reading, None
        path = answers_path(run_dir) if run_dir is not None else "answers.jsonl"
        note = (f"Cannot read the saved answers in {path}: {type(error).__name__}: {error}. To fix: check the file "
                "and the disk it is on, then pick the run again.")
        _say_in(self.read_note, note)
        self.read_note.setHidden(False)
        self._explain()

    def _explain(self) -> None:
        count = len(self.prompts)
        if not count:
            text = ("No saved prompts yet: type a prompt on the Chat page and press Save prompt. Saved prompts are "
                    "kept with the config (prompts:).")
        else:
            text = (f"{count} saved prompt{'s' if count != 1 else ''}, answered greedily by the base model and every "
                    "complete checkpoint of the run.")
        if self.run_dir is not None and self._none_usable:
            text += (f" {'Every model of this run is damaged' if self._damaged else 'This run has no model yet'}, so "
                     "there is nothing to compare (Compare checkpoints' tooltip says what to do).")
        elif self.run_dir is not None and self._damaged:
            text += (f" Left out, damaged (the model picker's list says why): {_listed(self._damaged)}.")
        self.explain.setText(text)
        self._fit_button()

    def _fit_button(self) -> None:
        """Compare is enabled only when a comparison can start, and its tooltip says why not when it cannot."""
        blocked = self._none_usable if self.run_dir is not None else ""
        self.compare_button.setEnabled(bool(self.prompts) and self.run_dir is not None and not self._running
                                       and not self._busy and not self._training and not blocked)
        self.compare_button.setToolTip(TRAINING_TIP if self._training else blocked or COMPARE_TIP)

    def set_models(self, damaged: list[str], none_usable: str) -> None:
        """What the tab's model picker lists of the shown run: the labels of its damaged models (a comparison leaves
        them out) and, when none of its models can load, why and what to do (Compare is disabled and says it; it was
        enabled, and a comparison failed as it began)."""
        if (damaged, none_usable) != (self._damaged, self._none_usable):
            self._damaged, self._none_usable = list(damaged), none_usable
            self._explain()

    def _fill(self) -> None:
        data = self.table_data
        # a prompt saved twice (prompts: in a config written by hand) is one row: its cells are the same
        saved = set(self.prompts)
        rows = list(dict.fromkeys(p for p in data.prompts
                                  if p in saved or any((p, m) in data.cells for m in data.models)))
        picked = self._picked
        self._rows = rows
        self.table.blockSignals(True)  # the picked cell is put back below, not forgotten while the table refills
        # Rows fit to their contents once, when the table is filled: fitted at each cell set, every row was measured
        # again for each cell, and 200 prompts × 5 models took 19.6 s of the GUI thread (offscreen, shared 2 cores).
        header = self.table.verticalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(data.models))
        self.table.setHorizontalHeaderLabels([_column_title(m) for m in data.models])
        chars = self._title_chars()
        self.table.setVerticalHeaderLabels([_row_title(p, chars) for p in rows])
        for row, prompt in enumerate(rows):
            tip = bounded_tip(prompt, "(click a cell of the row to read it all)")
            self.table.verticalHeaderItem(row).setToolTip(tip)
            for col, model in enumerate(data.models):
                self._set_cell(row, col, data.answer(prompt, model))
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if picked is not None and picked[0] in rows and picked[1] in data.models:
            self.table.setCurrentCell(rows.index(picked[0]), data.models.index(picked[1]))
        self.table.blockSignals(False)
        self._show_picked()

    def _set_cell(self, row: int, col: int, answer: str | None) -> None:
        if answer is None:
            self.table.takeItem(row, col)
            return
        text = answer.strip()
        # What a cell can show (at most 160 px high): Qt measures every cell's whole text for its row's height, and
        # 260 answers of 8 kB (13 models × 20 prompts) took 2.3 s of the GUI thread to fill (0.45 s now). The box
        # under the table shows the answer whole.
        if not text:
            text = "(empty)"
        elif len(text) > CELL_CHARS:
            text = text[:CELL_CHARS] + "…"
        item = QTableWidgetItem(text)
        item.setToolTip(bounded_tip(answer, "(click the cell to read it all under the table)"))
        item.setTextAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.table.setItem(row, col, item)

    def _show_picked(self) -> None:
        """The picked cell's prompt and whole answer, with how it ended, in the box under the table."""
        row, col = self.table.currentRow(), self.table.currentColumn()
        models = self.table_data.models
        if not (0 <= row < len(self._rows) and 0 <= col < len(models)):
            self._picked = None
            self.detail.setPlainText("")
            self.detail.setVisible(False)
            return
        prompt, model = self._rows[row], models[col]
        self._picked = (prompt, model)
        record = self.table_data.cells.get((prompt, model))
        if record is None:
            said = (f"No answer from {_column_title(model)} to this prompt yet (Compare checkpoints answers every "
                    "saved prompt).")
        else:
            answer = shown(record.get("answer", ""))
            said = f"{_column_title(model)}{_how_it_ended(record)}:\n{answer if answer.strip() else '(empty: no text)'}"
        self.detail.setPlainText(f"Prompt:\n{prompt}\n\n{said}")
        if self.detail.isHidden():  # a third of the height, the table the rest (the user may drag the line)
            self.detail.setVisible(True)
            height = sum(self.splitter.sizes())
            self.splitter.setSizes([height - height // 3, height // 3])
            self.table.scrollTo(self.table.currentIndex())  # the picked cell stays in the shorter table

    def answer(self, prompt: str, model: str) -> str | None:
        """The answer shown in a cell (tests)."""
        return self.table_data.answer(prompt, model)

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        run_dir, prompts = self.run_dir, [p for p in self.prompts if p.strip()]
        if run_dir is None or not prompts:
            self._set_status("Pick a run and save at least one prompt first.")
            return
        if self._none_usable:  # the button is disabled; a comparison asked for otherwise (when a run finishes)
            self._set_status(self._none_usable)
            return
        if not run_dir.exists():  # deleted or moved outside the app since it was picked
            self._set_status(f"The run folder {run_dir.name} is no longer in the runs folder (deleted or moved), so "
                             "there is nothing to compare. To fix: put it back, or pick another run above (Refresh "
                             "lists the runs as they are).")
            return
        from finetune_studio.core import generate

        settings = self._settings().greedy()
        self._release("")  # the comparison loads its own models, one at a time

        def job(sink: Callable[[dict], None], stop: threading.Event) -> Any:
            return generate.compare_checkpoints(run_dir, prompts, settings, sink, stop)

        self._left_out, self._skipped_models, self._folders = {}, set(), {}
        self._stopping = False
        try:
            found = generate.targets(run_dir)
            self._folders = {target.key: (target.label, target.path) for target in found}
            # a damaged model is skipped (its "skipped" event says so): "Stopped: 3 of 12" counted its answers
            self._left_out = {target.key: target.label for target in found if generate.damage(target.path) is not None}
            self._shape = (len(prompts), len(found) - len(self._left_out) + 1)  # + the base model
            self._expected = self._shape[0] * self._shape[1]
        except generate.GenerationError:
            self._expected = None  # the job says what is wrong with the run
        self.skipped, self.unsaved, self._last_answer = [], "", None
        self._load_stopped = ""  # the model whose load Stop ended ("checkpoint-4"): said when the comparison ends
        self._stop_why = ("", "")
        self._running = True  # before the job starts: starting it sets the buttons (set_busy), Stop included
        if self._start_job("compare", job):
            self._set_status("Comparing…")
        else:
            self._running = False
        self.stop_button.setEnabled(self._running)
        self._explain()

    def stop(self, why: str = "", then: str = "") -> None:
        """Stop the comparison; `why` (a training run started) and `then` (what to do next) are said when it ends."""
        if self._running:
            if why:
                self._stop_why = (why, then)
            # The page said "Loading checkpoint-1…" until the job ended, the tab's line two rows up "Stopping…"
            self._stopping = True
            self._set_status("Stopping…")
            self.stop_button.setEnabled(False)  # pressed: it is stopping
            self._stop_job()

    def add_event(self, event: dict) -> None:
        if event.get("event") == "progress":
            if not self._stopping:  # "Loading checkpoint-2…" queued before Stop: it stops, it does not load
                self._set_status(event["text"])
        elif event.get("event") == "skipped":  # a damaged checkpoint: the rest are compared, the end says which
            label, folder = self._folders.get(event.get("model"), ("", None))
            if folder is not None and not folder.exists() and self.run_dir is not None and self.run_dir.exists():
                # deleted while compared (a file manager, rm -r): it was called damaged, with the load's
                # "[Errno 2] No such file or directory: '…/checkpoint-9/config.json'"
                event = {**event, "text": f"{label} skipped: it was deleted from the run folder while the "
                                          "checkpoints were compared."}
            self.skipped.append(event["text"])
            self._skipped_models.add(event.get("model"))
            if event.get("model") is None or event.get("model") not in self._left_out:  # those were not counted
                self._skip(event.get("model"))
            self._set_status(event["text"])
        elif event.get("event") == "load stopped":  # nothing of that model is kept, none after it was loaded
            self._load_stopped = event.get("label") or event.get("model") or "a model"
        elif event.get("event") == "unsaved":  # the answers go on being shown; the end says they were not kept
            self.unsaved = event["text"]
            if self.run_dir is not None:  # the answer just made is the first one that could not be written
                self._not_saved.setdefault(self.run_dir, []).extend([self._last_answer] if self._last_answer else [])
            self._set_status(event["text"])
        elif event.get("event") == "answer" and "record" in event:
            self._last_answer = event["record"]
            if self.run_dir is not None and self._not_saved.get(self.run_dir):  # a newer answer of its cell wins
                key = (shown(event["prompt"]), shown(event["model"]))
                self._not_saved[self.run_dir] = [r for r in self._not_saved[self.run_dir]
                                                 if (shown(r.get("prompt")), shown(r.get("model"))) != key]
            if self.unsaved and self.run_dir is not None:  # no more are written once one was not
                self._not_saved.setdefault(self.run_dir, []).append(event["record"])
            cells = dict(self.table_data.cells)
            cells[(shown(event["prompt"]), shown(event["model"]))] = event["record"]
            old = self.table_data
            self.table_data = answer_table(list(cells.values()), self.prompts)
            prompt, model = shown(event["prompt"]), shown(event["model"])
            if (self.table_data.models == old.models and prompt in self._rows
                    and self.table_data.prompts == old.prompts):  # one cell changed: the rest are not made again
                self._set_cell(self._rows.index(prompt), self.table_data.models.index(model),
                               self.table_data.answer(prompt, model))
                if self._picked == (prompt, model):
                    self._show_picked()
            else:
                self._fill()

    def _skip(self, model: str | None) -> None:
        """A prompt too long for every model (model None) or a checkpoint that does not load gives no answers:
        "Stopped: 3 of 8 answers" must count only the answers the comparison can still give."""
        if self._expected is None:
            return
        prompts, models = self._shape
        self._shape = (prompts - 1, models) if model is None else (prompts, models - 1)
        self._expected = max(self._shape[0], 0) * max(self._shape[1], 0)

    def finished(self, table: AnswerTable, stopped: bool = False) -> None:
        """The comparison ended (stopped: at the user's request, or for training): say so here, the one place it is
        said (the tab's status line, two lines above the page, says what became of the Chat page's models)."""
        self._running = self._stopping = False
        done = len(table.cells)
        where = f"{self.run_dir.name if self.run_dir else 'the run'}/answers.jsonl"
        why, then = self._stop_why if stopped else ("", "")
        self._stop_why = ("", "")
        # "Stopped: 3 of 12 answers kept" alone, when training took the memory: the page did not say why, or when
        # the rest could be had
        stop_word = f"Stopped because {why}" if why else "Stopped"
        if stopped:
            of = f" of {self._expected}" if self._expected else ""
            said = f"{stop_word}: {done}{of} answer{'s' if done != 1 or of else ''} kept in {where}."
        else:
            said = f"Done: {done} answer{'s' if done != 1 else ''}, kept in {where}."
        if self.unsaved:  # "kept in …answers.jsonl" would be untrue, and reading the file back would drop them
            said = f"{stop_word if stopped else 'Done'}: {done} answer{'s' if done != 1 else ''}. {self.unsaved}"
        if stopped and self._load_stopped:  # d3cfddd's words for the Try tab's stopped load
            load = f"It was stopped while {self._load_stopped} loaded: nothing of it is kept."
            if not then:  # training's `then` says when to compare again
                load = f"{load} Press Compare checkpoints to compare again."
            said = f"{said} {load}"
        self._load_stopped = ""
        if self.skipped:
            skipped = " ".join(f"{text.rstrip('.')}." for text in self.skipped)
            said = f"{said} {skipped}"
        unsaid = [label for key, label in self._left_out.items() if key not in self._skipped_models]
        if unsaid:  # stopped before the comparison reached them: the line still says they were not compared
            said = f"{said} Left out, damaged (the model picker's list says why): {_listed(unsaid)}."
        if then:
            said = f"{said} {then}"
        if self.run_dir is not None and not self.run_dir.exists():
            # "Done: 2 answers, kept in run/answers.jsonl. checkpoint-4 skipped: it is damaged: its config.json cannot
            # be read ([Errno 2] …)" when the run folder was deleted while compared: nothing was kept, nothing damaged
            name = self.run_dir.name
            said = (f"Stopped: the run folder {name} was deleted or moved while its checkpoints were compared, so the "
                    f"answers went with it ({done} made). To fix: put the folder back, or pick another run above, "
                    "then compare again.")
        self._set_status(said)
        if not self.unsaved:
            self.set_run(self.run_dir)

    def answers_so_far(self) -> str:
        """Where the running comparison's answers are, said when it is left for another run: kept in the run's
        answers.jsonl, or, when that could not be written (self.unsaved), shown but not saved, and kept in the run's
        table while the app is open (self._not_saved)."""
        name = self.run_dir.name if self.run_dir else "the run"
        if not self.unsaved:
            return f"The answers so far are kept in {name}/answers.jsonl."
        return (f"{self.unsaved.rstrip()} The answers not saved stay in the table of {name} while the app is open: "
                f"pick {name} again to read them.")

    def abandoned(self, message: str) -> None:
        """The comparison was stopped because another run was picked: nothing more of it is shown."""
        self._running = self._stopping = False
        self._set_status(message)
        self.stop_button.setEnabled(False)
        self._explain()

    def failed(self, message: str) -> None:
        self._running = self._stopping = False
        self._set_status(message)
        self._explain()

    def set_busy(self, busy: bool, training: bool) -> None:
        if not busy:
            self._running = self._stopping = False
        self._busy, self._training = busy, training
        self.stop_button.setEnabled(self._running and not self._stopping)
        self._fit_button()


def _listed(names: list[str]) -> str:
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else "".join(names)
