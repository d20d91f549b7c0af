"""The Model tab's fine-tuning method: full or an adapter (LoRA, QLoRA, DoRA), its settings and what it costs.

Owns `adapter.*`. The target modules are the chosen model's real module names, in groups (attention, MLP,
embeddings, output head), read by core.adapter_layout from the model's config on the meta device; the live figures
(trainable parameters, adapter size on disk) are peft's own count of that empty model. Both run in gui.background
jobs, newest request wins, so typing a rank never waits for torch. Nothing is computed until the form is shown or
an adapter method is picked: the window's start does not pay for it. A chat run whose template adds control tokens
trains their embedding rows too: `set_chat` (the Dataset tab's format, template and preview rows) lets the figures
count them, as training does.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.adapter_layout import (
    GROUPS,
    OUTPUT_HEAD,
    AdapterFigures,
    ModuleLayout,
    selected_names,
    targets_for,
)
from finetune_studio.core.adapters import METHOD_COSTS, METHOD_NAMES, alpha_scale, follow_method, method_defaults
from finetune_studio.core.chat import ChatRows
from finetune_studio.core.config import ADAPTER_METHODS, AdapterConfig, ModelConfig, RunConfig
from finetune_studio.core.hub import size_text  # one way to say a size: the push and export messages use it
from finetune_studio.core.sources import not_one_model  # a list kept as written names no model (the Dataset tab too)
from finetune_studio.gui.background import IMPORT_LOCK, BackgroundTask
from finetune_studio.gui.forms.common import (
    Form,
    NumberEdit,
    align_labels,
    column,
    format_number,
    guard_wheel,
    hint_label,
    section,
    set_combo_value,
)

GROUP_LABELS = {"attention": "Attention", "mlp": "MLP", "embeddings": "Embeddings", "output head": "Output head",
                "other": "Other linear layers"}
COMPUTE_DTYPES = {"auto": "auto (bf16 where the GPU has it)", "bf16": "bf16", "fp16": "fp16"}
REQUEST_DELAY_MS = 250  # after the last keystroke: one meta model per pause, not per key


def _layout_job(model: ModelConfig) -> ModuleLayout:
    from finetune_studio.core.adapter_layout import module_layout

    # The first call imports torch, transformers, peft and the model's transformers module (lazily, inside
    # from_config): under the lock the warm-up and other jobs import under, so no two threads import at once.
    # Later calls are answered from module_layout's cache.
    with IMPORT_LOCK:
        return module_layout(model)


def _figures_job(model: ModelConfig, adapter: AdapterConfig, rows: ChatRows | None) -> AdapterFigures:
    from finetune_studio.core.adapter_layout import adapter_figures

    _layout_job(model)
    chat = None
    if rows is not None:
        with IMPORT_LOCK:  # whether the rows are chats is TRL's test; the template's plan reads the tokenizer
            from transformers import AutoTokenizer  # noqa: F401
            from trl import chat_template_utils, data_utils  # noqa: F401

            from finetune_studio.core.chat import template_chat
        chat = template_chat(rows)
    return adapter_figures(model, adapter, chat)


def scale_text(adapter_r: Any, alpha: Any, rslora: bool) -> str:
    """'scale α/r = 32/16 = 2' (or α/√r with rslora; the factor is core.adapters.alpha_scale's); empty when r or
    alpha is not a positive number."""
    if not isinstance(adapter_r, int) or isinstance(adapter_r, bool) or adapter_r <= 0:
        return ""
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
        return ""
    factor = alpha_scale(AdapterConfig(r=adapter_r, alpha=alpha, rslora=rslora))
    if factor is None:
        return ""
    over = f"√{adapter_r}" if rslora else str(adapter_r)
    return f"scale α/{'√r' if rslora else 'r'} = {format_number(alpha)}/{over} = {factor:.3g}"


def figures_text(figures: AdapterFigures, method: str) -> tuple[str, str]:
    """(trainable parameters, size on disk) as the form shows them."""
    if method == "full":
        return (f"all {figures.trainable:,} parameters (100 %)",
                f"{size_text(figures.size_bytes)} (the whole model's weights)")
    return (f"{figures.trainable:,} of {figures.total:,} ({figures.percent:.2f} %)",
            f"{size_text(figures.size_bytes)} (adapter_model.safetensors)")


def tokens_text(figures: AdapterFigures, method: str) -> str:
    """Under the figures: the chat template's added tokens they count, or that a chat run's cannot be counted yet."""
    if figures.added_tokens:
        tokens = ", ".join(figures.added_tokens)
        if method == "full":
            return f"Counts the embedding rows of {tokens}, which the chat template adds to the tokenizer."
        return (f"Counts the embedding rows of {tokens}: the chat template adds them to the tokenizer, and they "
                "train in full beside the adapter.")
    if figures.tokens_unknown:
        return ("Not counted: control tokens the chat template may add (the model's tokenizer is not downloaded "
                "yet).")
    return ""


def learning_rate_text(method: str) -> str:
    """The method-aware learning-rate rule (core.adapters.follow_method), said on the form."""
    rate, full = method_defaults(method).get("learning_rate"), method_defaults("full").get("learning_rate")
    if method == "full" or rate is None or full is None:
        return ""
    return (f"Learning rate {rate_text(rate)} is usual for {METHOD_NAMES[method]} (full fine-tuning: "
            f"{rate_text(full)}); picking it sets that unless you chose your own (Training tab).")


def rate_text(rate: float) -> str:
    """2e-4 as people write learning rates (format_number writes 0.0002)."""
    if 0 < rate < 1e-3:
        mantissa, exponent = f"{rate:e}".split("e")
        return f"{format_number(round(float(mantissa), 4))}e{int(exponent)}"
    return format_number(rate)


class AdapterForm(Form):
    """Method, rank, alpha (with its scale), dropout, rslora, target modules by group, modules to save, and the
    figures. `set_model` tells it which model the Model tab shows; `layout_ready` / `figures_ready` say when the
    background jobs answered (tests wait on them)."""

    layout_ready = Signal(object)  # ModuleLayout, or None when the model's config could not be read
    figures_ready = Signal(object)  # AdapterFigures, or None
    training_changed = Signal()  # picking a method changed a training setting (the learning rate): show it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = ModelConfig()
        self.chat_rows: ChatRows | None = None  # the Dataset tab's chat settings and rows; None: plain text
        self.layout_info: ModuleLayout | None = None
        self.figures: AdapterFigures | None = None
        self._targets: list[str] = list(AdapterConfig().target_modules)
        self._layout_key: tuple | None = None  # the model the layout (or its request) is for
        self._module_checks: dict[str, QCheckBox] = {}  # short name -> its box (in its first group)
        self._twin_checks: list[tuple[str, QCheckBox]] = []  # a name's box in a later group, following the first
        self._group_checks: dict[str, QCheckBox] = {}
        self._applied_method = "full"  # the method whose training defaults the config holds
        self._lr_notice = ""  # what the last method change did to the training settings

        self.method_combo = QComboBox()
        for method in ADAPTER_METHODS:
            self.method_combo.addItem(METHOD_NAMES.get(method, method), method)
        self.method_hint = hint_label()
        self.lr_hint = hint_label()
        self.lr_hint.setObjectName("learning_rate_hint")

        self.r_edit = NumberEdit(integer=True)
        self.r_edit.setPlaceholderText("e.g. 16")
        self.alpha_edit = NumberEdit()
        self.alpha_edit.setPlaceholderText("e.g. 32")
        self.scale_hint = hint_label()
        self.scale_hint.setWordWrap(False)
        self.dropout_edit = NumberEdit()
        self.dropout_edit.setPlaceholderText("e.g. 0.05")
        self.rslora_check = QCheckBox("Rank-stabilized (rsLoRA): scale by α/√r")
        self.compute_combo = QComboBox()
        for value, label in COMPUTE_DTYPES.items():
            self.compute_combo.addItem(label, value)

        self.all_linear_button = QPushButton("All linear layers")
        self.all_linear_button.setToolTip("Every linear layer but the output head (peft's 'all-linear'): the usual "
                                          "choice, and the default.")
        self.attention_button = QPushButton("Attention only")
        self.attention_button.setToolTip("Only the attention projections: the original LoRA paper's choice; fewer "
                                         "parameters, usually a little less quality.")
        self.targets_host = QWidget()
        self.targets_grid = QGridLayout(self.targets_host)
        self.targets_grid.setContentsMargins(0, 0, 0, 0)
        self.targets_grid.setHorizontalSpacing(6)
        self.targets_grid.setVerticalSpacing(2)
        self.targets_hint = hint_label("Reading the model's modules…")
        self.save_edit = QLineEdit()
        self.save_edit.setPlaceholderText("none (e.g. embed_tokens, lm_head after adding tokens)")
        self.save_edit.setClearButtonEnabled(True)

        self.trainable_label = QLabel("—")
        self.trainable_label.setObjectName("trainable_parameters")
        self.size_label = QLabel("—")
        self.size_label.setObjectName("adapter_size")
        for label in (self.trainable_label, self.size_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures_hint = hint_label()

        method_box, method_form = section("Fine-tuning method")
        self.add_field(method_form, "adapter.method", "Method",
                       column(self.method_combo, self.method_hint, self.lr_hint, spacing=3), mark=self.method_combo)

        self.adapter_box, form = section("Adapter")
        self.add_field(form, "adapter.r", "Rank (r)", self.r_edit)
        alpha_row = QHBoxLayout()
        alpha_row.setSpacing(10)
        alpha_row.addWidget(self.alpha_edit)
        alpha_row.addWidget(self.scale_hint)
        alpha_row.addStretch(1)
        self.add_field(form, "adapter.alpha", "Alpha (α)", alpha_row, mark=self.alpha_edit)
        self.add_field(form, "adapter.dropout", "Dropout", self.dropout_edit)
        self.add_field(form, "adapter.rslora", "Scaling", self.rslora_check)
        self.compute_caption = self.add_field(form, "adapter.compute_dtype", "4-bit compute", self.compute_combo)
        presets = QHBoxLayout()
        presets.setSpacing(6)
        presets.addWidget(self.all_linear_button)
        presets.addWidget(self.attention_button)
        presets.addStretch(1)
        targets = QVBoxLayout()
        targets.setSpacing(6)
        targets.addLayout(presets)
        targets.addWidget(self.targets_host)
        targets.addWidget(self.targets_hint)
        caption = self.add_field(form, "adapter.target_modules", "Target modules", targets, mark=self.targets_host)
        caption.setFixedHeight(self.all_linear_button.sizeHint().height())  # level with the preset buttons
        self.add_field(form, "adapter.modules_to_save", "Also train fully", self.save_edit)

        self.figures_box, figures_form = section("Cost")
        self.add_field(figures_form, "figures.trainable", "Trainable", self.trainable_label,
                       tooltip="Parameters the optimizer updates, as peft counts them "
                               "(get_nb_trainable_parameters), and their share of the whole model.")
        self.add_field(figures_form, "figures.size", "Size on disk",
                       column(self.size_label, self.figures_hint, spacing=2), mark=self.size_label,
                       tooltip="What saving the adapter (or, for full fine-tuning, the model) writes.")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(method_box)
        layout.addWidget(self.adapter_box)
        layout.addWidget(self.figures_box)

        self._layout_task = BackgroundTask(self, yields_to_run_start=True)
        self._layout_task.result.connect(self._layout_arrived)
        self._layout_task.error.connect(self._layout_failed)
        self._figures_task = BackgroundTask(self, yields_to_run_start=True)
        self._figures_task.result.connect(self._figures_arrived)
        self._figures_task.error.connect(self._figures_failed)
        self._request_timer = QTimer(self, singleShot=True, interval=REQUEST_DELAY_MS)
        self._request_timer.timeout.connect(self._request)

        self.method_combo.activated.connect(self._method_picked)
        self.method_combo.currentIndexChanged.connect(self._method_shown)
        self.compute_combo.activated.connect(self._edited)
        for edit in (self.r_edit, self.alpha_edit, self.dropout_edit):
            edit.textChanged.connect(self._numbers_changed)
            edit.textEdited.connect(self._edited)
            edit.textEdited.connect(self._schedule)
        self.rslora_check.toggled.connect(self._numbers_changed)
        self.rslora_check.toggled.connect(self._edited)
        self.save_edit.textEdited.connect(self._edited)
        self.save_edit.textEdited.connect(self._schedule)
        self.all_linear_button.clicked.connect(self._pick_all_linear)
        self.attention_button.clicked.connect(self._pick_attention)

        self.load(RunConfig())
        align_labels(self)
        guard_wheel(self)

    # ---- the contract
    def load(self, config: RunConfig) -> None:
        adapter = config.adapter
        with self.loading():
            set_combo_value(self.method_combo, adapter.method)
            self.r_edit.set_number(adapter.r)
            self.alpha_edit.set_number(adapter.alpha)
            self.dropout_edit.set_number(adapter.dropout)
            self.load_check("adapter.rslora", self.rslora_check, adapter.rslora)
            set_combo_value(self.compute_combo, adapter.compute_dtype)
            self._targets = [str(t) for t in adapter.target_modules] if isinstance(adapter.target_modules, list) \
                else [str(adapter.target_modules)]
            saved = adapter.modules_to_save
            # Text as written (`modules_to_save: lm_head` in a YAML file): joining its characters showed and saved
            # "l, m, _, h, e, a, d". The field is comma-separated text, so it is shown as it is.
            self.save_edit.setText(saved if isinstance(saved, str) else ", ".join(str(m) for m in saved or []))
            self._sync_checks()
        self._applied_method = str(adapter.method)
        self._lr_notice = ""
        self._method_shown()
        self._numbers_changed()
        self._schedule()

    def store(self, config: RunConfig) -> None:
        adapter = config.adapter
        adapter.method = self.method_combo.currentData()
        adapter.r = self.r_edit.value_or_text()
        adapter.alpha = self.alpha_edit.value_or_text()
        adapter.dropout = self.dropout_edit.value_or_text()
        adapter.rslora = self.stored_check("adapter.rslora", self.rslora_check)
        adapter.compute_dtype = self.compute_combo.currentData()
        adapter.target_modules = list(self._targets)
        adapter.modules_to_save = [m.strip() for m in self.save_edit.text().replace(";", ",").split(",")
                                   if m.strip()]

    def apply_method_defaults(self, config: RunConfig) -> list[str]:
        """After store(config): when the method changed, its training defaults follow (core.adapters' rule: a
        learning rate still at the old method's usual value takes the new one's). Returns the notices, shows them
        under the method and emits training_changed when a setting changed."""
        method = config.adapter.method
        if method == self._applied_method:
            return []
        notices = follow_method(self._applied_method, config)
        self._applied_method = method
        self._lr_notice = " ".join(notices)
        self._update_lr_hint()
        if notices:
            self.training_changed.emit()
        return notices

    def adapter_config(self) -> AdapterConfig:
        config = RunConfig()
        self.store(config)
        return config.adapter

    # ---- what the Model tab and the window tell it
    def set_model(self, model: ModelConfig) -> None:
        """The model the Model tab shows now: its modules and figures are read again (after a pause)."""
        self.model = model
        self._schedule()

    def set_chat(self, rows: ChatRows | None) -> None:
        """The Dataset tab's chat settings with its preview rows (None: plain text). A run rendering chats with a
        template that adds control tokens trains their embedding rows too, so the figures are counted again."""
        if rows == self.chat_rows:
            return
        self.chat_rows = rows
        self._schedule()

    @property
    def busy(self) -> bool:
        """A layout or figures request is waiting for its pause or running (tests wait until it is not)."""
        return self._request_timer.isActive() or self._layout_task.busy or self._figures_task.busy

    def refresh_now(self) -> None:
        """Request the layout and figures at once (tests and the screenshot script; the form waits a pause)."""
        self._request_timer.stop()
        self._request(force=True)

    # ---- internals: method and numbers
    def _method_picked(self) -> None:
        self._method_shown()
        self._edited()
        self._schedule()

    def _method_shown(self) -> None:
        method = self.method_combo.currentData()
        self.method_hint.setText(METHOD_COSTS.get(method, ""))
        self.adapter_box.setVisible(method != "full")
        qlora = method == "qlora"
        self.compute_combo.setVisible(qlora)
        self.compute_caption.setVisible(qlora)
        self._update_lr_hint()

    def _numbers_changed(self) -> None:
        for key, edit in (("adapter.r", self.r_edit), ("adapter.alpha", self.alpha_edit),
                          ("adapter.dropout", self.dropout_edit)):
            self.set_input_error(key, edit.problem())
        self.scale_hint.setText(scale_text(self.r_edit.number(), self.alpha_edit.number(),
                                           self.rslora_check.isChecked()))

    def _update_lr_hint(self) -> None:
        method = self.method_combo.currentData()
        text = self._lr_notice if self._lr_notice and method == self._applied_method else learning_rate_text(method)
        self.lr_hint.setText(text)
        self.lr_hint.setVisible(bool(text))

    # ---- internals: target modules
    def _sync_checks(self) -> None:
        """The check boxes follow self._targets; targets the model lacks are named under them."""
        layout = self.layout_info
        if layout is None:
            return
        picked, unknown = selected_names(layout, self._targets)
        for name, check in [*self._module_checks.items(), *self._twin_checks]:
            check.blockSignals(True)
            check.setChecked(name in picked)
            check.blockSignals(False)
        for group, check in self._group_checks.items():
            names = layout.groups.get(group, [])
            ticked = sum(n in picked for n in names)
            check.blockSignals(True)
            check.setCheckState(Qt.CheckState.Checked if ticked == len(names) and names else
                                Qt.CheckState.PartiallyChecked if ticked else Qt.CheckState.Unchecked)
            check.blockSignals(False)
        where = f"{layout.model_type} model" if layout.model_type else "model"
        text = f"The {where}'s modules, from its config alone."
        self.targets_hint.setToolTip("Read from the model's config on the meta device: no weights are loaded or "
                                     "downloaded.")
        if unknown:
            text = (f"Not in this model: {', '.join(unknown)} (kept until you change the ticks). " + text)
        self.targets_hint.setText(text)

    def _build_checks(self, layout: ModuleLayout) -> None:
        while self.targets_grid.count():
            item = self.targets_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._module_checks.clear()
        self._twin_checks.clear()
        self._group_checks.clear()
        groups_of = {name: [GROUP_LABELS.get(g, g) for g in GROUPS if name in layout.groups.get(g, [])]
                     for name in layout.module_names}
        per_row = 3  # 4 would widen the form past a 900 px window (Qwen: q k v | o, gate up down)
        row = 0
        for group in GROUPS:
            names = layout.groups.get(group)
            if not names:
                continue
            head = QCheckBox(GROUP_LABELS.get(group, group))
            head.setObjectName(f"group:{group}")
            font = head.font()
            font.setBold(True)
            head.setFont(font)
            if group == OUTPUT_HEAD:
                head.setToolTip("The output head (lm_head): 'all linear layers' leaves it out, as peft does.")
            head.clicked.connect(lambda _=False, g=group: self._group_clicked(g))
            self.targets_grid.addWidget(head, row, 0, 1, per_row + 1)
            row += 1
            for i, name in enumerate(names):
                check = QCheckBox(name)
                self.targets_grid.addWidget(check, row + i // per_row, 1 + i % per_row)  # column 0: the indent
                if len(groups_of[name]) > 1:  # GPT-2's c_proj is in attention and MLP: peft matches both
                    check.setToolTip(f"{name} names modules in {' and '.join(groups_of[name])}: ticking it puts "
                                     "adapters on all of them (peft matches the short name).")
                primary = self._module_checks.get(name)
                if primary is not None:  # the same name shown again in another group: one tick for both
                    check.setObjectName(f"module:{name}:{group}")
                    check.toggled.connect(primary.setChecked)
                    self._twin_checks.append((name, check))
                    continue
                check.setObjectName(f"module:{name}")
                check.toggled.connect(self._module_toggled)
                self._module_checks[name] = check
            row += (len(names) + per_row - 1) // per_row
            self._group_checks[group] = head
        self.targets_grid.setColumnMinimumWidth(0, 12)
        guard_wheel(self)

    def _ticked(self) -> list[str]:
        return [name for name, check in self._module_checks.items() if check.isChecked()]

    def _set_targets(self, names: list[str]) -> None:
        if self.layout_info is None:
            return
        self._targets = targets_for(self.layout_info, names)
        self._sync_checks()
        self._edited()
        self._schedule()

    def _module_toggled(self) -> None:
        self._set_targets(self._ticked())

    def _group_clicked(self, group: str) -> None:
        if self.layout_info is None:
            return
        names = self.layout_info.groups.get(group, [])
        ticked = self._ticked()
        if all(n in ticked for n in names):
            self._set_targets([n for n in ticked if n not in names])
        else:
            self._set_targets(ticked + [n for n in names if n not in ticked])

    def _pick_all_linear(self) -> None:
        if self.layout_info is not None:
            self._set_targets(list(self.layout_info.all_linear))

    def _pick_attention(self) -> None:
        if self.layout_info is not None:
            self._set_targets(list(self.layout_info.groups.get("attention", [])))

    # ---- internals: background requests
    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._schedule()

    def _wanted(self) -> bool:
        return self.isVisible() or self.method_combo.currentData() != "full"

    def _schedule(self, *_: Any) -> None:
        if self._wanted():
            self._request_timer.start()

    def _request(self, force: bool = False) -> None:
        if not (force or self._wanted()):
            return
        model = ModelConfig(**vars(self.model))
        problem = not_one_model(model.name_or_path)
        if problem:
            self._no_model(problem)
            return
        key = (model.name_or_path.strip(), model.revision, model.trust_remote_code, model.dtype)
        if key != self._layout_key:
            self._layout_key = key
            self.layout_info = None
            self.figures = None
            self.targets_hint.setText("Reading the model's modules…")
            self.trainable_label.setText("…")
            self.size_label.setText("…")
            self.figures_hint.setText("")  # what it said of the model before (its tokens, or that none was named)
            self._layout_task.submit(_layout_job, model)
            return  # the figures follow the layout
        if self.layout_info is None:
            return  # still reading, or the config could not be read
        adapter = self.adapter_config()
        if any(edit.number() is None for edit in (self.r_edit, self.alpha_edit, self.dropout_edit)) \
                and adapter.method != "full":
            self.figures_hint.setText("Enter rank, alpha and dropout as numbers to see the figures.")
            return
        self.figures_hint.setText("Counting…")
        self._figures_task.submit(_figures_job, model, adapter, self.chat_rows)

    def _no_model(self, problem: str) -> None:
        """name_or_path names no one model (a list, a mapping, nothing): no lookup, and the sections say what to do.
        A lookup still on its way for the model shown before is dropped."""
        self._layout_task.cancel()
        self._figures_task.cancel()
        self._layout_key = None  # the next model named is read, whichever it is
        self.layout_info = None
        self.figures = None
        self._build_checks(ModuleLayout(groups={}, module_names=[], total_params=0))
        self.targets_hint.setToolTip("")
        self.targets_hint.setText(f"{problem}: no layers to show. To fix: give one model name or folder in "
                                  "name_or_path (the Model field above) to see its layers.")
        self.trainable_label.setText("—")
        self.size_label.setText("—")
        self.figures_hint.setText(f"{problem}: nothing to count. To fix: give one model name or folder in "
                                  "name_or_path (the Model field above) to see these figures.")
        self.layout_ready.emit(None)
        self.figures_ready.emit(None)

    def _layout_arrived(self, layout: ModuleLayout) -> None:
        self.layout_info = layout
        self._build_checks(layout)
        self._sync_checks()
        self.layout_ready.emit(layout)
        self._request(force=True)

    def _layout_failed(self, error: BaseException) -> None:
        self.layout_info = None
        self._build_checks(ModuleLayout(groups={}, module_names=[], total_params=0))
        self.targets_hint.setText(f"The model's modules could not be read: {error}")
        self.trainable_label.setText("—")
        self.size_label.setText("—")
        self.figures_hint.setText("")
        self.figures = None
        self.layout_ready.emit(None)
        self.figures_ready.emit(None)

    def _figures_arrived(self, figures: AdapterFigures) -> None:
        self.figures = figures
        trainable, size = figures_text(figures, self.method_combo.currentData())
        self.trainable_label.setText(trainable)
        self.size_label.setText(size)
        self.figures_hint.setText(tokens_text(figures, self.method_combo.currentData()))
        self.figures_ready.emit(figures)

    def _figures_failed(self, error: BaseException) -> None:
        self.figures = None
        self.trainable_label.setText("—")
        self.size_label.setText("—")
        self.figures_hint.setText(str(error))
        self.figures_ready.emit(None)
