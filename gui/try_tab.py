"""The Try tab: talk to a run's model and its base side by side, and compare checkpoints on saved prompts.

Pick a run (its final model or any complete checkpoint); its base model comes from the run's config. One prompt,
two answers streaming into two panes, base on the left, fine-tuned on the right, with the same settings. Each pane
says how many tokens it generated, how fast, why it stopped, and shows the exact prompt the model read.

Everything heavy runs in `GenerateRunner`'s thread through core.generate (loading, generating, comparing); the
worker sends plain dicts and never touches a widget. Text arrives as core.generate hands it on: an answer's first
token at once, then what came since at most every STREAM_INTERVAL_S (a frame), so two answers streaming at a
hundred tokens a second never queue up paint work, and each piece is drawn as it arrives (but a long paragraph's,
a few frames' worth together: AnswerPane.add_text). Models are released
when another run is picked, when the tab is told training starts (training always wins) and when the window
closes. A new pick (run, checkpoint, base model) supersedes a load or answer still running for the old one: it is
stopped, nothing more it says is shown, and the new pick loads once it has ended. Stop (it reads "Stop loading"
then) stops a load too: it ends between two tensors or two pieces of a file downloaded from the Hub, what it made is
dropped, and the pick waits for a Send. Models that answer one after the other (each loaded for its answer) stop
loading the same way at Stop answering: that side's pane says so, and nothing of its model is kept.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, QRect, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase, QKeySequence, QPalette, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core import collection
from finetune_studio.core.config import ModelConfig
from finetune_studio.core.generate import (
    BASE,
    LIMITS,
    SAMPLING_ONLY,
    SIDES,
    TUNED,
    Conversation,
    GenerationError,
    GenerationSettings,
    Loaded,
    Source,
    Target,
    base_problem,
    damage,
    describe_error,
    resolve,
    targets,
)
from finetune_studio.core.runs import START_AGAIN_FIX, RunFolder, run_folders
from finetune_studio.core.session import Change, Session
from finetune_studio.gui.forms.common import (
    ERROR_COLOR,
    LABEL_SPACING,
    SECTION_MARGINS,
    label_column_width,
    page_layout,
)
from finetune_studio.gui.runner import lower_thread_priority

Job = Callable[[Callable[[dict], None], threading.Event], Any]
NO_BASE = "This model folder has no base model to compare with."
STOP_ANSWERING, STOP_LOADING = "Stop answering", "Stop loading"  # the tab's Stop: what it stops now
LOAD_STOPPED_PANE = "Stopped by the user while its model loaded: nothing of it is kept."
STOP_ANSWERING_TIP = ("Stop the answers being written; what they said so far stays. Training, if a run is training, "
                      "goes on (the toolbar's Stop stops it).")
STOP_LOADING_TIP = ("Stop loading {name}: the load ends after the weights being read (or the piece of a file being "
                    "downloaded from the Hub), and the memory it took is given back. Then pick another model, or press "
                    "Send to load this one after all.")
NO_USABLE_MODEL = "no usable model"  # the model picker's placeholder where none of the run's models can load
SEND_TIP = "Ask both models this prompt (Ctrl+Enter)."
UNLOADED_WORDS = "⚠ This model could not load, so it does not answer: "  # a pane whose model did not load, then why
BASE_TIP = ("The base model the run started from (from its config); the left pane answers with it. Change it if the "
            "model has moved.")
NO_BASE_PICKED = "none: no model is picked"  # the Base model field's placeholder while nothing is picked
NO_BASE_FOLDER = "none: this model folder has no base model"
_SIDE_NAMES = {BASE: "base model", TUNED: "fine-tuned model"}
TRAINING_RELEASED = ("Training started, so the models were released to give it the memory (training always wins). "
                     "They load again when it ends.")
# The status line while and after a comparison: the Compare page says how it went (once, there); this line says what
# became of the Chat page's models, released when the comparison began (`release`).
COMPARE_RELEASED = "{name} is picked; its models load at the next Send (a comparison loads its own, one at a time)."
LONG_WORD_CHARS = 60  # a word of the status line this long may not fit its line: the whole line is its tooltip
RUN_PICKER_CHARS = 6  # the least width of the Try tab's run picker, in characters: longer names are elided
LAYOUT_SHARE = 20  # an answer pane draws its pieces at least this many times its last draw's time apart (add_text)


def gone_text(target: Any, deleted: bool = True) -> str:
    """What the Try tab says of a picked model that is no longer in its run folder (deleted: since the list was
    made). The sentence starts with a capital: "The final model …"; a checkpoint is named as its folder is
    ("checkpoint-4"), a name to find on disk, as the picker lists it."""
    name = f"The {target.label}" if target.step is None else target.label
    if not deleted:
        return f"{name} is no longer in the run folder."
    return (f"{name} is no longer in the run folder (deleted since the list was made); the list is refreshed: pick "
            "another.")


def _last_changed(path: Path) -> float:
    """When a run folder last changed (a checkpoint saved, a file written); one gone since it was listed sorts
    last rather than failing the listing."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# ---------------------------------------------------------------------------------------------- the thread


class _Signals(QObject):
    """Lives in the GUI thread; the worker thread emits these, so every slot runs queued in the GUI thread."""

    event = Signal(object, object)  # the job's stop event (which job said it), a plain dict from core.generate's sink
    succeeded = Signal(object, object)  # the job's stop event, its result
    errored = Signal(object, str, str)  # the job's stop event, the message, the traceback
    done = Signal(object)  # the job's stop event: which job ended


class GenerateRunner(QObject):
    """At most one generation job (load, answer, compare) at a time, each in a fresh plain (daemon) thread; stop by
    event. A plain thread rather than a QThread with its own event loop: starting it costs the GUI thread next to
    nothing at Send, and nothing in Qt outlives the window or aborts at exit if a tab goes without shutdown(). Not
    one thread kept for every job: on a 2-core machine busy with other programs, a long-lived thread and torch's
    OpenMP thread started from it generated 10-20 times slower than a fresh thread did, answer after answer (most
    likely both stuck on one core; a fresh thread's are placed anew); on an idle machine the two are alike.

    Each signal from a job's thread carries the job's stop event, so news of an older job, or of one made pointless
    by a new pick (supersede()), is dropped here instead of landing in the panes of the next one."""

    started = Signal()
    event = Signal(object)
    succeeded = Signal(object)
    errored = Signal(str, str)
    idle = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._busy = False
        self._stop = threading.Event()
        self._superseded: threading.Event | None = None  # the stop event of a job whose news is no longer wanted
        self._signals = _Signals(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._signals.event.connect(self._on_event, queued)
        self._signals.succeeded.connect(self._on_succeeded, queued)
        self._signals.errored.connect(self._on_errored, queued)
        self._signals.done.connect(self._on_done, queued)

    @property
    def running(self) -> bool:
        return self._busy

    @property
    def stopping(self) -> bool:
        """The running job was asked to stop (it may still say what it had when it ends)."""
        return self._busy and self._stop.is_set()

    @property
    def superseded(self) -> bool:
        """The running job was stopped by supersede(): nothing more it says reaches the tab; idle still comes."""
        return self._busy and self._superseded is self._stop

    def start(self, job: Job) -> bool:
        """Take the job (running from now on); its thread starts from the event loop's next turn, once the window
        has drawn what changed for it (Send's prompt, buttons and status). Started at once, the thread's first
        milliseconds (reading the prompt, starting generate, the first token) took turns for the GIL and the two
        cores with that drawing, which a plain script's generate does not."""
        if self._busy:
            return False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=([job], self._stop, self._signals), name="generate",
                                        daemon=True)
        self._busy = True
        QTimer.singleShot(0, self, self._launch)  # once the handler that started the job has made its changes
        self.started.emit()
        return True

    def _launch(self) -> None:
        """Draw what is pending (the layout, then the paint), then start the job's thread."""
        thread = self._thread
        if thread is not None and self._busy and thread.ident is None:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            QCoreApplication.sendPostedEvents(None, QEvent.Type.UpdateRequest)
            thread.start()

    @staticmethod
    def _run(box: list[Job], stop: threading.Event, signals: _Signals) -> None:
        """The job's thread. The job comes in a box it is taken out of, so once it ends nothing holds the models
        its closure holds (a thread's own arguments live until it returns)."""
        lower_thread_priority()
        with contextlib.suppress(RuntimeError):  # platforms where niceness does nothing: the thread's priority
            QThread.currentThread().setPriority(QThread.Priority.LowPriority)
        job = box.pop()
        try:
            result = job(lambda event: signals.event.emit(stop, dict(event)), stop)
        except BaseException as exc:  # noqa: BLE001 - every failure reaches the tab as a message; it stays usable
            signals.errored.emit(stop, describe_error(exc), traceback.format_exc())
        else:
            signals.succeeded.emit(stop, result)
            del result
        finally:
            del job
            signals.done.emit(stop)

    def stop(self) -> None:
        self._stop.set()

    def supersede(self) -> None:
        """Stop the running job and drop what it still says (its events, result or failure): what it was for was
        picked away. Only its end (idle) still comes, so the next job can start."""
        if self._busy:
            self._superseded = self._stop
        self._stop.set()

    def _current(self, stop: threading.Event) -> bool:
        """News from the running job, and one still wanted (not an older or a superseded job's)."""
        return self._busy and stop is self._stop and stop is not self._superseded

    @Slot(object, object)
    def _on_event(self, stop: threading.Event, event: dict) -> None:
        if self._current(stop):
            self.event.emit(event)

    @Slot(object, object)
    def _on_succeeded(self, stop: threading.Event, result: Any) -> None:
        if self._current(stop):
            self.succeeded.emit(result)

    @Slot(object, str, str)
    def _on_errored(self, stop: threading.Event, message: str, details: str) -> None:
        if self._current(stop):
            self.errored.emit(message, details)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Wait for the job's thread to end, without the event loop (which would start it: started here then). The
        job's gc.collect (a stopped load releasing its models) is run meanwhile on this thread when it owns
        collection (core.collection.join), rather than waiting REQUEST_WAIT_S for a thread that waits here."""
        if self._thread is None:
            return True
        self._launch()
        return collection.join(self._thread, timeout_ms / 1000)

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop the job and wait for its thread, without the event loop (closing): True when it ended. A job whose
        thread has not started yet never runs."""
        self.stop()
        if self._thread is not None and self._thread.ident is None:
            self._thread = None
            self._finish(self._stop)
            return True
        ended = self.wait(timeout_ms)
        if ended:
            self._thread = None
            self._finish(self._stop)
        return ended

    @Slot(object)
    def _on_done(self, stop: threading.Event) -> None:
        self._finish(stop)

    def _finish(self, stop: threading.Event) -> None:
        if not self._busy or stop is not self._stop:
            return  # shutdown() already did this, or an older job's late news
        self._busy = False
        self._superseded = None
        self.idle.emit()


# ---------------------------------------------------------------------------------------------- widgets


