"""Dataset section (owns `dataset.*`): source, text column and length, with a live preview and token statistics.

Preview and statistics read files, the Hub and a tokenizer, so they run in the background (gui.background) and
only the newest request is shown. Statistics keep the raw token lengths, so moving max_length re-counts the cut
rows at once without tokenizing again.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import os
import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QFileSystemWatcher,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.chat import (
    CHATML_NOTE,
    FORMAT_NAMES,
    FORMAT_PARTS,
    OPTIONAL_PARTS,
    TOOLS_FORMATS,
    TOOLS_PART,
    ChatRows,
    Detection,
    columns_in_use,
    resolve_format,
)
from finetune_studio.core.chat_templates import NAMED_TEMPLATES
from finetune_studio.core.config import (
    MAX_CONTEXT_TOKENS,
    MIN_TRAINING_TOKENS,
    SAMPLE_DATASET_ID,
    ChatConfig,
    DatasetConfig,
    ModelConfig,
    RunConfig,
    as_written,
)
from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.sources import DATA_SUFFIXES, ONE_MODEL_FIX, SourceKind, not_one_model, source_kind
from finetune_studio.gui.background import IMPORT_LOCK, BackgroundTask
from finetune_studio.gui.forms.common import (
    CompactDoubleSpinBox,
    FlowLayout,
    Form,
    align_labels,
    column,
    config_help,
    error_label,
    guard_wheel,
    hint_label,
    narrow_combo,
    page_layout,
    section,
    set_combo_value,
    set_problem,
    shown_as_is,
    written_text,
)
from finetune_studio.gui.small_plot import style_small_plot

DEBOUNCE_MS = 400
WATCHED_PATHS = 256  # a folder source's files and subfolders watched for changes on disk, at most
# After "name_or_path holds a list ([a, b]), not one model: …" (core.sources.not_one_model): where to give one.
MODEL_FIX = f"{ONE_MODEL_FIX} (Model tab)"
PREVIEW_ROWS = 20
CELL_CHARS = 160  # longer cells are cut here; the view elides the rest to the column width
# Compressed data files (a.jsonl.gz) are read as they are (core.data.compression), and so is an archive holding one
# data file (core.data.READ_ARCHIVES: .tar.gz, .tar.bz2, .tar.xz are matched by *.gz, *.bz2, *.xz).
FILE_FILTER = ("Data files (*.csv *.tsv *.json *.jsonl *.parquet *.txt *.gz *.bz2 *.xz *.zst *.zip *.tar *.tgz);;"
               "All files (*)")
# Before the warm-up ends the form has no model settings (refresh_statistics comes with the training stack).
CHECKS_WAIT = "Every row is checked with the model's tokenizer once the training stack has loaded."
TEMPLATE_WAIT = "The template is read from the model's tokenizer once the training stack has loaded."
UNREAD_FORMAT = "Not detected: the data could not be read (see under {where})."
UNREAD_COLUMN = "Not checked: the data could not be read (see under Dataset)."
UNREAD_PREVIEW = "No preview: the data could not be read (see under Dataset)."
BUILTIN_ENCODING = "Not needed: the built-in samples are UTF-8."
# Offered in the Encoding box (any name Python knows can be typed); empty means UTF-8.
ENCODINGS = ("utf-8", "cp1252", "latin-1", "utf-16", "cp1251", "iso8859-15", "gb18030", "shift_jis")
SAMPLE_BY_CHOICES = (("Per file for a folder, per line for a file", None),  # automatic; fits a 900 px window
                     ("One row per file", "document"), ("One row per paragraph (blank-line separated)", "paragraph"),
                     ("One row per line", "line"))
DELIMITER_CHOICES = (("Found in the header row", None), ("Comma (,)", ","), ("Semicolon (;)", ";"), ("Tab", "\t"),
                     ("Pipe (|)", "|"))
SAMPLE_BY_WORDS = {"document": "one row per file", "paragraph": "one row per paragraph", "line": "one row per line"}
FORMAT_CHOICES = (("Detect from the data", "auto"), ("Plain text (one text column)", "text"),
                  ("Prompt / completion", "prompt_completion"), ("Alpaca (instruction, input, output)", "alpaca"),
                  ("Messages (role / content)", "messages"), ("ShareGPT (from / value)", "sharegpt"))
TRAIN_ON_CHOICES = (("Automatic: replies, or the completion", "auto"), ("Assistant replies only", "assistant"),
                    ("The completion only", "completion"), ("Every token", "all"))
# (box text, value, tooltip): the box shows a template's short name, its tooltip the whole label.
TEMPLATE_CHOICES = (("The model's own (ChatML when it has none)", "auto",
                     "The model's own chat template; ChatML when its tokenizer has none"),
                    *((label.split(":")[0], name, label) for name, (label, _, _) in NAMED_TEMPLATES.items()))
CHATML_TOOLS = ("ChatML writes tool calls as <tool_call> blocks (Qwen2.5's style), which train, and the tools into "
                "the system turn, masked.")
# Whitespace at either end of a column name is drawn with these (the config keeps the real characters).
# ␣ is the usual sign for a space, ⇥ for a tab, ⍽ for a no-break space (all in DejaVu Sans, unlike ␠ and ␉).
EDGE_MARKS = {" ": "\u2423", "\t": "\u21e5", "\xa0": "\u237d"}
_UNMARK = {mark: char for char, mark in EDGE_MARKS.items()}


def visible_name(name: str) -> str:
    """'Horoscope Text ' -> 'Horoscope Text␠': whitespace at the ends of a column name made visible."""
    start = len(name) - len(name.lstrip("".join(EDGE_MARKS)))
    end = len(name.rstrip("".join(EDGE_MARKS)))
    if end <= start:
        return "".join(EDGE_MARKS[c] for c in name)
    mark = lambda part: "".join(EDGE_MARKS[c] for c in part)  # noqa: E731
    return mark(name[:start]) + name[start:end] + mark(name[end:])


def exact_name(text: str) -> str:
    """The inverse of visible_name: what the config stores for the text shown in the column box."""
    marks = "".join(_UNMARK)
    start = len(text) - len(text.lstrip(marks))
    end = len(text.rstrip(marks))
    if end <= start:
        return "".join(_UNMARK[c] for c in text)
    unmark = lambda part: "".join(_UNMARK[c] for c in part)  # noqa: E731
    return unmark(text[:start]) + text[start:end] + unmark(text[end:])


def describe_error(exc: BaseException, what: str) -> str:
    """FinetuneError messages are written for users; anything else gets its type so a bug report can use it."""
    if isinstance(exc, FinetuneError):
        return str(exc)
    return f"Unexpected error while {what}: {type(exc).__name__}: {exc}"


# ---- background jobs (run in the pool: heavy imports allowed here)

@dataclass
class LengthStats:
    stats: Any  # core.data.TokenStats
    lengths: list[int]  # sorted token lengths of the sampled rows


class _Pretokenized:
    """Stands in for the tokenizer inside core.data.token_statistics, handing back ids computed once already."""

    def __init__(self, input_ids: list[list[int]]):
        self.input_ids = input_ids

    def __call__(self, texts: list[str], **_: Any) -> dict[str, list[list[int]]]:
        return {"input_ids": self.input_ids}


def load_preview(config: DatasetConfig) -> Any:
    with IMPORT_LOCK:  # the first import of datasets must not race another thread's
        import datasets  # noqa: F401

        from finetune_studio.core import data
    return data.preview(config, limit=PREVIEW_ROWS)


def compute_statistics(dataset: DatasetConfig, model: ModelConfig, sample: int = 5000) -> LengthStats:
    """Token lengths of (a sample of) the split with the model's tokenizer, and core's TokenStats of them."""
    with IMPORT_LOCK:  # transformers resolves its lazy submodules on first use: do that here, one thread at a time
        import datasets  # noqa: F401
        from transformers import AutoTokenizer, PreTrainedTokenizerFast  # noqa: F401

        from finetune_studio.core import data
        from finetune_studio.core.model import load_tokenizer
    tokenizer = load_tokenizer(model)
    ds = data.load_split(dataset)
    column = data.check_text_column(ds, dataset.text_column, dataset.source)  # the name as the data spells it
    subset = ds.select(range(min(len(ds), sample))) if len(ds) > sample else ds
    ids = tokenizer([t or "" for t in subset[column]], truncation=False, add_special_tokens=True)["input_ids"]
    # Same sample and call as token_statistics makes, so its numbers and our lengths agree; tokenized once.
    stats = data.token_statistics(ds, _Pretokenized(ids), column, dataset.max_length, sample=sample)
    return LengthStats(stats=stats, lengths=sorted(len(x) for x in ids))


def resolve_chat_template(model: ModelConfig, chat: ChatConfig) -> tuple[str, str]:
    """(template name, note) the run would use with this model's tokenizer: the tokenizer only, no weights."""
    with IMPORT_LOCK:
        from transformers import AutoTokenizer  # noqa: F401

        from finetune_studio.core.chat import resolve_template
        from finetune_studio.core.model import load_tokenizer
    _, name, note = resolve_template(load_tokenizer(model), chat)
    return name, note


def check_dataset(config: RunConfig, progress: Any, stop: threading.Event) -> Any:
    """The Inspector's whole-dataset checks (core.inspector; from its cache when these settings were checked)."""
    from finetune_studio.gui.inspector import load_inspector

    inspector = load_inspector(config)
    return inspector.check(progress=progress, stop=stop)


class _Progress(QObject):
    """Lives in the GUI thread; the checks job calls `report` from its thread, the signal arrives queued."""

    changed = Signal(int, int)

    def report(self, done: int, total: int) -> None:
        self.changed.emit(done, total)


# ---- preview table

def _cell_text(value: Any) -> str:
    """Dates that `datasets` parsed into midnight timestamps read better as plain dates."""
    if value is None:
        return ""
    if hasattr(value, "hour") and hasattr(value, "date") and not (value.hour or value.minute or value.second):
        return value.date().isoformat()
    return str(value)


