"""Compare checkpoints: the saved prompts, answered greedily by the base model and by every complete checkpoint
(and the final model) of a run, in a table of prompt × checkpoint.

The work is core.generate.compare_checkpoints, run as a job of the Try tab's GenerateRunner (one model job at a
time, and training frees it like the chat). Each answer is appended to the run's answers.jsonl as it comes, so the
table of a run reopens from its folder, `finetune-studio generate RUN --answers` prints it, and a comparison cut
short keeps what it had. The view gets what it may do as callables; it never holds the tab.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.answers import AnswerTable, answer_table, load_answers
from finetune_studio.gui import settings as store

AUTO_KEY = "try/compare_when_run_finishes"
COMPARE_TIP = ("Answer every saved prompt greedily with the base model and each complete checkpoint of the run; the "
               "answers are kept in the run folder (answers.jsonl).")
Job = Callable[[Callable[[dict], None], threading.Event], Any]


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


def _column_title(model: str) -> str:
    return {"base": "Base model", "final": "Final model"}.get(model, model)


class CompareView(QWidget):
    """The table and its buttons. `owner` is the Try tab: it runs the job (`start_job(kind, job)`), stops it, and
    gives the settings' max new tokens."""

    # The last comparison's line went (reload: its answers file is gone or cannot be read): the tab's status line,
    # which said the same ("Comparison done: … kept in …answers.jsonl"), follows.
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

        self.explain = QLabel("", objectName="compare_explain", wordWrap=True)
        self.compare_button = QPushButton("Compare checkpoints", objectName="compare_start")
        self.compare_button.setToolTip(COMPARE_TIP)
        self.stop_button = QPushButton("Stop", objectName="compare_stop", enabled=False)
        self.auto_check = QCheckBox("Compare automatically when a run finishes", objectName="compare_auto")
        self.auto_check.setChecked(str(store.settings().value(AUTO_KEY, "false")).lower() == "true")
        self.auto_check.toggled.connect(lambda on: store.settings().setValue(AUTO_KEY, "true" if on else "false"))
        self.status = _width_of_the_page(QLabel("", objectName="compare_status", wordWrap=True))
        self.status.setHidden(True)
        # Why the answers file (or some of its lines) could not be read: else an empty table looks like no answers.
        self.read_note = _width_of_the_page(QLabel("", objectName="compare_read_note", wordWrap=True))
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
        layout.addWidget(self.table, 1)
        self.compare_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self._explain()

    # ------------------------------------------------------------------ what is shown
    def _set_status(self, text: str) -> None:
        """The comparison's line; hidden while empty, so no blank row sits above the table."""
        _say_in(self.status, text)
        self.status.setHidden(not text)

    def set_run(self, run_dir: Path | None) -> None:
        self.run_dir = run_dir
        self.table_data = answer_table(self._read(), self.prompts)
        self._fill()
        self._explain()

    def reload(self) -> None:
        """Show the run's answers file as it is on disk now: it may have been deleted or replaced since it was read
        (the run picked again, Refresh, the page or the tab shown again). While a comparison runs the table is
        that comparison's, and it is read again when it ends."""
        if not self._running:
            self.set_run(self.run_dir)
            if not self.read_note.isHidden() or not self.table_data.cells:
                # "Done: 9 answers, kept in …" beside a file now unreadable or gone said the opposite of the table
                self._set_status("")
                self.comparison_line_dropped.emit()

    def set_prompts(self, prompts: list[str]) -> None:
        self.prompts = list(prompts)
        if self._running:
            self.table_data = answer_table([r for r in self.table_data.cells.values()], self.prompts)
        else:  # what is on disk, not what was read when the run was picked
            self.table_data = answer_table(self._read(), self.prompts)
        self._fill()
        self._explain()

    def _read(self) -> list[dict[str, Any]]:
        """The run's answers on disk; what could not be read (the file, or some lines) is said under the status."""
        saved = load_answers(self.run_dir) if self.run_dir is not None else None
        note = saved.note if saved is not None else ""
        _say_in(self.read_note, note)
        self.read_note.setHidden(not note)
        return saved.records if saved is not None else []

    def _explain(self) -> None:
        count = len(self.prompts)
        if not count:
            self.explain.setText("No saved prompts yet: type a prompt on the Chat page and press Save prompt. Saved "
                                 "prompts are kept with the config (prompts:).")
        else:
            self.explain.setText(f"{count} saved prompt{'s' if count != 1 else ''}, answered greedily by the base "
                                 "model and every complete checkpoint of the run.")
        self.compare_button.setEnabled(bool(count) and self.run_dir is not None and not self._running)

    def _fill(self) -> None:
        data = self.table_data
        shown = [p for p in data.prompts if p in self.prompts or any((p, m) in data.cells for m in data.models)]
        self.table.clear()
        self.table.setRowCount(len(shown))
        self.table.setColumnCount(len(data.models))
        self.table.setHorizontalHeaderLabels([_column_title(m) for m in data.models])
        self.table.setVerticalHeaderLabels([p if len(p) <= 40 else p[:39] + "…" for p in shown])
        for row, prompt in enumerate(shown):
            self.table.verticalHeaderItem(row).setToolTip(prompt)
            for col, model in enumerate(data.models):
                answer = data.answer(prompt, model)
                if answer is None:
                    continue
                item = QTableWidgetItem(answer.strip() or "(empty)")
                item.setToolTip(answer)
                item.setTextAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
                self.table.setItem(row, col, item)

    def answer(self, prompt: str, model: str) -> str | None:
        """The answer shown in a cell (tests)."""
        return self.table_data.answer(prompt, model)

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        run_dir, prompts = self.run_dir, [p for p in self.prompts if p.strip()]
        if run_dir is None or not prompts:
            self._set_status("Pick a run and save at least one prompt first.")
            return
        from finetune_studio.core import generate

        settings = self._settings().greedy()
        self._release("")  # the comparison loads its own models, one at a time

        def job(sink: Callable[[dict], None], stop: threading.Event) -> Any:
            return generate.compare_checkpoints(run_dir, prompts, settings, sink, stop)

        try:
            self._shape = (len(prompts), len(generate.targets(run_dir)) + 1)  # + the base model
            self._expected = self._shape[0] * self._shape[1]
        except generate.GenerationError:
            self._expected = None  # the job says what is wrong with the run
        self.skipped, self.unsaved = [], ""
        self._running = True  # before the job starts: starting it sets the buttons (set_busy), Stop included
        if self._start_job("compare", job):
            self._set_status("Comparing…")
        else:
            self._running = False
        self.stop_button.setEnabled(self._running)
        self._explain()

    def stop(self) -> None:
        if self._running:
            self._stop_job()

    def add_event(self, event: dict) -> None:
        if event.get("event") == "progress":
            self._set_status(event["text"])
        elif event.get("event") == "skipped":  # a damaged checkpoint: the rest are compared, the end says which
            self.skipped.append(event["text"])
            self._skip(event.get("model"))
            self._set_status(event["text"])
        elif event.get("event") == "unsaved":  # the answers go on being shown; the end says they were not kept
            self.unsaved = event["text"]
            self._set_status(event["text"])
        elif event.get("event") == "answer" and "record" in event:
            cells = dict(self.table_data.cells)
            cells[(event["prompt"], event["model"])] = event["record"]
            self.table_data = answer_table(list(cells.values()), self.prompts)
            self._fill()

    def _skip(self, model: str | None) -> None:
        """A prompt too long for every model (model None) or a checkpoint that does not load gives no answers:
        "Stopped: 3 of 8 answers" must count only the answers the comparison can still give."""
        if self._expected is None:
            return
        prompts, models = self._shape
        self._shape = (prompts - 1, models) if model is None else (prompts, models - 1)
        self._expected = max(self._shape[0], 0) * max(self._shape[1], 0)

    def finished(self, table: AnswerTable, stopped: bool = False) -> str:
        """The comparison ended (stopped: at the user's request, or for training): say so here; returns what the
        tab's status line says after "Comparison "."""
        self._running = False
        done = len(table.cells)
        where = f"{self.run_dir.name if self.run_dir else 'the run'}/answers.jsonl"
        if stopped:
            of = f" of {self._expected}" if self._expected else ""
            said = f"{done}{of} answer{'s' if done != 1 or of else ''} kept in {where}."
            self._set_status(f"Stopped: {said}")
            summary = f"stopped: {said}"
        else:
            self._set_status(f"Done: {done} answer{'s' if done != 1 else ''}, kept in {where}.")
            summary = f"done: {done} answer{'s' if done != 1 else ''} kept in {where}."
        if self.unsaved:  # "kept in …answers.jsonl" would be untrue, and reading the file back would drop them
            said = f"{done} answer{'s' if done != 1 else ''}. {self.unsaved}"
            self._set_status(f"{'Stopped' if stopped else 'Done'}: {said}")
            summary = f"{'stopped' if stopped else 'done'}: {said}"
        if self.skipped:
            skipped = " ".join(f"{text.rstrip('.')}." for text in self.skipped)
            self._set_status(f"{self.status.text()} {skipped}")
            summary = f"{summary} {skipped}"
        if not self.unsaved:
            self.set_run(self.run_dir)
        return summary

    def abandoned(self, message: str) -> None:
        """The comparison was stopped because another run was picked: nothing more of it is shown."""
        self._running = False
        self._set_status(message)
        self.stop_button.setEnabled(False)
        self._explain()

    def failed(self, message: str) -> None:
        self._running = False
        self._set_status(message)
        self._explain()

    def set_busy(self, busy: bool, training: bool) -> None:
        if not busy:
            self._running = False
        self.stop_button.setEnabled(self._running)
        self.compare_button.setEnabled(bool(self.prompts) and self.run_dir is not None and not busy and not training)
        self.compare_button.setToolTip("A training run is using the memory; compare when it ends." if training
                                       else COMPARE_TIP)