class FittedCombo(QComboBox):
    """A combo box that never cuts its current item: Qt draws the item clipped at the field's right edge ("final
    mode" in a 900x600 window; a long run name cut anywhere). It is never laid out narrower than its size hint, and
    an item wider than the room the style gives its text is shown elided (`elide`: in the middle for run names, at
    the right where an item's start names it: a model, a prompt) with the whole of it as the tooltip.

    whole_up_to: for a combo as wide as its longest item (AdjustToContents), the longest text it keeps whole however
    little room the row has; a longer item ("checkpoint-12000 (damaged)") would be elided where the row is short of
    room, rather than push the row, the tab and the window wider. Without it the size hint is the least width (for
    AdjustToMinimumContentsLengthWithIcon: minimumContentsLength characters, or the placeholder).

    The tooltip follows one rule from the moment an item is set, shown or not: the whole item while it is elided,
    else the combo's own tooltip (setToolTip). It was set only as the combo was painted, so one never shown (in a
    tab not yet opened) had none, or the last item's. Its width decides: its own once it is sized (by its layout,
    or resize), before that its size hint, the width show gives a widget nobody sized."""

    def __init__(self, elide: Qt.TextElideMode, whole_up_to: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self._elide = elide
        self._whole_up_to = whole_up_to
        self._plain_tip = ""  # the tooltip while the item shows whole (setToolTip sets it)
        self._tip_item: tuple[int, str] = (-1, "")  # the current item the tooltip was last worked out for
        self._tip_later = QTimer(self, singleShot=True, interval=0)
        self._tip_later.timeout.connect(self._fit_tip)
        # The model's signals come after QComboBox's own (connected as it was made), so the current index is already
        # the new one; they are not the combo's, so a tab that blocks the combo's signals while it lists its items
        # (Try tab: _list_targets) is still seen.
        model = self.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
            signal.connect(self._items_changed)
        model.dataChanged.connect(self._data_changed)
        self.currentIndexChanged.connect(self._fit_tip)

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt override
        self._plain_tip = text
        self._fit_tip()

    def setCurrentIndex(self, index: int) -> None:  # noqa: N802 - Qt override
        super().setCurrentIndex(index)
        self._fit_tip()  # currentIndexChanged does it, unless the caller blocks the combo's signals

    def setCurrentText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setCurrentText(text)
        self._fit_tip()

    def setPlaceholderText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setPlaceholderText(text)
        self._fit_tip()

    def _style_option(self) -> QStyleOptionComboBox:
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        if not self.testAttribute(Qt.WidgetAttribute.WA_Resized):  # never sized: Qt's default 100x30 says nothing
            option.rect = QRect(QPoint(0, 0), self.sizeHint())
        if self.currentIndex() < 0 and self.placeholderText():  # as QComboBox::paintEvent shows it
            option.palette.setBrush(QPalette.ColorRole.ButtonText, option.palette.placeholderText())
            option.currentText = self.placeholderText()
        return option

    def text_room(self, option: QStyleOptionComboBox | None = None) -> int:
        """The width the style gives the item's text: its edit field, less the pixel CE_ComboBoxLabel leaves on
        either side."""
        option = option or self._style_option()
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        return max(0, field.width() - 2)

    def shown_text(self) -> str:
        """The current item (or the placeholder) as drawn: whole, or elided to the room there is."""
        option = self._style_option()
        return self.fontMetrics().elidedText(option.currentText, self._elide, self.text_room(option))

    def _items_changed(self, *_: Any) -> None:
        """Rows in or out, a reset, a sort: one signal an item as a list is made. The tooltip is worked out at once
        where the current item is another one now (Qt picks the first item in, or the next when the current one
        goes), else once the list is made: the rest changed only the size hint a combo never sized is measured by
        (AdjustToContents), and working it out for each item took 0.5 s for 300 checkpoints (0.5 ms before)."""
        if (self.currentIndex(), self.currentText()) != self._tip_item:
            self._fit_tip()
        else:
            self._tip_later.start()

    def _data_changed(self, top: Any, bottom: Any, *_: Any) -> None:  # an item's text or tooltip
        if top.row() <= self.currentIndex() <= bottom.row():
            self._fit_tip()
        else:
            self._tip_later.start()

    def _fit_tip(self, *_: Any) -> None:
        option = self._style_option()
        whole = option.currentText
        self._tip_for(whole, self.fontMetrics().elidedText(whole, self._elide, self.text_room(option)))

    def _tip_for(self, whole: str, shown: str) -> None:
        """The tooltip for what is drawn: the whole item while it is elided (its own tooltip where it has one: a
        saved prompt listed by its first 80 characters, a damaged model's reason), else the combo's own tooltip."""
        self._tip_item = (self.currentIndex(), self.currentText())
        item_tip = self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole) if self.currentIndex() >= 0 else None
        tip = (item_tip or whole) if shown != whole else self._plain_tip
        if tip != self.toolTip():
            super().setToolTip(tip)

    def minimumSizeHint(self) -> Any:  # noqa: N802 - Qt override
        # QComboBox computes its least width once (for the target list, while it was empty: 79 px) and keeps it
        # when items are added, so a row short of room squeezed the combo below its items.
        hint = self.sizeHint()
        if self._whole_up_to:
            option = QStyleOptionComboBox()
            self.initStyleOption(option)
            around = self.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option,
                                                   QSize(0, hint.height()), self).width()
            hint.setWidth(min(hint.width(), around + self.fontMetrics().horizontalAdvance(self._whole_up_to) + 2))
        return hint

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_tip()  # the width decides what is elided (a hidden combo's pending resize comes as it shows)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_tip()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        painter = QStylePainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        option = self._style_option()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        whole = option.currentText
        option.currentText = self.fontMetrics().elidedText(whole, self._elide, self.text_room(option))
        self._tip_for(whole, option.currentText)  # set already; this catches what no hook sees (setIconSize, setModel)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class AnswerPane(QGroupBox):
    """One side's answers: the transcript, its figures and stop reason, and the exact prompt it read."""

    def __init__(self, side: str, parent: QWidget | None = None):
        self.kind = "Base model" if side == BASE else "Fine-tuned"  # which side answers: never cut (set_model)
        super().__init__(self.kind, parent)
        self.side = side
        self.setObjectName(f"pane_{side}")
        self.full_title = self.kind
        self._name = ""  # the run, or the base model, that answers here (set_model)
        self._label = ""  # the fine-tuned side's checkpoint ("checkpoint-4", "final model")
        self._two_lines = False
        self.partner: AnswerPane | None = None  # the other side's pane: both titles take one or two lines alike
        # The title's second line, where the whole title does not fit on one: the run's (or base model's) name, cut
        # in the middle. Its width is the pane's: a long name never widens the pane.
        self.name_line = QLabel("", objectName=f"title_name_{side}", visible=False)
        self.name_line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.text = QPlainTextEdit(readOnly=True, objectName=f"answer_{side}")
        self.text.setPlaceholderText("The answer streams in here.")
        self.stats = QLabel("", objectName=f"stats_{side}", wordWrap=True)
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prompt_toggle = QToolButton(text="Rendered prompt", checkable=True, objectName=f"show_prompt_{side}")
        self.prompt_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.prompt_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.prompt_toggle.setAutoRaise(True)
        self.prompt_toggle.setToolTip("The exact text the model read: the chat template, special tokens and all.")
        self.rendered = QPlainTextEdit(readOnly=True, objectName=f"rendered_{side}", visible=False)
        self.rendered.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.rendered.setMaximumHeight(110)
        self.prompt_toggle.toggled.connect(self._toggle_prompt)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.name_line)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.stats)
        layout.addWidget(self.prompt_toggle)
        layout.addWidget(self.rendered)
        self.answer: Any = None
        self._turn_start = 0  # where the last turn's text begins in the transcript (begin)
        self._replace_from: int | None = None  # a turn not kept in the conversation: the next one replaces it
        self._end: QTextCursor | None = None  # where the next text goes (_append)
        self._pending: list[str] = []  # pieces held back while the last draw's budget runs (add_text)
        self._due = 0.0  # time.perf_counter() from which the next piece may be drawn at once
        self._hold = QTimer(self, singleShot=True, timeout=self._draw_pending)
        self._hold.setTimerType(Qt.TimerType.PreciseTimer)

    def set_model(self, name: str = "", label: str = "") -> None:
        """Which model answers here: `name` the run (or a model folder, or the base model), `label` the run's
        checkpoint ("checkpoint-12000", "final model"); nothing for none picked. The title is the side's word, the
        name and the checkpoint ("Fine-tuned · horoscopes-lr-1e-3 · checkpoint-4"), on one line where the whole of
        it fits, in both panes; else on two, in both (their answers keep one height): the side's word and the
        checkpoint, whole, as the title, and under it the name, cut in the middle where it is wider than the pane.
        The whole title is the pane's tooltip. Cut as one line, a 900x600 window's pane read "Fine-tuned ·
        …ckpoint-12000" (which run and which checkpoint both lost) and "Base model ·…emo-model-v1"."""
        self._name, self._label = name, label
        self.full_title = " · ".join(part for part in (self.kind, name, label) if part)
        self.setToolTip(self.full_title)
        self.name_line.setToolTip(self.full_title)
        self._fit_title()

    def set_title(self, text: str) -> None:
        """set_model for a title written whole ("Fine-tuned · RUN · CHECKPOINT", "Base model · NAME"): the side's
        word, then the name; the fine-tuned side's last part is its checkpoint."""
        rest = text.removeprefix(self.kind).removeprefix(" · ") if text.startswith(self.kind) else text
        if self.side == TUNED and " · " in rest:
            name, _, label = rest.rpartition(" · ")
            self.set_model(name, label)
        else:
            self.set_model(rest)

    def title_room(self) -> int:
        """The width the title is drawn in (the frame and its margins left out)."""
        return max(40, self.width() - 24)

    def _one_line_fits(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.full_title) <= self.title_room()

    def _fit_title(self) -> None:
        panes = [self] + ([self.partner] if self.partner is not None else [])
        two_lines = not all(pane._one_line_fits() for pane in panes)
        for pane in panes:
            pane._lay_title(two_lines)

    def _lay_title(self, two_lines: bool) -> None:
        metrics = self.fontMetrics()
        room = self.title_room()
        self._two_lines = two_lines
        if not two_lines:
            self.setTitle(self.full_title)
            self.name_line.setVisible(False)
            self.name_line.clear()
            return
        title = f"{self.kind} · {self._label}" if self._label else self.kind
        if metrics.horizontalAdvance(title) > room and self._label:  # a pane dragged narrow: the checkpoint stays
            kind = metrics.elidedText(self.kind, Qt.TextElideMode.ElideRight,
                                      max(0, room - metrics.horizontalAdvance(f" · {self._label}")))
            title = f"{kind} · {self._label}"
        self.setTitle(title)
        self.name_line.setText(metrics.elidedText(self._name, Qt.TextElideMode.ElideMiddle, self.name_room()))
        self.name_line.setVisible(True)

    def name_room(self) -> int:
        """The width of the title's second line: the pane's inside, less its layout's margins."""
        margins = self.layout().contentsMargins() if self.layout() is not None else None
        inside = self.contentsRect().width() - (margins.left() + margins.right() if margins is not None else 0)
        return max(40, inside)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_title()

    def minimumSizeHint(self) -> Any:  # noqa: N802 - Qt override
        hint = super().minimumSizeHint()  # the title may be cut (_fit_title): it does not set the pane's width
        hint.setWidth(min(hint.width(), 160))
        return hint

    def _toggle_prompt(self, shown: bool) -> None:
        self.rendered.setVisible(shown)
        self.prompt_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def clear(self) -> None:
        self._hold.stop()
        self._pending.clear()
        self._due = 0.0
        self.text.clear()
        self.stats.clear()
        self.rendered.clear()
        self.answer = None
        self._turn_start = 0
        self._replace_from = None

    def begin(self, prompt: str, chat: bool) -> None:
        """A new answer: a chat adds a turn under the last one; a text run shows the prompt it continues."""
        self.answer = None
        self._draw_pending()
        self._due = 0.0  # the new answer's first text is drawn at once
        if self._replace_from is not None:  # the last turn was not kept (turn_dropped): this one takes its place
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(min(self._replace_from, self.text.document().characterCount() - 1))
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            self._replace_from = None
        self._turn_start = self.text.document().characterCount() - 1
        if chat:
            if self.text.toPlainText():
                self._append("\n\n")
            self._append(f"You: {prompt}\n")
        else:
            self.text.clear()
            self._append(prompt)
        self.stats.setText("Waiting…")

    def set_rendered(self, text: str) -> None:
        self.rendered.setPlainText(text)

    def add_text(self, text: str) -> None:
        """A piece of the answer, drawn at once (core.generate already sends at most one a frame) unless drawing the
        last one took long. Qt lays out a whole paragraph again for any text added to it, so one long paragraph
        (a text continuation, a random model: no newline) costs time growing with its length per piece: ~1.2 ms
        at 10,000 characters, 9 ms at 50,000, and as much again to paint, on the GUI thread that shares the CPUs
        and the GIL with generation (measured: 2,000 pieces of 5 characters a frame apart, ~2.7 ms of GUI time a
        piece more at the end than at the start). So pieces that come within LAYOUT_SHARE times the last draw's
        time are held and drawn together once it has passed: the pane spends at most about 1/LAYOUT_SHARE of the
        time laying out (painting adds about half again) whatever the answer's length, a 10,000-character
        paragraph is still drawn every other frame, and text with paragraphs, cheap to lay out, piece by piece.
        Hidden paragraph breaks would keep each layout short but change the text the user copies."""
        self._pending.append(text)
        wait = self._due - time.perf_counter()
        if wait <= 0:
            self._draw_pending()
        elif not self._hold.isActive():
            self._hold.start(math.ceil(wait * 1000))

    def _draw_pending(self) -> None:
        self._hold.stop()
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        start = time.perf_counter()
        self._append(text)
        self._due = start + (time.perf_counter() - start) * LAYOUT_SHARE

    def _append(self, text: str) -> None:
        """Text at the end, through a cursor of the pane's own kept there: moving a cursor to the end lays out the
        answer's paragraph to place it, and setting it as the widget's cursor repaints it, which cost as much as the
        insert itself (per piece, growing with the answer). The view follows the end; a selection the user makes
        while the answer streams stays."""
        cursor = self._end
        if cursor is None or cursor.document() is not self.text.document() or not cursor.atEnd():
            cursor = self._end = QTextCursor(self.text.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def finish(self, answer: Any) -> None:
        self._draw_pending()
        self.answer = answer
        notes = " ".join(answer.notes)
        self.stats.setText(f"{answer.tokens} tokens · {answer.tokens_per_s:.1f} tokens/s · first token after "
                           f"{answer.first_token_s or 0:.2f} s · stopped: {answer.stop_reason.text}"
                           + (f"\n{notes}" if notes else ""))

    def show_error(self, message: str) -> None:
        self._draw_pending()
        self.stats.setText(f"⚠ {message}")

    def show_unloaded(self, message: str) -> None:
        """Its model did not load (core.generate.Loaded.failed): the pane says why, once, and stays so while the
        other side chats; a Send adds no turn to it (it has nothing to answer with). Cleared and set only when it
        does not already say so, as for a model folder with no base (TryTab._answer)."""
        said = f"{UNLOADED_WORDS}{message}"
        if self.stats.text() != said or self.text.document().characterCount() > 1:
            self.clear()
            self.stats.setText(said)

    def turn_dropped(self, why: str) -> None:
        """The last turn was taken out of the conversation (TryTab._answered): it stays on screen, marked, so what
        was said can still be read, and the next Send's turn replaces it in the transcript."""
        self._replace_from = self._turn_start
        if why:
            self.stats.setText(f"{self.stats.text()}\n{why}" if self.stats.text() else why)


class SeedEdit(QLineEdit):
    """The seed field: a whole number from 0 to SEED_LIMIT - 1 (core.generate.LIMITS: torch.manual_seed's range, the one
    `finetune-studio generate --seed` takes), which a QSpinBox (a C int, at most 2**31 - 1) cannot hold. As the
    forms' NumberEdit does, what is typed stays as typed: text that is no such seed (empty, a sign, a letter, too
    large) is neither refused key by key nor changed to a seed it is not; it is marked at the field (red, and its
    tooltip says what to write) and value() is None, so Send refuses it (SettingsBox.problem)."""

    STYLE = ('QLineEdit[problem="true"] { background: #fff6f5; color: #202124; border: 1px solid #c5221f; '
             "border-radius: 2px; }")

    def __init__(self, help_text: str, parent: QWidget | None = None):
        super().__init__(parent, objectName="setting_seed", toolTip=help_text)
        self.help_text = help_text
        self.setStyleSheet(self.STYLE)
        self.setProperty("problem", False)
        self.textChanged.connect(self._mark)

    def value(self) -> int | None:
        """The seed typed, or None when the text is not one (problem() says why)."""
        text = self.text().strip()
        if not (text.isascii() and text.isdigit()):
            return None
        value = int(text)
        return value if LIMITS["seed"].allows(value) else None

    def setValue(self, value: int) -> None:  # noqa: N802 - the spin boxes' name, so the settings box treats all alike
        self.setText(str(int(value)))

    def problem(self) -> str | None:
        if self.value() is not None:
            return None
        text = self.text().strip()
        got = f" (got '{text}')" if text else ""
        return (f"The seed must be {LIMITS['seed'].rule}{got}. To fix: write one, e.g. 0, or "
                "press Defaults.")

    def _mark(self) -> None:
        problem = self.problem()
        self.setToolTip(problem or self.help_text)
        if bool(self.property("problem")) != bool(problem):
            self.setProperty("problem", bool(problem))
            self.style().unpolish(self)
            self.style().polish(self)
            self.update()


SETTING_DECIMALS = 6  # the decimals a setting's field holds: a model's 0.001 or 0.999 exactly (2 made them 0.01, 1.0)
FIELD_MOST = 2**31 - 1  # a field's largest value where the rule sets none (a spin box needs one): a QSpinBox's most
SAMPLE_LABEL = "Decoding"  # the Sample check's row: ticked, answers are sampled; not, greedy decoding
FIELD_LABELS = {"temperature": "Temperature", "top_p": "Top-p", "top_k": "Top-k",
                "repetition_penalty": "Repetition penalty", "max_new_tokens": "Max new tokens", "seed": "Seed"}


def field_range(name: str) -> tuple[float, float]:
    """The lowest and highest value the Try tab's field for setting `name` holds: core.generate.LIMITS' rule, the one
    `finetune-studio generate` checks its flags by, so the tab never sends what the command refuses (it took top-p
    0), up to FIELD_MOST where the rule has no end. A rule "above 0" starts the field at its smallest step above it
    (10 ** -SETTING_DECIMALS)."""
    limit = LIMITS[name]
    low = limit.low + (1 if limit.whole else 10 ** -SETTING_DECIMALS) if limit.above else limit.low
    return low, min(limit.high, FIELD_MOST)


def field_text(name: str, value: float) -> str:
    """A value as the field for setting `name` writes it: a whole number with thousands marked, a decimal one with the
    decimals it has (0.000001, not 1e-06)."""
    if LIMITS[name].whole:
        return f"{int(value):,}"
    return f"{value:.{SETTING_DECIMALS}f}".rstrip("0").removesuffix(".") or "0"


def unheld_note(whose: str, name: str, value: float, held: float) -> str:
    """The note for a model default within LIMITS that the setting's field cannot hold (too many decimals, past
    FIELD_MOST): what the field shows and answers use instead, and how to answer with the exact value, rather than a
    silent change (at 2 decimals a temperature of 0.001 was shown and answered as 0.01, unsaid)."""
    low, high = field_range(name)
    label = FIELD_LABELS[name]
    if value > high:
        why = f"more than the {label} field holds (at most {field_text(name, high)})"
    elif value < low:
        why = f"less than the {label} field holds (at least {field_text(name, low)})"
    else:
        why = f"more decimals than the {label} field holds ({SETTING_DECIMALS})"
    return (f"The {whose}'s generation_config.json sets {name} {value}: {why}, so it shows {field_text(name, held)} "
            f"and answers here use that. To answer with {value} exactly: finetune-studio generate "
            f"--{name.replace('_', '-')} {value}.")


class SettingSpin(QDoubleSpinBox):
    """A decimal setting's field: it holds SETTING_DECIMALS decimals but shows only those a value has (0.7, 0.001,
    1.0), so six decimals neither widen the field nor bury the value in zeros."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        locale = self.locale()
        text = locale.toString(value, "f", self.decimals()).replace(locale.groupSeparator(), "")
        point = locale.decimalPoint()
        if point in text:
            whole, _, fraction = text.partition(point)
            text = f"{whole}{point}{fraction.rstrip('0') or '0'}"
        return text


class SettingsBox(QGroupBox):
    """One set of generation settings for both sides (core.generate.GenerationSettings, with its help texts).

    A setting the user changed is theirs: picking another checkpoint or run keeps it (a seed or a length chosen to
    compare checkpoints must not change under the user with the pick). The ones not changed follow the picked
    model's generation_config, where it sets them (follow_defaults); Defaults puts them all back to those."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Settings (both sides)", parent)
        from dataclasses import fields

        helps = {f.name: f.metadata["help"] for f in fields(GenerationSettings)}
        self.sample = QCheckBox("Sample", objectName="setting_do_sample", toolTip=helps["do_sample"])
        self.temperature = self._double("temperature", 0.05, helps)
        self.top_p = self._double("top_p", 0.05, helps)
        self.top_k = self._int("top_k", helps)
        self.repetition_penalty = self._double("repetition_penalty", 0.05, helps)
        self.max_new_tokens = self._int("max_new_tokens", helps)
        self.seed = SeedEdit(helps["seed"])  # 0 … SEED_LIMIT - 1: more than a QSpinBox holds
        self.seed.textChanged.connect(lambda _text: self.changed.emit())
        self.defaults_button = QToolButton(text="Defaults", objectName="settings_defaults", enabled=False)
        self.defaults_button.setToolTip("Put every setting back to the picked model's defaults (its "
                                        "generation_config, where it sets them). Settings you change are kept when "
                                        "you pick another checkpoint or run; the others follow its defaults.")
        self.defaults_button.clicked.connect(self.reset_to_defaults)
        self.defaults = GenerationSettings()  # the picked model's (follow_defaults)
        self.touched: set[str] = set()  # the fields the user changed since the last Defaults
        self._applying = False  # set_settings is filling the boxes: not the user's change
        widgets = {"do_sample": self.sample, "temperature": self.temperature, "top_p": self.top_p,
                   "top_k": self.top_k, "repetition_penalty": self.repetition_penalty,
                   "max_new_tokens": self.max_new_tokens, "seed": self.seed}
        for name, widget in widgets.items():
            signal = (widget.toggled if isinstance(widget, QCheckBox) else widget.textChanged
                      if isinstance(widget, SeedEdit) else widget.valueChanged)
            signal.connect(lambda *_args, name=name: self._touch(name))
        for box in widgets.values():
            if not isinstance(box, QCheckBox):
                # A spin box's own minimum is as wide as its largest value (a 10-digit seed): the grid was then
                # 434 px at least, and at 900×600 the Chat page's right edge (Max new tokens, Defaults, Send) was cut.
                box.setMinimumWidth(72)
        self.seed.setPlaceholderText("e.g. 0")
        # The seed's problem in words under the settings, while it counts (sampling): the red field alone said
        # nothing until the pointer rested on it or Send was pressed.
        self.seed_error = QLabel(objectName="setting_seed_error", wordWrap=True, visible=False)
        self.seed_error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.seed_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.seed.textChanged.connect(self._show_seed_problem)
        self.sample.toggled.connect(self._show_seed_problem)
        # The forms' section margin, label column and spacing (gui.forms.common): the first fields start at the x
        # the form tabs' fields start at, and their labels at theirs.
        grid = QGridLayout(self)
        grid.setContentsMargins(*SECTION_MARGINS)
        grid.setHorizontalSpacing(LABEL_SPACING)
        grid.setColumnMinimumWidth(0, label_column_width(self))
        # Every field has its label, the Sample check too ("Decoding": sampling or greedy); Defaults is a button.
        # The long labels go in the left column, which the forms' width leaves room for; the right one holds the
        # short ones (Seed, Top-p, Top-k: sampling only), so both pairs of a row still fit a 900×600 window.
        rows = [(SAMPLE_LABEL, "sample"), (FIELD_LABELS["seed"], "seed"),
                (FIELD_LABELS["temperature"], "temperature"), (FIELD_LABELS["top_p"], "top_p"),
                (FIELD_LABELS["repetition_penalty"], "repetition_penalty"), (FIELD_LABELS["top_k"], "top_k"),
                (FIELD_LABELS["max_new_tokens"], "max_new_tokens"), ("", "defaults_button")]
        self.labels: dict[str, QLabel] = {}
        for i, (label, name) in enumerate(rows):
            widget = getattr(self, name)
            row, col = divmod(i, 2)
            if label:
                caption = self.labels[widget.objectName()] = QLabel(label, buddy=widget)
                caption.setToolTip(widget.toolTip())
                grid.addWidget(caption, row, col * 2)
            grid.addWidget(widget, row, col * 2 + 1)
            if i:  # Tab moves as the eye reads, row by row
                QWidget.setTabOrder(getattr(self, rows[i - 1][1]), widget)
        grid.addWidget(self.seed_error, grid.rowCount(), 0, 1, 4)
        self.sample.toggled.connect(self._sampling_changed)
        self.sample.toggled.connect(self.changed)
        self.set_settings(GenerationSettings())

    def _double(self, name: str, step: float, helps: dict) -> SettingSpin:
        box = SettingSpin(objectName=f"setting_{name}", toolTip=helps[name])
        box.setDecimals(SETTING_DECIMALS)
        box.setRange(*field_range(name))
        box.setSingleStep(step)
        box.valueChanged.connect(self.changed)
        return box

    def _int(self, name: str, helps: dict) -> QSpinBox:
        box = QSpinBox(objectName=f"setting_{name}", toolTip=helps[name])
        box.setRange(*(int(bound) for bound in field_range(name)))
        box.valueChanged.connect(self.changed)
        return box

    def _show_seed_problem(self, *_: Any) -> None:
        problem = self.problem()
        self.seed_error.setText(problem or "")
        self.seed_error.setVisible(bool(problem))

    def _sampling_changed(self, sampling: bool) -> None:
        for name in SAMPLING_ONLY:  # greedy decoding does not use them
            getattr(self, name).setEnabled(sampling)

    def settings(self) -> GenerationSettings:
        """The settings shown. A seed field whose text is no seed gives the picked model's default seed here: Send
        refuses such a field while sampling (problem()), and greedy decoding uses no seed."""
        seed = self.seed.value()
        return GenerationSettings(do_sample=self.sample.isChecked(), temperature=self.temperature.value(),
                                  top_p=self.top_p.value(), top_k=self.top_k.value(),
                                  repetition_penalty=self.repetition_penalty.value(),
                                  max_new_tokens=self.max_new_tokens.value(),
                                  seed=self.defaults.seed if seed is None else seed)

    def problem(self) -> str | None:
        """What keeps these settings from being used (a seed field that holds no seed, while sampling), or None."""
        return self.seed.problem() if self.sample.isChecked() else None

    def _touch(self, name: str) -> None:
        if not self._applying:
            self.touched.add(name)
            self.defaults_button.setEnabled(True)

    def follow_defaults(self, defaults: GenerationSettings) -> None:
        """A model was loaded: the settings the user has not changed take its defaults; the changed ones stay."""
        import dataclasses

        self.defaults = defaults
        current, seed_text = self.settings(), self.seed.text()
        self.set_settings(dataclasses.replace(defaults, **{name: getattr(current, name) for name in self.touched}))
        if "seed" in self.touched and self.seed.text() != seed_text:  # the user's text, a seed or not, stays as typed
            self._applying = True
            self.blockSignals(True)
            try:
                self.seed.setText(seed_text)
            finally:
                self.blockSignals(False)
                self._applying = False

    def unheld(self, wanted: GenerationSettings) -> dict[str, Any]:
        """The settings of `wanted` (a model's defaults, just filled in) that a field could not hold exactly, and
        what it holds instead; the user's own (touched) are theirs, not the model's, and are left out."""
        shown = self.settings()
        return {name: getattr(shown, name) for name in FIELD_LABELS
                if name not in self.touched and name != "seed" and getattr(shown, name) != getattr(wanted, name)}

    def reset_to_defaults(self) -> None:
        """Every setting back to the picked model's defaults; from now on they follow the next pick's again."""
        self.touched.clear()
        self.defaults_button.setEnabled(False)
        self.set_settings(self.defaults)
        self.changed.emit()

    def set_settings(self, settings: GenerationSettings) -> None:
        """Fill the boxes (a model's defaults, or a script's choice): not counted as the user's changes. A value
        past a field's ends is put at the nearest end (a QSpinBox given more than a C int raised OverflowError);
        unheld() says which were not held exactly."""
        self._applying = True
        self.blockSignals(True)
        try:
            self.sample.setChecked(settings.do_sample)
            for name in FIELD_LABELS:
                box, value = getattr(self, name), getattr(settings, name)
                if isinstance(box, SeedEdit):
                    box.setValue(value)
                else:
                    box.setValue(type(box.minimum())(min(max(value, box.minimum()), box.maximum())))
            self._sampling_changed(settings.do_sample)
        finally:
            self.blockSignals(False)
            self._applying = False


# ---------------------------------------------------------------------------------------------- the tab


def _base_problem(source: Source) -> str | None:
    """Why a run's base model, as its config.yaml names it, cannot be loaded or shown (core.generate.base_problem's
    rule), in the tab's words; None for a name (whether that model loads is the load's to say)."""
    problem = base_problem(source)
    if problem is None:
        return None
    said, fix = problem
    return (f"The run {source.run_dir.name if source.run_dir else source.name} cannot be tried: {said}, so the left "
            f"pane has no base model to answer with. To fix: {fix}, then press Refresh.")


class TryTab(QWidget):
    """Pick a run, then chat with it and its base (the Chat page) or compare its checkpoints (Compare page)."""

    loaded_changed = Signal()  # models were loaded or released (tests and the window's status follow it)
    answered = Signal()  # both answers of a prompt are in (or it was stopped, or failed)

    def __init__(self, session: Session, show_message: Callable[[str, int], None] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("try_tab")
        self.session = session
        self.show_message = show_message or (lambda _text, _ms=0: None)
        self.runner = GenerateRunner(self)
        self.loaded: Loaded | None = None
        self.conversation = Conversation()
        self.answers: dict[str, Any] = {}
        self._source: Source | None = None
        self._job_kind = ""
        self._after_job: Callable[[], None] | None = None
        self._pending_prompt = ""
        self._sent_prompt = ""  # the chat prompt being answered: the box is emptied once it is answered
        self._errors: dict[str, str] = {}  # the answer job's failed sides and their messages
        self._loads_stopped: list[str] = []  # models loaded in turn: the sides whose load Stop ended in this answer
        self._gone_note = ""  # the picked run was deleted: why nothing is picked, until the user picks a run
        self._failed_pick = False  # the picked run cannot be tried (its config): Refresh tries it again
        self._pick_problem = ""  # why, as the status line said it (the tooltip of Send, which needs a model)
        # The pick whose load the user stopped: it does not load again by itself (the tab shown again, training
        # ended, Refresh); a Send loads it, and so does picking another model and then this one.
        self._stopped_load: Source | None = None
        # The runs folder is listed when the tab first shows, not here: picking the newest run resolves it
        # (core.generate.resolve), which for a run of the default recipe (chat format 'auto') reads its data's first
        # rows with the datasets library, importing datasets and torch on the GUI thread while the window was
        # built: ~3 s before the window appeared for anyone with a run, and the warm-up started that much later.
        self._listing_stale = True
        # Set by the window, whose warm-up imports the training stack after it shows: until session.stack_ready,
        # resolving a run (its data's first rows, read with datasets) would wait on the GUI thread for the warm-up's
        # import of datasets, a 2 s freeze for a user who opens this tab at once. The tab lists the runs then.
        self.waits_for_stack = False
        self._build()
        self._connect()
        self._fit_base_field(self._why_no_model())  # nothing picked yet: the field says so, not an empty box to type in
        self._unsubscribe = session.subscribe(self._session_changed)
        self.destroyed.connect(lambda *_: self._unsubscribe())

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        # The row of a 900x600 window leaves the two combos 266 px: the run picker takes what the model picker
        # leaves (its stretch), down to 6 characters, and a run name longer than its room is cut in the middle.
        self.run_combo = FittedCombo(Qt.TextElideMode.ElideMiddle, objectName="try_run")
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_combo.setMinimumContentsLength(RUN_PICKER_CHARS)
        self.run_combo.setPlaceholderText("Pick a run")
        # Its width follows its labels (final model, checkpoint-12000 (damaged)): Qt's default sizes it once, at the
        # first show, and a tab opened while the libraries load first shows it empty ("final mod" ever after). Every
        # label up to a 6-digit checkpoint stays whole however short the row. A damaged checkpoint's, longer, gets its
        # width only where there is room (not at 900 px, rather than widen the window): the open list shows it whole,
        # greyed, for it cannot be picked (_list_targets). It is the current item only when the pick was damaged
        # since it loaded and the list is made again (Refresh), and then it is cut at its end, never in the middle:
        # "checkpoint-12000 (d…", not "checkpoin…(damaged)", which no longer said which checkpoint it was.
        self.target_combo = FittedCombo(Qt.TextElideMode.ElideRight, whole_up_to="checkpoint-000000",
                                        objectName="try_target")
        self.target_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = QPushButton("Refresh", objectName="try_refresh")
        self.refresh_button.setToolTip("List the runs folder again")
        self.base_edit = QLineEdit(objectName="try_base")
        self.base_edit.setToolTip(BASE_TIP)
        picker = QFormLayout()
        picker.setContentsMargins(0, 0, 0, 0)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_combo, 1)
        run_row.addWidget(self.target_combo)
        run_row.addWidget(self.refresh_button)
        picker.addRow("Run", run_row)
        picker.addRow("Base model", self.base_edit)
        self.status_label = QLabel("", objectName="try_status", wordWrap=True)
        # Its width is the tab's, whatever it says: a label wraps only between words, and a message naming a run
        # or a path of one long word (a 247-character run name) asked for 1,600 px, widening the tab and the window
        # past the screen. What a word too long for the line cuts off is in the tooltip (_say).
        policy = self.status_label.sizePolicy()  # its height still follows its width (word wrap's height-for-width)
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.status_label.setSizePolicy(policy)
        self.busy = QProgressBar(objectName="try_busy", maximumHeight=6, textVisible=False, visible=False)
        self.busy.setRange(0, 0)

        self.settings_box = SettingsBox()
        self.chat_check = QCheckBox("Chat", objectName="try_chat")
        self.chat_check.setToolTip("Chat runs render each turn with the run's chat template; text runs continue the "
                                   "prompt as plain text. Set from the run; change it to try the other way.")
        self.system_edit = QLineEdit(objectName="try_system")
        self._chat_toggled(False)
        chat_row = QHBoxLayout()
        chat_row.addWidget(self.chat_check)
        chat_row.addWidget(self.system_edit, 1)
        self.panes = {side: AnswerPane(side) for side in SIDES}
        self.panes[BASE].partner, self.panes[TUNED].partner = self.panes[TUNED], self.panes[BASE]
        self.pane_splitter = QSplitter(Qt.Orientation.Horizontal, objectName="try_panes")
        for side in SIDES:
            self.pane_splitter.addWidget(self.panes[side])
        self.prompt_edit = QPlainTextEdit(objectName="try_prompt", placeholderText="Type a prompt, then Send "
                                                                                    "(Ctrl+Enter)")
        self.prompt_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.prompt_edit.setFixedHeight(self.prompt_edit.fontMetrics().lineSpacing() * 3 + 14)
        self.send_button = QPushButton("Send", objectName="try_send", default=True)
        # "Stop answering", not "Stop": the toolbar's Stop (training) is beside it, and the two stop different things.
        self.stop_button = QPushButton(STOP_ANSWERING, objectName="try_stop", enabled=False)
        self.stop_button.setToolTip(STOP_ANSWERING_TIP)
        self.new_button = QPushButton("New conversation", objectName="try_new")
        buttons = QVBoxLayout()
        for button in (self.send_button, self.stop_button, self.new_button):
            buttons.addWidget(button)
        input_row = QHBoxLayout()
        input_row.addWidget(self.prompt_edit, 1)
        input_row.addLayout(buttons)
        self.saved_combo = FittedCombo(Qt.TextElideMode.ElideRight, objectName="try_saved")  # a prompt's start
        self.saved_combo.setPlaceholderText("Saved prompts")
        self.saved_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.save_prompt_button = QPushButton("Save prompt", objectName="try_save_prompt")
        self.save_prompt_button.setToolTip("Keep this prompt with the config (prompts:), for Compare checkpoints")
        self.remove_prompt_button = QPushButton("Remove", objectName="try_remove_prompt")
        saved_row = QHBoxLayout()
        saved_row.addWidget(self.saved_combo, 1)
        saved_row.addWidget(self.save_prompt_button)
        saved_row.addWidget(self.remove_prompt_button)

        chat_page = QWidget()
        chat = QVBoxLayout(chat_page)
        chat.setContentsMargins(0, 6, 0, 0)
        chat.addWidget(self.settings_box)
        chat.addLayout(chat_row)
        chat.addWidget(self.pane_splitter, 1)
        chat.addLayout(input_row)
        chat.addLayout(saved_row)

        from finetune_studio.gui.compare_view import CompareView

        self.compare = CompareView(self)
        self.pages = QTabWidget(objectName="try_pages")
        self.pages.setDocumentMode(True)
        chat_scroll = QScrollArea(widgetResizable=True, frameShape=QScrollArea.Shape.NoFrame)
        chat_scroll.setWidget(chat_page)  # a 900x600 window stays possible: the page scrolls instead
        chat_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pages.addTab(chat_scroll, "Chat")
        self.pages.addTab(self.compare, "Compare checkpoints")

        # The other tabs' margin. The picker keeps its own narrow label column: the forms' (label_column_width)
        # would leave Run's combo, checkpoint combo and Refresh no room in a 900 px window.
        layout = page_layout(self)
        layout.addLayout(picker)
        layout.addWidget(self.status_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.pages, 1)
        self._load_prompts()

    def _connect(self) -> None:
        self.run_combo.currentIndexChanged.connect(self._run_picked)
        self.run_combo.activated.connect(lambda _index: self.compare.reload())  # the same run picked again
        self.pages.currentChanged.connect(self._page_shown)
        self.target_combo.currentIndexChanged.connect(self._target_picked)
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.base_edit.editingFinished.connect(self._base_edited)
        self.send_button.clicked.connect(self.send)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.prompt_edit, self.send,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.stop_button.clicked.connect(self.stop)
        self.new_button.clicked.connect(self.new_conversation)
        self.chat_check.toggled.connect(self._chat_toggled)
        self.system_edit.editingFinished.connect(lambda: setattr(self.conversation, "system",
                                                                 self.system_edit.text()))
        self.saved_combo.activated.connect(self._use_saved)
        self.save_prompt_button.clicked.connect(self.save_prompt)
        self.remove_prompt_button.clicked.connect(self.remove_prompt)
        self.runner.event.connect(self._event)
        self.runner.succeeded.connect(self._job_succeeded)
        self.runner.errored.connect(self._job_errored)
        self.runner.idle.connect(self._job_idle)
        self.runner.started.connect(self._update_buttons)

    def _page_shown(self, _index: int = -1) -> None:
        """The Compare page shown: its run's answers file is read again, unless the run itself was deleted outside
        the app meanwhile; then its models go and the tab says so (_run_gone). Compare stayed enabled on the
        deleted run, and pressing it said the command line's 'RUN does not exist. To fix: give a run folder'."""
        if self.pages.currentWidget() is self.compare and not self._run_gone():
            self.compare.reload()

    def _chat_toggled(self, chat: bool) -> None:
        """A system prompt is a turn of a chat template: a text run continues the prompt as plain text and has
        nowhere to put one, so the box is off there (what it holds is kept, for when Chat is ticked) and says why,
        rather than taking text that is silently dropped at Send."""
        self.system_edit.setEnabled(chat)
        if chat:
            self.system_edit.setPlaceholderText("System prompt (optional)")
            self.system_edit.setToolTip("Given to both models as the chat's system turn, before the conversation, "
                                        "through the run's chat template.")
        else:
            self.system_edit.setPlaceholderText("System prompt: chat runs only")
            self.system_edit.setToolTip("Not used: this run continues the prompt as plain text, which has no system "
                                        "turn. Tick Chat to talk to it with its chat template and a system prompt.")

    # ------------------------------------------------------------------ runs and targets
    def refresh_runs(self) -> None:
        """List the runs folder's runs that have something to talk to (a final model or a complete checkpoint),
        the most recently changed first. The folder is read as the Runs tab and `finetune-studio runs` read it
        (core.runs' listing), so an entry that cannot be read (a dangling symlink, a folder deleted while the list
        is made) is left out rather than stopping the tab, and with it the window, from opening."""
        self._listing_stale = False
        if not self._gone_note and self._run_gone():
            return  # the picked run was deleted outside the app: _run_gone let its models go and listed the folder
        current = self.run_dir
        runs_dir = self.session.runs_dir
        try:
            found = sorted((path for path in run_folders(runs_dir) if RunFolder(path).exists()), key=_last_changed,
                           reverse=True)
        except OSError as exc:  # the folder itself (permissions, a network drive): the tab stays usable
            found = []
            unreadable = (f"The runs folder {runs_dir} cannot be read ({exc.strerror or exc}): check it, then "
                          "press Refresh.")
        else:
            unreadable = ""
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for path in found:
            self.run_combo.addItem(path.name, str(path))
        self.run_combo.blockSignals(False)
        index = self.run_combo.findData(str(current)) if current else -1
        if found and index < 0 and self._gone_note:  # the picked run was deleted: the user picks the next one
            self.run_combo.blockSignals(True)
            self.run_combo.setCurrentIndex(-1)
            self.run_combo.blockSignals(False)
            self.target_combo.clear()
            if not (self.runner.running and self._job_kind == "compare"):
                self.compare.set_run(None)
            self._say(self._gone_note)
        elif found:
            self.run_combo.blockSignals(True)  # the shown run may have moved in the list: it is not a new pick
            self.run_combo.setCurrentIndex(max(index, 0))
            self.run_combo.blockSignals(False)
            if index < 0 or current is None or self._failed_pick:  # a failed pick is tried again: fixed since?
                self._run_picked()
            else:  # the same run: its models and its answers file may have changed on disk since it was listed
                self._refresh_targets()
                self.compare.reload()
        else:
            self.target_combo.clear()
            if not (self.runner.running and self._job_kind == "compare"):
                self.compare.set_run(None)  # the shown run's folder is gone, and its answers with it
            empty = f"No runs in {runs_dir} yet. Train one, then try it here."
            self._say(unreadable or (f"{self._gone_note} {empty}" if self._gone_note else empty))
        self._update_buttons()

    def _stack_pending(self) -> bool:
        return self.waits_for_stack and not self.session.stack_ready

    def _refresh_runs_when_shown(self) -> None:
        """List the runs folder again now if the tab shows, else when it next shows (showEvent): a hidden tab's
        listing resolved its newest run on the GUI thread, reading its data, for nobody to see."""
        if self.isVisible() and not self._stack_pending():
            self.refresh_runs()
        else:
            self._listing_stale = True

    @property
    def run_dir(self) -> Path | None:
        data = self.run_combo.currentData()
        return Path(data) if data else None

    def select_run(self, run_dir: Path, target: str | None = None) -> None:
        """Show run_dir (listing the runs folder again if it is new); target: a Target label to pick."""
        if self.run_combo.findData(str(run_dir)) < 0:
            self.refresh_runs()
        index = self.run_combo.findData(str(run_dir))
        if index >= 0 and index != self.run_combo.currentIndex():
            self.run_combo.setCurrentIndex(index)
        elif index >= 0:
            self._run_picked()
        if target is not None:
            found = self.target_combo.findText(target)
            if found >= 0:
                self.target_combo.setCurrentIndex(found)

    def _run_picked(self) -> None:
        run_dir = self.run_dir
        self._failed_pick = False
        if run_dir is not None:
            self._gone_note = ""
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        try:
            found = targets(run_dir) if run_dir else []
            problem = None
        except GenerationError as exc:
            found, problem = [], str(exc)
        self._list_targets(found)
        self.target_combo.blockSignals(False)
        if self.runner.running and self._job_kind == "compare" and self.compare.run_dir != run_dir:
            self.runner.supersede()  # its answers so far are in its run folder; the table now shows the new run
            self._job_kind = "switch"
            # its answers not saved (answers.jsonl unwritable) are not "kept in …answers.jsonl": the view says where
            self.compare.abandoned(f"Stopped: another run was picked. {self.compare.answers_so_far()}")
        self.compare.set_run(run_dir)
        if run_dir is not None and not found:
            try:
                resolve(run_dir)
            except GenerationError as exc:
                problem = str(exc)
        elif run_dir is not None and not self._usable_targets():
            problem = self._all_damaged(run_dir)
        if problem:
            self._let_go()
            self._source = None
            self._clear_pick()  # the last run's names, base model and answers are not this run's
            self._failed_pick = True
            self._pick_problem = problem
            self._say(problem)
            self._update_buttons()
            return
        self._target_picked()
        self._update_buttons()  # the same model picked again returns early: the list (damaged ones) may be new

    def _clear_pick(self) -> None:
        """Nothing is picked: the panes' titles, the base model and the conversation of the last pick go with it,
        so that no widget names a model the tab no longer holds."""
        self.new_conversation()
        self.base_edit.clear()
        self._title_panes(None)

    def _refresh_targets(self) -> None:
        """List the shown run's models again, keeping the pick: a checkpoint saved since appears, a deleted or
        damaged one goes or is marked; when the picked one is gone, its loaded models go too (_target_gone), so Send
        never answers under the name of a model that is no longer there."""
        picked: Target | None = self.target_combo.currentData()
        run_dir = self.run_dir
        try:
            found = targets(run_dir) if run_dir else []
        except GenerationError:
            found = []
        if picked is not None and not any(target.path == picked.path for target in found):
            self._target_gone(picked, gone_text(picked, deleted=False))
            return
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self._list_targets(found)
        if picked is not None:
            self.target_combo.setCurrentIndex(next(i for i in range(self.target_combo.count())
                                                   if self.target_combo.itemData(i).path == picked.path))
        self.target_combo.blockSignals(False)

    def _list_targets(self, found: list[Target]) -> None:
        """The run's models, the final model first, then the newest checkpoint; one that cannot load (its files
        damaged since it was saved: core.generate.damage) is marked, says why and what to do in its tooltip, and
        cannot be picked (greyed; keys and the wheel pass over it): picking it let the loaded models go and left
        the picker blank, to say what its label and tooltip said already. The first whole one is picked, as
        `generate RUN` picks it."""
        whole = -1
        model = self.target_combo.model()
        for target in reversed(found):
            problem = damage(target.path)
            self.target_combo.addItem(target.label + (" (damaged)" if problem else ""), target)
            if problem:
                row = self.target_combo.count() - 1
                self.target_combo.setItemData(row, f"Cannot load: {problem}. To fix: put its files back from a copy "
                                                   "of the run, or pick another model.", Qt.ItemDataRole.ToolTipRole)
                model.item(row).setEnabled(False)
            elif whole < 0:
                whole = self.target_combo.count() - 1
        # Nothing whole: nothing current (QComboBox makes the first item in current, here a damaged one), and the
        # picker's placeholder says there is no usable model (_update_buttons).
        self.target_combo.setCurrentIndex(whole)

    def _usable_targets(self) -> list[Target]:
        """The listed models that can be picked: all but the damaged ones (_list_targets)."""
        model = self.target_combo.model()
        return [self.target_combo.itemData(row) for row in range(self.target_combo.count())
                if model.item(row).isEnabled()]

    @staticmethod
    def _all_damaged(run_dir: Path, so: str = "none can answer") -> str:
        return (f"Every model {run_dir.name} saved is damaged, so {so} (the model picker's list says what is wrong "
                f"with each). To fix: put their files back from a copy of the run, then press Refresh; or pick another "
                f"run; or {START_AGAIN_FIX}.")

    def _models_for_compare(self) -> tuple[list[str], str]:
        """The shown run's damaged models (a comparison leaves them out), as the picker lists them, and why none can
        be compared: every one damaged (Send's words), or the run has none (the reason its pick failed); else ''.
        Compare was enabled there, and a comparison failed as it began."""
        run_dir = self.run_dir
        if run_dir is None:
            return [], ""
        model = self.target_combo.model()
        damaged = [self.target_combo.itemData(row).label for row in range(self.target_combo.count())
                   if not model.item(row).isEnabled()]
        if self.target_combo.count() and not self._usable_targets():
            return damaged, self._all_damaged(run_dir, "there is nothing to compare")
        if not self.target_combo.count() and self._failed_pick and self._pick_problem:
            return damaged, self._pick_problem
        return damaged, ""

    def _target_picked(self) -> None:
        target: Target | None = self.target_combo.currentData()
        run_dir = self.run_dir
        if target is None or run_dir is None:
            return
        try:
            source = resolve(target.path)
        except GenerationError as exc:
            self._target_gone(target, str(exc))
            return
        problem = _base_problem(source)
        if problem:  # the pick cannot load, and the last pick's models and names go (as for a damaged run)
            self._let_go()
            self._source = None
            self._clear_pick()
            self._failed_pick = True
            self._pick_problem = problem
            self._say(problem)
            self._update_buttons()
            return
        self._failed_pick = False
        if self._source is not None and self._source.target == source.target:
            return
        self._let_go()  # the tab is left for another run or checkpoint: its models go
        if self.runner.running and self._job_kind == "compare":  # the run's comparison goes on: nothing to stop
            self._say(f"{source.name} is picked; the comparison goes on, and its models load at the next Send.")
        elif self.runner.running:
            self._say(f"{source.name} loads once the last job has stopped…")
        self._source = source
        self.base_edit.setText(source.base.name_or_path if source.base else "")
        self.chat_check.setChecked(source.chat)
        self.new_conversation()
        self._title_panes(source)
        self.load()

    def _title_panes(self, source: Source | None) -> None:
        """Each pane's title says which model answers in it (AnswerPane.set_model): the base model; the run and its
        checkpoint (a model folder outside a run: its path). Nothing picked: the side alone."""
        if source is None:
            for pane in self.panes.values():
                pane.set_model()
            return
        self.panes[BASE].set_model(str(source.base.name_or_path) if source.base else "—")
        if source.run_dir is not None and source.target is not None:
            self.panes[TUNED].set_model(source.run_dir.name, source.target.label)
        else:
            self.panes[TUNED].set_model(source.name)

    def _target_gone(self, target: Target, problem: str) -> None:
        """The picked checkpoint cannot be used (deleted since the list was made, or cut off): the models of the
        last pick go, so Send never answers with them under this name; the list is made again, nothing picked."""
        self._let_go()
        self._source = None
        self.new_conversation()
        self._title_panes(None)
        run_dir = self.run_dir
        try:
            found = targets(run_dir) if run_dir else []
        except GenerationError:
            found = []
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self._list_targets(found)
        self.target_combo.setCurrentIndex(-1)
        self.target_combo.blockSignals(False)
        if run_dir is not None and not run_dir.exists():
            self._say(f"The run {run_dir.name} is no longer in the runs folder (deleted or moved): press Refresh.")
        elif not target.path.exists():
            self._say(gone_text(target))
        elif run_dir is not None and (damaged := damage(target.path)) is not None:
            self._say(self._damaged_pick(run_dir, target, damaged))
        else:
            self._say(problem)
        self._update_buttons()

    def _damaged_pick(self, run_dir: Path, target: Target, problem: str) -> str:
        """The picked model's files were damaged after the list was made: what is wrong, and what to do here.
        core.generate says it for the command line ("To fix: give a whole one: /path/to/checkpoint-12000 or
        /path/to/model (the final model)"); the tab names the picker's models instead."""
        usable = [other.label for other in self._usable_targets()]
        if not usable:
            return self._all_damaged(run_dir)
        others = f"{', '.join(usable[:-1])} or {usable[-1]}" if len(usable) > 1 else usable[0]
        return (f"{run_dir.name} · {target.label} is damaged: {problem}, so it cannot answer. To fix: pick another "
                f"model in the picker beside Run ({others}), or put its files back from a copy of the run, then press "
                "Refresh.")

    def _base_edited(self) -> None:
        if self._source is None or self._source.base is None:
            return
        text = self.base_edit.text().strip()
        if not text:  # the field emptied: the left pane still answers with the base it had, and the field says which
            used = str(self._source.base.name_or_path)
            self.base_edit.setText(used)
            self._say(f"The Base model field was emptied, so the left pane still answers with {used}. To fix: to "
                      "use another base model, write its Hub id or folder there, then press Enter.")
            return
        if text != self._source.base.name_or_path:
            self._let_go()
            self._source.base = ModelConfig(name_or_path=text, dtype=self._source.base.dtype,
                                            trust_remote_code=self._source.base.trust_remote_code)
            self._title_panes(self._source)
            self.load()

    # ------------------------------------------------------------------ jobs
    def _training(self) -> bool:
        return bool(self.session.running)

    def start_job(self, kind: str, job: Job, busy: bool = True) -> bool:
        """Run one model job (kind: load, answer, compare) in the tab's thread; False when one runs already.
        busy: show the moving progress bar (loading, comparing). An answer with its models loaded shows its own
        progress, the text streaming in: the bar's animation would repaint the window 60 times a second, and
        showing it re-lays out the tab, on the cores the answer is generated on."""
        if self._training():
            self._say("A training run is using the memory: try the model when it ends (training always wins).")
            return False
        if not self.runner.start(job):
            return False
        self._job_kind = kind
        if kind == "compare":  # "Both models are loaded…" stayed, over models the comparison had just released
            self._say(self._compare_note())
        if busy:
            self.busy.setVisible(True)
        self._update_buttons()
        return True

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Models load only once the tab is on screen: never at the window's start or while another tab shows."""
        super().showEvent(event)
        if self._stack_pending():
            self._listing_stale = True
            self._say("Loading the training libraries… the runs are listed once they are in.")
            return
        if self._source is None or self._listing_stale:
            self.refresh_runs()
        elif not self._run_gone():  # a run deleted outside the app while another tab showed: its models go
            self._model_gone()  # and so do those of a model of it deleted meanwhile
            self.compare.reload()  # its answers file may have been deleted or replaced while another tab showed
        self.load()

    def load(self) -> None:
        """Load the picked run's models in the background (progress in the status line), once the tab shows; not a
        pick whose load the user stopped (_stop_load): a Send loads that one."""
        source = self._source
        if source is None or self.loaded is not None or self.runner.running or not self.isVisible():
            return
        if source is self._stopped_load:
            return
        if self._training():
            self._say("A training run is using the memory: the models load when it ends (training always wins).")
            return
        self._start_load(source)

    def _start_load(self, source: Source) -> bool:
        """The load job for `source` (its models then go through _set_loaded, which applies their defaults): one
        for load() and for a Send with nothing loaded, so the two load the same way. False when it did not start."""
        from finetune_studio.core import generate

        self._stopped_load = None
        self._say(f"Loading {source.name}…")
        return self.start_job("load", lambda sink, stop: generate.load(
            source, lambda text: sink({"event": "progress", "text": text}), stop=stop))

    def send(self) -> None:
        prompt = self.prompt_edit.toPlainText()
        if not prompt.strip():
            self._say("The prompt is empty: type something for the models to answer or continue.")
            return
        problem = self.settings_box.problem()
        if problem:  # marked at its field too; the prompt stays in the box
            self._say(f"Not sent: {problem}")
            return
        if self._run_gone():
            return
        if self._model_gone():
            self._say(f"{self.status_label.text()} Your prompt was not sent: it is still in the box.")
            return
        if self._source is None and not self.runner.running and self._stack_pending():
            self._say("The training libraries are still loading: the prompt is kept in the box. Press Send once "
                      "the runs are listed.")
            return
        if self._source is None and not self.runner.running:
            self._say("Pick a run and a checkpoint first: the prompt is kept in the box.")
            return
        if self.runner.running:
            if self._job_kind in ("load", "switch"):
                self._pending_prompt = prompt  # sent the moment the models are in
                self._say("The prompt is sent as soon as the models are loaded.")
            elif self._job_kind == "stopped load":
                self._say("Still stopping the load: press Send again in a moment to load the model and send the "
                          "prompt.")
            elif self._job_kind == "answer" and self.runner.stopping:
                self._say("Still stopping the last answer: press Send again in a moment.")
            elif self._job_kind == "answer":
                self._say("The models are still answering: wait for the answer or press Stop answering, then Send.")
            elif self._job_kind == "compare":
                self._say("The checkpoints are being compared: stop the comparison or wait for it, then Send.")
            return
        if self.loaded is None:
            self._load_then_answer(prompt)
            return
        self._answer(prompt)

    def _load_then_answer(self, prompt: str) -> None:
        """Send with nothing loaded (the tab not shown yet, a load that failed): the models load as the load()
        path loads them, their generation defaults fill the settings the user has not changed (_set_loaded), and
        the prompt is answered with what the box then shows (_job_idle), as after a load and then a Send. The
        answer job loaded them itself before: its first answer used the settings shown before the defaults came,
        and the box never followed them, while a load's did."""
        assert self._source is not None
        self._pending_prompt = prompt
        if self._start_load(self._source):
            self._say(f"Loading {self._source.name}… The prompt is sent as soon as the models are loaded.")
        else:
            self._pending_prompt = ""

    def _answer(self, prompt: str) -> None:
        """Answer `prompt` with the loaded models (a Send with none loads them first: _load_then_answer) and the
        settings the box shows now."""
        from finetune_studio.core import generate

        loaded = self.loaded
        assert loaded is not None
        settings = self.settings_box.settings()
        chat = self.chat_check.isChecked()
        self.conversation.system = self.system_edit.text() if chat else ""
        conversation = self.conversation
        self.answers = {}
        self._errors = {}
        self._loads_stopped = []
        sides = loaded.sides
        for side in SIDES:
            if side in loaded.failed:
                self.panes[side].show_unloaded(loaded.failed[side])
            elif side in sides:
                self.panes[side].begin(prompt, chat)
            elif self.panes[side].stats.text() != NO_BASE or self.panes[side].text.document().characterCount() > 1:
                self.panes[side].clear()  # once: redrawn at every Send, its repaint took turns with the answer's start
                self.panes[side].stats.setText(NO_BASE)

        def job(sink: Callable[[dict], None], stop: threading.Event) -> Any:
            return generate.answer_both(loaded, prompt, settings, conversation, stop, sink, chat=chat)

        if self.start_job("answer", job, busy=loaded.mode == "one after the other"):
            self._sent_prompt = prompt if chat else ""  # the box empties once answered (_job_succeeded)
            self._say("Generating: base first, then fine-tuned…" if not loaded.concurrent else "Generating…")

    def use(self, loaded: Loaded) -> None:
        """Talk to models loaded elsewhere (benchmarks, the screenshot script) as if picked and loaded here."""
        self._let_go()
        self._source = loaded.source
        self._title_panes(loaded.source)
        self.chat_check.setChecked(loaded.source.chat)
        self._set_loaded(loaded)
        self._update_buttons()

    def stop(self) -> None:
        if self.runner.running and self._job_kind in ("load", "switch") and self._source is not None:
            self._stop_load()
        elif self.runner.running:
            self.runner.stop()
            self._say("Stopping…")

    def _stop_load(self) -> None:
        """Stop pressed while models load (the picked one's, or an earlier pick's job ending before it loads): the
        load ends between two tensors (core.generate.stoppable) and what it made is dropped (GenerateRunner.supersede:
        not announced as loaded), its memory freed when it has ended (_job_idle); the pick stays, not loaded, and
        does not load again by itself; a prompt that waited for it is not sent."""
        source = self._source
        assert source is not None
        self.runner.supersede()
        self._job_kind = "stopped load"
        self._stopped_load = source
        self._say(f"Stopping the load of {source.name}…")
        self._update_buttons()

    def _load_stopped(self, say: bool) -> None:
        """The stopped load has ended: its memory goes back, and (say: nothing else has spoken since, as a release
        for training does) the status line says what is loaded (nothing) and what to do next."""
        from finetune_studio.core.generate import free_cached_memory

        free_cached_memory()  # on the GUI thread: a collection in the load's thread could destroy Qt objects there
        source = self._stopped_load
        if not say or source is None or source is not self._source:
            return
        line = (f"Loading stopped: {source.name} is not loaded, and the memory its load took was given back. Pick "
                "another model, or press Send to load this one after all.")
        if self._pending_prompt:
            self._pending_prompt = ""
            line += " Your prompt was not sent: it is still in the box."
        self._say(line)

    def new_conversation(self) -> None:
        self.conversation = Conversation(system=self.system_edit.text())
        for pane in self.panes.values():
            pane.clear()
        self._show_unloaded()

    def _show_unloaded(self) -> None:
        """Each side whose model did not load says why in its pane, once (AnswerPane.show_unloaded)."""
        if self.loaded is not None:
            for side, message in self.loaded.failed.items():
                self.panes[side].show_unloaded(message)
            for side in SIDES:  # a base model that failed, then fixed in the field and loaded: its old why goes
                pane = self.panes[side]
                if side not in self.loaded.failed and pane.stats.text().startswith(UNLOADED_WORDS):
                    pane.clear()

    def runs_deleted(self, paths: list[Path]) -> None:
        """Runs were deleted (the Runs tab's Delete). When the picked run is one of them, its models go at once,
        whatever they were doing (loading, answering, comparing its checkpoints): Send must never answer under the
        name of a run that no longer exists, and the memory is freed when the user frees the disk. Nothing is
        picked in its place (loading another run unasked would spend that memory and time again); the status line
        says what happened and what to do. Other deleted runs only leave the list."""
        gone = {Path(path) for path in paths}
        picked = self._source.run_dir if self._source is not None else None
        shown = self.run_dir
        if (picked is not None and picked in gone) or (shown is not None and shown in gone):
            name = (picked or shown).name
            self._drop_run(f"{name} was deleted, so the Try tab let go of its models. Pick another run above.")
        else:
            self._refresh_runs_when_shown()

    def _run_gone(self, quiet: bool = False) -> bool:
        """The picked run's folder is gone (deleted outside the app: the CLI, a file manager): its models go, as
        for a run deleted in the Runs tab (runs_deleted). Checked when the tab shows, at Send, at Refresh and when
        a comparison ends. quiet: the status line keeps what it says (at a comparison's end: nothing, the Compare page
        says what became of the run and its answers)."""
        run_dir = self._source.run_dir if self._source is not None else None
        if run_dir is None or run_dir.exists():
            return False
        said = self.status_label.text()
        self._drop_run(f"{run_dir.name} is no longer in the runs folder (deleted or moved), so the Try tab let go "
                       "of its models. Pick another run above.")
        if quiet:
            self._say(said)
        return True

    def _model_gone(self) -> bool:
        """The picked model's folder (the run's final model or a checkpoint) is gone while the run is still there
        (deleted outside the app after it was listed or loaded): its models go and the list is made again
        (_target_gone), as Refresh does. Checked when the tab shows and at Send, which answered with the weights
        still in memory under the name of a model no longer on disk, the picker still listing it."""
        source = self._source
        target = source.target if source is not None else None
        if source is None or source.run_dir is None or target is None or target.path.exists():
            return False
        self._target_gone(target, gone_text(target, deleted=False))
        return True

    def _gone_while_loading(self) -> bool:
        """A load that failed because the picked model's folder (or its whole run) was deleted while it loaded: the
        tab says so as at Send (_run_gone, _model_gone), where it said the load's FileNotFoundError as "Generation
        failed: … To fix: try other settings or another checkpoint", the picker still listing the model."""
        if self._run_gone():  # says itself that a prompt that waited was not sent
            return True
        waiting, self._pending_prompt = self._pending_prompt, ""  # not "another model was picked" (_let_go)
        if not self._model_gone():
            self._pending_prompt = waiting
            return False
        if waiting:
            self._say(f"{self.status_label.text()} Your prompt was not sent: it is still in the box.")
        return True

    def _drop_run(self, note: str) -> None:
        """The picked run is gone: stop what runs for it, let its models go, forget the pick and the conversation,
        and list the runs folder again with nothing picked (refresh_runs keeps it so while _gone_note is set)."""
        if self._pending_prompt:
            self._pending_prompt = ""
            note += " Your prompt was not sent: it is still in the box."
        if self.runner.running and self._job_kind == "compare":
            self.runner.supersede()
            self._job_kind = "switch"
            self.compare.abandoned("Stopped: the run was deleted.")
        self._let_go()
        self._source = None
        self._gone_note = note
        self._clear_pick()
        self.refresh_runs()

    def _let_go(self) -> None:
        """The pick changed (run, checkpoint or base model): its models go at once (Send never answers with them
        under the new name); a load or answer still running for the old pick is stopped and nothing more it says is
        shown (GenerateRunner.supersede); a prompt that waited for the old models is not sent; and the new pick
        loads once that job has ended (_job_idle)."""
        if self._pending_prompt:
            self._pending_prompt = ""
            self.show_message("The prompt that waited for the models was not sent: another model was picked. Press "
                              "Send to ask the new one.", 10_000)
        if self.runner.running and self._job_kind in ("load", "answer", "switch", "stopped load"):
            self.runner.supersede()
            self._job_kind = "switch"
            self.busy.setVisible(True)
        had = self.loaded is not None
        self.loaded = None
        if had:
            if not self.runner.running:
                from finetune_studio.core.generate import free_cached_memory

                free_cached_memory()
            self.loaded_changed.emit()
        self._update_buttons()

    def release(self, reason: str) -> None:
        """Free the models (another run was picked, or training needs the memory); say why when there is a why."""
        if self.runner.running:
            if self._job_kind == "load":
                self.runner.supersede()  # its models are not wanted: they are not announced as loaded
            else:
                self.runner.stop()
            self._after_job = lambda: self.release(reason)
            return
        had = self.loaded is not None
        self.loaded = None
        if had:
            from finetune_studio.core.generate import free_cached_memory

            free_cached_memory()
            self.loaded_changed.emit()
        if reason:
            self._say(reason)
        self._update_buttons()

    def release_for_training(self) -> None:
        """A training run starts: it gets the memory; the models are freed and the tab says so, and a comparison
        stops saying why and what to do next on its own page (it said only "Stopped: 3 of 12 answers kept")."""
        self._pending_prompt = ""
        self.release(TRAINING_RELEASED)
        self.compare.stop("training started and needs the memory (training always wins)",
                          "To compare every checkpoint: press Compare checkpoints again once the run ends.")

    def run_finished(self, result: Any) -> None:
        """A run of this window ended (a core.training.RunResult, or its folder): list it, and when it finished
        and the user asked for that, run the comparison."""
        if getattr(result, "state", "finished") != "finished":
            return
        run_dir = Path(getattr(result, "run_dir", result))
        self._refresh_runs_when_shown()
        if self.compare.auto_check.isChecked() and self.session.config.prompts:
            self.select_run(Path(run_dir))
            self.pages.setCurrentWidget(self.compare)
            self.compare.start()

    def shutdown(self) -> None:
        """The window closes: stop what runs and wait for it (a QThread destroyed while running aborts)."""
        self._after_job = None
        self._pending_prompt = ""
        self._job_kind = ""  # nothing loads after the job it stops
        self.runner.shutdown()
        self.loaded = None

    # ------------------------------------------------------------------ what the job says
    @Slot(object)
    def _event(self, event: dict) -> None:
        kind = event.get("event")
        if self._job_kind == "compare":
            self.compare.add_event(event)
            return
        if kind == "progress":
            self._say(event["text"])
        elif kind == "rendered":
            self.panes[event["side"]].set_rendered(event["text"])
        elif kind == "text":
            self.panes[event["side"]].add_text(event["text"])
        elif kind == "answer":
            self.answers[event["side"]] = event["answer"]
            self.panes[event["side"]].finish(event["answer"])
        elif kind == "load stopped":  # models loaded in turn: Stop ended this side's load (core.generate.answer_both)
            self._loads_stopped.append(event["side"])
            self.panes[event["side"]].stats.setText(LOAD_STOPPED_PANE)
        elif kind == "error" and self._unloaded(event["side"]):
            pass  # its model did not load: core.generate says so at every prompt; its pane has said it once
        elif kind == "error":
            self._errors[event["side"]] = event["message"]
            self.panes[event["side"]].show_error(event["message"])

    def _unloaded(self, side: str) -> bool:
        """The side's model did not load (Loaded.failed): it is asked nothing, so nothing of it fails at a turn."""
        return self.loaded is not None and side in self.loaded.failed

    def _set_loaded(self, loaded: Loaded) -> None:
        self.loaded = loaded
        notes = [loaded.describe()] + [n for n in loaded.notes if n != loaded.describe()]
        config, whose = loaded.defaults_config()
        # a setting the user changed keeps their value (follow_defaults): no note that the app's default is used
        notes += GenerationSettings.ignored_defaults(config, self.settings_box.touched, whose=whose)
        defaults = GenerationSettings.from_generation_config(config)
        if self._job_kind == "load":  # every model this tab loads (load(), a Send: _start_load); use()'s caller
            self.settings_box.follow_defaults(defaults)  # sets its own settings
            notes += [unheld_note(whose, name, getattr(defaults, name), held)
                      for name, held in self.settings_box.unheld(defaults).items()]
        self._say(" ".join(notes))
        self._show_unloaded()
        self.loaded_changed.emit()

    @Slot(object)
    def _job_succeeded(self, result: Any) -> None:
        if self._job_kind == "load" and isinstance(result, Loaded):
            self._set_loaded(result)
        elif self._job_kind == "answer":
            # Stop pressed before either side began (right after Send) ends the job with no answer and no error: it
            # said "Both models are loaded…" over two panes left at "Waiting…"
            stopped = any(a.stop_reason.value == "user" for a in self.answers.values()) or bool(
                self._loads_stopped) or (self.runner.stopping and not self.answers and not self._errors)
            kept = self._answered()
            if stopped:
                self._say("Stopped by the user." + self._load_stop_words(again=not kept) + kept)
                for side, pane in self.panes.items():
                    if side not in self.answers and pane.stats.text() == "Waiting…":
                        pane.stats.setText("Stopped by the user before it answered.")
            elif self._errors:
                failed = [side for side in SIDES if side in self._errors]
                first = self._errors[failed[0]]
                if not self.answers:
                    self._say(f"{'Both answers' if len(failed) > 1 else 'The answer'} failed: {first}" + kept)
                else:
                    which = "base model's" if failed[0] == BASE else "fine-tuned model's"
                    self._say(f"The {which} answer failed (the other one is in): {first}" + kept)
            elif self.loaded is not None:
                self._say(self.loaded.describe())
        elif self._job_kind == "compare":
            self.compare.finished(result, stopped=self.runner.stopping)
            self._say(self._compare_note())

    def _compare_note(self) -> str:
        """The status line while and after a comparison (COMPARE_RELEASED): not how it went, which the Compare page
        says two lines below; nothing when no model is picked or its run is gone (the page says what became of it)."""
        if self._training():
            return TRAINING_RELEASED
        source = self._source
        if source is None or (source.run_dir is not None and not source.run_dir.exists()):
            return ""
        return COMPARE_RELEASED.format(name=source.name)

    def _load_stop_words(self, again: bool) -> str:
        """After an answer whose model load Stop ended (models loaded in turn): what became of that model, and (again:
        nothing else says what to do next) how to ask it after all."""
        if not self._loads_stopped:
            return ""
        who = " and ".join(_SIDE_NAMES[side] for side in self._loads_stopped)
        return (f" The {who} was stopped while it loaded: nothing of it is kept, and the memory its load took is "
                "given back." + (" Press Send to load it and ask again." if again else ""))

    def _answered(self) -> str:
        """After a chat Send: what the status line adds about the prompt and the conversation.

        A turn is kept only when every side that can answer (its model loaded) answered it, in full or up to a
        Stop; its prompt then leaves the box. When one side did not (Stop pressed while the base answered, in turn,
        so the fine-tuned one never began; or its answer failed), the turn is taken out of the sides that did
        answer, and the prompt stays in the box to send again: comparing two models means asking both the same
        conversation, and one side a turn ahead would answer a different one from then on (its history split from
        the other's, with no way back short of a new conversation). What that side said stays on screen, marked,
        until the next Send's turn replaces it (AnswerPane.turn_dropped)."""
        prompt, self._sent_prompt = self._sent_prompt, ""
        if not prompt:
            return ""
        loaded = self.loaded
        able = [side for side in (loaded.sides if loaded is not None else SIDES)
                if loaded is None or side not in loaded.failed]
        silent = [side for side in able if side not in self.answers]
        if self.answers and not silent:
            if self.prompt_edit.toPlainText() == prompt:  # not if the user has typed the next one meanwhile
                self.prompt_edit.clear()
            return ""
        who = " and ".join(_SIDE_NAMES[side] for side in silent)
        for side in able:
            answer = self.answers.get(side)
            if answer is None:
                self.panes[side].turn_dropped("")  # its line already says why (stopped before it answered, failed)
                continue
            self.conversation.drop_last(side, (prompt, answer.text))
            self.panes[side].turn_dropped(f"Not kept in the conversation: the {who} did not answer this turn.")
        if not self.answers:
            return " Your prompt is kept in the box."
        kept = " and ".join(_SIDE_NAMES[side] for side in self.answers)
        return (f" The {kept}'s answer is shown but not kept in the conversation, so both sides go on from the same "
                "turns; your prompt is kept in the box: press Send to ask both again.")

    @Slot(str, str)
    def _job_errored(self, message: str, details: str) -> None:
        kept = self._answered() if self._job_kind == "answer" else ""
        self._say(self._compare_note() if self._job_kind == "compare" else message + kept)
        for side, pane in self.panes.items():
            if self._job_kind == "answer" and pane.answer is None and not self._unloaded(side):
                pane.show_error(message)
        if self._job_kind == "compare":
            self.compare.failed(message)

    @Slot()
    def _job_idle(self) -> None:
        kind, self._job_kind = self._job_kind, ""
        self.busy.setVisible(False)
        after, self._after_job = self._after_job, None
        if after is not None:
            after()
        elif kind == "load" and self.loaded is None and self._gone_while_loading():
            pass
        elif kind == "load" and self._pending_prompt and self.loaded is not None:
            prompt, self._pending_prompt = self._pending_prompt, ""
            self._answer(prompt)
        elif kind == "load" and self._pending_prompt:  # the load failed: the prompt waits for no one
            self._pending_prompt = ""
            self._say(f"{self.status_label.text()} Your prompt was not sent: it is still in the box.")
        if kind == "answer" and self._loads_stopped:
            from finetune_studio.core.generate import free_cached_memory

            free_cached_memory()  # what the stopped load made, on the GUI thread once its thread has ended
        if kind == "answer":
            self.answered.emit()
        if kind == "compare":  # its run deleted while compared: the models go; the Compare page says what became of it
            self._run_gone(quiet=True)
        self._update_buttons()
        if kind == "stopped load":
            self._load_stopped(say=after is None)
        if kind == "switch" and after is None:  # the job of an earlier pick has ended: the new pick loads now
            from finetune_studio.core.generate import free_cached_memory

            free_cached_memory()
            self.load()
            if not self.runner.running and self._source is not None and not self._training():
                self._say(f"{self._source.name} is picked: it loads when the Try tab shows.")
            if not self.runner.running and self._pending_prompt:
                self._pending_prompt = ""
                self.show_message("The prompt that waited for the models was not sent: they are not loading.",
                                  10_000)

    # ------------------------------------------------------------------ saved prompts
    def _load_prompts(self) -> None:
        from finetune_studio.gui.compare_view import bounded_tip

        self.saved_combo.clear()
        for prompt in self.session.config.prompts:
            self.saved_combo.addItem(prompt.replace("\n", " ⏎ ")[:80], prompt)
            if len(prompt) > 80 or "\n" in prompt:  # the list shows its first 80 characters: more as its tooltip,
                # bounded (a 20,000-character prompt was a tooltip wider than the screen) and wrapped
                tip = bounded_tip(prompt, "(pick it to read it all in the prompt box)")
                self.saved_combo.setItemData(self.saved_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.saved_combo.setCurrentIndex(-1)
        self.compare.set_prompts(list(self.session.config.prompts))

    def _session_changed(self, change: Change) -> None:
        if change is Change.DOCUMENT:
            self._load_prompts()
            self._refresh_runs_when_shown()
        elif change is Change.RUN:
            self._update_buttons()
            if self._listing_stale and self.isVisible() and not self._stack_pending():
                self.refresh_runs()  # the stack is in (or the tab waited for nothing): list what it held back
            if not self._training() and self.loaded is None:
                self.load()  # training ended: the tab, if it shows, loads its models again

    def _use_saved(self, index: int) -> None:
        prompt = self.saved_combo.itemData(index)
        if prompt:
            self.prompt_edit.setPlainText(prompt)

    def save_prompt(self) -> None:
        prompt = self.prompt_edit.toPlainText().strip() or self._last_prompt()
        if not prompt:  # the button said nothing at all: pressed, and no prompt saved, without a word
            self.show_message("No prompt saved: the prompt box is empty and nothing was asked yet. To fix: type a "
                              "prompt in the box, then press Save prompt.", 8000)
            return
        if prompt in self.session.config.prompts:
            self.saved_combo.setCurrentIndex(self.saved_combo.findData(prompt))
            self.show_message("This prompt is saved already: it is the one picked in Saved prompts.", 5000)
            return
        self.session.config.prompts.append(prompt)
        self.session.set_modified(True)
        self._load_prompts()
        self.show_message("Prompt saved with the config; save the config to keep it.", 5000)

    def _last_prompt(self) -> str:
        for turns in self.conversation.history.values():
            users = [t["content"] for t in turns if t["role"] == "user"]
            if users:
                return users[-1]
        return ""

    def remove_prompt(self) -> None:
        prompt = self.saved_combo.currentData()
        if prompt and prompt in self.session.config.prompts:
            self.session.config.prompts.remove(prompt)
            self.session.set_modified(True)
            self._load_prompts()

    # ------------------------------------------------------------------ state
    def _say(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text if any(len(word) > LONG_WORD_CHARS for word in text.split()) else "")

    def _why_no_model(self) -> str:
        """Why no model is picked to answer with, and what to do, as the disabled Send's tooltip says it; '' when
        one is picked (loaded or not: a Send loads it)."""
        if self._source is not None:
            return ""
        run_dir = self.run_dir
        if run_dir is None:
            if self._stack_pending():
                return "The runs are listed once the training libraries have loaded. To fix: wait a moment."
            return ("No run is picked, so no model can answer. To fix: pick one in Run above; if there is none, "
                    "train one, then press Refresh.")
        if self._failed_pick and self._pick_problem:
            return self._pick_problem
        if self.target_combo.count() and not self._usable_targets():
            return self._all_damaged(run_dir)
        return "No model is picked, so none can answer. To fix: pick one in the picker beside Run."

    def _fit_target_picker(self, no_model: str) -> None:
        """The model picker with nothing picked says why: no model of the run can be used (all damaged, or none
        saved yet; its tooltip says what to do), or one is to be picked. It was blank."""
        run_dir = self.run_dir
        if run_dir is None or self.target_combo.currentIndex() >= 0:
            placeholder, tip = "", ""
        elif not self._usable_targets():
            placeholder, tip = NO_USABLE_MODEL, no_model
        else:
            placeholder, tip = "Pick a model", no_model
        if self.target_combo.placeholderText() != placeholder:
            self.target_combo.setPlaceholderText(placeholder)
        self.target_combo.setToolTip(tip)

    def _fit_base_field(self, no_model: str) -> None:
        """The Base model field shows the base model the left pane answers with, and only that: nothing picked (a
        refused pick: damaged, no usable model, a config naming no base) leaves it empty and disabled, its
        placeholder and tooltip saying why; it kept the refused pick's base, as if it would answer. A model folder
        with no base says so. While the user edits it (focused) their text stays; _base_edited applies it."""
        source = self._source
        if source is not None and source.base is not None:
            if not self.base_edit.hasFocus() and self.base_edit.text() != str(source.base.name_or_path):
                self.base_edit.setText(str(source.base.name_or_path))
            self.base_edit.setEnabled(True)
            self.base_edit.setPlaceholderText("")
            self.base_edit.setToolTip(BASE_TIP)
            return
        if self.base_edit.text():
            self.base_edit.clear()
        self.base_edit.setEnabled(False)
        if source is None:
            self.base_edit.setPlaceholderText(NO_BASE_PICKED)
            self.base_edit.setToolTip(no_model)
        else:
            self.base_edit.setPlaceholderText(NO_BASE_FOLDER)
            self.base_edit.setToolTip(f"{NO_BASE} The left pane stays empty; the right one answers.")

    def _update_buttons(self) -> None:
        busy = self.runner.running
        training = self._training()
        answering = busy and self._job_kind in ("answer", "compare")
        self.send_button.setEnabled(not answering and not training and self._source is not None)
        no_model = self._why_no_model()
        if training:
            send_tip = ("A training run is using the memory, so the models cannot answer now. To fix: wait for it to "
                        "end, or stop it with the toolbar's Stop (training always wins).")
        elif answering and self._job_kind == "compare":  # Send disabled on the Chat page said only "Ask both models"
            send_tip = ("The checkpoints are being compared (the Compare checkpoints page), and the models answer one "
                        "job at a time. To fix: wait for the comparison to end, or press Stop on that page.")
        elif answering:
            send_tip = ("The models are still answering the last prompt. To fix: wait for the answer, or press Stop "
                        "answering.")
        else:
            send_tip = no_model or SEND_TIP
        self.send_button.setToolTip(send_tip)
        self._fit_target_picker(no_model)
        self._fit_base_field(no_model)
        self.compare.set_models(*self._models_for_compare())
        loading = busy and self._job_kind in ("load", "switch", "stopped load")
        # a switch with nothing picked (the run deleted, a pick refused) loads nothing after it: nothing to stop
        self.stop_button.setEnabled(answering or (loading and self._job_kind != "stopped load"
                                                  and self._source is not None))
        self.stop_button.setText(STOP_LOADING if loading else STOP_ANSWERING)
        name = self._source.name if self._source is not None else "the model"
        self.stop_button.setToolTip(STOP_LOADING_TIP.format(name=name) if loading else STOP_ANSWERING_TIP)
        self.new_button.setEnabled(not answering)
        self.remove_prompt_button.setEnabled(self.saved_combo.count() > 0)
        self.compare.set_busy(busy, training)
