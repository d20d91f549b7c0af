"""The seed tutorial's training settings up front (owns those training keys, the runs folder and the run name).

Everything else TrainingArguments offers lives in the "All arguments" panel; `TRAINING_FORM_KEYS` is the split.
Tooltips start as short built-in texts and become the installed TrainingArguments help once `populate()` runs.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from typing import Any

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.batching import BATCHING_MODES
from finetune_studio.core.config import (
    PRECISIONS,
    SEED_TRAINING,
    RunConfig,
    default_runs_dir,
    precision_of,
    set_precision,
)
from finetune_studio.gui.forms.common import (
    Form,
    NumberEdit,
    align_labels,
    as_written,
    column,
    config_help,
    error_label,
    format_number,
    guard_wheel,
    hint_label,
    narrow_combo,
    page_layout,
    section,
    set_combo_value,
    written_text,
)

BUILTIN_HELP = {
    "num_train_epochs": "Total number of passes over the training data. Fractions train part of the last epoch.",
    "per_device_train_batch_size": "Rows per forward pass on each device. Lower it if you run out of memory.",
    "gradient_accumulation_steps": "Forward passes summed before each optimizer step; the effective batch size is "
                                   "batch size × accumulation steps.",
    "activation_checkpointing": "Recompute activations in the backward pass: saves memory, costs ~30% speed.",
    "learning_rate": "The initial learning rate of the optimizer (AdamW). The seed uses 2e-5.",
    "logging_steps": "Log the loss every N optimizer steps (a fraction below 1 means a share of all steps).",
    "eval_strategy": "When to evaluate on the held-out split: never, every eval_steps steps, or every epoch.",
    "save_strategy": "When to save a checkpoint: never, every save_steps steps, or every epoch.",
    "load_best_model_at_end": "Keep the checkpoint with the lowest eval loss at the end. Needs evaluation, and "
                              "checkpoints saved on the same schedule.",
    "batching": "How rows become batches. Seed-exact pads each batch to its longest row; the other modes skip "
                "most or all of that padding and train faster on text of varied length.",
    "precision": "Mixed precision: bf16 on GPUs that support it, fp16 on older GPUs, fp32 on the CPU. "
                 "'auto' picks for this machine.",
}

STRATEGY_LABELS = {
    "eval_strategy": {"no": "no  (never)", "steps": "steps  (every eval_steps)", "epoch": "epoch  (every epoch)"},
    "save_strategy": {"no": "no  (never)", "steps": "steps  (every save_steps)", "epoch": "epoch  (every epoch)"},
}

BATCHING_LABELS = {"padded": "padded  (seed-exact, default)", "group_by_length": "group by length",
                   "padding_free": "padding-free  (rows of a batch in one sequence)",
                   "packed": "packed  (max_length blocks, fastest)"}

PRECISION_LABELS = {"auto": "auto", "bf16": "bf16  (bfloat16 mixed)", "fp16": "fp16  (float16 mixed)",
                    "fp32": "fp32  (full precision)"}


def number_column(edit: NumberEdit, hint: QWidget) -> QVBoxLayout:
    """A number field with a hint under it, the field as wide as the other numbers: column() stretched it across
    the whole row (Epochs and Gradient accumulation twice as wide as Batch size and Learning rate)."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit)
    row.addStretch(1)
    box = QVBoxLayout()
    box.setSpacing(2)
    box.addLayout(row)
    box.addWidget(hint)
    return box


WRITTEN_PRECISION = "as-written"  # the precision combo's entry for bf16/fp16 written as no true/false