class PreviewModel(QAbstractTableModel):
    """First rows of the dataset; long text is cut (full text in the tooltip), the text column is emphasised."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.columns: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self.text_column = ""

    def set_preview(self, columns: list[str], rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.columns, self.rows = list(columns), list(rows)
        self.endResetModel()

    def set_text_column(self, name: str) -> None:
        self.text_column = name
        if self.columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.rows[index.row()].get(self.columns[index.column()])
        if role == Qt.ItemDataRole.DisplayRole:
            # Only the start of a long text: a 50 MB row (a book on one line) split and joined whole on every paint
            # took ~90 ms of the GUI thread each time.
            text = _cell_text(value)[:CELL_CHARS * 8]
            text = " ".join(text.split())  # one line per row: newlines and tabs become spaces
            return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"
        if role == Qt.ItemDataRole.ToolTipRole:
            text = _cell_text(value)
            return text if len(text) <= 2000 else text[:2000] + "…"
        if role == Qt.ItemDataRole.ForegroundRole and value is None:
            return QPalette().color(QPalette.ColorRole.PlaceholderText)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            name = self.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return visible_name(name)
            if role == Qt.ItemDataRole.FontRole and name == self.text_column:
                font = QFont()
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.ToolTipRole and name == self.text_column:
                return f"{name}: the text column the model trains on"
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None


# ---- histogram

class TokenHistogram(QWidget):
    """Bar chart of token lengths with a line at max_length.

    The plot is built when the first histogram arrives, not with the form: importing pyqtgraph and building a
    PlotWidget took ~0.4 s of the window's 1.1 s to first show (cProfile of gui.app.main), and there is nothing
    to draw before a tokenizer has counted the rows, which needs the training libraries anyway. Until then the
    widget only keeps the plot's height, so the form does not jump when it appears."""

    MIN_HEIGHT, MAX_HEIGHT = 170, 230

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot: Any = None  # built by _build() with the first histogram
        self._edges: list[int] = []
        self._top = 1.0
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.setMinimumHeight(self.MIN_HEIGHT)

    @property
    def built(self) -> bool:
        return self.plot is not None

    def _build(self) -> None:
        import pyqtgraph as pg

        class _Plot(pg.PlotWidget):
            def wheelEvent(self, event: Any) -> None:  # noqa: N802 - let the surrounding form scroll
                event.ignore()

        self._pg = pg
        palette = self.palette()
        self.plot = _Plot(background=palette.color(QPalette.ColorRole.Base))
        item = style_small_plot(self.plot, palette, "tokens per row", "rows", self.MIN_HEIGHT, self.MAX_HEIGHT)
        self._brush, self._cut_brush = pg.mkBrush("#7baaf7"), pg.mkBrush("#f28b82")
        self.bars = pg.BarGraphItem(x0=[0], x1=[1], height=[0], brush=self._brush, pen=pg.mkPen("#4a86e8"))
        self.bars.setVisible(False)
        item.addItem(self.bars)
        pen = pg.mkPen("#d93025", width=2, style=Qt.PenStyle.DashLine)
        self.line = pg.InfiniteLine(angle=90, movable=False, pen=pen, label="max_length {value:.0f}",
                                    labelOpts={"position": 0.88, "color": "#d93025", "anchors": [(1, 0.5), (1, 0.5)]})
        self.line.setVisible(False)
        item.addItem(self.line)
        self.beyond = pg.TextItem(color="#d93025", anchor=(1, 0))  # "max_length 512 →" when off the chart
        self.beyond.setVisible(False)
        item.addItem(self.beyond)
        self._layout.addWidget(self.plot)

    def set_histogram(self, edges: list[int], counts: list[int]) -> None:
        if not self.built:
            self._build()
        self._edges = list(edges)
        self.bars.setOpts(x0=edges[:-1], x1=edges[1:], height=counts, brushes=None)
        self.bars.setVisible(True)
        self._top = max(counts) * 1.1 if counts else 1.0
        self.plot.setYRange(0, self._top, padding=0)

    def set_max_length(self, max_length: int) -> None:
        if not self._edges:
            return
        low, high = self._edges[0], self._edges[-1]
        # Keep the bars readable: a max_length far beyond the longest row is named at the edge, not drawn there.
        right = max(high, max_length) if max_length <= high * 1.6 else high
        self.line.setVisible(max_length <= right)
        self.line.setValue(max_length)
        self.line.label.valueChanged()  # the label skips updates while hidden
        self.beyond.setVisible(max_length > right)
        self.beyond.setText(f"max_length {max_length:,} →")
        self.beyond.setPos(right * 1.04, self._top)
        # Bars past the line are the rows that get cut.
        self.bars.setOpts(brushes=[self._cut_brush if left >= max_length else self._brush for left in self._edges[:-1]])
        x_low, x_high = min(0, low), right * 1.04
        self.plot.setXRange(x_low, x_high, padding=0)
        # The label goes on the side of the line with room: left of a line in the right half, else right of it
        # (to its left, a small max_length's label was cut by the axis down to its last digit).
        side = (1, 0.5) if (max_length - x_low) > 0.5 * (x_high - x_low) else (0, 0.5)
        self.line.label.anchors = [side, side]
        self.line.label.updatePosition()

    def clear(self) -> None:
        self._edges = []
        if not self.built:
            return
        self.bars.setVisible(False)
        self.line.setVisible(False)
        self.beyond.setVisible(False)

    def has_data(self) -> bool:
        return bool(self._edges)


# ---- the form

