"""The run history: every run in the runs folder, in a sortable table beside the forms (the "Runs" tab).

Open a run to see its chart and config (a selected run's summary above it: run_facts); select several to overlay
their loss curves; filter the table by any column's words (RunFilter); continue a run for more epochs (or more steps,
for a run its config's max_steps caps), open its folder, or delete it. The table follows the folder by polling
(core.runs.RunIndex, about once a second, off the GUI thread: only folders whose files changed are read again, and
only their new metrics lines), so a run started headless with `finetune-studio train` in the same folder appears,
and updates, on its own. An opened run that another process is still writing is followed live: its new
metrics.jsonl lines feed the chart.

The tab reads the window's core.session.Session (the runs folder, the run shown, whether a run trains here) and
asks the window for what only it can do through `RunsTabActions`, explicit callables; it never holds the window.
Whether a run can be continued is core.session's rule.

Nothing here imports pyqtgraph or the training stack at module level; the chart is the window's (gui.chart).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDesktopServices,
    QFontDatabase,
    QFontMetricsF,
    QIcon,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.config import load_config
from finetune_studio.core.errors import ConfigError, FinetuneError
from finetune_studio.core.events import RunState
from finetune_studio.core.metrics import count_text, log_identity, log_restarted, loss_text
from finetune_studio.core.runs import (
    RunFolder,
    RunIndex,
    RunsDirUnreadable,
    RunSummary,
    delete_run,
    read_metrics,
    unreadable_text,
)
from finetune_studio.core.session import CONTINUE_TIP, Session, continue_problem
from finetune_studio.core.sources import SourceKind, source_kind
from finetune_studio.gui import dialogs
from finetune_studio.gui.background import BackgroundTask
from finetune_studio.gui.progress import format_duration
from finetune_studio.gui.session_signals import SessionSignals
from finetune_studio.gui.settings import settings

POLL_MS = 1000  # the runs folder: new, changed and removed runs
FOLLOW_MS = 250  # the opened run while another process writes it: new metrics lines reach the chart this fast
REFRESH_BUDGET_S = 0.25  # a first listing of a big folder is delivered in parts, so rows appear at once

STATE_COLORS = {"running": "#1a73e8", "finished": "#188038", "stopped": "#b06000", "interrupted": "#b06000",
                "failed": "#c5221f", "broken": "#c5221f", "unknown": "#5f6368"}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2

# (key, header, tooltip)
COLUMNS = (  # short headers, how far first; those without room give way whole (HIDE_ORDER, HistoryPanel._fit_columns)
    ("name", "Run", "The run's folder name"),
    ("state", "Status", "running, finished, stopped (resumable), failed, interrupted (its process ended without "
                        "finishing; resumable) or broken (files missing or unreadable); a warning sign: some of the "
                        "run's files are missing or damaged (hover it for which, and what to do)"),
    ("model", "Model", "Base model"),
    ("method", "Method", "How it trained: full fine-tuning (every weight) or an adapter (LoRA, QLoRA, DoRA)"),
    ("dataset", "Dataset", "Training data"),
    ("steps", "Steps", "Optimizer steps done / planned"),
    ("train_loss", "Loss", "The last logged training loss; * where it is not the loss at the run's last step (a "
                           "resumed run, or steps after it that trained no token; hover it to see what it is)"),
    ("eval_loss", "Eval", "The last evaluation loss"),
    ("duration", "Time", "Time spent training, over all its resumes"),
    ("started", "Started", "When the run was first started (the time alone for today; hover for the full date)"),
)
COLUMN = {key: i for i, (key, _, _) in enumerate(COLUMNS)}
METHOD_SHORT = {"full": "full", "lora": "LoRA", "qlora": "QLoRA", "dora": "DoRA"}  # a narrow column
# Columns sized to their longest text within what the others leave of the tab's width (see
# HistoryPanel._fit_columns); text that does not fit is cut in the middle, so a run name keeps its date, and shown
# whole in the tooltip. Every other column is as wide as its longest text or its header, whichever is wider.
FITTED_COLUMNS = ("name", "model", "dataset")
CELL_PAD = 8  # a cell's text to its column's width (the style's margins, and a little air)
HEADER_PAD = 12  # a header's text to its section's width; the sorted column adds SORT_PAD for its arrow
SORT_PAD = 16
ICON_PAD = 17  # the status dot (a 16 px icon) and its spacing
# The compared runs' names under the table are cut in the middle to this many characters: a longer one pushed the
# status, steps and losses of every row out of the (unwrapped) box's view. The table above has each name whole.
COMPARED_NAME_CHARS = 40
TITLE_NAME_CHARS = 48  # the selected run's name above its config, likewise
# The run's message in that title is cut past this many characters (the whole title in its tooltip), keeping its
# "To fix:" part whole where it is short: a failure's message of 1,400 characters took the title past the room the
# details have, and the title and the run's summary under it were drawn cut off mid-line, the fix unread.
TITLE_MESSAGE_CHARS = 400
# At most this many selected runs are compared on the chart (the first ones in the table's order): as many as it
# has line looks (gui.chart: 10 colours x 4 line styles), so no two compared runs share one. 320 selected with
# Ctrl+A drew 320 lines nobody could tell apart, and building them (then taking them off) held the window for
# seconds each way.
COMPARE_MAX = 40
COLUMN_WIDTHS_KEY = "runs/column_widths"  # QSettings: {column key: width} of the columns the user resized by hand
# The run name is what tells runs apart: its column is never narrower than a generated name's date and time
# (core.runs.generate_run_name: '…-261203-1202') after an ellipsis, and a name too wide for it is cut keeping its
# end (NameDelegate), where the date, a number or a -2 are. Where the tab is short of room the columns of
# GIVE_WAY are narrowed first, in that order, to MODEL_FLOOR (model, dataset: whole in their tooltips) or to
# their text without their header; past that, the table scrolls sideways (the columns at its right end) rather
# than cut the name further.
NAME_FLOOR_SAMPLE = "…000000-0000"
NAME_TAIL_CHARS = 11  # at least this much of a name's end is kept when it is cut ('261203-1202')
MODEL_FLOOR = 36
GIVE_WAY = ("model", "dataset", "method", "eval_loss", "started")
# Columns that cannot get a readable width give way whole rather than be squeezed ('m…t' reads nothing), in this
# order, until the others fit: the Run column at least NAME_READABLE_SAMPLE (a name's start and its date and time,
# 'horoscopes-qw…1212-2111' rather than '…261212-2111'), model and dataset at least SOURCE_READABLE_SAMPLE, every
# other column its text. They come back when the tab is widened. A column the user showed or hid from the header's
# context menu stays so (kept under COLUMNS_SHOWN_KEY, {column key: shown}); what is hidden is in the Run cell's
# tooltip, the run's details below, the header's tooltip and the menu (unchecked).
HIDE_ORDER = ("dataset", "model", "method", "duration", "eval_loss", "started")
NAME_READABLE_SAMPLE = "Qwen3-0.6B-ho…000000-0000"
SOURCE_READABLE_SAMPLE = "Qwen3-0.6B"
COLUMNS_SHOWN_KEY = "runs/columns"
DELETE_TIP = "Delete the selected runs' folders (asks first). The Delete key in the table does it too."
FACT_PATH_CHARS = 72  # a saved model's path in the run's summary is cut in the middle past this (whole in its tooltip)


class RunFilter:
    """The Runs tab's filter as a rule, apart from its widgets (HistoryPanel drives it; tests drive it bare): which
    runs a typed text keeps, and what the tab says about them. Case-insensitive; each word typed must be in some
    column's text of the run, shown or hidden for room (name, status, model, method, dataset, steps, losses, time,
    start with its full date), so 'qwen lora' keeps the LoRA runs of Qwen models. Empty text keeps every run."""

    def __init__(self, text: str = ""):
        self.text = text
        self.words = text.casefold().split()

    @property
    def active(self) -> bool:
        return bool(self.words)

    def matches(self, texts: Iterable[str]) -> bool:
        if not self.words:
            return True
        haystack = "\n".join(texts).casefold()
        return all(word in haystack for word in self.words)

    def count_text(self, shown: int, total: int) -> str:
        """Beside the box while it filters: how many of the runs it keeps ("" when it keeps them all)."""
        if not self.active:
            return ""
        return f"{shown:,} of {total:,} run{'' if total == 1 else 's'}"

    def empty_text(self, total: int) -> str:
        """Where the table would be empty because of the filter: says so, rather than an empty table."""
        runs = "the only run" if total == 1 else f"any of the {total:,} runs"
        return (f"No run matches '{self.text.strip()}': it is not in the name, status, model, method, dataset or "
                f"other columns of {runs}. To fix: clear the filter (Esc, or the ✕ in the box), or type part of a "
                "run's name, model or dataset.")


def run_texts(run: RunSummary) -> list[str]:
    """Every column's text of a run as the table has it (RunTableModel), shown or not, and its full start date:
    what RunFilter looks in."""
    texts = [RunTableModel._display(run, key) for key, _, _ in COLUMNS]
    if run.started:
        texts.append(datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H:%M"))
    return texts


@dataclass(frozen=True)
class RunFact:
    label: str
    text: str
    tip: str = ""  # the whole of a text cut to fit (a long path)


def best_eval(run: RunSummary) -> tuple[float, float] | None:
    """(step, eval loss) of the lowest evaluation loss the run logged, after the resume rule (the chart's eval
    points: core.metrics' curves, folded by the listing); None when it logged none."""
    evals = run.tally.curves.evals
    ys = getattr(evals, "y", None)
    if not ys:
        return None
    index = min(range(len(ys)), key=ys.__getitem__)
    return evals.x[index], ys[index]


def saved_model_text(run: RunSummary) -> tuple[str, str]:
    """Where the run's trained model or adapter is (its model/ folder, with what it holds), or why there is none
    yet; (text, the whole path where the text cuts it)."""
    from finetune_studio.core.adapters import METHOD_NAMES, is_adapter_folder

    folder = RunFolder(run.path)
    model_dir = folder.model_dir
    if folder.has_saved_model():
        what = (f"{METHOD_NAMES.get(run.method, 'the')} adapter" if is_adapter_folder(model_dir)
                else "the whole model")
        shown = _middle_cut(str(model_dir), FACT_PATH_CHARS)
        return f"{shown} ({what})", str(model_dir) if shown != str(model_dir) else ""
    if run.live:
        return "not yet: the run saves its model when it finishes", ""
    if run.state == "finished":
        return (f"missing: {model_dir.name}/ is gone or empty (moved or deleted since). To fix: put it back from a "
                "copy of the run, or train the run again"), ""
    ended = {"failed": "this one failed", "interrupted": "this one was interrupted",
             "unknown": "this one's state is unknown"}.get(run.state, f"this one is {run.state}")  # not 'is failed'
    return f"none: a run saves its model when it finishes ({ended})", ""


def _ago(seconds: float) -> str:
    """How long ago, in the largest whole unit: 'just now', '5 minutes ago', '2 hours ago', '3 days ago', from 60
    days on '2 months ago', from a year on '3 years ago' (not '1116 days ago')."""
    seconds = max(0.0, seconds)
    units = (("year", 365 * 86_400, 365 * 86_400), ("month", 30 * 86_400, 60 * 86_400), ("day", 86_400, 86_400),
             ("hour", 3_600, 3_600), ("minute", 60, 60))
    for unit, size, least in units:
        if seconds >= least:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def when_text(run: RunSummary, now: float | None = None) -> str:
    """When a run trained, for its summary: its start (the table's Started column, whole) and when it ended (its
    last logged event, which the title's state and message do not say), and how long ago; a run training now says
    so instead of an end. The state itself is the title's ("name — finished: …"): a Status row said it again."""
    start, end = run.started, run.tally.last_time
    if not start and not end:
        return "— (no time logged)"
    now = time.time() if now is None else now
    began = datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M") if start else "—"
    if run.live:
        return f"started {began}, training now" + (f" (last logged {_ago(now - end)})" if end else "")
    if not end:
        return f"started {began}"
    ended = datetime.fromtimestamp(end)
    same_day = start and datetime.fromtimestamp(start).date() == ended.date()
    shown = ended.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")
    if not run.tally.end_state:  # no end event (interrupted, broken): the last thing it logged is as near as known
        return f"{began} → {shown} (its last logged event, {_ago(now - end)})"
    return f"{began} → {shown} (ended {_ago(now - end)})"


def run_facts(run: RunSummary, now: float | None = None) -> list[RunFact]:
    """What a user wants first about one run, above its config: when it trained and ended (its state is the
    title's), how far it got, its final train loss and best eval loss, how long it trained and where its model is.
    Read from the summary the table shows (the losses through core.metrics, as the Loss and Eval columns have them)
    and the run's model folder."""
    steps = RunTableModel._display(run, "steps")
    if run.max_steps and 0 <= run.step <= run.max_steps:
        steps += f" ({100 * run.step // run.max_steps}%)"
    loss = _train_loss_text(run)
    if run.train_loss_note:
        loss += f" ({run.train_loss_note})"
    best = best_eval(run)
    if best is None:
        evals = "— (no evaluation logged)" if run.eval_loss is None else \
            f"{_loss_text(run.eval_loss)} (the last; none was finite)"
    else:
        evals = f"{loss_text(best[1])} at step {count_text(best[0])}"
        if run.eval_loss is not None and run.eval_loss != best[1]:
            evals += f" (the last: {_loss_text(run.eval_loss)})"
    model, tip = saved_model_text(run)
    return [RunFact("When", when_text(run, now)), RunFact("Steps", steps), RunFact("Final train loss", loss),
            RunFact("Best eval loss", evals), RunFact("Time", format_duration(run.duration_s)),
            RunFact("Saved model", model, tip)]


def confirm_delete(parent: QWidget | None, names: list[str]) -> bool:
    """Ask before deleting runs: checkpoints and the trained model go with the folder, and there is no undo.
    (Module-level, like gui.dialogs, so tests replace it instead of driving a modal box.)"""
    shown = "\n".join(f"• {name}" for name in names[:8]) + (f"\n… and {len(names) - 8} more" if len(names) > 8
                                                           else "")
    what = "this run" if len(names) == 1 else f"these {len(names)} runs"
    box = QMessageBox(QMessageBox.Icon.Warning, "Delete runs", f"Delete {what}?\n\n{shown}",
                      QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText("Their folders are removed with every checkpoint and trained model in them. This cannot "
                           "be undone.")
    delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is delete


_DIGITS = re.compile(r"\d+")
NATURAL_DIGITS = 20  # each run of digits is padded to this many, so numbers sort by their value


def natural_key(text: str) -> str:
    """A text's sort key in the order a file manager lists names: caseless, and its numbers by value ('run-2' before
    'run-10'; the table sorted 'run-1, run-10, run-100, run-101, …, run-2'). One string, which Qt's proxy compares
    as it compares any text."""
    return _DIGITS.sub(lambda digits: digits.group().zfill(NATURAL_DIGITS), text.casefold())


def _source_text(source: str | None, file_name: bool = True) -> str:
    """A dataset or model as the table shows it: a built-in one by its short name, a local file by its name (the
    tooltip has the path), a Hub id whole (its owner is part of the name)."""
    if not source:
        return "—"
    kind = source_kind(source)
    if kind is SourceKind.BUILTIN:
        return source.split(":", 1)[-1]
    return Path(source).name or source if file_name and kind is SourceKind.LOCAL else source


def _loss_text(value: float | None) -> str:
    return "—" if value is None else loss_text(value)


def _train_loss_text(run: RunSummary) -> str:
    """A run's train loss as the table shows it: marked * where it is not the loss at its last step."""
    return _loss_text(run.train_loss) + ("*" if run.train_loss_note else "")


def _train_loss_tip(run: RunSummary) -> str:
    """What a marked train loss is, in the model card's words (core.metrics.MetricsTally.train_loss_note)."""
    return f"Train loss {_loss_text(run.train_loss)}: {run.train_loss_note}."


def _started_text(started: float | None, now: datetime | None = None) -> str:
    """When a run started, short for a narrow column: '14:03' today, 'Dec 5 14:03' this year, '2024-12-05' before
    (the tooltip has the full date and time; the column sorts by the time itself)."""
    if not started:
        return "—"
    when, now = datetime.fromtimestamp(started), now or datetime.now()
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if when.year == now.year:
        return f"{when.strftime('%b')} {when.day} {when.strftime('%H:%M')}"
    return when.strftime("%Y-%m-%d")


def tail_elided(text: str, metrics: QFontMetricsF, width: float) -> str:
    """`text` as it fits in `width` pixels: whole, or cut in the middle keeping its end (at least NAME_TAIL_CHARS
    characters, or half the width where that is more), where a generated run name has its date and time and a
    taken one its -2; Qt's own ElideMiddle keeps halves, which cut the date off in a narrow column ('Qwen…1202')."""
    if metrics.horizontalAdvance(text) <= width or len(text) < 2:
        return text
    ellipsis = "…"
    tail_room = max(width / 2, metrics.horizontalAdvance(ellipsis + text[-NAME_TAIL_CHARS:]))
    tail = 0
    while tail < len(text) - 1 and metrics.horizontalAdvance(ellipsis + text[-(tail + 1):]) <= min(tail_room, width):
        tail += 1
    end = text[len(text) - tail:] if tail else ""
    head = 0
    while head < len(text) - tail - 1 and metrics.horizontalAdvance(text[:head + 1] + ellipsis + end) <= width:
        head += 1
    return text[:head] + ellipsis + end


class NameDelegate(QStyledItemDelegate):
    """Draws the Run column's names cut keeping their end (tail_elided) when the column is too narrow for them; the
    tooltip has the whole name."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._cut: dict[tuple[str, float], str] = {}  # (name, width) -> its text shown; names and widths repeat

    def shown_text(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> str:
        """The text drawn in the cell at `index` with `option` (the view's option with the cell's rect)."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        return self._fitted(opt)

    def _fitted(self, opt: QStyleOptionViewItem) -> str:
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        # As QCommonStyle lays it out: the text rect less the focus frame's margin (and 1) each side, unrounded.
        width = rect.width() - 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1)
        if width <= 0:
            return opt.text
        key = (opt.text, float(width))
        if key not in self._cut:
            if len(self._cut) > 4096:
                self._cut.clear()
            self._cut[key] = tail_elided(opt.text, QFontMetricsF(opt.font), width)
        return self._cut[key]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = self._fitted(opt)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)


