"""Shared pieces of the left-side forms: the form base class with problem marks, and small editor widgets.

Every form follows one contract (`load`, `store`, `changed`, `show_problems`) so the main window can treat them
alike; the base class implements the problem marking and the "no `changed` while loading" rule once.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QPalette, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.config import (  # as_written: for the forms too
    RunConfig,
    as_written,
    field_help,
    parse_number,  # its inverse: None for text that is no finite number
)
from finetune_studio.core.config import comma_fix as _comma_fix  # the one comma rule, validate's too
from finetune_studio.core.config import field_number as format_number  # 2e-05 -> "2e-5", 3.0 -> "3": the forms' too
from finetune_studio.core.errors import WARNING, Problem


def written_text(value: Any) -> str:
    """A text field's text for a loaded value: text as it is, anything else (a YAML list or mapping the field cannot
    hold) as the file writes it on one line, keys in the file's order ([a, b], {org: a, name: b}), so the field and
    validation's message under it name what the user wrote; nothing for none. The Model and Dataset tabs' sources."""
    if value is None or isinstance(value, str):
        return value or ""
    return as_written(value)


# Training keys edited by TrainingForm; the "All arguments" panel leaves them alone so each key has one editor.
# bf16/fp16 are the precision combo.
TRAINING_FORM_KEYS: tuple[str, ...] = (
    "num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps", "activation_checkpointing",
    "bf16", "fp16", "learning_rate", "logging_steps", "eval_strategy", "save_strategy", "load_best_model_at_end",
)

ERROR_COLOR = "#c5221f"
WARNING_COLOR = "#9a5b00"  # amber text: shown under the field like a problem, but it does not block Start

FORM_STYLE = f"""
QLineEdit[problem="true"] {{ background: #fff6f5; color: #202124; }}
QFrame[problemHost="true"] {{ border: 1px solid transparent; border-radius: 4px; }}
QFrame[problemHost="true"][problem="true"] {{ border-color: {ERROR_COLOR}; }}
QCheckBox[problem="true"] {{ color: {ERROR_COLOR}; }}
QLabel[role="error"] {{ color: {ERROR_COLOR}; }}
QLabel[role="error"][level="warning"] {{ color: {WARNING_COLOR}; }}
QLabel[role="warning"] {{
    background: #fff4e0; color: #6b3d00; border: 1px solid #f2b457; border-radius: 4px; padding: 6px 8px;
}}
QGroupBox {{ font-weight: bold; }}
QGroupBox > QWidget {{ font-weight: normal; }}
"""


def config_help(key: str) -> str:
    """The `help` of a dotted config key ("dataset.source") as core.config declares it: one source for tooltips
    and the YAML docs."""
    return field_help(key)


def number_problem(text: str, integer: bool = False) -> str | None:
    """What is wrong with typed text as a number (None: nothing), said so the user can fix it. Ranges are
    core.validation's business; this is only whether the text is a number at all."""
    text = text.strip()
    if not text:
        return "Enter a whole number, such as 8." if integer else "Enter a number, such as 2e-5 or 0.01."
    number = parse_number(text)
    kind, example = ("whole number", "8") if integer else ("number", "2e-5, 0.0001 or 10")
    if number is None:
        try:
            float(text)
        except ValueError:
            comma = _comma_fix(text, integer)
            if comma:
                return f"'{text}' is not a number: {comma}"
            return f"'{text}' is not a {kind}. To fix: write one such as {example}."
        return f"'{text}' is not a finite number. To fix: write a {kind} such as {example}."
    if integer and not float(number).is_integer():
        return f"{text} is not a whole number. To fix: write one such as {max(int(number), 1)}."
    return None


class NumberEdit(QLineEdit):
    """A line edit for numbers written as people write them (2e-5, 0.01, 8); QDoubleSpinBox cannot show 2e-5.

    Nothing typed is dropped or changed behind the user's back (a validator would swallow the "-" of "-1" or every
    key of "abc", and a spin box clamps 0 to its minimum): the text stays as typed, `problem()` says what is wrong
    with it for the form to mark, and a form stores text that is not a number as text, so that validate() names
    the field and Start stays disabled until it is fixed. `integer`: whole numbers only ("1e3" is 1000)."""

    def __init__(self, parent: QWidget | None = None, integer: bool = False):
        super().__init__(parent)
        self.integer = integer

    def number(self) -> int | float | None:
        """The value typed, or None when the text is not a (finite, and for `integer` whole) number."""
        if self.problem() is not None:
            return None
        number = parse_number(self.text())
        return int(number) if self.integer and number is not None else number

    def set_number(self, value: Any) -> None:
        self.setText(format_number(value))

    def problem(self) -> str | None:
        example = self.placeholderText().removeprefix("e.g. ").strip()
        if not self.text().strip() and self.placeholderText().startswith("e.g. ") and example:
            # The field's own example: "such as 2e-5 or 0.01" under a cleared Epochs asked for a learning rate there.
            return f"Enter a {'whole ' if self.integer else ''}number, such as {example}."
        return number_problem(self.text(), self.integer)

    def is_acceptable(self) -> bool:
        return self.problem() is None

    def value_or_text(self) -> Any:
        """What goes into the config: the number, or the text as typed when it is none (validate() names it)."""
        number = self.number()
        return number if number is not None else self.text().strip()


class CompactDoubleSpinBox(QDoubleSpinBox):
    """Shows 3 rather than 3.00 and 0.5 rather than 0.50, keeping several decimals available."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return format_number(round(value, self.decimals()))

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        number = parse_number(text.replace(self.suffix(), "").replace(self.prefix(), ""))
        return float(number) if number is not None else self.value()

    def validate(self, text: str, pos: int) -> object:
        stripped = text.strip()
        if stripped in ("", "-", "+", ".") or stripped.endswith((".", "e", "e-")):
            return QValidator.State.Intermediate, text, pos
        return (QValidator.State.Acceptable if parse_number(stripped) is not None
                else QValidator.State.Invalid), text, pos


class WheelGuard(QObject):
    """Ignore wheel events on unfocused spin boxes and combos, so scrolling the form never edits a value."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False


def guard_wheel(owner: QWidget) -> None:
    """Install one WheelGuard on every spin box and combo box below owner."""
    guard = owner.findChild(WheelGuard) or WheelGuard(owner)
    for widget in owner.findChildren(QAbstractSpinBox) + owner.findChildren(QComboBox):
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(guard)


def column(*widgets: QWidget, spacing: int = 4) -> QVBoxLayout:
    """An editor with what belongs under it (a hint, a warning), as one form row."""
    box = QVBoxLayout()
    box.setSpacing(spacing)
    for widget in widgets:
        box.addWidget(widget)
    return box


def narrow_combo(combo: QComboBox, characters: int = 18) -> QComboBox:
    """A combo box whose width does not follow its longest item: long choices would otherwise widen the whole form
    past a 900 px window (the popup list still shows them whole)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


def set_combo_value(combo: QComboBox, value: Any) -> None:
    """Select the item whose data is value, adding it when the config holds a value the list lacks (so loading
    and storing a config never changes it behind the user's back), labelled as the file writes it ([text], not
    Python's ['text'])."""
    index = combo.findData(value)
    if index < 0:
        combo.addItem(value if isinstance(value, str) else as_written(value), value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


class ProblemFrame(QFrame):
    """A 1 px frame that turns red around an editor with a problem: styling a combo or spin box border through a
    stylesheet makes Qt drop their native arrows, and framing every editor keeps them all aligned."""

    def __init__(self, editor: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setProperty("problemHost", True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.addWidget(editor)
        self.editor = editor


def framed(editor: QWidget) -> QWidget:
    """The editor itself, or a ProblemFrame around it where the border must be drawn outside the widget."""
    return ProblemFrame(editor) if isinstance(editor, (QComboBox, QAbstractSpinBox, QLineEdit)) else editor


def hint_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """Secondary text under a field, in the palette's muted color."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def error_label(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    label.hide()
    return label


class FormLayout(QFormLayout):
    """A QFormLayout that lays its rows out afresh whenever its rectangle changes.

    Why: QFormLayout keeps one array of row heights for two cached widths (the last width its height was asked
    for, and its size-hint width); once its height has been asked at both (a scroll area asks several widths while
    it decides on its scroll bar), setGeometry at one of them can reuse the rows measured at the other. On the
    Dataset tab a message appearing under a field squeezed Source's rows that way (the Dataset box at half height,
    a gap under Encoding) until the window was resized. Invalidating first makes setGeometry measure the rows at
    the width it lays out."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._laid_out: QRect | None = None  # the rectangle last laid out (geometry() is null after invalidate)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        if rect != self._laid_out:
            self._laid_out = QRect(rect)
            self.invalidate()  # posts at most one more pass, which finds the same rectangle and stops there
        super().setGeometry(rect)


# One look for every tab's page: the margin around its content, and the label column of its fields, so a field's
# editor starts at the same x on every tab (the Dataset, Model, Training, Hub and Launch forms, All arguments and
# the Try tab's settings; its run picker keeps a narrow column of its own). tests/gui/test_field_columns_h129.py
# and test_try_tab_column_h130.py measure it on a shown window.
PAGE_MARGINS = (6, 6, 6, 6)
SECTION_MARGINS = (12, 10, 12, 12)  # inside a section's box: its labels start 12 px in from the box's frame
# The forms' longest label: every label column is this wide at least, whatever its own labels are. A longer label
# widens its own tab's column (align_labels), which the test above finds: then lengthen this.
LABEL_COLUMN_SAMPLE = "Gradient accumulation"
LABEL_SPACING = 12  # between a label and its field


def label_column_width(widget: QWidget) -> int:
    """The width of the shared label column, in widget's font."""
    return widget.fontMetrics().horizontalAdvance(LABEL_COLUMN_SAMPLE) + 1


def page_layout(widget: QWidget) -> QVBoxLayout:
    """A tab page's top-level layout, with the pages' one margin."""
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(*PAGE_MARGINS)
    return layout


class FlowLayout(QLayout):
    """Widgets in a row that wraps onto more lines where its width runs out (Qt's flow layout example): a row of
    buttons under a field (Open file…, Open folder…, Built-in sample) then never makes the form wider than the
    shared label column leaves room for in a 900 px window. Its height follows its width (heightForWidth)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6):
        super().__init__(parent)
        self._items: list[Any] = []
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)

    def addItem(self, item: Any) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> Any:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> Any:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        shown = [item.sizeHint() for item in self._items if not item.isEmpty()]
        margins = self.contentsMargins()
        width = sum(size.width() for size in shown) + self.spacing() * max(len(shown) - 1, 0)
        height = max((size.height() for size in shown), default=0)
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override: the widest item, as every item may get a line
        size = QSize()
        for item in self._items:
            if not item.isEmpty():
                size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, move: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y, line_height = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            size = item.sizeHint()
            if x > area.x() and x + size.width() > area.right() + 1:
                x, y, line_height = area.x(), y + line_height + self.spacing(), 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), size))
            x += size.width() + self.spacing()
            line_height = max(line_height, size.height())
        return y + line_height - rect.y() + margins.bottom()


def section(title: str, parent: QWidget | None = None) -> tuple[QGroupBox, QFormLayout]:
    box = QGroupBox(title, parent)
    form = FormLayout(box)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # see Form.add_field
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setHorizontalSpacing(LABEL_SPACING)
    form.setVerticalSpacing(8)
    form.setContentsMargins(*SECTION_MARGINS)
    return box, form


def align_labels(root: QWidget) -> None:
    """Give every form-layout label under root the same width, so the fields of all sections line up: the shared
    label column's (label_column_width), or the widest label's where one is wider."""
    labels: list[QLabel] = []
    for form in root.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(item.widget(), QLabel):
                labels.append(item.widget())
    width = max([label.sizeHint().width() for label in labels] + [label_column_width(root)])
    for label in labels:
        label.setMinimumWidth(width)


SPIN_WIDTH = 110


def _layout_widgets(layout: QLayout, kind: type) -> list[Any]:
    found = []
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item.widget() is not None and isinstance(item.widget(), kind):
            found.append(item.widget())
        elif item.layout() is not None:
            found.extend(_layout_widgets(item.layout(), kind))
    return found


def _grows(widget: QWidget) -> bool:
    """Line edits and combos take the row's width; spin boxes, numbers and check boxes keep their natural size."""
    if isinstance(widget, ProblemFrame):
        widget = widget.editor
    return isinstance(widget, (QLineEdit, QComboBox)) and not isinstance(widget, NumberEdit)


@dataclasses.dataclass
class _Field:
    widget: QWidget  # the widget that gets the red border and the tooltip
    error: QLabel | Callable[[], QLabel]  # the red line, or a factory that makes it on first use
    tooltip: str

    def error_label(self) -> QLabel:
        if not isinstance(self.error, QLabel):
            self.error = self.error()
        return self.error


class Form(QWidget):
    """Base of the left-side forms: `changed`, quiet loading and problem marks keyed by dotted config path."""

    changed = Signal()
    # True while `changed` is emitted for a value the form re-spelled to mean the same thing the config said (the
    # Dataset tab's text column as the data spells it: "Horoscope Text " for the config's "Horoscope Text"): the
    # window stores it, so a run uses the real name, but the document is not marked modified by it.
    respelled = False
    # Set while `changed` is emitted for a value the form filled in itself, not the user, that changes what the
    # config means (the Dataset tab's detected encoding of a file that is not UTF-8): the window marks the document
    # modified, as it is not its file any more, and shows this note in its log, so the * in the title has a reason.
    filled_in: str | None = None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loading = 0
        self._fields: dict[str, _Field] = {}
        self._aliases: dict[str, str] = {}  # problem field -> the field whose widget shows it (fp16 -> precision)
        self._input_errors: dict[str, str] = {}  # what the form itself found wrong (unparseable text)
        self._external: dict[str, str] = {}  # the last show_problems() messages per field
        self._warnings: dict[str, str] = {}  # level-WARNING problems per field: shown in amber, never blocking
        self._general_problem_keys: tuple[str, ...] = ()
        self._kept_checks: dict[str, Any] = {}  # a check's loaded value that is no true/false (load_check)
        self._watched_checks: set[str] = set()
        self.setStyleSheet(FORM_STYLE)

    # ---- the contract
    def load(self, config: RunConfig) -> None:
        raise NotImplementedError

    def store(self, config: RunConfig) -> None:
        raise NotImplementedError

    def document_saved(self, config: RunConfig) -> None:
        """The window wrote `config` to its file: what the form shows is now what the file says."""

    def owns(self, field: str) -> bool:
        """True if a Problem with this field belongs to this form (the main window picks the tab to show)."""
        return field in self._fields or field in self._aliases or field in self._general_problem_keys

    def show_problems(self, problems: list[Problem]) -> None:
        """Mark the fields this form owns; clear every other mark. Warnings (Problem.level WARNING) are shown
        under their field in amber and replace the warnings shown before (see also set_warnings)."""
        if any(p.level == WARNING for p in problems):
            self.set_warnings([p for p in problems if p.level == WARNING])
            problems = [p for p in problems if p.level != WARNING]
        messages: dict[str, list[str]] = {}
        for problem in problems:
            if self.owns(problem.field):
                key = self._aliases.get(problem.field, problem.field)
                if problem.message not in messages.get(key, []):
                    messages.setdefault(key, []).append(problem.message)
        self._external = {k: "\n".join(v) for k, v in messages.items()}  # kept for fields registered later
        for key in self._fields:
            self._refresh_mark(key)
        self._show_general_problems({k: v for k, v in messages.items() if k in self._general_problem_keys})

    def _show_general_problems(self, messages: dict[str, list[str]]) -> None:
        """Problems about a whole section ("training"); forms that own such keys override this."""

    # ---- helpers for subclasses
    @contextmanager
    def loading(self) -> Iterator[None]:
        """Widget edits inside this block are the form filling itself, not the user: no `changed`."""
        self._loading += 1
        try:
            yield
        finally:
            self._loading -= 1

    def load_check(self, key: str, check: QCheckBox, value: Any, present: bool = True) -> None:
        """Show a true/false setting: ticked for a real true only. A value that is no true/false ('no' as the app's
        YAML reads it, 5, a list) is kept and stored as written (stored_check) until the user clicks the check, so
        validation names it at the field: ticked by bool() and stored as true, `trust_remote_code: no` trusted
        remote code and `private: no` made the repository private, the written value gone. `present` False: the
        setting is not in the config at all (a training field left out), nothing to keep."""
        check.setChecked(value is True)
        if present and not isinstance(value, bool):
            self._kept_checks[key] = copy.deepcopy(value)
        else:
            self._kept_checks.pop(key, None)
        if key not in self._watched_checks:
            self._watched_checks.add(key)
            check.toggled.connect(lambda _=None, k=key: self._loading or self._kept_checks.pop(k, None))

    def stored_check(self, key: str, check: QCheckBox) -> Any:
        """The value to store for a check loaded by load_check: what was written, until the user clicked it."""
        return copy.deepcopy(self._kept_checks[key]) if key in self._kept_checks else check.isChecked()

    def _edited(self, *_: Any) -> None:
        if not self._loading:
            self.changed.emit()

    def add_field(self, form: QFormLayout, key: str, label: str, editor: QWidget | QLayout,
                  mark: QWidget | None = None, tooltip: str | None = None) -> QLabel:
        """A labelled row whose field is the editor with a hidden red message line under it; `mark` (default:
        the editor) gets the red border. The message lives in the field's own box: a word-wrapped label as a
        QFormLayout row of its own gets padded with blank lines. `tooltip` defaults to the key's help text as
        core.config declares it."""
        if tooltip is None:
            tooltip = config_help(key)
        target = mark if mark is not None else editor
        assert isinstance(target, QWidget), "a layout row needs an explicit mark widget"
        numbers = (QAbstractSpinBox, NumberEdit)
        for spin in [editor] if isinstance(editor, numbers) else [] if isinstance(editor, QWidget) \
                else _layout_widgets(editor, numbers):
            spin.setMinimumWidth(max(spin.minimumSizeHint().width(), SPIN_WIDTH))
        if isinstance(editor, QLayout):
            host = framed(target)
            if host is not target:
                editor.replaceWidget(target, host)  # the frame took target into its own layout already
        else:
            editor = host = framed(editor)
        caption = QLabel(label)
        # Top-aligned by QFormLayout: as tall as the first line of the field, text centred on it.
        caption.setFixedHeight(host.sizeHint().height())
        caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        caption.setToolTip(tooltip)
        caption.setBuddy(target)
        target.setToolTip(tooltip)
        cell = QVBoxLayout()
        cell.setContentsMargins(0, 0, 0, 0)
        cell.setSpacing(3)
        if isinstance(editor, QWidget):
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(editor, 1 if _grows(editor) else 0)
            if not _grows(editor):
                row.addStretch(1)
            cell.addLayout(row)
        else:
            cell.addLayout(editor)
        err = error_label()
        cell.addWidget(err)
        # A wrapped message is measured taller than it lays out (QFormLayout's height for width): the spare height
        # goes below it, not between the box and its message with the caption left above the box.
        cell.addStretch(1)
        form.addRow(caption, cell)
        self._fields[key] = _Field(target, err, tooltip)
        return caption

    def register_field(self, key: str, widget: QWidget, error: QLabel | Callable[[], QLabel],
                       tooltip: str = "") -> None:
        """For fields outside a QFormLayout: the caller places the error label (or makes it when first needed)."""
        self._fields[key] = _Field(widget, error, tooltip)

    def set_field_tooltip(self, key: str, tooltip: str) -> None:
        field = self._fields[key]
        field.tooltip = tooltip
        if not field.widget.property("problem"):
            field.widget.setToolTip(tooltip)

    def field_widget(self, key: str) -> QWidget | None:
        """The editor that shows key's problems (None if this form has no editor for it, or not yet)."""
        field = self._fields.get(self._aliases.get(key, key))
        return field.widget if field is not None else None

    def alias(self, key: str, shown_at: str) -> None:
        """Problems about key are shown at the field shown_at (two config keys, one widget)."""
        self._aliases[key] = shown_at

    def set_input_error(self, key: str, message: str | None) -> None:
        """A mark the form sets itself while the user types (e.g. "not a number"); it outlives show_problems()."""
        if message:
            self._input_errors[key] = message
        else:
            self._input_errors.pop(key, None)
        self._refresh_mark(key)

    def set_warnings(self, warnings: list[Problem]) -> None:
        """Show these warnings (settings that run but are probably not meant) at the fields this form owns, in
        amber under the field, without the red border; they replace the warnings shown before."""
        found: dict[str, list[str]] = {}
        for warning in warnings:
            if self.owns(warning.field):
                found.setdefault(self._aliases.get(warning.field, warning.field), []).append(warning.message)
        before, self._warnings = self._warnings, {k: "\n".join(v) for k, v in found.items()}
        for key in set(before) | set(self._warnings):
            self._refresh_mark(key)

    def warning_text(self, key: str) -> str | None:
        """The warning shown at key, if any (an error at the same field hides it)."""
        return self._warnings.get(self._aliases.get(key, key))

    def set_row_visible(self, layout: QFormLayout, caption: QLabel, visible: bool) -> None:
        """QFormLayout.setRowVisible, less its side effect: showing a row whose field is a layout shows every
        widget in it, the hidden message line under the field too (a blank line under Text column whenever the
        row was shown again). That line is hidden again while it has nothing to say."""
        layout.setRowVisible(caption, visible)
        if visible:
            for field in self._fields.values():
                if isinstance(field.error, QLabel) and not field.error.text():
                    field.error.hide()

    def _refresh_mark(self, key: str) -> None:
        if key in self._fields:
            error = self._input_errors.get(key) or self._external.get(key)
            self.mark(key, error, warning=None if error else self._warnings.get(key))

    def mark(self, key: str, message: str | None, warning: str | None = None) -> None:
        """Red border, tooltip and red line under the field with message; message None clears the mark. A warning
        (only without a message) is the same line in amber, with no border."""
        field = self._fields[key]
        set_problem(field.widget, message, f"{warning}\n\n{field.tooltip}".strip() if warning else field.tooltip)
        text = message or warning
        if not text and not isinstance(field.error, QLabel):
            return  # never marked: no label to hide
        label = field.error_label()
        level = "warning" if warning and not message else "error"
        if label.property("level") != level:
            label.setProperty("level", level)
            label.style().unpolish(label)
            label.style().polish(label)
        label.setText(text or "")
        label.setVisible(bool(text))


def set_problem(widget: QWidget, message: str | None, tooltip: str = "") -> None:
    """The dynamic property `problem` drives the red border in FORM_STYLE; the tooltip says why."""
    if widget.toolTip() != (message or tooltip):
        widget.setToolTip(message or tooltip)
    if bool(widget.property("problem")) == bool(message):
        return
    for target in (widget, widget.parentWidget()):
        if target is widget or isinstance(target, ProblemFrame):
            target.setProperty("problem", bool(message))
            target.style().unpolish(target)
            target.style().polish(target)
            target.update()


def fields_with_prefix(problems: Iterable[Problem], prefix: str) -> list[Problem]:
    return [p for p in problems if p.field.startswith(prefix)]


def shown_as_is(value: Any, spin: Any) -> bool:
    """True when the spin box shows `value` exactly, so storing the box's value stores the value itself. A loaded
    value a box cannot show (clamped or rounded) is kept until the user edits that box (the Dataset and Launch tabs)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    if isinstance(spin, QSpinBox) and not isinstance(value, int):
        return False
    if not spin.minimum() <= value <= spin.maximum():
        return False
    return isinstance(spin, QSpinBox) or round(value, spin.decimals()) == value
