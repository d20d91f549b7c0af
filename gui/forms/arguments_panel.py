""""All arguments": an editor for every TrainingArguments field the Training form does not show.

The rows are generated from the installed TrainingArguments dataclass (`populate(training_fields())`), so a new
transformers version brings its new fields without code changes here. The window builds them in steps
(`populate_in_steps`): ~100 rows at once held the GUI thread 0.1-0.6 s. A key is written to config.training only
when it differs from the library default (or was in the loaded config); "reset" removes it again.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import time
import types
import typing
from collections import deque
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.config import (
    ELSEWHERE_TRAINING_KEYS,
    FOLDED_TRAINING_KEYS,
    RENAMED_TRAINING_KEYS,
    RunConfig,
    is_token_key,
)
from finetune_studio.gui.forms.common import (
    LABEL_SPACING,
    TRAINING_FORM_KEYS,
    Form,
    NumberEdit,
    WheelGuard,
    as_written,
    error_label,
    format_number,
    framed,
    hint_label,
    label_column_width,
    number_problem,
    page_layout,
)

# Not shown: TrainingForm's keys (one editor per key), deprecated aliases of renamed fields, and the Hub token
# (a secret must not end up in a YAML file; the Hub menu handles login).
HIDDEN_KEYS = frozenset(TRAINING_FORM_KEYS) | frozenset(RENAMED_TRAINING_KEYS) | {"hub_token"}
# Where the filter sends a search for a key this tab does not list (the user searched "learning rate" and read only
# "No argument matches the filter."): the Training tab's keys by their labels there.
TRAINING_TAB_LABELS = {
    "num_train_epochs": "Epochs", "per_device_train_batch_size": "Batch size per device",
    "gradient_accumulation_steps": "Gradient accumulation", "activation_checkpointing": "Memory",
    "bf16": "Precision", "fp16": "Precision", "learning_rate": "Learning rate", "logging_steps": "Log every (steps)",
    "eval_strategy": "Evaluate", "save_strategy": "Save checkpoints", "load_best_model_at_end": "Best model",
}
ACCENT = "#1a73e8"
UNSET_LABEL = "not set (default)"
HELP_PLACEHOLDER = "Select an argument to read its description here."  # the help line when no listed row is focused


# ---- what editor a field gets

@dataclass
class ArgSpec:
    name: str
    kind: str  # "bool" | "int" | "float" | "str" | "choice" | "yaml"
    optional: bool  # None is a meaningful value ("not set")
    choices: list[str]
    default: Any
    help: str
    type_text: str
    known: bool = True  # False: a key in the config that the installed TrainingArguments lacks


def _plain_default(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def spec_of(field: dataclasses.Field) -> ArgSpec:
    """Pick an editor kind from the annotation: Enum in a union -> choice, one scalar -> that scalar, else YAML."""
    if field.default is not dataclasses.MISSING:
        default = _plain_default(field.default)
    elif field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    else:
        default = None
    annotation = field.type
    args = list(typing.get_args(annotation)) if typing.get_origin(annotation) in (typing.Union, types.UnionType) \
        else [annotation]
    optional = type(None) in args or default is None
    args = [a for a in args if a is not type(None)]
    choices: list[str] = []
    meta_choices = field.metadata.get("choices")
    enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
    literals = [a for a in args if typing.get_origin(a) is typing.Literal]
    if meta_choices:
        kind, choices = "choice", [str(c) for c in meta_choices]
    elif enums and all(a is str or a in enums for a in args):
        kind, choices = "choice", [str(m.value) for m in enums[0]]
    elif literals and len(args) == 1 and all(isinstance(v, str) for v in typing.get_args(literals[0])):
        kind, choices = "choice", list(typing.get_args(literals[0]))
    elif len(args) == 1 and args[0] in (bool, int, float, str):
        kind = args[0].__name__
    else:
        kind = "yaml"
    type_text = _type_text(field.type)
    return ArgSpec(field.name, kind, optional, choices, default, str(field.metadata.get("help", "")).strip(),
                   type_text)


def _type_text(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation)
    for noise in ("typing.", "transformers.trainer_utils.", "transformers.training_args.",
                  "transformers.debug_utils.", "accelerate.parallelism_config.", "NoneType"):
        text = text.replace(noise, "None" if noise == "NoneType" else "")
    return text


def same_value(a: Any, b: Any) -> bool:
    """Equal as config values: 0 == 0.0, but True is not 1."""
    a, b = _plain_default(a), _plain_default(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


_PLAIN = re.compile(r"[A-Za-z_][\w\-]*\Z")


def searchable(text: str) -> str:
    """Text as the filter compares it: lower case, an underscore read as a space (a name's words are words)."""
    return text.lower().replace("_", " ")


def yaml_text(value: Any) -> str:
    """How a YAML-edited value is shown: strings bare when that reads back the same, else flow-style YAML."""
    from finetune_studio.core.config import yaml_load

    if value is None:
        return ""
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in ("null", "true", "false"):
        return value  # reads back as the same string; skips a YAML round trip per row while populating
    if isinstance(value, str):
        try:
            if yaml_load(value) == value:
                return value
        except Exception:  # noqa: BLE001 - any parse failure: quote it
            pass
    return as_written(value)  # keys in the file's order ({host: ..., port: ...}), as the config file writes it


def yaml_problem(text: str, problem: str, type_text: str) -> str:
    """What is wrong with text typed into a YAML-edited row, in the user's words: the text as written, an unclosed
    bracket named as such (the parser says "expected the node content, but found '<stream end>'"), and what to write.
    type_text: the field's type as the row's tooltip shows it (dict | str | None)."""
    mapping, sequence = "dict" in type_text, "list" in type_text
    example = "{key: value}" if mapping and not sequence else "[a, b]" if sequence and not mapping else \
        "a value, [a, b] or {key: value}"
    for opening, closing in (("{", "}"), ("[", "]")):
        if text.count(opening) > text.count(closing):
            return (f"'{text}' is not valid YAML: its {opening} is never closed. To fix: close it with {closing}, "
                    f"as in {example}, or clear the field to use the default.")
    return (f"'{text}' is not valid YAML ({problem.strip().rstrip('.')}). To fix: write it as in {example}, or clear "
            "the field to use the default.")


ROW_SPACING = 8  # between a row's marker, name, editor and reset button
# populate_in_steps: one event-loop turn builds rows for about STEP_MS (a row takes ~1 ms shown, several on a busy
# 2-core machine), and never more than STEP_ROWS of them.
STEP_MS = 8.0
STEP_ROWS = 10

# ---- one row

class ArgRow(QWidget):
    """Marker, name, editor, reset button and a red message line for one TrainingArguments field."""

    edited = Signal(str)
    reset_requested = Signal(str)

    def __init__(self, spec: ArgSpec, name_width: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.marker = QFrame()
        self.marker.setFixedWidth(3)
        self.name_label = QLabel(spec.name)
        self.name_label.setFixedWidth(name_width)
        bold = QFont(self.name_label.font())
        bold.setBold(True)  # a changed value's name is bold: wrap for that width
        if QFontMetrics(bold).horizontalAdvance(spec.name) > name_width - 6:
            # The name column is the other tabs' label column (their editors start at one x): a longer name goes
            # on two lines, broken after an underscore (a zero-width space there), whole rather than shortened.
            self.name_label.setText(spec.name.replace("_", "_\u200b"))
            self.name_label.setWordWrap(True)
        self.editor = self._make_editor()
        self.editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.editor.setMinimumWidth(90)
        self.reset_button = QToolButton()
        self.reset_button.setText("↺")
        self.reset_button.setAutoRaise(True)
        self.reset_button.setToolTip("Reset to the default (remove from the config)" if spec.known
                                     else "Remove this key from the config")
        self._error: QLabel | None = None  # made on first problem: most rows never need one
        tooltip = self.tooltip()
        self.name_label.setToolTip(tooltip)
        self.editor.setToolTip(tooltip)
        if not spec.known:
            self.name_label.setProperty("role", "error")

        self._grid = grid = QGridLayout(self)
        grid.setContentsMargins(0, 1, 0, 1)
        grid.setHorizontalSpacing(ROW_SPACING)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.marker, 0, 0, 2, 1)
        grid.addWidget(self.name_label, 0, 1)
        grid.addWidget(framed(self.editor), 0, 2)
        grid.addWidget(self.reset_button, 0, 3)
        grid.setColumnStretch(2, 1)
        self.reset_button.clicked.connect(lambda: self.reset_requested.emit(spec.name))
        self._haystack = searchable(f"{spec.name}\n{spec.help}")

    def error_label(self) -> QLabel:
        if self._error is None:
            self._error = error_label()
            self._grid.addWidget(self._error, 1, 1, 1, 3)
        return self._error

    def tooltip(self) -> str:
        spec = self.spec
        if spec.kind == "secret":
            return (f"{spec.name} holds an access token, which the app never shows, saves or uses. Remove it (↺) "
                    "and log in from the Hub menu instead.")
        if not spec.known:
            return (f"'{spec.name}' is not a TrainingArguments field of the installed transformers. "
                    "Fix the name or remove it.")
        default = "not set" if spec.default is None else repr(spec.default)
        return f"{spec.help}\n\nType: {spec.type_text} · default: {default}".strip()

    def matches(self, needle: str) -> bool:
        """True when every word of needle (searchable()'s) is in the row's name or help: "warmup steps" and
        "Warmup_Steps" find warmup_steps, as "warmup_steps" does (only that exact text found it)."""
        return all(word in self._haystack for word in needle.split())

    # -- editors
    def _make_editor(self) -> QWidget:
        spec, emit = self.spec, lambda *_: self.edited.emit(self.spec.name)
        if spec.kind == "bool" and not spec.optional:
            editor: QWidget = QCheckBox()
            editor.toggled.connect(emit)
        elif spec.kind in ("bool", "choice"):
            editor = QComboBox()
            if spec.optional:
                editor.addItem(UNSET_LABEL, None)
            values = [True, False] if spec.kind == "bool" else spec.choices
            for value in values:
                editor.addItem(str(value).lower() if isinstance(value, bool) else str(value), value)
            editor.activated.connect(emit)
        else:
            # Numbers are NumberEdits for ints too: a spin box or validator would drop "abc" or "1.5" silently;
            # here the text stays as typed and read() says what is wrong with it.
            editor = NumberEdit(integer=spec.kind == "int") if spec.kind in ("int", "float") else QLineEdit()
            editor.setPlaceholderText(self._placeholder())
            editor.textEdited.connect(emit)
            editor.setReadOnly(spec.kind == "secret")  # a token is never shown: the row is there to remove it
        return editor

    def _placeholder(self) -> str:
        if self.spec.kind == "secret":
            return "hidden token"
        default = self.spec.default
        if default is None:
            return "not set"
        shown = format_number(default) if self.spec.kind in ("int", "float") else yaml_text(default)
        return f"default: {shown}" if shown != "" else "default: empty"

    def show_value(self, value: Any) -> str | None:
        """Display value; returns a message when the editor cannot show it (a wrong type in the config)."""
        editor, kind = self.editor, self.spec.kind
        if isinstance(editor, QCheckBox):
            editor.blockSignals(True)
            editor.setChecked(value is True)  # ticked by bool(), 'no' (text to the app's YAML) showed as true
            editor.blockSignals(False)
            if isinstance(value, bool):
                return None
            return (f"{self.spec.name} must be true or false; the config holds {as_written(value)}"
                    + (", which YAML reads as text" if isinstance(value, str) else "")
                    + ". To fix: tick or untick the box, or write true or false in the file.")
        if isinstance(editor, QComboBox):
            index = editor.findData(value)
            if index < 0:
                # null in a list with no "not set" (lr_scheduler_type: null) is an entry of its own: the first
                # choice was shown (linear, or 'no' for logging_strategy) while the config held null.
                editor.addItem(str(value) if value is not None else "null  (as written)", value)
                index = editor.count() - 1
            editor.setCurrentIndex(index)
            return self._empty_message() if value is None and not self.spec.optional else None
        assert isinstance(editor, QLineEdit)
        if kind == "secret":
            editor.clear()
        elif kind in ("int", "float") and isinstance(value, (int, float)) and not isinstance(value, bool):
            editor.setText(format_number(value))
        elif kind == "str" and isinstance(value, str):
            editor.setText(value)
        elif isinstance(editor, NumberEdit) and isinstance(value, str) and number_problem(value, editor.integer):
            # Text that is no number (1.5 typed for a whole number, saved as the text '1.5'), as typed: quoted, the
            # field read "'1.5'" on reopening and its mark "''1.5'' is not a whole number". Text that reads as a
            # number ('8') keeps its quotes: they are what makes it text.
            editor.setText(value)
        else:
            editor.setText(yaml_text(value))
        if isinstance(editor, NumberEdit) and value is not None:
            return editor.problem()  # a config that holds "abc" or 1.5 for a whole number shows it, marked
        if value is None and not self.spec.optional and kind != "secret":
            # max_steps: null showed an empty field under "default: -1", as if the default applied; the config
            # held null, which validate passes and the Trainer cannot compare with 0.
            return self._empty_message()
        return None

    def _empty_message(self) -> str:
        spec = self.spec
        return (f"{spec.name} is empty in the file (null), and it has no 'not set': its default is "
                f"{as_written(spec.default)}. To fix: {'pick' if isinstance(self.editor, QComboBox) else 'write'} one "
                "here, or reset it (↺) to use the default.")

    def read(self) -> tuple[str, Any, str]:
        """("unset", None, "") | ("ok", value, "") | ("invalid", raw text, message)."""
        editor, kind = self.editor, self.spec.kind
        if isinstance(editor, QCheckBox):
            return "ok", editor.isChecked(), ""
        if isinstance(editor, QComboBox):
            value = editor.currentData()
            if value is None and not self.spec.optional:  # null as written (show_value), picked again
                return "invalid", None, self._empty_message()
            return ("unset", None, "") if value is None else ("ok", value, "")
        assert isinstance(editor, QLineEdit)
        text = editor.text().strip()
        if not text:
            return "unset", None, ""  # the default applies (for a field without one: validate() says so)
        if isinstance(editor, NumberEdit):
            problem = editor.problem()
            return ("invalid", text, problem) if problem else ("ok", editor.number(), "")
        if kind == "str":
            return "ok", text, ""
        from finetune_studio.core.config import yaml_load

        try:
            return "ok", yaml_load(text), ""
        except Exception as exc:  # noqa: BLE001 - yaml.YAMLError and friends
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            return "invalid", text, yaml_problem(text, problem, self.spec.type_text)

    def set_changed(self, changed: bool, is_set: bool) -> None:
        font = self.name_label.font()
        if font.bold() != changed:
            font.setBold(changed)
            self.name_label.setFont(font)
        self.marker.setStyleSheet(f"background: {ACCENT}; border-radius: 1px;" if changed else "")
        self.reset_button.setEnabled(is_set)


# ---- the panel

class ArgumentsPanel(Form):
    """Every other TrainingArguments field, searchable, with changed values marked and a reset per row."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._values: dict[str, Any] = {}  # the training keys this panel owns, as they go into the config
        self._specs: dict[str, ArgSpec] = {}
        self._rows: dict[str, ArgRow] = {}
        self._pending: deque[ArgSpec] = deque()  # rows populate_in_steps has still to build, in order
        self._focus_when_built: str | None = None  # field_widget() asked for a row not built yet
        self._build_timer = QTimer(self, interval=0)
        self._build_timer.timeout.connect(self._build_step)
        self.populate_ms: float | None = None  # GUI-thread time the rows took (all steps together)
        self.longest_step_ms: float | None = None  # the longest single step of populate_in_steps
        self._wheel_guard = WheelGuard(self)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name or help text…")
        self.filter_edit.setClearButtonEnabled(True)
        self.changed_only_check = QCheckBox("Show changed only")
        self.count_label = hint_label()
        self.count_label.setWordWrap(False)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.changed_only_check)

        self.placeholder = hint_label("Reading the TrainingArguments of the installed transformers…")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.rows_widget = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_widget)
        self.rows_layout.setContentsMargins(4, 4, 8, 4)
        self.rows_layout.setSpacing(2)
        self.rows_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.StyledPanel)
        self.scroll.setWidget(self.rows_widget)
        self.no_match = hint_label("No argument matches the filter.")
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match.hide()
        self.rows_layout.insertWidget(0, self.no_match)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.scroll)

        self.help_label = hint_label(HELP_PLACEHOLDER)
        self._help_row: str | None = None  # the row whose description help_label shows
        self.help_label.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        self.help_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        note = hint_label("Every TrainingArguments field of the installed transformers. Only values that differ "
                          "from the default are saved. Epochs, batch size, learning rate, precision and the "
                          "schedule are on the Training tab.")
        layout = page_layout(self)
        layout.addWidget(note)
        layout.addLayout(top)
        layout.addWidget(self.count_label)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.help_label)

        self.filter_edit.textChanged.connect(self._apply_filter)
        self.changed_only_check.toggled.connect(self._apply_filter)
        app = QApplication.instance()
        if app is not None:
            app.focusChanged.connect(self._focus_changed)
        self._update_count()

    # ---- contract
    def owns(self, field: str) -> bool:
        return field.startswith("training.") and field[len("training."):] not in TRAINING_FORM_KEYS

    def load(self, config: RunConfig) -> None:
        self._values = {k: v for k, v in config.training.items() if k not in TRAINING_FORM_KEYS}
        self._input_errors.clear()
        if self._specs:
            self._sync_unknown_rows()
            for name in self._rows:
                self._show(name)
            self._apply_filter()
        self._update_warnings()

    def store(self, config: RunConfig) -> None:
        for key in [k for k in config.training if k not in TRAINING_FORM_KEYS]:
            del config.training[key]
        config.training.update(self._values)

    # ---- populating
    def populate(self, fields: dict[str, dataclasses.Field]) -> None:
        """Build one row per TrainingArguments field now (call once, after the training stack is warm). Blocks for
        ~0.1-0.6 s on a 2-core machine: a shown window uses populate_in_steps."""
        self.setUpdatesEnabled(False)
        try:
            self._begin_build(fields)
            self._build_step(budget_ms=None)
        finally:
            self.setUpdatesEnabled(True)

    def populate_in_steps(self, fields: dict[str, dataclasses.Field]) -> None:
        """As populate, in steps: the first rows now, the others a few at a time on the next turns of the event
        loop, so the window keeps painting and answering. Meanwhile load, store, show_problems and the filter work
        as after populate: the values are kept and reach each row when it is built. `building` is True until the
        last row is in; finish_building() builds what is left at once."""
        self._begin_build(fields)
        self._build_step()
        if self._pending:
            self._build_timer.start()

    @property
    def building(self) -> bool:
        """True while populate_in_steps still has rows to build."""
        return bool(self._pending)

    def finish_building(self) -> None:
        """Build the rows populate_in_steps has not built yet, now."""
        if self._pending:
            self._build_step(budget_ms=None)

    def _begin_build(self, fields: dict[str, dataclasses.Field]) -> None:
        self._build_timer.stop()
        self._pending.clear()
        self.populate_ms = self.longest_step_ms = 0.0
        started = time.perf_counter()
        for row in list(self._rows.values()):
            self._remove_row(row.spec.name)
        self._specs = {name: spec_of(f) for name, f in fields.items() if name not in HIDDEN_KEYS}
        # The forms' label column, less what a row puts between its name and editor, so the editors start at the
        # other tabs' x; a longer name wraps (ArgRow).
        self._name_width = label_column_width(self) + LABEL_SPACING - ROW_SPACING
        self._pending.extend(self._specs.values())
        # While the list grows, a taller list repaints only what it adds (below the view), not the rows shown.
        self.rows_widget.setAttribute(Qt.WidgetAttribute.WA_StaticContents, True)
        self._update_count()
        self._sync_unknown_rows()  # the config's keys the installed TrainingArguments lacks: at the top, first
        for name in self._rows:
            self._show(name)
        self.stack.setCurrentWidget(self.scroll)
        self.populate_ms += (time.perf_counter() - started) * 1000

    def _build_step(self, budget_ms: float | None = STEP_MS) -> None:
        """Build pending rows for budget_ms (and at most STEP_ROWS of them); None: all of them."""
        started = time.perf_counter()
        built: list[str] = []
        # Each row shown in a shown list would lay out every row before it (QWidget.setVisible activates the
        # parent's layout), squeezed into the list's old height: the layout waits for the step's last row.
        self.rows_layout.setEnabled(False)
        try:
            while self._pending and (budget_ms is None or (
                    len(built) < STEP_ROWS and (time.perf_counter() - started) * 1000 < budget_ms)):
                spec = self._pending.popleft()
                if spec.name not in self._rows:
                    self._add_row(spec)
                    self._show(spec.name)
                    built.append(spec.name)
        finally:
            self.rows_layout.setEnabled(True)
        if built:
            # The list's new height at once: the scroll area would resize it a pass later, after laying the rows
            # out squeezed into the old height.
            height = self.rows_widget.sizeHint().height()
            if height > self.rows_widget.height():
                self.rows_widget.resize(self.rows_widget.width(), height)
            self.rows_layout.activate()
        if self._focus_when_built in built:
            self._focus_row(self._focus_when_built)
        if not self._pending:
            self._build_timer.stop()
            self._focus_when_built = None
            self._chain_tabs()
            self.rows_widget.setAttribute(Qt.WidgetAttribute.WA_StaticContents, False)
            self._apply_filter()
        spent = (time.perf_counter() - started) * 1000
        self.populate_ms = (self.populate_ms or 0.0) + spent
        self.longest_step_ms = max(self.longest_step_ms or 0.0, spent)

    def _chain_tabs(self) -> None:
        """Tab goes from the filter to the rows in their order, each editor then its reset button: rows built after
        the window was shown joined the window's focus chain at its end, so Tab went from "Show changed only" to
        the log and chart on the right, and reached the rows only after everything else."""
        previous: QWidget = self.changed_only_check
        for index in range(self.rows_layout.count()):
            row = self.rows_layout.itemAt(index).widget()
            if isinstance(row, ArgRow):
                for widget in (row.editor, row.reset_button):
                    QWidget.setTabOrder(previous, widget)
                    previous = widget

    def _focus_row(self, name: str) -> None:
        if self.isVisible():
            editor = self.field_widget(f"training.{name}")
            if editor is not None:
                editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def field_widget(self, key: str) -> QWidget | None:
        """The editor of key, made visible: the filter is cleared if it hides the row, and the list scrolls to it."""
        name = key.removeprefix("training.")
        row = self._rows.get(name)
        if row is None:
            if self._pending and name in self._specs:
                self._focus_when_built = name  # not built yet: focused (and revealed) when it is
            return None
        if row.isHidden():
            self.changed_only_check.setChecked(False)
            self.filter_edit.clear()
        self.scroll.ensureWidgetVisible(row)
        QTimer.singleShot(0, lambda: self.scroll.ensureWidgetVisible(row))  # again once the layout has settled
        return row.editor

    def row(self, name: str) -> ArgRow | None:
        """The row of name (None: no such row). A build in steps is finished first, so the row is there."""
        if self._pending and name not in self._rows:
            self.finish_building()
        return self._rows.get(name)

    def is_changed(self, name: str) -> bool:
        spec = self._specs.get(name)
        return name in self._values and (spec is None or not same_value(self._values[name], spec.default))

    def _add_row(self, spec: ArgSpec, at: int | None = None) -> ArgRow:
        row = ArgRow(spec, self._name_width)  # unparented until inserted: one style polish, not two
        if isinstance(row.editor, QComboBox):
            row.editor.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            row.editor.installEventFilter(self._wheel_guard)
        row.edited.connect(self._row_edited)
        row.reset_requested.connect(self._reset)
        self._rows[spec.name] = row
        self.rows_layout.insertWidget(self.rows_layout.count() - 1 if at is None else at, row)
        row.setVisible(self._passes_filter(spec.name, row))  # shown now (a shown list): its cost in this step
        self.register_field(f"training.{spec.name}", row.editor, row.error_label, row.tooltip())
        self._refresh_mark(f"training.{spec.name}")
        return row

    def _remove_row(self, name: str) -> None:
        if name == self._help_row:
            self._clear_help()
        row = self._rows.pop(name)
        self._fields.pop(f"training.{name}", None)
        self.rows_layout.removeWidget(row)
        row.deleteLater()

    def _sync_unknown_rows(self) -> None:
        """Keys in the config that the installed TrainingArguments does not have get a row at the top."""
        for name in [n for n, r in self._rows.items() if not r.spec.known and n not in self._values]:
            self._remove_row(name)
        for name in self._values:
            secret = is_token_key(name)  # hub_token in a loaded config: a row only to remove it (validate says why)
            if name not in self._specs and name not in self._rows and (name not in HIDDEN_KEYS or secret):
                spec = ArgSpec(name, "secret" if secret else "yaml", True, [], None, "", "unknown", known=False)
                self._add_row(spec, at=1)  # after the "no match" label
        for name, row in self._rows.items():
            if not row.spec.known and row.spec.kind != "secret":
                self.set_input_error(f"training.{name}", self._unknown_message(name))
        if not self._pending and self._rows:
            self._chain_tabs()  # a row added at the top (or removed) after the build

    def _unknown_message(self, name: str) -> str:
        """A key the installed TrainingArguments lacks, with the name it was most likely meant to be (core.config's
        nearest, as validate says it) and where that one is set: this message replaces validate's at the row."""
        from finetune_studio.core.config import nearest

        known = [*TRAINING_FORM_KEYS, *self._specs]
        hint = nearest(name, known)
        text = f"'{name}' is not a TrainingArguments field of the installed transformers."
        if name in FOLDED_TRAINING_KEYS and FOLDED_TRAINING_KEYS[name][0] in self._specs:
            new, how = FOLDED_TRAINING_KEYS[name]
            value = self._values.get(name)
            write = f" to {format_number(value)}" if isinstance(value, (int, float)) and not isinstance(
                value, bool) and 0 <= value < 1 else ""
            return f"{text} transformers 5 removed it: {new} {how}. To fix: remove it (↺) and set {new}{write} in " \
                   "its own row here."
        if name in ELSEWHERE_TRAINING_KEYS:  # a TRL key: where this app sets it (the CLI says the same)
            path, mode, whose = ELSEWHERE_TRAINING_KEYS[name]
            value = self._values.get(name)
            if value is False:
                return f"{text} It is {whose}; this app sets that in {path}, on the Dataset tab. To fix: remove " \
                       "it (↺)."
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            to = f" to {mode}" if mode else f" to {format_number(value)}" if number else ""
            return f"{text} It is {whose}; this app sets that in {path}. To fix: remove it (↺) and set {path}{to} " \
                   "on the Dataset tab."
        if hint is None:
            return f"{text} To fix: correct the name in the file, or remove it (↺)."
        where = "on the Training tab" if hint in TRAINING_FORM_KEYS else "in its own row here"
        return f"{text} Did you mean '{hint}'? To fix: remove it (↺) and set {hint} {where}."

    # ---- editing
    def _show(self, name: str) -> None:
        row = self._rows[name]
        value = self._values.get(name, row.spec.default)
        message = row.show_value(value)
        if row.spec.known:
            self.set_input_error(f"training.{name}", message)
        row.set_changed(self.is_changed(name), name in self._values)

    def _row_edited(self, name: str) -> None:
        row = self._rows[name]
        state, value, message = row.read()
        key = f"training.{name}"
        if state == "invalid":
            self._values[name] = value  # validate() names the field rather than training with a stale value
        elif state == "unset" or (row.spec.known and same_value(value, row.spec.default)):
            self._values.pop(name, None)
        else:
            self._values[name] = value
        if row.spec.known:
            self.set_input_error(key, message or None)
        row.set_changed(self.is_changed(name), name in self._values)
        self._update_count()
        if self.changed_only_check.isChecked():
            self._apply_filter()
        self._update_warnings()
        self._edited()

    def _update_warnings(self) -> None:
        """Warnings about the values set here (a trackio Space that makes the metrics public): amber, under the
        row, not blocking. core.validation.warnings_for decides, as for `finetune-studio validate`."""
        from finetune_studio.core.validation import warnings_for  # light (no training stack)

        config = RunConfig()
        self.store(config)
        self.set_warnings([w for w in warnings_for(config) if self.owns(w.field)])

    def _reset(self, name: str) -> None:
        if name not in self._values:
            return
        del self._values[name]
        row = self._rows.get(name)
        if row is None:  # not built yet (populate_in_steps): it shows the default when it is
            self._input_errors.pop(f"training.{name}", None)
        elif not row.spec.known:
            self._input_errors.pop(f"training.{name}", None)
            self._remove_row(name)
        else:
            self.set_input_error(f"training.{name}", None)
            self._show(name)
        self._apply_filter()
        self._update_warnings()
        self._edited()

    def reset(self, name: str) -> None:
        """Remove name from the config (the default applies), as the row's ↺ button does."""
        self._reset(name)

    # ---- filter and help
    def _passes_filter(self, name: str, row: ArgRow) -> bool:
        needle = searchable(self.filter_edit.text().strip())
        return (not needle or row.matches(needle)) and (not self.changed_only_check.isChecked() or name in self._values)

    def _elsewhere(self) -> list[str]:
        """What the filter's words name that this tab does not list, and where it is: a Training tab key, a key
        transformers renamed, one it folded into another (warmup_ratio), or a TRL key the Dataset tab sets."""
        words = searchable(self.filter_edit.text().strip()).split()
        if not words:
            return []
        hits = lambda key: all(word in searchable(key) for word in words)  # noqa: E731
        said: list[str] = []
        for key, label in TRAINING_TAB_LABELS.items():
            if hits(key):
                said.append(f"{key} is on the Training tab ({label}).")
        for old, new in RENAMED_TRAINING_KEYS.items():
            if hits(old):
                where = " (on the Training tab)" if new in TRAINING_TAB_LABELS else ""
                said.append(f"{old} is now {new}{where}." if new else f"{old} is gone from transformers 5.")
        for old, (new, how) in FOLDED_TRAINING_KEYS.items():
            if hits(old) and old not in self._specs and new in self._specs:
                said.append(f"{old} is gone from transformers 5: {new} {how}.")
        for old, (path, _mode, whose) in ELSEWHERE_TRAINING_KEYS.items():
            if hits(old) and old not in self._specs:
                said.append(f"{old} is {whose}: this app sets it in {path}, on the Dataset tab.")
        return said

    def _apply_filter(self, *_: Any) -> None:
        shown = 0
        for name, row in self._rows.items():
            visible = self._passes_filter(name, row)
            if row.isHidden() == visible:  # only touch rows that change: setVisible is costly
                row.setVisible(visible)
            shown += visible
        elsewhere = self._elsewhere() if self._rows and not self._pending else []
        none = bool(self._rows) and shown == 0 and not self._pending
        self.no_match.setText("\n".join((["No argument here matches the filter."] if none else []) + elsewhere))
        self.no_match.setVisible(none or bool(elsewhere))
        self._update_count(shown)
        if self._help_row is not None and (self._help_row not in self._rows or self._rows[self._help_row].isHidden()):
            self._clear_help()  # the description of a row the filter hid read as if it were of a row still listed

    def _update_count(self, shown: int | None = None) -> None:
        if self._pending:  # no count per step: a new text lays out and repaints the whole tab
            self.count_label.setText("Listing the arguments…")
            return
        if not self._rows:
            self.count_label.setText("")
            return
        total = len(self._rows)
        changed = sum(1 for name in self._rows if self.is_changed(name))
        visible = total if shown is None else shown
        prefix = f"{visible} of {total} arguments shown" if visible != total else f"{total} arguments"
        self.count_label.setText(f"{prefix} · {changed} changed from the default")

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        widget = new
        while widget is not None and not isinstance(widget, ArgRow):
            widget = widget.parentWidget()
        if isinstance(widget, ArgRow) and widget.window() is self.window():
            spec = widget.spec
            self.help_label.setText(f"<b>{spec.name}</b> — {_html(widget.tooltip())}")
            self._help_row = spec.name

    def _clear_help(self) -> None:
        self.help_label.setText(HELP_PLACEHOLDER)
        self._help_row = None


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