def _dot(color: str) -> QIcon:
    pixmap = QPixmap(10, 10)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(1, 1, 8, 8)
    painter.end()
    return QIcon(pixmap)


def _saved_adapter_settings(run: RunSummary, recorded: Any) -> Any:
    """The settings of the adapter a run saved (its model folder's adapter_config.json, else its latest
    checkpoint's), as an AdapterConfig of the run's method, for a run whose config.yaml does not record the method
    its Method cell shows; None when no saved adapter of that method is found (the tip is then the method's name)."""
    from finetune_studio.core.adapters import read_adapter_config
    from finetune_studio.core.runs import adapter_config_method

    folder = RunFolder(run.path)
    for place in (folder.model_dir, folder.latest_checkpoint()):
        saved = read_adapter_config(place) if place is not None else None
        if adapter_config_method(saved) is None:  # not a LoRA adapter (a QLoRA one's config reads as LoRA)
            continue
        fields: dict[str, Any] = {"method": run.method}
        for key, name in (("r", "r"), ("lora_alpha", "alpha"), ("lora_dropout", "dropout")):
            if isinstance(saved.get(key), (int, float)) and not isinstance(saved.get(key), bool):
                fields[name] = saved[key]
        targets = saved.get("target_modules")
        if isinstance(targets, str):
            fields["target_modules"] = [targets]
        elif isinstance(targets, list) and targets:
            fields["target_modules"] = sorted(str(target) for target in targets)
        if isinstance(saved.get("use_rslora"), bool):
            fields["rslora"] = saved["use_rslora"]
        kept = saved.get("modules_to_save")
        fields["modules_to_save"] = [str(module) for module in kept] if isinstance(kept, list) else []
        return dataclasses.replace(recorded, **fields)
    return None