class TrainingForm(Form):
    """Epochs, batch, learning rate, precision, logging/eval/save schedule, output folder and run name."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._general_problem_keys = ("training",)

        # Numbers are line edits that keep what was typed: a spin box would clamp 0 to 1 or drop "abc" silently.
        # Text that is no number is marked at once; ranges (batch >= 1, learning rate > 0) are validate()'s.
        self.epochs_edit = NumberEdit()
        self.epochs_edit.setPlaceholderText("e.g. 3")
        self.epochs_hint = hint_label()  # says when max_steps (All arguments) ends the run instead of the epochs
        self.epochs_hint.hide()
        self.batch_edit = NumberEdit(integer=True)
        self.batch_edit.setPlaceholderText("e.g. 8")
        self.accum_edit = NumberEdit(integer=True)
        self.accum_edit.setPlaceholderText("e.g. 1")
        self.effective_hint = hint_label()
        self.lr_edit = NumberEdit()
        self.lr_edit.setPlaceholderText("e.g. 2e-5")

        self.precision_combo = QComboBox()
        for precision in PRECISIONS:
            self.precision_combo.addItem(PRECISION_LABELS[precision], precision)
        self.checkpointing_check = QCheckBox("Gradient (activation) checkpointing")
        self.batching_combo = narrow_combo(QComboBox())
        for mode in BATCHING_MODES:
            self.batching_combo.addItem(BATCHING_LABELS.get(mode, mode), mode)
        self.batching_hint = hint_label()

        self.logging_edit = NumberEdit()
        self.logging_edit.setPlaceholderText("e.g. 10")
        self.eval_combo = QComboBox()
        self.save_combo = QComboBox()
        for combo, key in ((self.eval_combo, "eval_strategy"), (self.save_combo, "save_strategy")):
            for value, label in STRATEGY_LABELS[key].items():
                combo.addItem(label, value)
        self.best_check = QCheckBox("Load the best model at the end")

        self.runs_dir_edit = QLineEdit()
        self.runs_dir_edit.setPlaceholderText(str(default_runs_dir()))
        self.runs_dir_edit.setClearButtonEnabled(True)
        self.runs_dir_button = QToolButton()
        self.runs_dir_button.setText("…")
        self.runs_dir_button.setToolTip("Choose the folder that holds all runs")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("generated when empty")
        self.name_edit.setClearButtonEnabled(True)

        self.general_error = error_label()

        h = BUILTIN_HELP
        schedule, f1 = section("Schedule")
        self.add_field(f1, "training.num_train_epochs", "Epochs", number_column(self.epochs_edit, self.epochs_hint),
                       mark=self.epochs_edit, tooltip=h["num_train_epochs"])
        self.add_field(f1, "training.per_device_train_batch_size", "Batch size per device", self.batch_edit,
                       tooltip=h["per_device_train_batch_size"])
        # The hint under the field, not beside it: the form fits a 900 px window.
        self.add_field(f1, "training.gradient_accumulation_steps", "Gradient accumulation",
                       number_column(self.accum_edit, self.effective_hint),
                       mark=self.accum_edit, tooltip=h["gradient_accumulation_steps"])
        self.add_field(f1, "training.learning_rate", "Learning rate", self.lr_edit, tooltip=h["learning_rate"])

        memory, f2 = section("Speed and memory")
        self.add_field(f2, "dataset.batching", "Batching", column(self.batching_combo, self.batching_hint, spacing=2),
                       mark=self.batching_combo,
                       tooltip=h["batching"])
        self.add_field(f2, "training.bf16", "Precision", self.precision_combo, tooltip=h["precision"])
        self.alias("training.fp16", "training.bf16")
        self.add_field(f2, "training.activation_checkpointing", "Memory", self.checkpointing_check,
                       tooltip=h["activation_checkpointing"])

        progress, f3 = section("Logging, evaluation and checkpoints")
        self.add_field(f3, "training.logging_steps", "Log every (steps)", self.logging_edit,
                       tooltip=h["logging_steps"])
        self.add_field(f3, "training.eval_strategy", "Evaluate", self.eval_combo, tooltip=h["eval_strategy"])
        self.add_field(f3, "training.save_strategy", "Save checkpoints", self.save_combo, tooltip=h["save_strategy"])
        self.add_field(f3, "training.load_best_model_at_end", "Best model", self.best_check,
                       tooltip=h["load_best_model_at_end"])

        output, f4 = section("Output")
        runs_row = QHBoxLayout()
        runs_row.setSpacing(4)
        runs_row.addWidget(self.runs_dir_edit, 1)
        runs_row.addWidget(self.runs_dir_button)
        self.add_field(f4, "runs_dir", "Runs folder", runs_row, mark=self.runs_dir_edit,
                       tooltip=config_help("runs_dir"))
        self.add_field(f4, "name", "Run name", self.name_edit, tooltip=config_help("name"))

        layout = page_layout(self)
        layout.addWidget(self.general_error)
        for box in (schedule, memory, progress, output):
            layout.addWidget(box)
        layout.addStretch(1)
        align_labels(self)
        guard_wheel(self)

        self._numbers = {"training.num_train_epochs": self.epochs_edit,
                         "training.per_device_train_batch_size": self.batch_edit,
                         "training.gradient_accumulation_steps": self.accum_edit,
                         "training.learning_rate": self.lr_edit, "training.logging_steps": self.logging_edit}
        for key, edit in self._numbers.items():
            edit.textChanged.connect(lambda _text, key=key: self._check_number(key))
            edit.textChanged.connect(self._update_warnings)
            edit.textEdited.connect(lambda _text, key=key: self._kept_numbers.pop(key, None))  # the user's now
            edit.textEdited.connect(self._edited)
        self.batch_edit.textChanged.connect(self._update_effective_batch)
        self.accum_edit.textChanged.connect(self._update_effective_batch)
        self._kept_precision: dict[str, Any] = {}
        self._kept_numbers: dict[str, Any] = {}  # number fields' loaded values that are no number (load)
        self.precision_combo.activated.connect(self._precision_picked)
        for combo in (self.precision_combo, self.eval_combo, self.save_combo, self.batching_combo):
            combo.activated.connect(self._edited)
        for combo, key in ((self.eval_combo, "eval_strategy"), (self.save_combo, "save_strategy")):
            combo.activated.connect(lambda _index, combo=combo, key=key: self._strategy_picked(combo, key))
        self.batching_combo.currentIndexChanged.connect(self._update_batching_hint)
        for check in (self.checkpointing_check, self.best_check):
            check.toggled.connect(self._edited)
        self.runs_dir_edit.textEdited.connect(self._edited)
        self.runs_dir_button.clicked.connect(self._choose_runs_dir)
        self.name_edit.textEdited.connect(self._edited)

        self.load(RunConfig())

    # ---- contract
    def load(self, config: RunConfig) -> None:
        t = config.training
        get = lambda key: t.get(key, SEED_TRAINING.get(key))  # noqa: E731
        self._kept_numbers = {}
        with self.loading():  # values are shown as the config holds them, wrong ones too (validate() marks them)
            self.epochs_edit.set_number(get("num_train_epochs"))
            self.batch_edit.set_number(get("per_device_train_batch_size"))
            self.accum_edit.set_number(get("gradient_accumulation_steps"))
            self.lr_edit.set_number(get("learning_rate"))
            set_combo_value(self.precision_combo, precision_of(t))
            self.load_check("training.activation_checkpointing", self.checkpointing_check,
                            get("activation_checkpointing"), present="activation_checkpointing" in t)
            self.logging_edit.set_number(get("logging_steps"))
            # Empty (null, '') is shown and kept as written, marked: shown as "no"/"steps", the config still held
            # null, which TrainingArguments refuses ("None is not a valid IntervalStrategy") on Start and in the CLI,
            # until an edit anywhere on the tab stored what the combo showed.
            for combo, key in ((self.eval_combo, "eval_strategy"), (self.save_combo, "save_strategy")):
                self._show_strategy(combo, key, get(key))
            self.load_check("training.load_best_model_at_end", self.best_check, get("load_best_model_at_end"),
                            present="load_best_model_at_end" in t)
            self.runs_dir_edit.setText(config.runs_dir or "")
            self.name_edit.setText(config.name or "")
            set_combo_value(self.batching_combo, config.dataset.batching)
        # A number field's value that is no number (a mapping, true, a list, null, quoted text, .nan): shown as the
        # file writes it and stored as written until the user edits the field. Stored from the field's text, {a: 1}
        # became the text "{'a': 1}", true the text 'True' and null '' as soon as any field here was edited.
        for key, edit in self._numbers.items():
            name = key.removeprefix("training.")
            value = t.get(name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if name in t and not number:
                with self.loading():
                    edit.setText(written_text(value))
                self._kept_numbers[key] = copy.deepcopy(value)
        # bf16/fp16 written as no true/false ('yes' as the app's YAML reads it): precision_of shows fp32, and storing
        # that wrote both false, the written value gone; kept as written until the user picks a precision.
        # Shown as written too, as an entry of its own ("bf16: yes  (as written)"): the combo showed fp32, a
        # precision the file does not name, beside the message about what it does name.
        # Both true is kept as written too: the combo showed bf16 beside validate's "both are true" message, and
        # any edit on this tab (the run name) then stored bf16 alone, fp16: true gone from the file unasked.
        present = {key: t[key] for key in ("bf16", "fp16") if key in t}
        both = present.get("bf16") is True and present.get("fp16") is True
        written = both or any(not isinstance(value, bool) for value in present.values())
        self._kept_precision = copy.deepcopy(present) if written else {}
        self._show_written_precision()
        self.config_changed(config)
        self._update_effective_batch()
        self._update_batching_hint()
        for key in self._numbers:
            self._check_number(key)
        self._update_warnings()

    def store(self, config: RunConfig) -> None:
        t = config.training
        # Text that is not a number goes through as text, so validate() names the field and Start stays disabled
        # instead of a stale or clamped value training.
        number = self._number_value
        t["num_train_epochs"] = number("training.num_train_epochs")
        t["per_device_train_batch_size"] = number("training.per_device_train_batch_size")
        t["gradient_accumulation_steps"] = number("training.gradient_accumulation_steps")
        t["activation_checkpointing"] = self.stored_check("training.activation_checkpointing", self.checkpointing_check)
        t["learning_rate"] = number("training.learning_rate")
        t["logging_steps"] = number("training.logging_steps")
        t["eval_strategy"] = self.eval_combo.currentData()
        t["save_strategy"] = self.save_combo.currentData()
        t["load_best_model_at_end"] = self.stored_check("training.load_best_model_at_end", self.best_check)
        if self._kept_precision:  # as written (load), until the user picks a precision
            for key in ("bf16", "fp16"):
                t.pop(key, None)
            t.update(copy.deepcopy(self._kept_precision))
        else:
            set_precision(t, self.precision_combo.currentData())
        config.runs_dir = self.runs_dir_edit.text().strip() or None
        config.name = self.name_edit.text().strip()
        config.dataset.batching = self.batching_combo.currentData()

    def _number_value(self, key: str) -> Any:
        """What a number field stores: its loaded value while it is kept (load), else what the field holds."""
        if key in self._kept_numbers:
            return copy.deepcopy(self._kept_numbers[key])
        return self._numbers[key].value_or_text()

    # ---- extras for the main window
    def config_changed(self, config: RunConfig) -> None:
        """Another tab changed the config: say here whether max_steps (All arguments) ends the run, so the epochs
        shown do not apply (transformers trains max_steps optimizer steps whenever it is above 0)."""
        steps = config.training.get("max_steps")
        ends = isinstance(steps, (int, float)) and not isinstance(steps, bool) and steps > 0
        self.epochs_hint.setText(f"max_steps {format_number(steps)} (All arguments) ends the run: the epochs set "
                                 "here do not apply. To train by epochs, reset max_steps there." if ends else "")
        self.epochs_hint.setVisible(ends)

    def populate(self, fields: dict[str, dataclasses.Field]) -> None:
        """Use the installed TrainingArguments help texts as tooltips (call once the training stack is warm)."""
        for key in ("num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps",
                    "activation_checkpointing", "learning_rate", "logging_steps", "eval_strategy", "save_strategy",
                    "load_best_model_at_end"):
            field = fields.get(key)
            text = str(field.metadata.get("help", "")).strip() if field is not None else ""
            if text:
                self.set_field_tooltip(f"training.{key}", f"{text}\n\nTrainingArguments.{key}")

    def set_hardware(self, hardware: Any) -> None:
        """Say what "auto" means here and disable precisions the machine cannot train with (core.hardware.Hardware)."""
        where = "this CPU" if hardware.device == "cpu" else hardware.name
        model = self.precision_combo.model()
        assert isinstance(model, QStandardItemModel)
        for row in range(self.precision_combo.count()):
            value = self.precision_combo.itemData(row)
            item = model.item(row)
            reason = ""
            if value == "auto":
                item.setText(f"auto  ({hardware.auto_precision} on {where})")
            elif value == "bf16" and not hardware.bf16:
                reason = ("bf16 needs a GPU with bfloat16 support (NVIDIA Ampere or newer); "
                          + ("this machine has no GPU." if hardware.device == "cpu" else f"{where} has none."))
            elif value == "fp16" and not hardware.fp16:
                reason = "fp16 mixed precision needs a GPU; this machine has none."
            # The selected entry stays selectable even if unsupported, so a loaded config is shown as it is.
            item.setEnabled(not reason or row == self.precision_combo.currentIndex())
            item.setToolTip(reason)

    # ---- internals
    def _show_general_problems(self, messages: dict[str, list[str]]) -> None:
        text = "\n".join(messages.get("training", []))
        self.general_error.setText(text)
        self.general_error.setVisible(bool(text))

    def _show_strategy(self, combo: QComboBox, key: str, value: Any) -> None:
        """Select value in a strategy combo; an empty one (null, '') as an entry of its own, with a mark."""
        empty = value is None or value == ""
        if not empty:
            set_combo_value(combo, value)
        else:
            index = next((i for i in range(combo.count()) if combo.itemData(i) == value
                          and type(combo.itemData(i)) is type(value)), -1)
            if index < 0:
                combo.addItem(f"{written_text(value) or as_written(value)}  (as written)", value)
                index = combo.count() - 1
            combo.setCurrentIndex(index)
        self.set_input_error(f"training.{key}", (
            f"{key} is empty in the file ({as_written(value)}), which transformers refuses. To fix: pick one here: "
            "no (never), steps or epoch.") if empty else None)

    def _strategy_picked(self, combo: QComboBox, key: str) -> None:
        value = combo.currentData()
        if value is not None and value != "":
            self.set_input_error(f"training.{key}", None)

    def _show_written_precision(self) -> None:
        """The precision entry for bf16/fp16 as written when one is no true/false (removed once one is picked)."""
        combo = self.precision_combo
        index = combo.findData(WRITTEN_PRECISION)
        if index >= 0:
            combo.removeItem(index)
        if self._kept_precision:
            shown = ", ".join(f"{key}: {written_text(value)}" for key, value in self._kept_precision.items())
            with self.loading():
                combo.addItem(f"{shown}  (as written)", WRITTEN_PRECISION)
                combo.setCurrentIndex(combo.count() - 1)

    def _precision_picked(self, *_: Any) -> None:
        """The user picked a precision: it replaces bf16/fp16 as written, unless it is that entry again."""
        if self._loading or self.precision_combo.currentData() == WRITTEN_PRECISION:
            return
        self._kept_precision.clear()
        self._show_written_precision()

    def _update_batching_hint(self) -> None:
        self.batching_hint.setText(BATCHING_MODES.get(self.batching_combo.currentData(), ""))
        self._update_effective_batch()

    def _update_effective_batch(self) -> None:
        b, a = self.batch_edit.number(), self.accum_edit.number()
        unit = "packed blocks" if self.batching_combo.currentData() == "packed" else "rows"
        if b is None or a is None or b < 1 or a < 1:
            self.effective_hint.setText("")  # the field with the problem says why
            self.effective_hint.setToolTip("")
            self.effective_hint.hide()  # shown empty, it left a blank line between the field and its message
            return
        self.effective_hint.setText(f"= {b * a} {unit} per optimizer step")
        self.effective_hint.show()
        self.effective_hint.setToolTip(f"Effective batch size: {b} {unit} × {a} accumulation steps = {b * a}")

    def _check_number(self, key: str) -> None:
        """Mark text that is not a number as it is typed; what it means for the config is validate()'s to say."""
        self.set_input_error(key, self._numbers[key].problem())

    def _update_warnings(self) -> None:
        """Warnings about the values shown here (a very large learning rate): amber, under the field, not blocking.
        core.validation.warnings_for decides, as for `finetune-studio validate`."""
        from finetune_studio.core.validation import (
            warnings_for,  # light (no training stack), but kept out of the GUI's import
        )

        config = RunConfig()
        self.store(config)
        self.set_warnings([w for w in warnings_for(config) if self.owns(w.field)])

    def _choose_runs_dir(self) -> None:
        current = os.path.expanduser(self.runs_dir_edit.text().strip() or str(default_runs_dir()))
        while current and not os.path.isdir(current) and os.path.dirname(current) != current:
            current = os.path.dirname(current)
        folder = QFileDialog.getExistingDirectory(self, "Folder for all runs", current)
        if folder and folder != self.runs_dir_edit.text():
            self.runs_dir_edit.setText(folder)
            self._edited()