class DatasetForm(Form):
    """Where the text comes from and how it is cut, with a preview of the first rows and token statistics."""

    source_chosen = Signal(str)  # a source the user picked or confirmed: the main window keeps it in "recent"
    # core.chat.ChatRows (chat settings and preview rows), or None for plain text, when that changes: the Model tab's
    # figures count the embedding rows a chat template's added tokens grow (AdapterForm.set_chat)
    chat_changed = Signal(object)
    # The files of the local source changed on disk (fixed in an editor, replaced, a file added to the folder): the
    # tab has read them again; the window's own check (validate) should run again too, though no setting changed.
    source_files_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        help_of = lambda name: config_help("dataset." + name)  # noqa: E731
        self._model_config: ModelConfig | None = None
        self._stats_key: tuple | None = None  # inputs of the statistics shown or being computed
        self._stats_waiting = False  # statistics wait for the preview (it may pick another text column)
        self._stats: LengthStats | None = None
        self._last_chosen = ""
        self._columns: list[str] = []
        self._preview_ok = False  # statistics need a dataset the preview could read
        # Why the text column shown is not checked against the data (a preview that failed), said under the box.
        self._column_unchecked: str | None = None
        # The same for the chat-format Columns boxes (messages, prompt, completion, tools, …): the preview failed, so
        # their lists hold no column of this data and "automatic" has found nothing in it; said under the boxes.
        self._columns_unknown = False
        self._chat_columns_unchecked: str | None = None

        # -- source
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("owner/name on the Hub, or a file or folder")
        self.source_edit.setClearButtonEnabled(True)
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent ▾")
        self.recent_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.recent_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self.recent_button)
        self.recent_button.setMenu(self.recent_menu)
        self.open_file_button = QPushButton("Open file…")
        self.open_folder_button = QPushButton("Open folder…")
        self.sample_button = QPushButton("Built-in sample")
        self.source_hint = hint_label()
        self.subset_edit = QLineEdit()
        self.subset_edit.setPlaceholderText("default")
        self.split_edit = QLineEdit()
        self.split_edit.setPlaceholderText("train")
        self.encoding_combo = QComboBox()
        self.encoding_combo.setEditable(True)
        self.encoding_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.encoding_combo.addItems(ENCODINGS)
        self.encoding_combo.setCurrentIndex(-1)
        self.encoding_combo.lineEdit().setPlaceholderText("UTF-8 (default)")
        self.encoding_hint = hint_label()
        self.delimiter_combo = narrow_combo(QComboBox())
        for label, value in DELIMITER_CHOICES:
            self.delimiter_combo.addItem(label, value)
        self.sample_by_combo = narrow_combo(QComboBox())
        for label, value in SAMPLE_BY_CHOICES:
            self.sample_by_combo.addItem(label, value)
        self._preview_format: str | None = None  # of the last preview shown: .txt rows can be chosen for "text"
        self._preview_source: str | None = None  # the source of the last preview shown (None after load())
        self._pending_source: str | None = None
        self._detected_encoding: str | None = None  # filled in by the form (not the user) for this source:
        self._detected_for: str | None = None  # cleared again when another source is chosen
        self._file_encoding: str | None = None  # what the document's file (or the loaded preset) says

        # -- text
        self.text_column_combo = narrow_combo(QComboBox())
        self.text_column_combo.setEditable(True)
        self.text_column_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.max_length_spin = QSpinBox()
        # Every length validation accepts shows as it is (a config's 10,000,000 showed as 1,048,576 and typing it
        # lost its last digit); a longer one loaded from a file is kept and named at the field by validation.
        # The floor is validation's: 1 token trains nothing, so the box does not offer what Start would refuse.
        self.max_length_spin.setRange(MIN_TRAINING_TOKENS, MAX_CONTEXT_TOKENS)
        self.max_length_spin.setSingleStep(64)
        self.max_length_spin.setSuffix(" tokens")
        self.truncation_check = QCheckBox("Cut rows longer than max length")
        self.test_size_spin = CompactDoubleSpinBox()
        self.test_size_spin.setRange(0.0, 0.9999)  # validation allows up to below 1
        self.test_size_spin.setDecimals(4)
        self.test_size_spin.setSingleStep(0.05)
        self.test_size_hint = hint_label()

        # -- format (config.chat): how rows become training text, and what is trained
        self._detection: Detection | None = None  # detected in the preview rows
        self._preview_rows: list[dict[str, Any]] = []
        self._chat_rows_sent: ChatRows | None = None  # what chat_changed said last
        self._chat_columns: dict[str, str] = {}  # chat.columns as the user mapped them (kept across formats)
        self._checks: Any = None  # core.inspector.DatasetChecks of the settings shown, or None
        self._checks_key: tuple | None = None
        self._checks_stop = threading.Event()
        self._template_key: tuple | None = None
        self._template_result: tuple[str, str] | None = None  # (name, note) of the template read for _template_key
        self.inspector_window: Any = None
        self._inspected: tuple | None = None  # the settings the Inspector window was opened with
        self.format_combo = narrow_combo(QComboBox())
        for label, value in FORMAT_CHOICES:
            self.format_combo.addItem(label, value)
        self.format_hint = hint_label()
        self.columns_host = QWidget()
        self.columns_grid = QGridLayout(self.columns_host)
        self.columns_grid.setContentsMargins(0, 0, 0, 0)
        self.columns_grid.setHorizontalSpacing(8)
        self.columns_grid.setVerticalSpacing(4)
        self.column_combos: dict[str, QComboBox] = {}
        self.columns_hint = hint_label()
        self.template_combo = narrow_combo(QComboBox())
        for label, value, tip in TEMPLATE_CHOICES:
            self.template_combo.addItem(label, value)
            self.template_combo.setItemData(self.template_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.template_hint = hint_label()
        self.train_on_combo = narrow_combo(QComboBox())
        for label, value in TRAIN_ON_CHOICES:
            self.train_on_combo.addItem(label, value)
        self.drop_untrained_check = QCheckBox("Leave out rows that would train nothing")
        self.inspect_button = QPushButton("Open the Dataset Inspector…")
        self.inspect_button.setToolTip("See every row as the model will: the tokens trained, masked and cut. Needs "
                                       "only the tokenizer, so it works before any download and during a run.")
        self.checks_label = QLabel(CHECKS_WAIT)
        self.checks_label.setWordWrap(True)
        self.checks_warning = QLabel()
        self.checks_warning.setProperty("role", "warning")
        self.checks_warning.setWordWrap(True)
        self.checks_warning.hide()

        # -- preview
        self.preview_model = PreviewModel(self)
        self.preview_view = QTableView()
        self.preview_view.setModel(self.preview_model)
        self.preview_view.setWordWrap(False)
        self.preview_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.preview_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview_view.setAlternatingRowColors(True)
        self.preview_view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.preview_view.horizontalHeader().setStretchLastSection(True)
        self.preview_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.preview_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.preview_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.preview_view.setMinimumHeight(230)
        self.preview_status = hint_label()
        self.error_label = error_label()  # preview errors: bad file, unknown Hub id, no network
        self._preview_error = ""  # the last failed preview's message (shown unless the Dataset field says it)

        # -- statistics
        self.histogram = TokenHistogram()
        self.stats_label = QLabel("Token statistics appear once a model is chosen (they use its tokenizer).")
        self.stats_label.setWordWrap(True)
        self.stats_detail = hint_label()
        self.stats_error_label = error_label()
        self.stats_refresh_button = QToolButton()
        self.stats_refresh_button.setText("Recompute")
        self.stats_refresh_button.setToolTip("Tokenize the dataset again (e.g. after the file changed on disk)")
        self.stats_refresh_button.setEnabled(False)

        # -- layout
        source_box, f1 = section("Source")
        source_col = QVBoxLayout()
        source_col.setSpacing(6)
        line = QHBoxLayout()
        line.setSpacing(4)
        line.addWidget(self.source_edit, 1)
        line.addWidget(self.recent_button)
        source_col.addLayout(line)
        buttons = FlowLayout()  # on two lines where the field is narrow (a 900 px window): never wider than it
        for button in (self.open_file_button, self.open_folder_button, self.sample_button):
            buttons.addWidget(button)
        source_col.addLayout(buttons)
        source_col.addWidget(self.source_hint)
        self.add_field(f1, "dataset.source", "Dataset", source_col, mark=self.source_edit, tooltip=help_of("source"))
        self.add_field(f1, "dataset.name", "Hub subset", self.subset_edit, tooltip=help_of("name"))
        self.add_field(f1, "dataset.split", "Split", self.split_edit, tooltip=help_of("split"))
        self.add_field(f1, "dataset.encoding", "Encoding", column(self.encoding_combo, self.encoding_hint),
                       mark=self.encoding_combo,
                       tooltip=help_of("encoding"))
        self.add_field(f1, "dataset.delimiter", "Separator", self.delimiter_combo, tooltip=help_of("delimiter"))
        self.add_field(f1, "dataset.sample_by", "Text files", self.sample_by_combo, tooltip=help_of("sample_by"))

        format_box, f5 = section("Format")
        self.add_field(f5, "chat.format", "Row format", column(self.format_combo, self.format_hint),
                       mark=self.format_combo)
        self._format_layout = f5
        self._chat_rows = [  # captions of the rows that apply to chat formats only (hidden for plain text)
            self.add_field(f5, "chat.columns", "Columns", column(self.columns_host, self.columns_hint),
                           mark=self.columns_host),
            self.add_field(f5, "chat.template", "Chat template", column(self.template_combo, self.template_hint),
                           mark=self.template_combo),
            self.add_field(f5, "chat.train_on", "Train on", self.train_on_combo),
            self.add_field(f5, "chat.drop_untrained_rows", "Untrained rows", self.drop_untrained_check)]
        self._chat_rows[0].setFixedHeight(self._chat_rows[2].maximumHeight())  # the boxes come with the preview
        inspect_line = QHBoxLayout()
        inspect_line.addWidget(self.inspect_button)
        inspect_line.addStretch(1)
        f5.addRow(inspect_line)
        f5.addRow(self.checks_label)  # rows of their own: a wrapped label inside a row widget was cut short
        f5.addRow(self.checks_warning)

        text_box, f2 = section("Text")
        self._text_layout = f2
        self._text_column_caption = self.add_field(f2, "dataset.text_column", "Text column", self.text_column_combo,
                       tooltip=help_of("text_column") + " Spaces at the start or end of a name are shown as \u2423; "
                       "the config keeps the name exactly as the data spells it.")
        self.add_field(f2, "dataset.max_length", "Max length", self.max_length_spin, tooltip=help_of("max_length"))
        self.add_field(f2, "dataset.truncation", "Truncation", self.truncation_check, tooltip=help_of("truncation"))
        test_row = QHBoxLayout()
        test_row.setSpacing(10)
        test_row.addWidget(self.test_size_spin)
        test_row.addWidget(self.test_size_hint, 1)
        self.add_field(f2, "dataset.test_size", "Test split", test_row, mark=self.test_size_spin,
                       tooltip=help_of("test_size"))

        preview_box, f3 = section(f"Preview (first {PREVIEW_ROWS} rows)")
        f3.addRow(self.preview_status)
        f3.addRow(self.error_label)
        f3.addRow(self.preview_view)

        stats_box, f4 = section("Token lengths")
        # In a widget of its own: a form row that is a bare layout does not grow for a label that wraps to two
        # lines beside the button, and the text was cut at the top and bottom in a narrow window.
        head_row = QWidget()
        head = QHBoxLayout(head_row)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.stats_label, 1)
        head.addWidget(self.stats_refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        f4.addRow(head_row)
        f4.addRow(self.stats_detail)
        f4.addRow(self.stats_error_label)
        f4.addRow(self.histogram)

        layout = page_layout(self)
        for box in (source_box, format_box, text_box, preview_box, stats_box):
            layout.addWidget(box)
        layout.addStretch(1)
        align_labels(self)
        guard_wheel(self)

        # -- background work
        self._preview_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._preview_timer.timeout.connect(self._start_preview)
        # The source's files, watched so that a file fixed in an editor after its preview is read again: the tab
        # kept the old error (or rows) and the window its refusal until some setting was edited.
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._source_files_touched)
        self._watcher.directoryChanged.connect(self._source_files_touched)
        self._watch_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)  # editors save in several steps
        self._watch_timer.timeout.connect(self._reread_changed_source)
        self._stats_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._stats_timer.timeout.connect(self._start_statistics)
        self.preview_task = BackgroundTask(self, yields_to_run_start=True)
        self.preview_task.result.connect(self._preview_ready)
        self.preview_task.error.connect(self._preview_failed)
        self.stats_task = BackgroundTask(self, yields_to_run_start=True)
        self.stats_task.result.connect(self._statistics_ready)
        self.stats_task.error.connect(self._statistics_failed)
        self._checks_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._checks_timer.timeout.connect(self._start_checks)
        self.checks_task = BackgroundTask(self, yields_to_run_start=True)
        self.checks_task.result.connect(self._checks_ready)
        self.checks_task.error.connect(self._checks_failed)
        self.template_task = BackgroundTask(self, yields_to_run_start=True)
        self.template_task.result.connect(self._template_ready)
        self.template_task.error.connect(self._template_failed)
        self._checks_progress = _Progress(self)
        self._checks_progress.changed.connect(self._checks_progressed)

        # -- signals
        # first: the user's change of the field (typing, its clear button, Open file, the sample, a recent one)
        # replaces a kept source that is no text (see load)
        self.source_edit.textChanged.connect(
            lambda _=None: self._loading or getattr(self, "_kept", {}).pop("dataset.source", None))
        self.source_edit.textChanged.connect(self._source_changed)
        self.source_edit.textEdited.connect(self._edited)
        self.source_edit.editingFinished.connect(self._source_confirmed)
        self.open_file_button.clicked.connect(self._open_file)
        self.open_folder_button.clicked.connect(self._open_folder)
        self.sample_button.clicked.connect(lambda: self._choose_source(SAMPLE_DATASET_ID))
        for edit in (self.subset_edit, self.split_edit):
            edit.textChanged.connect(self._schedule_preview)
            edit.textEdited.connect(self._edited)
        self.text_column_combo.currentTextChanged.connect(self._text_column_changed)
        self.encoding_combo.currentTextChanged.connect(self._encoding_changed)
        self.delimiter_combo.currentIndexChanged.connect(self._edited)
        self.delimiter_combo.currentIndexChanged.connect(self._schedule_preview)
        self.sample_by_combo.currentIndexChanged.connect(self._edited)
        self.sample_by_combo.currentIndexChanged.connect(self._schedule_preview)
        self.max_length_spin.valueChanged.connect(self._max_length_changed)
        self.truncation_check.toggled.connect(self._edited)
        self.truncation_check.toggled.connect(self._update_truncation_label)
        for key, spin in (("max_length", self.max_length_spin), ("test_size", self.test_size_spin)):
            spin.valueChanged.connect(lambda _=None, k=key: getattr(self, "_kept", {}).pop(k, None))  # edited: theirs
        self.test_size_spin.valueChanged.connect(self._edited)
        self.test_size_spin.valueChanged.connect(self._update_test_size_hint)
        self.stats_refresh_button.clicked.connect(self._recompute_statistics)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.template_combo.currentIndexChanged.connect(self._chat_edited)
        self.train_on_combo.currentIndexChanged.connect(self._chat_edited)
        self.drop_untrained_check.toggled.connect(self._chat_edited)
        self.max_length_spin.valueChanged.connect(self._schedule_checks)
        self.truncation_check.toggled.connect(self._schedule_checks)
        self.inspect_button.clicked.connect(self.open_inspector)

        self.set_recent([])
        self._source_changed(self.source_edit.text())
        self._update_test_size_hint()
        self._update_encoding_hint()
        self._update_format()

    # ---- contract
    def load(self, config: RunConfig) -> None:
        ds = config.dataset
        with self.loading():
            self.source_edit.setText(written_text(ds.source))  # [a.jsonl, b.jsonl], not ['a.jsonl', …]
            self.subset_edit.setText(ds.name or "")
            self.split_edit.setText(ds.split or "")
            self.text_column_combo.setCurrentText(visible_name(str(ds.text_column or "")))
            self.encoding_combo.setCurrentText(str(ds.encoding or ""))
            set_combo_value(self.delimiter_combo, ds.delimiter)
            set_combo_value(self.sample_by_combo, ds.sample_by)
            self.max_length_spin.setValue(ds.max_length if isinstance(ds.max_length, int) else 512)
            self.load_check("dataset.truncation", self.truncation_check, ds.truncation)
            self.test_size_spin.setValue(float(ds.test_size) if isinstance(ds.test_size, (int, float)) else 0.1)
            chat = config.chat
            set_combo_value(self.format_combo, chat.format)
            set_combo_value(self.template_combo, chat.template)
            set_combo_value(self.train_on_combo, chat.train_on)
            self.load_check("chat.drop_untrained_rows", self.drop_untrained_check, chat.drop_untrained_rows)
            self._chat_columns = dict(chat.columns) if isinstance(chat.columns, dict) else {}
            self._update_format()
        # A loaded value the spin box cannot show as it is (0, 1.5, "abc", 0.12345) would be clamped or rounded
        # and saved so without a word: keep it until the user edits the box; validation names it at the field.
        self._kept = {key: value for key, value, spin in (("max_length", ds.max_length, self.max_length_spin),
                                                         ("test_size", ds.test_size, self.test_size_spin))
                      if not shown_as_is(value, spin)}
        # The same for chat.columns that is no mapping of names (columns: q), which was stored as {}; the checks
        # keep theirs by load_check.
        if not (isinstance(chat.columns, dict) and all(isinstance(v, str) for v in chat.columns.values())):
            self._kept["chat.columns"] = copy.deepcopy(chat.columns)
        # And a source that is no text (`source: [a.jsonl, b.jsonl]`, a mapping): shown as the file writes it and
        # stored as written until the user changes the field, so validation refuses it there and Start waits. It was
        # shown as "['a.jsonl', 'b.jsonl']" and saved as that text: a different source, the written one gone.
        if ds.source is not None and not isinstance(ds.source, str):
            self._kept["dataset.source"] = copy.deepcopy(ds.source)
        self._last_chosen = self.source_edit.text().strip()
        self._preview_source = None  # the next preview is of the loaded config: keep its text column
        self._detected_encoding = self._detected_for = None
        self._file_encoding = str(ds.encoding or "").strip() or None
        self._update_encoding_enabled()  # after the encoding is set: a built-in sample's loaded one can be cleared
        self._update_encoding_hint()
        self._update_sample_by()
        self._schedule_preview()  # also when the source stayed: the column box follows the loaded config

    def document_saved(self, config: RunConfig) -> None:
        self._file_encoding = str(config.dataset.encoding or "").strip() or None
        self._update_encoding_hint()  # a detected encoding is saved now: no more "save to keep it"

    def store(self, config: RunConfig) -> None:
        ds = config.dataset
        kept = getattr(self, "_kept", {})
        ds.source = (copy.deepcopy(kept["dataset.source"]) if "dataset.source" in kept
                     else self.source_edit.text().strip())
        ds.name = self.subset_edit.text().strip() or None
        ds.split = self.split_edit.text().strip() or "train"
        ds.text_column = exact_name(self.text_column_combo.currentText())  # as the data spells it: no strip()
        ds.encoding = self.encoding_combo.currentText().strip() or None
        ds.delimiter = self.delimiter_combo.currentData()
        ds.sample_by = self.sample_by_combo.currentData()
        ds.max_length = kept["max_length"] if "max_length" in kept else self.max_length_spin.value()
        ds.truncation = self.stored_check("dataset.truncation", self.truncation_check)
        ds.test_size = kept["test_size"] if "test_size" in kept else round(self.test_size_spin.value(), 4)
        chat = config.chat
        chat.format = self.format_combo.currentData()
        chat.columns = (kept["chat.columns"] if "chat.columns" in kept  # switching back restores the others
                        else self._columns_in_use(chat.format))
        chat.template = self.template_combo.currentData()
        chat.train_on = self.train_on_combo.currentData()
        chat.drop_untrained_rows = self.stored_check("chat.drop_untrained_rows", self.drop_untrained_check)

    def dataset_config(self) -> DatasetConfig:
        config = RunConfig()
        self.store(config)
        return config.dataset

    # ---- for the main window
    def set_recent(self, sources: list[str]) -> None:
        """Fill the Recent menu (the main window keeps the list in QSettings)."""
        self.recent_menu.clear()
        for source in sources:
            action = self.recent_menu.addAction(source)
            action.triggered.connect(lambda _=False, s=source: self._choose_source(s))
        self.recent_button.setEnabled(bool(sources))
        self.recent_button.setToolTip("Recently used datasets" if sources else "No recent datasets yet")

    def refresh_statistics(self, model_config: ModelConfig) -> None:
        """Recompute token statistics with this model's tokenizer (debounced; skipped if nothing changed)."""
        self._model_config = ModelConfig(**vars(model_config))
        self._schedule_statistics()
        self._schedule_checks()
        self._schedule_template()  # another model, another tokenizer: its own template or ChatML

    # ---- source
    def _source_changed(self, text: str) -> None:
        text = text.strip()
        kind = source_kind(text) if text else SourceKind.LOCAL
        local = kind.on_disk

        if not text:
            hint = "Enter a Hub dataset id (owner/name), open a file or folder, or use the built-in sample."
        elif text == SAMPLE_DATASET_ID:
            hint = "Built-in sample: 2,000 short horoscopes, works offline."
        elif local:
            hint = "Local file or folder."
        elif kind is SourceKind.URL:
            hint = ("A web address: enter a Hub dataset's id (owner/name), or download the file and open it with "
                    "Open file….")
        else:
            hint = "Hugging Face Hub dataset: needs the network the first time, then it is cached."
        self.source_hint.setText(hint)
        for edit in (self.subset_edit, self.split_edit):
            edit.setEnabled(not local)
            edit.setToolTip(self._fields_tooltip(edit) if not local else "Only used for Hub datasets.")
        self._forget_detected_encoding(text)
        self._update_encoding_enabled()
        self._update_encoding_hint()
        self._update_sample_by()
        self._schedule_preview()

    def _fields_tooltip(self, edit: QLineEdit) -> str:
        key = "dataset.name" if edit is self.subset_edit else "dataset.split"
        return self._fields[key].tooltip

    def _choose_source(self, source: str) -> None:
        if source != self.source_edit.text():
            self.source_edit.setText(source)
            self._edited()
        self._source_confirmed()

    def _source_confirmed(self) -> None:
        text = self.source_edit.text().strip()
        if text and text != self._last_chosen:
            self._last_chosen = text
            self.source_chosen.emit(text)

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a dataset file", self._start_folder(), FILE_FILTER)
        if path:
            self._choose_source(path)

    def _open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of data files", self._start_folder())
        if path:
            self._choose_source(path)

    def _start_folder(self) -> str:
        current = os.path.expanduser(self.source_edit.text().strip())
        if os.path.isfile(current):
            return os.path.dirname(current)
        return current if os.path.isdir(current) else os.path.expanduser("~")

    # ---- preview
    def _schedule_preview(self) -> None:
        self._preview_timer.start()
        self._schedule_statistics()

    def _start_preview(self) -> None:
        config = self.dataset_config()
        if not config.source or not isinstance(config.source, str):  # a kept source that is no text: nothing to read
            self.preview_task.cancel()
            self._preview_ok, self._columns, self._stats_waiting = False, [], False
            self._mark_missing_column()
            self._set_column_unchecked(None)
            self._columns_unknown = False
            self._set_chat_columns_unchecked(None)
            # No data: the column lists and the rows detected were the source's before (the values, the config's,
            # stay), so the Text column and Columns boxes no longer offer its columns.
            self._preview_rows, self._detection = [], None
            current = self.text_column_combo.currentText()
            if self.text_column_combo.count():
                with self.loading():
                    self.text_column_combo.clear()
                    self.text_column_combo.setCurrentText(current)
            self._update_format()
            self.preview_model.set_preview([], [])
            self.preview_status.setText("No dataset chosen." if config.source in (None, "") else
                                        "No preview: the source is not one file, folder or Hub id (see the message "
                                        "under Dataset).")
            self._show_error("")
            if self._stats is not None:
                self._clear_statistics("Token statistics appear once a dataset is chosen.")
            return
        self.preview_status.setText("Loading preview…")
        self._pending_source = config.source
        self._watch_source(config.source)
        self.preview_task.submit(load_preview, config)

    def _watch_source(self, source: str | None) -> None:
        """Watch the files (and folders) of a local source, up to WATCHED_PATHS of them; nothing for a Hub id or a
        built-in sample. Called on each preview: an editor that saves by replacing the file ends its watch."""
        from pathlib import Path

        from finetune_studio.core.data import data_suffix  # a.jsonl.gz is a data file too

        paths: list[str] = []
        if isinstance(source, str) and source.strip() and not self._source_is_builtin():
            try:
                local = source_kind(source.strip()).on_disk
            except Exception:  # noqa: BLE001 - a source that is no one name: nothing to watch
                local = False
            path = os.path.expanduser(source.strip())
            if local and os.path.isfile(path):
                paths = [path]
            elif local and os.path.isdir(path):
                paths = [path]
                for root, folders, files in os.walk(path):
                    folders[:] = sorted(f for f in folders if not f.startswith("."))
                    paths += [os.path.join(root, f) for f in folders]
                    paths += [os.path.join(root, f) for f in sorted(files)
                              if data_suffix(Path(f)) in DATA_SUFFIXES and not f.startswith(".")]
                    if len(paths) >= WATCHED_PATHS:
                        break
                paths = paths[:WATCHED_PATHS]
        watched = self._watcher.files() + self._watcher.directories()
        if sorted(watched) != sorted(paths):
            if watched:
                self._watcher.removePaths(watched)
            if paths:
                self._watcher.addPaths(paths)

    def _source_files_touched(self, _path: str) -> None:
        self._watch_timer.start()

    def _reread_changed_source(self) -> None:
        """The source's files changed on disk: preview them again, count their tokens and check their rows again,
        and tell the window (source_files_changed), whose problems may name the old content."""
        self._stats_key = None  # the same settings, other data: the figures shown are of the old files
        self._checks_key = None
        watched = self._watcher.files() + self._watcher.directories()
        if watched:  # a file replaced by a rename keeps its path here but the watch is of the old file: watch anew
            self._watcher.removePaths(watched)
        self._schedule_preview()
        self._schedule_checks()
        self.source_files_changed.emit()

    def _preview_ready(self, preview: Any) -> None:
        self._preview_ok = True
        self._columns_unknown = False  # the boxes are filled from this data (_update_format below)
        self._set_column_unchecked(None)
        self._show_error("")
        self._columns = list(preview.columns)
        self._preview_format = preview.format
        switched = self._preview_source is not None and self._pending_source != self._preview_source
        self._preview_source = self._pending_source
        self.preview_model.set_preview(preview.columns, preview.rows)
        self._fit_columns()
        with self.loading():
            current = exact_name(self.text_column_combo.currentText())
            self.text_column_combo.clear()
            for name in self._columns:
                self.text_column_combo.addItem(visible_name(name), name)
            self.text_column_combo.setCurrentText(visible_name(current))
        # The column for this data: the configured one as the data spells it; on a switch to another file (or
        # when none is set) the one detected in the new file. A configured column the data lacks is kept as it is
        # and marked (_mark_missing_column), as validate and the CLI refuse it: replacing it would train another
        # column without a word.
        from finetune_studio.core.data import real_column

        real = real_column(self._columns, current)
        pick = preview.text_column if (switched or not current.strip()) and preview.text_column else real
        if pick is not None and pick != current:
            # Emits changed: the config changes. The configured column as the data spells it (whitespace around
            # it, another Unicode form) is the same column: the window takes the name without marking the document
            # modified, so a config just opened shows no unsaved changes the user never made.
            self.respelled = pick == real
            try:
                self.text_column_combo.setCurrentText(visible_name(pick))
            finally:
                self.respelled = False
        self.preview_model.set_text_column(exact_name(self.text_column_combo.currentText()))
        self._update_sample_by()
        self._update_encoding_hint()
        self._preview_rows = list(preview.rows)
        self._detect()
        self._update_format()
        self._mark_missing_column()
        self._schedule_checks()
        rows = len(preview.rows)
        how = f" · {SAMPLE_BY_WORDS[preview.sample_by]}" if preview.sample_by in SAMPLE_BY_WORDS else ""
        chosen = self.delimiter_combo.currentData()
        if preview.format == "csv" and preview.delimiter and (preview.delimiter != "," or chosen is not None):
            from finetune_studio.core.data import delimiter_words

            found = " (found in the header row)" if chosen is None else ""
            how += f" · fields separated by {delimiter_words(preview.delimiter)}{found}"
        status = (f"{rows} row{'s' if rows != 1 else ''} shown · {len(self._columns)} column"
                  f"{'s' if len(self._columns) != 1 else ''}{how}")
        if preview.format == "text" and preview.sample_by == "line":
            from finetune_studio.core.data import tab_table_note

            note = tab_table_note(preview.rows)  # a sheet saved as "Text (Tab delimited)"
            if note:
                status += f"\n{note}"
        self.preview_status.setText(status)
        if self._stats_waiting:
            self._stats_waiting = False
            self._start_statistics()

    def _preview_failed(self, exc: BaseException) -> None:
        self._preview_ok = False
        self._columns = []
        self._columns_unknown = True
        self._preview_rows, self._detection = [], None  # before the note: the rows detected were the old file's
        self._forget_columns()
        self._mark_missing_column()  # the columns are unknown: the source's error says why
        self._update_format()  # the Columns boxes lose the old file's columns and say why (_select_column_boxes)
        self.preview_model.set_preview([], [])
        self.preview_status.setText("")
        detected = getattr(exc, "detected", None)  # core.data.EncodingProblem: what charset-normalizer found
        if detected and not self.encoding_combo.currentText().strip():
            self._show_error("")
            self._detected_encoding, self._detected_for = detected, self._pending_source
            # Changed: the preview reads the file again with it, and so does a run from the window. The document is
            # no longer what its file says (a config without the encoding cannot read this file: the CLI refuses
            # it), so it is marked modified, as the window says in its log and the hint under the box.
            name = os.path.basename(str(getattr(exc, "path", "") or self._pending_source or "")) or "the dataset file"
            self.filled_in = (f"Encoding {detected} detected in {name} and filled in on the Dataset tab: the file is "
                              f"not UTF-8. The config is marked changed (*) because it does not say so yet. To keep "
                              f"it: File > Save.")
            try:
                self.encoding_combo.setCurrentText(detected)
            finally:
                self.filled_in = None
            return
        self._show_error(describe_error(exc, "reading the dataset"))
        if self._stats_waiting:
            self._stats_waiting = False
            self._start_statistics()

    def _forget_columns(self) -> None:
        """A preview that failed: the column list in the box was the file before's, and what the box holds is not
        known to be a column of this data. The list is emptied (the value is the config's, and stays), and a note
        under the box says why it is unchecked, until a preview reads the data."""
        current = self.text_column_combo.currentText()
        if self.text_column_combo.count():
            with self.loading():
                self.text_column_combo.clear()
                self.text_column_combo.setCurrentText(current)
        self.preview_model.set_text_column("")
        note = None
        if current.strip():  # said for chat formats too: the row shows again when the rows are read as text
            note = (f"Not checked: the columns of {self._source_words()} are unknown because its preview failed "
                    "(the message under Preview says why), so the column list of the data shown before was "
                    f"cleared. To fix: fix the dataset, then check that {visible_name(exact_name(current))!r} is "
                    "its text column.")
        self._set_column_unchecked(note)

    def _set_column_unchecked(self, note: str | None) -> None:
        if note != self._column_unchecked:
            self._column_unchecked = note
            self._refresh_mark("dataset.text_column")

    def _source_words(self) -> str:
        return self.source_edit.text().strip() or "the dataset"

    def _chat_columns_note(self) -> str | None:
        """Why the Columns boxes of a chat format hold no column list after a failed preview, and what to check
        once the data reads: the parts mapped (the config's, kept), or every part when all are automatic."""
        if not self._columns_unknown or not self.column_combos:
            return None
        mapped = [(part, value) for part, value in self._chat_columns.items() if part in self.column_combos]
        check = ("check that " + ", ".join(f"{visible_name(value)!r} is its {part} column" for part, value in mapped)
                 if mapped else "check which column plays each part")
        return (f"Not checked: the columns of {self._source_words()} are unknown because its preview failed (the "
                f"message under Preview says why), so the column lists of the data shown before were cleared and "
                f"automatic has found nothing yet. To fix: fix the dataset, then {check}.")

    def _set_chat_columns_unchecked(self, note: str | None) -> None:
        if note != self._chat_columns_unchecked:
            self._chat_columns_unchecked = note
            self._refresh_mark("chat.columns")

    def _show_error(self, message: str) -> None:
        self._preview_error = message
        self._say_preview_error()

    def _say_preview_error(self) -> None:
        """The failed preview's message under Preview, unless the Dataset field says it already, word for word:
        validation refuses the source for the reason the preview failed (an archive of two data files), and the
        same paragraph stood under Dataset and under Preview, besides the header's line. Then Preview points up
        instead, as Row format and Text column do."""
        message = self._preview_error
        above = (self._input_errors.get("dataset.source") or self._external.get("dataset.source") or "").split("\n")
        repeated = bool(message) and message in above
        shown = "" if repeated else message
        self.error_label.setText(shown)
        self.error_label.setVisible(bool(shown))
        if repeated:
            self.preview_status.setText(UNREAD_PREVIEW)
        elif self.preview_status.text() == UNREAD_PREVIEW:  # the field's refusal went: the message is back below
            self.preview_status.setText("")

    def _fit_columns(self) -> None:
        view = self.preview_view
        view.resizeColumnsToContents()
        limit = max(120, view.viewport().width() // 2)
        for index in range(self.preview_model.columnCount()):
            view.setColumnWidth(index, min(view.columnWidth(index) + 8, limit))

    def _text_column_changed(self, text: str) -> None:
        self.preview_model.set_text_column(exact_name(text))
        self._edited()
        if not self._loading:  # the preview filling the box marks once it is done (_preview_ready)
            self._mark_missing_column()
        self._schedule_statistics()

    def _mark_missing_column(self) -> None:
        """Mark a text column the previewed data lacks, in the words validate and the CLI use
        (core.data.missing_column), at once rather than after the window's next validation."""
        from finetune_studio.core.data import missing_column, real_column

        column = exact_name(self.text_column_combo.currentText())
        message = None
        if self._preview_ok and self._columns and column.strip() and self.effective_format() == "text" \
                and real_column(self._columns, column) is None:
            message = str(missing_column(self.source_edit.text().strip(), column, self._columns))
        if message != self._input_errors.get("dataset.text_column"):  # unchanged: leave the field's marks alone
            self.set_input_error("dataset.text_column", message)

    # ---- encoding and .txt rows
    def _encoding_changed(self, text: str) -> None:
        self._edited()
        self._update_encoding_hint()
        self._schedule_preview()

    def _forget_detected_encoding(self, source: str) -> None:
        """An encoding the form filled in for one file is not carried over to the next one."""
        if self._detected_for is not None and source != self._detected_for:
            if self.encoding_combo.currentText().strip() == self._detected_encoding:
                self.encoding_combo.setCurrentText("")
            self._detected_encoding = self._detected_for = None

    def _source_is_builtin(self) -> bool:
        source = self.source_edit.text().strip()
        return bool(source) and source_kind(source) is SourceKind.BUILTIN

    def _update_encoding_enabled(self) -> None:
        """Encoding is for the user's own files. A Hub dataset is read as its builder says; a built-in sample is UTF-8
        as shipped, and an encoding chosen for it could only garble it. Disabled, the value stays: a built-in sample
        with one loaded from a config keeps the box enabled (it is read with it), so that it can be cleared."""
        source = self.source_edit.text().strip()
        kind = source_kind(source) if source else SourceKind.LOCAL
        builtin = kind is SourceKind.BUILTIN
        enabled = kind is SourceKind.LOCAL or (builtin and bool(self.encoding_combo.currentText().strip()))
        self.encoding_combo.setEnabled(enabled)
        self.encoding_combo.setToolTip(self._fields["dataset.encoding"].tooltip if enabled and not builtin
                                       else BUILTIN_ENCODING if builtin else "Only used for local files.")

    def _update_encoding_hint(self) -> None:
        current = self.encoding_combo.currentText().strip()
        if self._source_is_builtin():
            text = (f"The built-in samples are UTF-8: read as {current}, their text may look garbled. To fix: clear "
                    "the encoding." if current else BUILTIN_ENCODING)
        elif current and current == self._detected_encoding:
            unsaved = "" if current == self._file_encoding else (
                "Filled in, not yet saved in the config (hence the * in the title): save to keep it. ")
            text = (f"Detected {current}: the file is not UTF-8, so it is read as {current}. {unsaved}Check in the "
                    "preview that accented letters look right.")
        elif current:
            text = f"Files are read as {current}."
        else:
            text = "Detected when the file is opened; choose one only if its text looks garbled."
        self.encoding_hint.setText(text)

    def _update_sample_by(self) -> None:
        """Row splitting applies to .txt files only: enabled when the source is one, or a folder of them."""
        source = self.source_edit.text().strip()
        text = self._preview_format == "text" and self._preview_source == source
        from pathlib import Path

        from finetune_studio.core.data import data_suffix  # rows.txt.gz is a .txt file too

        suffix = data_suffix(Path(source)) if source else ""
        enabled = text or suffix == ".txt"
        self.sample_by_combo.setEnabled(enabled)
        self.sample_by_combo.setToolTip(self._fields["dataset.sample_by"].tooltip if enabled
                                        else "Only for .txt files, or a folder of them.")
        csv_source = (self._preview_format == "csv" and self._preview_source == source) or \
            suffix in (".csv", ".tsv")
        self.delimiter_combo.setEnabled(csv_source)
        self.delimiter_combo.setToolTip(self._fields["dataset.delimiter"].tooltip if csv_source
                                        else "Only for CSV files (.csv, .tsv), or a folder of them.")

    def _model_problem(self) -> str | None:
        """What the model value is when it names no one model (a YAML list kept as written, a mapping, nothing), for
        the jobs that read its tokenizer: they are skipped and say so, instead of asking load_tokenizer for a model
        "[a, b]" (it fell over the list: AttributeError: 'list' object has no attribute 'strip'). None: one model."""
        return not_one_model(self._model_config.name_or_path) if self._model_config is not None else None

    # ---- statistics
    def _statistics_key(self) -> tuple | None:
        if self._model_config is None:
            return None
        ds, model = self.dataset_config(), self._model_config
        return (ds.source, ds.name, ds.split, ds.text_column, ds.encoding, ds.delimiter, ds.sample_by,
                model.name_or_path, model.revision, model.trust_remote_code)

    def _schedule_statistics(self) -> None:
        if self._model_config is not None:
            self._stats_timer.start()

    def _recompute_statistics(self) -> None:
        self._stats_key = None
        if self.effective_format() != "text":  # chat rows: the lengths come with the row checks
            self._checks_key = None
            self._start_checks()
            return
        self._start_statistics()

    def _start_statistics(self) -> None:
        key = self._statistics_key()
        if key is None:
            return
        problem = self._model_problem()
        if problem:  # no tokenizer to count with, whatever the dataset: said at once, no job
            self._stats_waiting = False
            self._clear_statistics(f"{problem}: no token statistics. {MODEL_FIX} to count tokens.")
            self.stats_refresh_button.setEnabled(False)
            return
        if self._preview_timer.isActive() or self.preview_task.busy:
            self._stats_waiting = True
            return
        if key == self._stats_key:
            return  # shown already, or on its way
        dataset, model = self.dataset_config(), self._model_config
        if not dataset.source or not dataset.text_column:
            return
        # Say locally what the job would only find out after loading everything.
        if not self._preview_ok:
            self._clear_statistics("Token statistics appear once the dataset can be read.")
            return
        from finetune_studio.core.data import real_column

        if self.effective_format() == "text" and self._columns and \
                real_column(self._columns, dataset.text_column) is None:
            self._clear_statistics(f"No column '{visible_name(dataset.text_column)}' in this dataset; pick one of "
                                   f"{', '.join(visible_name(c) for c in self._columns)}.")
            return
        if self.effective_format() != "text":
            return  # rendered lengths come with the row checks (_checks_ready): a chat row is more than a column
        self._stats_key = key
        self.stats_error_label.hide()
        self.stats_label.setText("Counting tokens…")
        self.stats_detail.setText("")
        self.stats_refresh_button.setEnabled(False)
        self.stats_task.submit(compute_statistics, dataset, model)

    def _statistics_ready(self, result: LengthStats) -> None:
        self._stats = result
        self.stats_error_label.hide()
        self.stats_refresh_button.setEnabled(True)
        stats = result.stats
        self.histogram.set_histogram(stats.bin_edges, stats.counts)
        sampled = f" (sample of {stats.sampled:,} rows)" if stats.sampled < stats.rows else ""
        self.stats_detail.setText(f"Mean {stats.mean:.0f} · median {stats.median:.0f} · 95th percentile "
                                  f"{stats.p95:.0f} · longest {stats.longest:,} tokens{sampled}")
        self._update_truncation_label()

    def _clear_statistics(self, message: str) -> None:
        self.stats_task.cancel()
        self._stats, self._stats_key = None, None
        self.histogram.clear()
        self.stats_label.setText(message)
        self.stats_detail.setText("")
        self.stats_error_label.hide()

    def _statistics_failed(self, exc: BaseException) -> None:
        self._stats = None
        self._stats_key = None  # let the next refresh try again
        self.stats_refresh_button.setEnabled(True)
        self.histogram.clear()
        self.stats_label.setText("No token statistics.")
        self.stats_detail.setText("")
        self.stats_error_label.setText(describe_error(exc, "counting tokens"))
        self.stats_error_label.show()

    def truncated_count(self, max_length: int) -> int | None:
        """Rows longer than max_length, from the cached lengths (scaled up when they were a sample)."""
        if self._stats is None:
            return None
        lengths, stats = self._stats.lengths, self._stats.stats
        over = len(lengths) - bisect.bisect_right(lengths, max_length)
        return round(over * stats.rows / len(lengths)) if lengths else 0

    def _max_length_changed(self, value: int) -> None:
        self._edited()
        self._update_truncation_label()

    def _update_truncation_label(self) -> None:
        max_length = self.max_length_spin.value()
        count = self.truncated_count(max_length)
        if count is None:
            return
        self.histogram.set_max_length(max_length)
        rows = self._stats.stats.rows if self._stats else 0
        approx = "≈ " if self._stats and self._stats.stats.sampled < rows else ""
        if self.truncation_check.isChecked():
            text = f"{approx}{count:,} of {rows:,} rows will be truncated at max_length ({max_length:,} tokens)."
        else:
            text = (f"{approx}{count:,} of {rows:,} rows are longer than max_length ({max_length:,} tokens); "
                    "truncation is off, so they are kept whole.")
        self.stats_label.setText(text)

    def _update_test_size_hint(self) -> None:
        value = self.test_size_spin.value()
        self.test_size_hint.setText(f"{value:.0%} of rows held out for evaluation" if value > 0
                                    else "no evaluation split")

    # ---- format, template and what is trained (config.chat)
    def effective_format(self) -> str:
        """The format a run would read the rows in: the chosen one, or the one detected in the preview."""
        chosen = self.format_combo.currentData()
        if chosen != "auto" and self._known_format(chosen):
            return chosen
        return self._detection.format if self._detection is not None else "text"

    @staticmethod
    def _known_format(value: Any) -> bool:
        """A chat.format the app reads: a loaded config's typo ('chats') or a list ('[text]') is kept in the combo
        to be stored as written (validation names it at the field), but the form reads the rows as 'auto' would:
        looked up as a format it raised KeyError or TypeError and the tab failed to load the config."""
        return isinstance(value, str) and value in FORMAT_NAMES

    def detection(self) -> Detection | None:
        return self._detection

    def _format_unread(self) -> bool:
        """The combo holds a loaded chat.format the app does not read (a typo, a list): the hint says so."""
        chosen = self.format_combo.currentData()
        return chosen != "auto" and not self._known_format(chosen)

    def _mark_unknown_format(self) -> None:
        """The hint under Row format is the field's message while it says the format is none the app reads: red,
        as the message line is; back to a muted hint once a format is picked."""
        role = "error" if self._format_unread() else None
        if self.format_hint.property("role") != role:
            self.format_hint.setProperty("role", role)
            self.format_hint.style().unpolish(self.format_hint)
            self.format_hint.style().polish(self.format_hint)
        self._refresh_mark("chat.format")

    def _refresh_mark(self, key: str) -> None:
        """A chat.format the app does not read is said once, by the hint under the box (it names the value and
        what to do, in the tab's words: "'chatml_typo' is not a row format, so the run cannot start: pick one
        above."): validation's line about the same value ("chat.format must be one of auto, text, …") said it again
        beneath. The box keeps its red border, and its tooltip validation's words; the header lists them."""
        unchecked = {"dataset.text_column": getattr(self, "_column_unchecked", None),
                     "chat.columns": getattr(self, "_chat_columns_unchecked", None)}.get(key)
        if unchecked and self._source_refused():  # the one real problem is under Dataset: said short here
            unchecked = UNREAD_COLUMN
        if unchecked and key in self._fields:
            error = self._input_errors.get(key) or self._external.get(key)
            warning = "\n".join(filter(None, (self._warnings.get(key), unchecked)))
            self.mark(key, error, warning=None if error else warning)
            return
        if key != "chat.format" or key not in self._fields or not self._format_unread():
            super()._refresh_mark(key)
            return
        field = self._fields[key]
        message = self._input_errors.get(key) or self._external.get(key) or self.format_hint.text()
        set_problem(field.widget, message, field.tooltip)
        if isinstance(field.error, QLabel):  # made: hide what it said of the format shown before
            field.error.setText("")
            field.error.hide()

    def _format_changed(self) -> None:
        self._stats_key = None  # the lengths shown were of the other format's rows (text column or rendered)
        self._update_format()
        self._mark_missing_column()  # chat rows map their columns: the text column is not theirs
        self._chat_edited()
        self._schedule_statistics()

    def _chat_edited(self, *_: Any) -> None:
        self._edited()
        self._announce_chat()
        self._schedule_checks()
        self._schedule_template()

    def _update_format(self) -> None:
        """Format hint, column boxes for the format's parts, and which rows apply (text column or chat settings)."""
        fmt = self.effective_format()
        self._show_format_hint()
        self._build_column_boxes(fmt)
        chat = fmt != "text"
        for caption in self._chat_rows:
            self.set_row_visible(self._format_layout, caption, chat)
        self.set_row_visible(self._text_layout, self._text_column_caption, not chat)  # chat rows map columns
        if not chat:
            self._checks_stop.set()  # row checks of chat settings no longer apply
            self.checks_task.cancel()
            self._checks, self._checks_key = None, None
            self.template_hint.setText("Plain text has no chat template: every token is trained, as in the seed.")
            self._say_checks("")  # nothing to check: the Inspector button above says where the tokens are
            self.checks_warning.hide()
        elif self._model_config is None:  # chat rows before the warm-up ends: no tokenizer to read or check with
            self.template_hint.setText(self._template_before_stack())
            if not self.checks_label.text():
                self._say_checks(CHECKS_WAIT)
        self._schedule_template()
        self._announce_chat()

    def _source_refused(self) -> bool:
        """The Dataset field shows an error (the form's own, or validation's: an archive of two data files)."""
        return bool(self._input_errors.get("dataset.source") or self._external.get("dataset.source"))

    def _show_format_hint(self) -> None:
        fmt = self.effective_format()
        detection = self._detection
        chosen = self.format_combo.currentData()
        if chosen == "auto" and detection is None and self._columns_unknown:  # the preview failed: no rows to read
            text = UNREAD_FORMAT.format(where="Dataset" if self._source_refused() else "Preview")
        elif chosen == "auto":
            text = (f"Detected: {FORMAT_NAMES[detection.format]} — {detection.reason}." if detection is not None
                    else "Detected from the first rows once the preview has loaded.")
        elif not self._known_format(chosen):
            shown = f"'{chosen}'" if isinstance(chosen, str) else as_written(chosen)  # [text], not ['text']
            text = f"{shown} is not a row format, so the run cannot start: pick one above."
        else:
            text = f"Rows are read as {FORMAT_NAMES[fmt]}."
            if detection is not None and detection.format != fmt:
                text += f" The data looks like {FORMAT_NAMES[detection.format]} ({detection.reason})."
        self.format_hint.setText(text)
        self._mark_unknown_format()

    def show_problems(self, problems: list[Any]) -> None:
        """As every form's; the Row format hint says where the reason an unread source is given, which a
        validation error under Dataset can change."""
        super().show_problems(problems)
        self._show_format_hint()
        self._say_preview_error()

    def _say_checks(self, text: str) -> None:
        """The row checks' line under the Inspector button; hidden while it has nothing to say (plain text)."""
        self.checks_label.setText(text)
        self.checks_label.setVisible(bool(text))

    def chat_rows(self) -> ChatRows | None:
        """The chat settings shown with the preview's rows (whether they are chats rendered with a template is
        core.chat.template_chat's to say, off this thread); None when the rows are read as plain text."""
        if self.effective_format() == "text":
            return None
        return ChatRows(self.chat_config(), list(self._preview_rows), list(self._columns))

    def _announce_chat(self) -> None:
        rows = self.chat_rows()
        if rows != self._chat_rows_sent:
            self._chat_rows_sent = rows
            self.chat_changed.emit(rows)

    def _columns_in_use(self, fmt: Any) -> dict[str, str]:
        """chat.columns as saved: the parts of `fmt` (core.chat.columns_in_use), and the tools column only for rows
        read as turns: its box is hidden for alpaca and plain text, so a mapping kept from another format would be
        the unused_parts_note a window user could not act on."""
        columns = columns_in_use(self._chat_columns, fmt)
        if self._known_format(fmt) and fmt not in TOOLS_FORMATS:
            columns.pop(TOOLS_PART, None)
        return columns

    @staticmethod
    def _column_parts(fmt: str) -> list[str]:
        """The parts a format's rows are read by, one box each: the format's own, then the optional tools column
        of the rows read as turns (core.chat.TOOLS_PART)."""
        parts = [] if fmt == "text" else list(FORMAT_PARTS.get(fmt, {}))
        return parts + [TOOLS_PART] if fmt in TOOLS_FORMATS else parts

    @staticmethod
    def _optional_part(fmt: str, part: str) -> bool:
        return part in OPTIONAL_PARTS.get(fmt, ()) or part == TOOLS_PART

    def _build_column_boxes(self, fmt: str) -> None:
        parts = self._column_parts(fmt)
        if [self.columns_grid.itemAtPosition(r, 0).widget().property("part")
                for r in range(self.columns_grid.rowCount()) if self.columns_grid.itemAtPosition(r, 0)] == parts \
                and all(self._combo_columns(c) == self._columns for c in self.column_combos.values()):
            self._select_column_boxes()
            return
        while self.columns_grid.count():
            item = self.columns_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.column_combos = {}
        for row, part in enumerate(parts):
            optional = self._optional_part(fmt, part)
            label = QLabel(part + (" (optional)" if optional else ""))
            label.setProperty("part", part)
            combo = narrow_combo(QComboBox(), 14)
            combo.setObjectName(f"column_{part}")
            combo.addItem("", None)
            for name in self._columns:
                combo.addItem(visible_name(name), name)
            combo.currentIndexChanged.connect(lambda _=0, p=part, c=combo: self._column_picked(p, c))
            self.columns_grid.addWidget(label, row, 0)
            self.columns_grid.addWidget(combo, row, 1)
            self.column_combos[part] = combo
        self.columns_grid.setColumnStretch(1, 1)
        guard_wheel(self.columns_host)
        self._select_column_boxes()

    @staticmethod
    def _combo_columns(combo: QComboBox) -> list[str]:
        return [combo.itemData(i) for i in range(1, combo.count())]

    def _select_column_boxes(self) -> None:
        """Each part's box shows the mapped column, or "automatic: <the column detected>"."""
        detected = self._detection.columns if self._detection is not None else {}
        fmt = self.effective_format()

        if self._preview_rows:
            chat = ChatConfig(format=fmt, columns={})
            detected = resolve_format(chat, self._preview_rows, self._columns).columns
        with self.loading():
            for part, combo in self.column_combos.items():
                found = detected.get(part)
                combo.setItemText(0, f"automatic: {visible_name(found)}" if found else
                                  "automatic: unknown (no preview)" if self._columns_unknown or not self._preview_ok
                                  else
                                  "automatic: none found")
                mapped = self._chat_columns.get(part)
                if mapped is None:
                    combo.setCurrentIndex(0)
                else:
                    set_combo_value(combo, mapped)
        missing = [p for p in self.column_combos if not self._optional_part(fmt, p)
                   and self.column_combos[p].currentData() is None and not detected.get(p)]
        self.columns_hint.setText(f"Pick the column that holds {', '.join(missing)}." if missing and self._columns
                                  else "" if not self.column_combos else
                                  "Which column plays each part; automatic picks the usual names.")
        self._set_chat_columns_unchecked(self._chat_columns_note())

    def _detect(self) -> None:
        """The format 'auto' reads the preview rows in, as a run decides it (core.chat.resolve_format): the rows'
        columns, or the parts chat.columns maps when the rows alone say another format."""
        chat = ChatConfig(format="auto", columns=dict(self._chat_columns))
        self._detection = resolve_format(chat, self._preview_rows, self._columns) if self._preview_rows else None

    def _column_picked(self, part: str, combo: QComboBox) -> None:
        if self._loading:
            return
        getattr(self, "_kept", {}).pop("chat.columns", None)  # the user maps the columns now
        value = combo.currentData()
        if value is None:
            self._chat_columns.pop(part, None)
        else:
            self._chat_columns[part] = value
        if self.format_combo.currentData() == "auto":
            self._detect()
        self._select_column_boxes()  # the hint follows
        self._chat_edited()

    def chat_config(self) -> ChatConfig:
        config = RunConfig()
        self.store(config)
        return config.chat

    def _run_config(self) -> RunConfig | None:
        """What the Inspector and the row checks look at: this form's settings with the model's."""
        if self._model_config is None:
            return None
        config = RunConfig()
        self.store(config)
        config.model = dataclasses.replace(self._model_config)
        return config

    # ---- template note (the tokenizer only)
    def _template_before_stack(self) -> str:
        """The template hint before the warm-up has loaded a tokenizer: a template picked by name is known now; only
        'auto' (the model's own) waits for the tokenizer."""
        picked = self.chat_config().template
        return f"Rows are rendered with the {picked} chat template." if picked in NAMED_TEMPLATES else TEMPLATE_WAIT

    def _schedule_template(self) -> None:
        if self.effective_format() == "text":
            return
        if self._model_config is None:
            self.template_hint.setText(self._template_before_stack())
            return
        problem = self._model_problem()
        if problem:  # no tokenizer whose template could be read
            self.template_task.cancel()
            self._template_key = None  # one model named next is read, whichever it is
            self.template_hint.setProperty("chatml", False)
            self.template_hint.setText(f"{problem}: no chat template to read. {MODEL_FIX} to see which template "
                                       "renders the rows.")
            return
        key = (self._model_config.name_or_path, self._model_config.revision, self.template_combo.currentData())
        if key == self._template_key:
            if not self.template_task.busy:  # other rows (tools or none), or chat rows again after plain text
                self._show_template_note()
            return
        self._template_key, self._template_result = key, None
        self.template_hint.setText("Reading the model's tokenizer…")
        self.template_task.submit(resolve_chat_template, dataclasses.replace(self._model_config), self.chat_config())

    def _template_ready(self, result: tuple[str, str]) -> None:
        self._template_result = result
        self._show_template_note()

    def _show_template_note(self) -> None:
        """The template read, and for rows with a tools column under ChatML where the tools and the calls go."""
        if self._template_result is None or self.effective_format() == "text":
            return
        name, note = self._template_result
        if note == CHATML_NOTE:
            text = ("ChatML is used: this model's tokenizer has no chat template. Pick another one here if the model "
                    "was trained with it.")
        else:
            text = f"Rows are rendered with {note}."
        if name == "chatml" and self._rows_have_tools():
            text += f" {CHATML_TOOLS}"
        self.template_hint.setText(text)
        self.template_hint.setProperty("chatml", note == CHATML_NOTE)

    def _rows_have_tools(self) -> bool:
        """The preview rows, read as a run reads them, have a tools column (found, or mapped in chat.columns)."""
        if not self._preview_rows:
            return False
        try:
            detection = resolve_format(self.chat_config(), self._preview_rows, self._columns)
        except Exception:  # noqa: BLE001 - a format the app does not read: its hint says so
            return False
        return TOOLS_PART in detection.columns

    def _template_failed(self, exc: BaseException) -> None:
        self._template_key, self._template_result = None, None
        self.template_hint.setText(describe_error(exc, "reading the chat template"))

    # ---- whole-dataset row checks (core.inspector; cached)
    def _checks_settings(self) -> tuple | None:
        config = self._run_config()
        if config is None:
            return None
        return (repr(config.dataset), repr(config.model), repr(config.chat))

    def _schedule_checks(self, *_: Any) -> None:
        if self._model_config is not None and self.effective_format() != "text":
            self._checks_timer.start()

    def _start_checks(self) -> None:
        problem = self._model_problem()
        if problem and self.effective_format() != "text":  # the rows are rendered with its tokenizer: none to use
            self._checks_stop.set()  # a job of the model before ends at its next row, its outcome dropped
            self.checks_task.cancel()
            self._checks, self._checks_key = None, None
            self.checks_warning.hide()
            self._say_checks(f"{problem}: the rows are not checked. {MODEL_FIX} to check every row.")
            return
        if self._preview_timer.isActive() or self.preview_task.busy:
            self._checks_timer.start()  # after the preview: it may change the detected format
            return
        config = self._run_config()
        if config is None or not self._preview_ok or self.effective_format() == "text":
            return
        key = self._checks_settings()
        if key == self._checks_key:
            return
        self._checks_key = key
        self._checks_stop.set()  # the job of older settings ends at its next row
        self._checks_stop = threading.Event()
        self._checks = None
        self.checks_warning.hide()
        self._say_checks("Checking every row…")
        self.stats_label.setText("Token lengths come with the row checks…")
        self.checks_task.submit(check_dataset, config, self._checks_progress.report, self._checks_stop)

    def _checks_progressed(self, done: int, total: int) -> None:
        if self.checks_task.busy and total:
            self._say_checks(f"Checking every row… {done:,} of {total:,}")

    def _checks_ready(self, checks: Any) -> None:
        if checks is None:
            return  # stopped: newer settings are being checked
        from finetune_studio.core.inspector import checks_summary, length_stats

        self._checks = checks
        self._say_checks(checks_summary(checks))
        warning = self.start_warning()
        problems = checks.problems(self.chat_config())
        shown = warning or (problems[0].message if problems else "")
        self.checks_warning.setText(shown)
        self.checks_warning.setVisible(bool(shown))
        if self.effective_format() != "text" and checks.rows:
            lengths = sorted(checks.counts["total"][checks.counts["failed"] == 0].tolist())
            self._statistics_ready(LengthStats(stats=length_stats(checks), lengths=lengths))

    def _checks_failed(self, exc: BaseException) -> None:
        self._checks_key = None
        self._say_checks(describe_error(exc, "checking the rows"))

    def inspector_checks_ready(self, checks: Any) -> None:
        """Checks the Inspector window computed for the settings shown here count as this form's too."""
        if self.inspector_window is not None and self._checks_settings() == self._inspected:
            self.checks_task.cancel()
            self._checks_key = self._inspected
            self._checks_ready(checks)

    def start_warning(self) -> str | None:
        """What Start should ask about: rows on which these settings would train nothing (None: nothing)."""
        checks = self._checks
        if checks is None or self.drop_untrained_check.isChecked() or self.effective_format() == "text":
            return None
        if self._checks_key != self._checks_settings():
            return None
        count = checks.untrained_count()
        if not count:
            return None
        problems = [p for p in checks.problems(self.chat_config()) if p.severity == "error"]
        detail = " ".join(p.message for p in problems)
        return (f"{count:,} of {checks.rows:,} rows would train nothing with these settings. {detail} Or turn on "
                "“Leave out rows that would train nothing” (chat.drop_untrained_rows).")

    # ---- the Inspector window
    def open_inspector(self) -> None:
        config = self._run_config()
        if config is None:
            config = RunConfig()
            self.store(config)
        from finetune_studio.gui.inspector import InspectorWindow

        if self.inspector_window is None:
            self.inspector_window = InspectorWindow(config, self)
            self.inspector_window.fix_requested.connect(self.apply_fix)
            self.inspector_window.checks_ready.connect(self.inspector_checks_ready)
            self.inspector_window.finished.connect(self._inspector_closed)
        else:
            self.inspector_window.set_config(config)
            self.inspector_window.raise_()  # open already: bring it to the front
        self._inspected = self._checks_settings()
        self.inspector_window.show()

    def _refresh_inspector(self) -> None:
        """The open Inspector follows the settings after a fix (from the cache when checked before)."""
        config = self._run_config()
        if self.inspector_window is not None and config is not None:
            self.inspector_window.set_config(config)
            self._inspected = self._checks_settings()

    def _inspector_closed(self) -> None:
        window, self.inspector_window = self.inspector_window, None
        if window is not None:
            window.deleteLater()

    def apply_fix(self, overrides: dict[str, Any]) -> None:
        """A fix from the Inspector: set the fields it names (the user's edit, as if typed), then inspect again."""
        for key, value in overrides.items():
            if key == "dataset.max_length":
                self.max_length_spin.setValue(int(value))
            elif key == "chat.drop_untrained_rows":
                self.drop_untrained_check.setChecked(bool(value))
            elif key == "chat.train_on":
                set_combo_value(self.train_on_combo, value)
            elif key == "chat.template":
                set_combo_value(self.template_combo, value)
            elif key == "chat.format":
                set_combo_value(self.format_combo, value)
        self._refresh_inspector()