class RunTableModel(QAbstractTableModel):
    """One row per RunSummary; rows are updated in place so the selection survives each poll."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rows: list[RunSummary] = []
        self._row_of: dict[Path, int] = {}
        self._icons: dict[str, QIcon] = {}
        self._method_tips: dict[Path, str] = {}  # run folder -> its method and settings, once hovered
        self.hidden: tuple[str, ...] = ()  # the column keys the table does not show (HistoryPanel._fit_columns)
        self.hidden_note = ""  # what the header's tooltips add while columns are hidden

    # ---- updates
    def reset(self) -> None:
        self.beginResetModel()
        self.rows, self._row_of = [], {}
        self._method_tips.clear()
        self.endResetModel()

    def upsert(self, summaries: list[RunSummary]) -> None:
        for summary in summaries:
            row = self._row_of.get(summary.path)
            if row is None:
                row = len(self.rows)
                self.beginInsertRows(QModelIndex(), row, row)
                self.rows.append(summary)
                self._row_of[summary.path] = row
                self.endInsertRows()
            else:
                self.rows[row] = summary
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def remove(self, paths: list[Path]) -> None:
        for path in paths:
            row = self._row_of.get(path)
            if row is None:
                continue
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self._method_tips.pop(path, None)  # a folder made again under the same name is another run
            self._row_of = {summary.path: i for i, summary in enumerate(self.rows)}
            self.endRemoveRows()

    def summary(self, path: Path) -> RunSummary | None:
        row = self._row_of.get(path)
        return self.rows[row] if row is not None else None

    # ---- Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][2] + (f"\n\n{self.hidden_note}" if self.hidden_note else "")
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        run = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(run, key)
        if role == SORT_ROLE:
            return self._sort_key(run, key)
        if role == PATH_ROLE:
            return str(run.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "state":
                return run.message or run.state
            if key == "name":
                return self._name_tip(run)
            if key in ("model", "dataset"):
                return getattr(run, key) or None
            if key == "train_loss" and run.train_loss_note:
                return _train_loss_tip(run)
            if key == "method":
                return self._method_tip(run)
            if key == "started" and run.started:
                return datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H:%M")
            return self._display(run, key) or None  # the whole text of a cell a narrow column may cut
        if role == Qt.ItemDataRole.DecorationRole and key == "state":
            if run.problems and run.state != "broken":  # finished (say) but its files say otherwise: see why
                if "warning" not in self._icons:
                    self._icons["warning"] = QApplication.style().standardIcon(
                        QStyle.StandardPixmap.SP_MessageBoxWarning)
                return self._icons["warning"]
            color = STATE_COLORS.get(run.state, STATE_COLORS["unknown"])
            if color not in self._icons:
                self._icons[color] = _dot(color)
            return self._icons[color]
        if role == Qt.ItemDataRole.ForegroundRole and key == "state" and run.state in ("failed", "broken"):
            return QBrush(QColor(STATE_COLORS[run.state]))
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("train_loss", "eval_loss", "steps", "duration"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _name_tip(self, run: RunSummary) -> str:
        """The whole name and folder, then the run's model, method and dataset (whatever columns are shown: a
        narrow tab hides them first), and the text of any other column hidden now."""
        from finetune_studio.core.adapters import METHOD_NAMES

        lines = [run.name, str(run.path), f"Model: {_source_text(run.model, file_name=False) or '—'}",
                 f"Method: {METHOD_NAMES.get(run.method, run.method) or '—'}",
                 f"Dataset: {_source_text(run.dataset) or '—'}"]
        for key, header, _ in COLUMNS:
            if key in self.hidden and key not in ("model", "method", "dataset"):
                text = self._display(run, key)
                if key == "started" and run.started:
                    text = datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H:%M")
                lines.append(f"{header}: {text}")
        return "\n".join(lines)

    def _method_tip(self, run: RunSummary) -> str:
        """The method with its settings ('LoRA r 16, alpha 32 (scale 2), dropout 0.05 on all-linear'), read from
        the run's config.yaml when first hovered (core.adapters.describe), or from the saved adapter_config.json when
        config.yaml does not record the method the cell shows; the method's name if that fails."""
        from finetune_studio.core.adapters import METHOD_NAMES, describe, is_adapter_method

        name = METHOD_NAMES.get(run.method, run.method)
        if not is_adapter_method(run.method):
            return name
        if run.path not in self._method_tips:
            from finetune_studio.core.config import load_config
            from finetune_studio.core.errors import FinetuneError
            from finetune_studio.core.runs import RunFolder

            try:
                config = load_config(RunFolder(run.path).config_path)[0]
                if config.adapter.method != run.method:
                    # config.yaml records no method, and the cell says the saved adapter's (core.runs.
                    # saved_adapter_method): describe that adapter, not the config's default 'full fine-tuning'.
                    saved = _saved_adapter_settings(run, config.adapter)
                    self._method_tips[run.path] = name if saved is None else describe(
                        dataclasses.replace(config, adapter=saved))
                else:
                    self._method_tips[run.path] = describe(config)
            except (FinetuneError, OSError, TypeError, ValueError):
                self._method_tips[run.path] = name
        return self._method_tips[run.path]

    @staticmethod
    def _display(run: RunSummary, key: str) -> str:
        if key == "name":
            return run.name
        if key == "state":
            return run.state
        if key == "train_loss":
            return _train_loss_text(run)
        if key == "eval_loss":
            return _loss_text(run.eval_loss)
        if key == "steps":
            # In short from 1e9 on (core.metrics.count_text, as `finetune-studio runs` writes them): a broken run's
            # step of 1e18 made the column 51 characters wide for every row.
            return f"{count_text(run.step)} / {count_text(run.max_steps)}" if run.max_steps else \
                (count_text(run.step) if run.step else "—")
        if key == "duration":
            return format_duration(run.duration_s)
        if key == "started":
            return _started_text(run.started)
        if key == "model":
            return _source_text(run.model, file_name=False)
        if key == "dataset":
            return _source_text(run.dataset)
        if key == "method":
            return METHOD_SHORT.get(run.method, run.method)
        return ""

    @staticmethod
    def _sort_key(run: RunSummary, key: str) -> Any:
        """Plain numbers or strings, unknown values last when sorted ascending."""
        if key in ("train_loss", "eval_loss"):
            value = getattr(run, key)
            return value if value is not None and math.isfinite(value) else math.inf
        if key == "steps":
            return float(run.step)
        if key == "duration":
            return run.duration_s if run.duration_s is not None else math.inf
        if key == "started":
            return run.started or 0.0
        return natural_key(RunTableModel._display(run, key))


class RunFilterProxy(QSortFilterProxyModel):
    """The table's sorted view of RunTableModel, keeping the runs `rule` (RunFilter) matches. Rows of runs that
    change or appear are filtered as they come (dynamicSortFilter), so the filter outlives every poll."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rule = RunFilter()

    def set_text(self, text: str) -> bool:
        """Filter by `text`; False when it keeps the same runs as before (only spaces or case changed)."""
        rule = RunFilter(text)
        if rule.words == self.rule.words:
            self.rule = rule  # the text said in messages
            return False
        if hasattr(self, "beginFilterChange"):  # Qt 6.10 on (invalidateRowsFilter is deprecated there)
            self.beginFilterChange()
            self.rule = rule
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.rule = rule
            self.invalidateRowsFilter()
        return True

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        if not self.rule.active:
            return True
        model = self.sourceModel()
        rows = getattr(model, "rows", None)
        if rows is None or not 0 <= source_row < len(rows):
            return True
        return self.rule.matches(run_texts(rows[source_row]))


@dataclass(frozen=True)
class RunsTabActions:
    """What the Runs tab asks of the window: showing a run on the right, the chart, resuming, the document."""

    show_run: Callable[[Path], int]  # show a recorded run; returns the metrics.jsonl offset it read up to
    forget_run: Callable[[], None]  # the shown run's folder was deleted
    add_event: Callable[[dict], None]  # a followed run's new event, to the chart and the progress figures
    chart: Callable[[], Any]  # the live chart, built now if it is not yet
    built_chart: Callable[[], Any]  # the chart if it is built, else None (clearing overlays must not build it)
    # continue a run: resume_run(path, epochs) for that many more epochs, resume_run(path, extra_steps=K) for K more
    # optimizer steps of a run its config's max_steps caps (the window's one resume_run)
    resume_run: Callable[..., None]
    ask_to_save: Callable[[], bool]  # before the document is replaced: True when it is fine to go on
    show_message: Callable[[str, int], None]  # a status bar message for that many ms
    log_notice: Callable[[str], None]  # a line in the log panel
    # action(chart) once the chart is built: now when it is, else when the warm-up has built it in steps (the window's
    # _with_chart). None: `chart()` builds it now, on the click (pyqtgraph's import and the chart: 0.5-0.9 s frozen).
    with_chart: Callable[[Callable[[Any], None]], None] | None = None


class HistoryPanel(QWidget):
    """The Runs tab: lists the session's runs folder, shows runs through `actions`, continues them."""

    runs_deleted = Signal(list)  # the folders Delete removed (Paths): whoever holds one of them lets it go

    def __init__(self, session: Session, actions: RunsTabActions, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("history")
        self.session = session
        self.actions = actions
        self.index: RunIndex | None = None
        self.following: Path | None = None
        self._follow_offset = 0
        self._follow_log: tuple[int, int] | None = None  # the followed metrics.jsonl's device and inode
        self._compared: list[Path] = []
        self._selection_seen = 0  # _selection_changed's calls (set_filter: did Qt report the change already)

        self.model = RunTableModel(self)
        self.proxy = RunFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self._build()

        self._task = BackgroundTask(self, yields_to_run_start=True)
        self._task.result.connect(self._refreshed)
        self._task.error.connect(self._refresh_failed)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self.poll)
        self._follow_timer = QTimer(self, interval=FOLLOW_MS)
        self._follow_timer.timeout.connect(self._follow_tick)
        SessionSignals(session, self).run_changed.connect(self._run_changed)
        self._poll.start()
        QTimer.singleShot(0, self.refresh)

    @Slot()
    def _run_changed(self) -> None:
        if self.session.running:
            self.stop_following()  # this window's own run is on the chart now
        self._update_buttons()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        self.folder_label = QLabel()
        self.folder_label.setObjectName("runs_folder")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setWordWrap(True)
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.unreadable_label = QLabel()  # folders of the runs folder it cannot look into (core.runs.scan_runs_dir)
        self.unreadable_label.setObjectName("runs_unreadable")
        self.unreadable_label.setWordWrap(True)
        self.unreadable_label.setTextFormat(Qt.TextFormat.PlainText)
        self.unreadable_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.unreadable_label.setStyleSheet(f"color: {STATE_COLORS['failed']}")
        self.unreadable_label.hide()
        # Hundreds of runs: a filter over every column's text (RunFilter), kept while the table refreshes.
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("runs_filter")
        self.filter_edit.setPlaceholderText("Filter runs by name, model, dataset, status…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip("Shows only the runs whose columns (shown or hidden for room) hold every word "
                                    "typed, in any case: 'qwen lora finished'. Esc clears it; Ctrl+F comes here.")
        self.filter_edit.textChanged.connect(self.set_filter)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.filter_edit, self.filter_edit.clear,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self._focus_filter,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.filter_count = QLabel()  # "12 of 340 runs" while it filters
        self.filter_count.setObjectName("runs_filter_count")
        self.filter_count.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        table = QTableView()
        table.setObjectName("runs_table")
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(COLUMN["started"], Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # Short of room the table scrolls sideways (see _fit_columns): by pixels, not by whole columns, so the
        # last column is not left half in view.
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        self.name_delegate = NameDelegate(table)
        table.setItemDelegateForColumn(COLUMN["name"], self.name_delegate)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        header.sortIndicatorChanged.connect(lambda *_: self._fit_columns([]))  # the sorted column's arrow
        self._fitted: dict[int, int] = {}  # column -> the width last set to fit its texts (a user's resize wins)
        self._needs: dict[str, int] = {}  # column key -> the width its longest text seen so far needs
        self.table = table
        self._fitting = False  # widths set here, not by the user's hand
        self._hand: dict[str, int] = {}  # column key -> the width the user gave it (kept while it is hidden)
        self._restore_widths()
        header.sectionResized.connect(self._section_resized)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        # Show or hide each column (Run always shows); unchecked: hidden, by the user or for room (its text says).
        self.column_actions: dict[str, QAction] = {}
        for key, text, _ in COLUMNS[1:]:
            action = QAction(text, header)
            action.setCheckable(True)
            action.setChecked(True)
            action.triggered.connect(lambda checked, key=key: self.choose_column(key, checked))
            header.addAction(action)
            self.column_actions[key] = action
        separator = QAction(header)
        separator.setSeparator(True)
        header.addAction(separator)
        self.auto_columns_action = QAction("Show the columns that fit the tab", header)
        self.auto_columns_action.setToolTip("Forget which columns were shown or hidden by hand: hide those that do "
                                            "not fit the tab's width, show them again when it widens")
        self.auto_columns_action.triggered.connect(self.choose_columns_by_width)
        header.addAction(self.auto_columns_action)
        self.fit_action = QAction("Fit the columns to the tab", header)
        self.fit_action.setToolTip("Forget the column widths set by hand: every column in view again")
        self.fit_action.triggered.connect(self.fit_columns_to_tab)
        header.addAction(self.fit_action)
        self._fit_columns([])
        table.verticalScrollBar().rangeChanged.connect(lambda *_: QTimer.singleShot(0, lambda: self._fit_columns([])))
        table.activated.connect(lambda _: self.open_selected())  # double-click or Enter
        # The Delete key deletes the selected runs as the button does (it asks first); it did nothing.
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), table, self._delete_key,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show this run's chart and state on the right (double-click a row does too)")
        self.folder_button = QPushButton("Open folder")
        self.folder_button.setToolTip("Open the run's folder in the file manager")
        self.use_button = QPushButton("Use its settings")
        self.use_button.setToolTip("Load this run's config into the forms, as a new config to change and start")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip(DELETE_TIP)
        self.continue_button = QPushButton("Train 1 more epoch")  # one button, its count from the spin box
        self.continue_epochs = QSpinBox()
        self.continue_epochs.setRange(1, 1000)
        self.continue_epochs.setValue(1)
        self.continue_epochs.setToolTip("How many epochs to train beyond what the run was set to")
        self.continue_epochs.valueChanged.connect(self._name_continue_button)
        # For a run its config's max_steps caps, more epochs train nothing (the Trainer stops at max_steps): the box
        # counts optimizer steps instead, max_steps raised by as many (core.training.resume's extra_steps). Shown in
        # place of the epochs' box; its value starts at the run's max_steps (twice as long), per run selected.
        self.continue_steps = QSpinBox()
        self.continue_steps.setRange(1, 10_000_000)
        self.continue_steps.setGroupSeparatorShown(True)
        self.continue_steps.setToolTip("How many optimizer steps to train beyond the run's max_steps (its "
                                       "config.yaml's max_steps is raised by as many)")
        self.continue_steps.hide()
        self.continue_steps.valueChanged.connect(self._name_continue_button)
        self._steps_cap: int | None = None  # the selected run's max_steps when it caps it: the box counts steps
        self._steps_run: Path | None = None  # the run whose max_steps the steps' box was set to
        self._steps_at: int | None = None  # the capped run's last step when short of its max_steps (stopped, failed)
        self._epochs_set: float | None = None  # num_train_epochs of a run by epochs stopped short of its end
        self.continue_button.setToolTip("Train the run further, from its latest checkpoint, in the same folder")
        self.open_button.clicked.connect(self.open_selected)
        self.folder_button.clicked.connect(self.open_folder)
        self.use_button.clicked.connect(self.use_settings)
        self.delete_button.clicked.connect(self.delete_selected)
        self.continue_button.clicked.connect(self.continue_selected)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.open_button, self.folder_button, self.use_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        more = QHBoxLayout()
        more.setContentsMargins(0, 0, 0, 0)
        more.addWidget(self.continue_epochs)
        more.addWidget(self.continue_steps)
        more.addWidget(self.continue_button)
        more.addStretch(1)

        self.details_title = QLabel()
        self.details_title.setWordWrap(True)
        self.details_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_summary = QLabel()  # one run's status, steps, losses, time and model (run_facts)
        self.details_summary.setObjectName("run_summary")
        self.details_summary.setWordWrap(True)
        self.details_summary.setTextFormat(Qt.TextFormat.RichText)
        self.details_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_summary.hide()
        self.details = QPlainTextEdit()
        self.details.setObjectName("run_config")
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setPlaceholderText("Select a run to see how it went (status, steps, losses, time, saved "
                                        "model) and its config; select several to compare their loss curves on the "
                                        "chart.")
        bottom = QWidget()
        self.details_pane = bottom  # its least height follows the title and summary (_fit_details_height)
        bottom.installEventFilter(self)  # resized: they wrap anew
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.setSpacing(4)
        bottom_layout.addLayout(buttons)
        bottom_layout.addLayout(more)
        bottom_layout.addWidget(self.details_title)
        bottom_layout.addWidget(self.details_summary)
        bottom_layout.addWidget(self.details, 1)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(4)
        top_layout.addWidget(self.folder_label)
        filter_row = QHBoxLayout()
        filter_row.setContentsMargins(0, 0, 0, 0)
        filter_row.addWidget(self.filter_edit, 1)
        filter_row.addWidget(self.filter_count)
        top_layout.addLayout(filter_row)
        top_layout.addWidget(self.empty_label)
        top_layout.addWidget(self.unreadable_label)
        top_layout.addWidget(table, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self._update_buttons()

    # ------------------------------------------------------------------ polling the runs folder
    @property
    def runs_dir(self) -> Path:
        return self.session.runs_dir

    @Slot()
    def poll(self) -> None:
        """The timer's refresh. Skipped while this tab is hidden and the app's own run trains: each pass re-reads
        that run's growing metrics on a pool thread, and on a machine with few cores the GIL and CPU it takes come
        out of the training steps. Showing the tab refreshes at once; once the run ends, polling resumes."""
        if self.isVisible() or not self.session.running:
            self.refresh()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Start a listing pass off the GUI thread (one at a time); a changed runs folder starts over."""
        runs_dir = self.runs_dir
        if self.index is None or self.index.runs_dir != runs_dir:
            self._task.cancel()  # a pass over the old folder still running is dropped on arrival
            self.index = RunIndex(runs_dir)
            self._fitting = True  # a reset may size the sections anew: not the user's hand
            try:
                self.model.reset()
            finally:
                self._fitting = False
            self._needs.clear()
            self.folder_label.setText(f"Runs in <b>{runs_dir}</b>")
            self.folder_label.setToolTip(str(runs_dir))
            self.unreadable_label.setText("")
            self.unreadable_label.hide()
            self._show_empty()
        elif self._task.busy:
            return
        self._task.submit(_refresh_index, self.index, REFRESH_BUDGET_S)
        self._update_buttons()  # the training stack may have finished loading, or a run ended

    @Slot(object)
    def _refreshed(self, outcome: tuple[RunIndex, list[RunSummary], list[Path], bool]) -> None:
        index, changed, gone, pending = outcome
        if index is not self.index:
            return
        said = unreadable_text(index.unreadable, index.runs_dir)
        if said != self.unreadable_label.text():
            self.unreadable_label.setText(said)
            self.unreadable_label.setVisible(bool(said))
        if gone:
            self.model.remove(gone)
            self._shown_run_gone(gone)
        if changed:
            self.model.upsert(changed)
            self._fit_columns(changed)
            self._shown_run_changed(changed)
        self._show_empty()
        if changed or gone:
            self._refresh_selection({run.path for run in changed} | set(gone))
        if pending:  # a big folder's first pass: go on at once instead of a second later
            QTimer.singleShot(0, self.refresh)

    def _shown_run_gone(self, gone: list[Path]) -> None:
        """The run shown on the right (opened here, not training in this window) left the runs folder: deleted or
        renamed by another window, a file manager or `rm`. The header still said 'stopped: … — Resume continues from
        the latest checkpoint', and Resume offered to continue a folder that was not there; now the session says
        the folder is gone (core.session.folder_gone_text) and offers no Resume. The chart keeps what it drew."""
        shown = self.session.run_dir
        if shown is None or shown not in gone or self.session.running or shown.is_dir():
            return
        if self.following == shown:
            self.stop_following()
        self.session.show_recorded(shown)

    def _shown_run_changed(self, changed: list[RunSummary]) -> None:
        """The run shown on the right (opened here, not training in this window, not followed, not compared) was
        finished or started by another process: a terminal's `finetune-studio resume`. The header still said
        "stopped … Resume continues from the latest checkpoint" of a run that had finished, and Resume stayed offered
        (helper-209); now it is shown as it is, and a run another process trains now is followed live, as opening
        it then would. Only a change between finished, training and neither: a step more of a stopped run is not."""
        shown = self.session.run_dir
        if (shown is None or self.session.running or self.following == shown or self._compared
                or self.session.state not in (RunState.FINISHED, RunState.STOPPED, RunState.IDLE)):
            return  # (PREPARING: a Resume or Start of this window's own is under way)
        summary = next((run for run in changed if run.path == shown), None)
        if summary is None:
            return
        training = summary.state == RunState.RUNNING.value
        if training or (summary.state == RunState.FINISHED.value) != (self.session.state is RunState.FINISHED):
            self._show_and_follow(shown)

    @Slot(object)
    def _refresh_failed(self, error: BaseException) -> None:
        """RunIndex never raises for a run's contents; this is the folder itself (core.runs.RunsDirUnreadable: no
        permission, a file in its place, a network drive gone). Said in the red line above the table, in place of
        'No runs yet', and the runs listed before stay (a poll that reads it again takes the words away)."""
        text = str(error) if isinstance(error, RunsDirUnreadable) else \
            f"The runs folder {self.runs_dir} cannot be read ({error}). To fix: check that you can read it."
        what, _, fix = text.partition(" To fix: ")
        shown = len(self.model.rows)
        if shown:
            what += (f" The {shown:,} run{'s' if shown > 1 else ''} below {'are' if shown > 1 else 'is'} as last "
                     "read, and not updated until it can be read again.")
        fix = fix.rstrip(".").removesuffix(", or choose another runs folder")
        text = f"{what} To fix: {fix}, or choose another runs folder in the Training tab."
        if text != self.unreadable_label.text():
            self.unreadable_label.setText(text)
        self.unreadable_label.show()
        self.empty_label.hide()

    def _fit_columns(self, runs: list[RunSummary]) -> None:
        """Fit the columns in the tab's width: status, method, steps, losses, time and start are as wide as their
        longest text (or header); the run name, model and dataset share what is left, the name first and never
        narrower than a generated name's date (NAME_FLOOR_SAMPLE), model and dataset a quarter of it each while their
        text needs it. Short of room, GIVE_WAY's columns narrow first (model and dataset to MODEL_FLOOR, method, eval
        and start to their text), and past that the table scrolls sideways rather than cut the name further
        (10,000-step runs in the ~596 px tab of a 1280x800 window left it 48 px: 'Ll…11'). Text that does not fit
        is cut in the middle, a name keeping its end (NameDelegate); every cell's whole text is its tooltip. A
        column the user resized by hand keeps its width. Only the runs a poll changed are measured; the longest text
        seen per column is kept. Before any of that, columns that would not get a readable width are hidden whole
        (HIDE_ORDER: dataset, model, method, time, eval, start), unless the user chose to show or hide them: model
        and dataset squeezed to 'm…t' read nothing, and a name cut to its date says little."""
        table, metrics = self.table, QFontMetricsF(self.table.font())  # unrounded: Qt elides on a fraction over
        header = table.horizontalHeader()
        for key, _, _ in COLUMNS:
            widest = math.ceil(max((metrics.horizontalAdvance(RunTableModel._display(run, key)) for run in runs),
                                   default=0))
            if widest:
                self._needs[key] = max(self._needs.get(key, 0),
                                       widest + CELL_PAD + (ICON_PAD if key == "state" else 0))
        need = self._column_needs()
        by_hand = set(self._hand) | {key for key, _, _ in COLUMNS if COLUMN[key] in self._fitted
                                     and not header.isSectionHidden(COLUMN[key])
                                     and self._fitted[COLUMN[key]] != table.columnWidth(COLUMN[key])}
        # The tab's width, known even while another tab is shown (the first listing often arrives then): the
        # width of the tab widget's page stack this panel is a page of, less the margins, the table's frame and
        # its vertical scroll bar when it shows (more runs than rows in view: refitted when it comes or goes).
        page_stack = self.parentWidget()
        scroll_bar = table.verticalScrollBar()
        budget = (max((page_stack or self).width(), 400) - 12 - 2 * table.frameWidth()
                  - (table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, table)
                     if scroll_bar.isVisible() or scroll_bar.maximum() > 0 else 0))

        def hand_width(key: str) -> int:
            column = COLUMN[key]
            return self._hand.get(key, 0) if header.isSectionHidden(column) else table.columnWidth(column)

        # Which columns show: the user's choice, else those that get a readable width, HIDE_ORDER's giving way.
        readable = {"name": min(need["name"], math.ceil(metrics.horizontalAdvance(NAME_READABLE_SAMPLE)) + CELL_PAD)}
        for key in ("model", "dataset"):
            readable[key] = min(need[key], math.ceil(metrics.horizontalAdvance(SOURCE_READABLE_SAMPLE)) + CELL_PAD)
        chosen = self._chosen_columns()
        shown = [key for key, _, _ in COLUMNS if key == "name" or chosen.get(key, True)]
        for key in HIDE_ORDER:
            if sum(hand_width(k) if k in by_hand else readable.get(k, need[k]) for k in shown) <= budget:
                break
            if key in shown and key not in chosen and key not in by_hand:
                shown.remove(key)
        shown_changed = self._show_columns(shown, chosen)

        widths = {key: need[key] for key in shown if key not in FITTED_COLUMNS}
        budget -= sum(hand_width(key) if key in by_hand else width for key, width in widths.items())
        budget -= sum(hand_width(key) for key in FITTED_COLUMNS if key in by_hand and key in shown)
        name_floor = min(need["name"], math.ceil(metrics.horizontalAdvance(NAME_FLOOR_SAMPLE)) + CELL_PAD)
        shared = [key for key in ("model", "dataset") if key not in by_hand and key in shown]
        room = budget - (0 if "name" in by_hand else name_floor)  # the name's floor first
        for key in shared:  # a quarter each while their text needs it, and a readable part of it
            widths[key] = max(MODEL_FLOOR, min(need[key], max(readable[key], room // 4)))
        if "name" not in by_hand:  # the run first
            widths["name"] = max(name_floor, min(need["name"], budget - sum(widths[key] for key in shared)))
        spare = budget - sum(widths.get(key, 0) for key in FITTED_COLUMNS if key not in by_hand and key in shown)
        for key in shared:  # what the name leaves goes to the others
            extra = max(0, min(spare, need[key] - widths[key]))
            widths[key] += extra
            spare -= extra
        for key in GIVE_WAY:  # short of room: the least needed narrow first, to their text without their header
            if spare >= 0:
                break
            if key in by_hand or key not in widths:
                continue
            floor = min(widths[key], MODEL_FLOOR if key in ("model", "dataset")
                        else max(self._needs.get(key, 0), MODEL_FLOOR))
            cut = min(-spare, widths[key] - floor)
            widths[key] -= cut
            spare += cut
        for key, wanted in widths.items():
            column = COLUMN[key]
            if key in by_hand:
                continue
            if wanted != table.columnWidth(column):
                self._fitting = True
                try:
                    table.setColumnWidth(column, wanted)
                finally:
                    self._fitting = False
            self._fitted[column] = wanted
        if shown_changed:  # the scroll bar's range now, not at the next layout (the old one was the wider header's)
            table.updateGeometries()

    def _column_needs(self) -> dict[str, int]:
        """Each column's width for its longest text seen (measured by _fit_columns) or its header, whichever is
        wider, the sorted one's arrow included."""
        table = self.table
        header = table.horizontalHeader()
        sorted_column = header.sortIndicatorSection() if table.isSortingEnabled() else -1
        return {key: max(self._needs.get(key, 0), header.fontMetrics().horizontalAdvance(text) + HEADER_PAD
                         + (SORT_PAD if COLUMN[key] == sorted_column else 0))
                for key, text, _ in COLUMNS}

    def wanted_width(self) -> int:
        """How wide the tab's page would have to be for every column to show, its text whole: what the window's
        forms column can give the Runs tab when the window is wide (the table itself takes whatever width the tab
        gets, and the columns hidden for room come back). The columns shown or hidden by the user's choice count
        as they are; those set by hand at their width."""
        table = self.table
        chosen = self._chosen_columns()
        need = self._column_needs()
        columns = sum(self._hand.get(key, need[key]) for key, _, _ in COLUMNS if key == "name" or chosen.get(key, True))
        scroll_bar = table.verticalScrollBar()
        bar = table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, table) \
            if scroll_bar.isVisible() or scroll_bar.maximum() > 0 else 0
        return columns + 12 + 2 * table.frameWidth() + bar  # as _fit_columns' budget counts them

    def _show_columns(self, shown: list[str], chosen: dict[str, bool]) -> bool:
        """Shows the columns of `shown` and hides the others; the header's menu and tooltips say which are hidden,
        and why (for room, or by the user's choice), and the Run cell's tooltip gives their text. True when a
        column was shown or hidden."""
        header = self.table.horizontalHeader()
        hidden = tuple(key for key, _, _ in COLUMNS if key not in shown)
        self._fitting = True  # hiding a section resizes it to 0 and showing it back: not the user's hand
        try:
            changed = [key for key, _, _ in COLUMNS if header.isSectionHidden(COLUMN[key]) != (key in hidden)]
            for key in changed:
                header.setSectionHidden(COLUMN[key], key in hidden)
        finally:
            self._fitting = False
        titles = {key: text for key, text, _ in COLUMNS}
        for key, action in self.column_actions.items():
            action.setChecked(key not in hidden)
            action.setText(titles[key] if key not in hidden or key in chosen else f"{titles[key]} (hidden: no room)")
        for_room = [titles[key] for key in hidden if key not in chosen]
        by_choice = [titles[key] for key in hidden if key in chosen]
        parts = ([f"Hidden for room: {', '.join(for_room)} (they show again when the tab is wider)."]
                 if for_room else []) + ([f"Hidden by you: {', '.join(by_choice)}."] if by_choice else [])
        note = (" ".join(parts) + " Right-click the header to show or hide columns; each run's name has the "
                "model, method and dataset in its tooltip, and the details below a selected run have its config.") \
            if parts else ""
        if (hidden, note) != (self.model.hidden, self.model.hidden_note):
            self.model.hidden, self.model.hidden_note = hidden, note
            self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)
        return bool(changed)

    def _chosen_columns(self) -> dict[str, bool]:
        """The columns the user showed or hid from the header's menu, kept between sessions (COLUMNS_SHOWN_KEY);
        anything unreadable there is ignored."""
        try:
            saved = json.loads(str(settings().value(COLUMNS_SHOWN_KEY) or "{}"))
        except ValueError:
            return {}
        if not isinstance(saved, dict):
            return {}
        return {key: shown for key, shown in saved.items() if key in COLUMN and key != "name"
                and isinstance(shown, bool)}

    @Slot()
    def choose_column(self, key: str, shown: bool) -> None:
        """The header's menu: show or hide the column `key` from now on (this session and the next)."""
        chosen = self._chosen_columns()
        chosen[key] = shown
        settings().setValue(COLUMNS_SHOWN_KEY, json.dumps(chosen))
        self._fit_columns([])
        self.table.updateGeometries()

    @Slot()
    def choose_columns_by_width(self) -> None:
        """The header's menu: forget the columns shown or hidden by hand; those without room give way again."""
        settings().remove(COLUMNS_SHOWN_KEY)
        self._fit_columns([])
        self.table.updateGeometries()

    def _saved_widths(self) -> dict[str, int]:
        """The widths the user gave columns by hand, kept between sessions (by column key, so a reordered table
        keeps them); anything unreadable there is ignored."""
        try:
            saved = json.loads(str(settings().value(COLUMN_WIDTHS_KEY) or "{}"))
        except ValueError:
            return {}
        if not isinstance(saved, dict):
            return {}
        return {key: width for key, width in saved.items()
                if key in COLUMN and isinstance(width, int) and 16 <= width <= 4000}

    def _restore_widths(self) -> None:
        self._fitting = True
        try:
            for key, width in self._saved_widths().items():
                self.table.setColumnWidth(COLUMN[key], width)
                self._fitted[COLUMN[key]] = -1  # by hand: _fit_columns leaves it
                self._hand[key] = width
        finally:
            self._fitting = False

    @Slot(int, int, int)
    def _section_resized(self, column: int, _old: int, new: int) -> None:
        """A column resized by hand (a drag of its edge, or a double-click on it) keeps that width, now and in the
        next session; _fit_columns' own changes are not the user's."""
        if self._fitting or not 0 <= column < len(COLUMNS) or new <= 0:
            return
        saved = self._saved_widths()
        saved[COLUMNS[column][0]] = new
        self._hand[COLUMNS[column][0]] = new
        settings().setValue(COLUMN_WIDTHS_KEY, json.dumps(saved))

    @Slot()
    def fit_columns_to_tab(self) -> None:
        """The header's context menu: forget the widths set by hand and fit every column in the tab again."""
        settings().remove(COLUMN_WIDTHS_KEY)
        self._fitted.clear()
        self._hand.clear()
        self._fit_columns([])
        self.table.updateGeometries()  # the scroll bar's range now (it scrolls by pixels: see _build), not later

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_columns([])  # a wider window gives the names more room, a narrower one keeps every column

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt override
        if watched is self.details_pane and event.type() == QEvent.Type.Resize \
                and event.size().width() != event.oldSize().width():
            self._fit_details_height()  # narrower, the title and summary wrap onto more lines
        return super().eventFilter(watched, event)

    def _fit_details_height(self) -> None:
        """The details under the table never get less height than the title and the run's summary need at their
        width (with the buttons and a few lines of the config): the splitter gave them two fifths of the tab, and a
        title or summary of more lines than that was drawn cut off mid-line (a splitter knows nothing of a wrapped
        label's height for its width), the run's fix and saved model unread. The table gives way; it scrolls."""
        pane = self.details_pane
        layout = pane.layout()
        margins = layout.contentsMargins()
        width = pane.width() - margins.left() - margins.right()
        need, items = margins.top() + margins.bottom(), 0
        for i in range(layout.count()):
            item = layout.itemAt(i)
            widget = item.widget()
            if widget is self.details:
                need += max(item.minimumSize().height(), 4 * widget.fontMetrics().lineSpacing()
                            + 2 * widget.frameWidth())
            elif widget is not None:
                if widget.isHidden():
                    continue
                need += widget.heightForWidth(width) if widget.hasHeightForWidth() else widget.sizeHint().height()
            else:
                need += item.sizeHint().height()
            items += 1
        need += layout.spacing() * max(0, items - 1)
        if need != pane.minimumHeight():
            pane.setMinimumHeight(need)

    def _show_empty(self) -> None:
        """Says that there are no runs yet, or that the filter keeps none of them, rather than an empty table; and
        how many runs the filter keeps, beside it."""
        total, rule = len(self.model.rows), self.proxy.rule
        if not total:
            self.empty_label.setText("No runs yet. Press Start to train one, or run `finetune-studio train` in a "
                                     "terminal: runs saved to this folder appear here as they start.")
        elif rule.active and not self.proxy.rowCount():
            self.empty_label.setText(rule.empty_text(total))
        self.empty_label.setVisible(not total or (rule.active and not self.proxy.rowCount()))
        count = rule.count_text(self.proxy.rowCount(), total) if total else ""
        self.filter_count.setText(count)
        self.filter_count.setVisible(bool(count))

    @Slot(str)
    def set_filter(self, text: str) -> None:
        """The filter box: show only the runs RunFilter matches. Selected runs still shown stay selected; those the
        filter hides leave the selection (Delete and compare act on what is in view)."""
        if self.filter_edit.text() != text:
            self.filter_edit.setText(text)  # comes back here through textChanged
            return
        before, seen = self.selected_paths(), self._selection_seen
        # Qt (6.11) says itself that the rows the filter took away left the selection; an older one may not.
        if self.proxy.set_text(text) and self.selected_paths() != before and self._selection_seen == seen:
            self._selection_changed()
        self._show_empty()

    @Slot()
    def _focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    # ------------------------------------------------------------------ selection
    def selected_paths(self) -> list[Path]:
        """Selected runs, in the table's current order."""
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row())
        return [Path(i.data(PATH_ROLE)) for i in rows]

    def select(self, paths: list[Path]) -> None:
        """Select these runs (tests and the screenshot script; also after a continue)."""
        wanted = {str(p) for p in paths}
        chosen = QItemSelection()  # one change, as a click makes: compared runs keep their colours
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(PATH_ROLE) in wanted:
                chosen.select(index, index)
        self.table.selectionModel().select(chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                           | QItemSelectionModel.SelectionFlag.Rows)

    def _summaries(self) -> list[RunSummary]:
        return [s for s in (self.model.summary(p) for p in self.selected_paths()) if s is not None]

    @Slot()
    def _selection_changed(self, *_: Any) -> None:
        self._selection_seen += 1
        runs = self._summaries()
        self.details_title.setToolTip("")  # a cut name's, set again by _show_details
        if len(runs) != 1:
            self.details_summary.hide()  # one run's facts; compared runs have theirs in the table below
        if len(runs) >= 2:
            compared = runs[:COMPARE_MAX]
            if len(runs) > COMPARE_MAX:
                self.details_title.setText(
                    f"<b>{len(runs)} runs</b> selected: the chart compares the first {COMPARE_MAX} in the table's "
                    f"order (train loss, with eval loss as dots); past {COMPARE_MAX} runs would share a line's "
                    f"colour and style. To compare others, select {COMPARE_MAX} or fewer.")
            else:
                self.details_title.setText(f"<b>{len(runs)} runs</b> compared on the chart (train loss, with eval "
                                           "loss as dots).")
            self._compare([r.path for r in compared])
            self._show_comparison(compared)
        else:
            if self._compared:
                self._compared = []
                chart = self.actions.built_chart()
                if chart is not None:
                    chart.clear_overlays()
            if runs:
                self._show_details(runs[0])
            else:
                self.details_title.setText("")
                self.details.setPlainText("")
        self._fit_details_height()
        self._update_buttons()

    def _refresh_selection(self, touched: set[Path]) -> None:
        """After a poll: compared curves that grew are redrawn (a run still training, followed in the overlay),
        unless the chart has since left compare mode (a run was started or opened)."""
        runs = self._summaries()
        chart = self.actions.built_chart()
        if len(runs) >= 2:
            if chart is not None and chart.overlays and touched & set(self._compared):
                self._compare(self._compared)
                self._show_comparison(runs[:COMPARE_MAX])  # their steps and losses as they are now
        elif runs and runs[0].path in touched:
            self._show_details(runs[0])
        self._update_buttons()

    def _show_comparison(self, runs: list[RunSummary]) -> None:
        """The compared runs side by side, each row led by its line on the chart in its colour: the key to the
        chart when its legend is too large to show there (gui.chart.LossChart._fit_legend)."""
        chart = self.actions.built_chart()
        overlays = chart.overlays if chart is not None else {}
        keys = {name: overlay.key for name, overlay in overlays.items()}
        text = _comparison_text(runs, keys)
        if text == self.details.toPlainText():
            return  # a poll that changed nothing shown here (the colours stay with the text)
        bar = self.details.verticalScrollBar()
        kept = bar.value()  # a poll while a compared run trains leaves the list where the user scrolled it
        self.details.setPlainText(text)
        bar.setValue(kept)
        document = self.details.document()
        for row, run in enumerate(runs, start=1):
            overlay = overlays.get(run.path.name)
            if overlay is None:
                continue
            block = document.findBlockByNumber(row)
            cursor = QTextCursor(block)
            cursor.setPosition(block.position() + len(overlay.key), QTextCursor.MoveMode.KeepAnchor)
            look = QTextCharFormat()
            look.setForeground(QColor(overlay.color))
            cursor.setCharFormat(look)

    def _show_details(self, run: RunSummary) -> None:
        # A folder name is text, never markup; one too long to fit is cut in the middle, as the table cuts it: a
        # label wraps only between words, and a name of one long word ran past the tab's edge with the run's state
        # and message after it (the whole name is the tooltip's, and the table's).
        name, message = _middle_cut(run.name, TITLE_NAME_CHARS), _message_cut(run.message)
        title = f"<b>{_escape(name)}</b> — {run.state}"
        if message:
            title += f": {_escape(message)}"
        self.details_title.setText(title)
        self.details_title.setToolTip(f"{run.name} — {run.state}: {run.message}" if message != run.message else
                                      run.name if name != run.name else "")
        facts = run_facts(run)
        summary = "<table cellspacing='0' cellpadding='1'>" + "".join(
            f"<tr><td>{_escape(fact.label)}:&nbsp;&nbsp;</td><td>{_escape(fact.text)}</td></tr>" for fact in facts) \
            + "</table>"
        if summary != self.details_summary.text():
            self.details_summary.setText(summary)
        self.details_summary.setToolTip("\n".join(f"{fact.label}: {fact.tip}" for fact in facts if fact.tip))
        self.details_summary.show()
        text = _config_text(run.path / "config.yaml")
        if self.details.toPlainText() != text:
            self.details.setPlainText(text)
        self._fit_details_height()

    def _update_buttons(self) -> None:
        runs = self._summaries()
        one = runs[0] if len(runs) == 1 else None
        self.open_button.setEnabled(one is not None)
        self.folder_button.setEnabled(one is not None)
        self.use_button.setEnabled(one is not None and (one.path / "config.yaml").is_file())
        self.delete_button.setEnabled(bool(runs) and not any(r.live for r in runs))
        self.delete_button.setToolTip("A run that is training cannot be deleted: stop it first." if
                                      any(r.live for r in runs) else DELETE_TIP)
        # core.session decides: a live or broken run, or one with nothing to continue from, is not offered.
        can_continue, tip = self.session.continue_offer(one.state, one.path) if one is not None else \
            (False, self.session.busy_reason() or CONTINUE_TIP)
        self._set_continue_unit(one)
        self.continue_button.setEnabled(can_continue)
        self.continue_epochs.setEnabled(can_continue)
        self.continue_steps.setEnabled(can_continue)
        if can_continue and self._steps_cap is not None and self._steps_at is not None and one is not None:
            # Not at its cap: the steps it had left are trained too, so "N more steps" would undercount them.
            tip = (f"{one.path.name} is {one.state} at step {self._steps_at:,} of its max_steps = {self._steps_cap:,} "
                   f"(config.yaml): max_steps is raised by the steps in the box, and it trains from its latest "
                   f"checkpoint on to the new max_steps, the {self._steps_cap - self._steps_at:,} steps it had left "
                   f"included, in the same folder. To train to step {self._steps_cap:,} alone, resume it instead")
        elif can_continue and self._epochs_set is not None and one is not None:
            tip = (f"{one.path.name} is {one.state} at step {one.step:,} of {one.max_steps:,}, short of its "
                   f"num_train_epochs = {self._epochs_set:g} (config.yaml): num_train_epochs is raised by the epochs "
                   f"in the box, and it trains from its latest checkpoint on to the new end, the rest of its "
                   f"{self._epochs_set:g} epochs included, in the same folder. To train its {self._epochs_set:g} "
                   "epochs alone, resume it instead")
        elif can_continue and self._steps_cap is not None:
            tip = (f"max_steps = {self._steps_cap:,} in its config.yaml caps this run, so it trains further by "
                   f"steps: max_steps is raised by the steps asked, and it trains on from its latest checkpoint, in "
                   "the same folder")
        self.continue_button.setToolTip(tip)

    def _set_continue_unit(self, run: RunSummary | None) -> None:
        """Epochs or steps for the one run selected: steps when its config.yaml's max_steps caps it (the steps' box
        then starts at that max_steps, each time another run is selected), else epochs."""
        from finetune_studio.core.training import run_steps_cap  # no training stack: the config's cached read

        cap = run_steps_cap(run.path) if run is not None else None
        if cap is not None and run is not None and (run.path != self._steps_run or cap != self._steps_cap):
            self._steps_run = run.path
            self.continue_steps.setValue(min(cap, self.continue_steps.maximum()))
        self._steps_cap = cap
        # A capped run that did not reach its max_steps (stopped, failed): the resume trains its steps left too
        self._steps_at = run.step if cap is not None and run is not None and run.step < cap else None
        # A run by epochs that stopped short of its end (its planned steps): more epochs train its rest too
        self._epochs_set = None
        if cap is None and run is not None and 0 < run.step < run.max_steps and run.state != "finished":
            from finetune_studio.core.training import run_epochs_set

            self._epochs_set = run_epochs_set(run.path)
        self.continue_epochs.setVisible(cap is None)
        self.continue_steps.setVisible(cap is not None)
        self._name_continue_button()

    def _name_continue_button(self, *_: Any) -> None:
        """"Train 2 more epochs", or "Train 24 more steps" for a run max_steps caps: the box's count, in words. A capped
        run short of its max_steps (stopped at 3 of 12) trains its steps left too, so its button names the step it
        trains to: "Train to step 36 (max_steps + 24)", where "Train 24 more steps" undercounted the 33 it trains."""
        if self._steps_cap is None:
            n, unit = self.continue_epochs.value(), "epoch"
        else:
            n, unit = self.continue_steps.value(), "step"
        if self._steps_cap is not None and self._steps_at is not None:  # short of its cap: its steps left come first
            self.continue_button.setText(f"Train to step {self._steps_cap + n:,} (max_steps + {n:,})")
            return
        if self._steps_cap is None and self._epochs_set is not None:  # short of its epochs: their rest comes first
            self.continue_button.setText(f"Train to epoch {self._epochs_set + n:g} (num_train_epochs + {n:,})")
            return
        self.continue_button.setText(f"Train {n:,} more {unit}{'' if n == 1 else 's'}")

    # ------------------------------------------------------------------ compare
    def _compare(self, paths: list[Path]) -> None:
        """Overlay the runs' loss curves: those their summaries hold (core.metrics.MetricsTally.curves, the same
        rule the chart's own curves follow), folded off the GUI thread by the listing. Each compared run's log was
        read here again, on the GUI thread: a few long runs took a second, and 320 selected with Ctrl+A froze the
        window for 10 s."""
        self._compared = list(paths)
        if self.actions.with_chart is None:
            self._overlay(self.actions.chart(), list(paths), later=False)
        else:  # before the warm-up built the chart, the compare waits for it, as an opened run does
            self.actions.with_chart(lambda chart, paths=list(paths): self._overlay(chart, paths))

    def _overlay(self, chart: Any, paths: list[Path], later: bool = True) -> None:
        """The compare's curves on the chart, unless the selection has changed since it was asked for; one that
        waited for the chart shows its runs' keys (their lines' looks) beside them now."""
        import numpy as np

        if paths != self._compared:
            return  # another selection, or a run opened, while the chart was being built
        curves, evals = {}, {}
        for path in paths:
            summary = self.model.summary(path)
            if summary is None:
                continue
            run = summary.tally.curves
            curves[path.name] = (np.array(run.train.x, dtype=float), np.array(run.train.y, dtype=float))
            evals[path.name] = (np.array(run.evals.x, dtype=float), np.array(run.evals.y, dtype=float))
        chart.set_overlays(curves, evals)
        runs = self._summaries()
        if later and len(runs) >= 2:
            self._show_comparison(runs[:COMPARE_MAX])

    # ------------------------------------------------------------------ actions
    def _drop_gone(self, paths: list[Path]) -> bool:
        """Runs among `paths` whose folder is gone since the last listing (deleted or moved outside the app: a file
        manager, `rm`, another window) leave the table at once, as Delete would have left them, and the status bar
        says so; the buttons were pressed on them before the next poll could notice. True when any was gone: the
        pressed button then does nothing more (its run, or its selection, is not what the user chose)."""
        gone = [path for path in paths if not path.is_dir()]
        if not gone:
            return False
        for path in gone:
            if self.following == path:
                self.stop_following()
            if self.session.run_dir == path and not self.session.running:
                self.actions.forget_run()
        self.model.remove(gone)
        self._selection_changed()
        self.refresh()  # the listing learns they are gone (a folder made again under the name is listed anew)
        self.runs_deleted.emit(gone)
        names = ", ".join(path.name for path in gone)
        were = "was" if len(gone) == 1 else "were"
        self.actions.show_message(f"{names} {'is' if len(gone) == 1 else 'are'} no longer in {self.runs_dir} "
                                  f"(deleted or moved outside the app), so {'it' if len(gone) == 1 else 'they'} "
                                  f"{were} taken off the list.", 10_000)
        return True

    @Slot()
    def open_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) == 1 and not self._drop_gone(paths):
            self.open_run(paths[0])

    def open_run(self, path: Path) -> None:
        """Show a run on the chart; follow it live when another process is still writing it."""
        if self.session.running:
            if self.session.run_dir == path:
                self.actions.show_message(f"{path.name} is training here; it is already on the chart.", 6000)
            else:
                self.actions.show_message(f"A run is training in this window, so its chart stays. Open "
                                          f"{path.name} when it ends, or select several runs to compare them.", 8000)
            return
        self._compared = []
        self._show_and_follow(path)
        summary = self.model.summary(path)
        if summary is not None:
            self._show_details(summary)

    def _show_and_follow(self, path: Path) -> None:
        """Show the run on the chart and in the header, and follow it live while another process writes it."""
        self.stop_following()
        offset = self.actions.show_run(path)
        if RunFolder(path).read_status().get("state") == "running":
            self.following, self._follow_offset = path, int(offset or 0)
            self._follow_log = log_identity(path / "metrics.jsonl")
            self._follow_timer.start()

    @Slot()
    def stop_following(self) -> None:
        self.following = None
        self._follow_timer.stop()

    @Slot()
    def _follow_tick(self) -> None:
        """New lines of the followed run's metrics.jsonl go to the chart and progress; when the run ends (or its
        process dies), it is shown once more in full, with its final state."""
        path = self.following
        if path is None or self.session.run_dir != path or self.session.running:
            self.stop_following()  # another run was opened or started
            return
        if log_restarted(path / "metrics.jsonl", self._follow_offset, self._follow_log):
            # Shorter than what was read, another file, or other bytes where a line ended: replaced (a run started
            # again from scratch under the name, a copy put over it). Read on from the old offset, the follower
            # read nothing for good, or the middle of a line. Shown again from its start, and followed from there.
            self._follow_offset = int(self.actions.show_run(path) or 0)
            self._follow_log = log_identity(path / "metrics.jsonl")
            return
        events, self._follow_offset = read_metrics(path / "metrics.jsonl", self._follow_offset)
        ended = False
        for event in events:
            if isinstance(event, dict):
                self.actions.add_event(event)
                ended = ended or event.get("event") == "end"
        if ended or RunFolder(path).read_status().get("state") != "running":
            self.stop_following()
            self.actions.show_run(path)

    @Slot()
    def open_folder(self) -> None:
        if self._drop_gone(self.selected_paths()[:1]):
            return
        for path in self.selected_paths()[:1]:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    @Slot()
    def use_settings(self) -> None:
        paths = self.selected_paths()
        if len(paths) != 1 or self._drop_gone(paths):
            return
        try:
            config, notices = load_config(paths[0] / "config.yaml")
        except ConfigError as exc:
            dialogs.show_error(self, "Cannot use these settings", f"{paths[0] / 'config.yaml'} cannot be used:"
                               "\n\n" + "\n".join(f"• {p}" for p in exc.problems))
            return
        if not self.actions.ask_to_save():
            return
        config.name = ""  # a new run: its own generated name, not this run's (whose folder exists)
        self.session.set_document(config, None, f"Settings of {paths[0].name}", modified=True)  # not saved yet
        for notice in notices:
            self.actions.log_notice(notice)
        self.actions.show_message(f"Loaded the settings of {paths[0].name}; change them and press Start.", 8000)

    @Slot()
    def continue_selected(self) -> None:
        runs = self._summaries()
        if len(runs) != 1 or self._drop_gone([runs[0].path]):
            return
        run = runs[0]
        from finetune_studio.core.training import run_steps_cap

        cap = run_steps_cap(run.path)  # as the file is now: edited since the selection, the box's unit follows
        if cap is not None and cap != self._steps_cap:
            self._update_buttons()
            return
        problem = continue_problem(run.path, run.state, more_steps=cap is not None)
        if problem:
            dialogs.show_error(self, "Cannot continue this run", problem)
            return
        if self.session.busy_reason():
            return
        self.stop_following()
        if cap is not None:
            self.actions.resume_run(run.path, extra_steps=self.continue_steps.value())
        else:
            self.actions.resume_run(run.path, float(self.continue_epochs.value()))
        self._update_buttons()

    @Slot()
    def _delete_key(self) -> None:
        """The Delete key in the table: what the Delete… button does, when it is offered (a training run is not:
        the button's tooltip says why, and the status bar says it here, where no tooltip shows)."""
        if self.delete_button.isEnabled():
            self.delete_selected()
        elif self._summaries():
            self.actions.show_message(self.delete_button.toolTip(), 6000)

    @Slot()
    def delete_selected(self) -> None:
        runs = self._summaries()
        if not runs:
            return
        if self._drop_gone([run.path for run in runs]):  # gone already: what is left is asked about afresh
            runs = [run for run in runs if run.path.is_dir()]
            if not runs:
                return
        live = [r.name for r in runs if r.live]
        if live:
            dialogs.show_error(self, "Cannot delete a running run", f"{', '.join(live)} is still training. Stop "
                               "it first (Stop in the app, or Ctrl-C in its terminal), then delete it.")
            return
        if not confirm_delete(self, [r.name for r in runs]):
            return
        failures = []
        deleted = []
        for run in runs:
            try:
                delete_run(run.path, self.runs_dir)
            except FinetuneError as exc:
                failures.append(str(exc))
                continue
            deleted.append(run.path)
            self.model.remove([run.path])
            if self.following == run.path:
                self.stop_following()
            if self.session.run_dir == run.path and not self.session.running:
                self.actions.forget_run()
        self._selection_changed()
        self.refresh()
        if deleted:
            self.runs_deleted.emit(deleted)
        if failures:
            dialogs.show_error(self, "Some runs were not deleted", "\n\n".join(failures))
        else:
            names = ", ".join(r.name for r in runs)
            self.actions.show_message(f"Deleted {names}.", 6000)


def _middle_cut(text: str, limit: int) -> str:
    """`text` cut in the middle to `limit` characters (its start and its end, where a generated name has its date,
    kept), as the table cuts a name too wide for its column."""
    if len(text) <= limit:
        return text
    head = limit // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def _message_cut(message: str, limit: int = TITLE_MESSAGE_CHARS) -> str:
    """A run's message cut to about `limit` characters for the details title: what happened cut at its end with an
    ellipsis, and its "To fix:" part kept whole when it is short enough (what to do is what the user reads it for)."""
    if len(message) <= limit:
        return message
    what, lead, fix = message.partition("To fix: ")
    if lead and len(lead + fix) <= limit // 2:
        return what[:limit - len(lead + fix) - 2].rstrip() + "… " + lead + fix
    return message[:limit - 1].rstrip() + "…"


def _comparison_text(runs: list[RunSummary], keys: dict[str, str] | None = None) -> str:
    """The compared runs side by side, as plain aligned text under the table; each row starts with the run's
    line on the chart (`keys`, by run folder name: gui.chart.Overlay.key) when it has one."""
    keys = keys or {}
    key_width = max((len(k) for k in keys.values()), default=0)
    lead = (lambda key: f"{key:<{key_width}}  ") if key_width else (lambda key: "")
    names = {r.path: _middle_cut(r.name, COMPARED_NAME_CHARS) for r in runs}
    width = max(len(name) for name in names.values())
    lines = [f"{lead('')}{'run':<{width}}  {'status':<11}  {'steps':>13}  {'train loss':>10}  {'eval loss':>9}  "
             "model"]
    for r in runs:
        steps = f"{r.step:,} / {r.max_steps:,}" if r.max_steps else f"{r.step:,}"
        lines.append(f"{lead(keys.get(r.path.name, ''))}{names[r.path]:<{width}}  {r.state:<11}  {steps:>13}  "
                     f"{_train_loss_text(r):>10}  {_loss_text(r.eval_loss):>9}  {r.model.replace('builtin:', '')}")
    lines += [f"* {r.name}: {_train_loss_tip(r)}" for r in runs if r.train_loss_note]
    return "\n".join(lines)


def _config_text(path: Path) -> str:
    """A run's config.yaml as the details show it: the file's text, or what stops it from being read, as a YAML
    comment. A file that is not UTF-8 is shown with \ufffd for what cannot be read, under a line that says so and
    what to do, rather than Python's codec error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"# config.yaml cannot be read: {exc.strerror or exc}."
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return (f"# config.yaml is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}), so the run cannot "
                "be continued or its settings used; what cannot be read shows as \ufffd below. To fix: save it as "
                "UTF-8 (most editors offer the encoding when saving as).\n" + data.decode("utf-8", errors="replace"))


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _refresh_index(index: RunIndex, budget_s: float) -> tuple[RunIndex, list[RunSummary], list[Path], bool]:
    """In the background pool: one listing pass (see RunIndex.refresh)."""
    changed, gone = index.refresh(budget_s=budget_s)
    return index, changed, gone, index.pending

