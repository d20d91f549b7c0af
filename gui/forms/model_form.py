"""Model section: which causal LM to fine-tune and how to load it (owns `model.*`)."""

from __future__ import annotations

import copy
import os
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.config import DEMO_MODEL_ID, MODEL_DTYPES, ModelConfig, RunConfig, kind_of
from finetune_studio.core.errors import Problem
from finetune_studio.core.sources import SourceKind, source_kind
from finetune_studio.gui.forms.adapter_form import AdapterForm
from finetune_studio.gui.forms.common import (
    FlowLayout,
    Form,
    align_labels,
    column,
    config_help,
    guard_wheel,
    hint_label,
    page_layout,
    section,
    set_combo_value,
    written_text,
)

SOURCE = "model.name_or_path"
TRUST_WARNING = ("Runs Python code from the model repository on this machine. "
                 "Only enable for authors you trust.")

NOT_FOR_DEMO = "Not used for the built-in demo model: it is built on this computer, with no branch or code of its own."
NOT_FOR_FOLDER = ("Not used for a model folder: its files are read as they are, with no branch. A revision picks a "
                  "branch, tag or commit of a Hub model (owner/name).")
DTYPE_LABELS = {
    "auto": "auto (as saved)",
    "float32": "float32",
    "bfloat16": "bfloat16",
    "float16": "float16",
}


def describe_model_source(text: str) -> str:
    """One line under the field saying how the text will be read, so a typo'd path is not taken for a Hub id."""
    text = text.strip()
    if not text:
        return "Enter a Hub model id (owner/name) or pick a local folder."
    if text == DEMO_MODEL_ID:
        return "Built-in tiny demo model: works offline; built locally the first time (a few seconds)."
    kind = source_kind(text)
    if kind is SourceKind.URL:
        return "A web address: enter the model's Hub id (owner/name), or pick a local folder."
    if kind is SourceKind.HUB:
        return "Hugging Face Hub model id: downloaded on first use, then cached."
    path = os.path.expanduser(text)
    if os.path.isdir(path):
        return "Local model folder."
    if os.path.exists(path):
        return "A file, not a folder: pick the folder that holds config.json and the weights."
    return "Local folder (not found yet)."


def adapter_base(text: str) -> str | None:
    """The base model an adapter folder names, when the text is a local folder holding an adapter."""
    text = text.strip()
    if not text or source_kind(text) is not SourceKind.LOCAL or not os.path.isdir(os.path.expanduser(text)):
        return None
    from finetune_studio.core.adapters import base_model_of_adapter, is_adapter_folder

    path = os.path.expanduser(text)
    return base_model_of_adapter(path) if is_adapter_folder(path) else None


class ModelForm(Form):
    """Model id or folder, dtype, trust_remote_code (with a warning) and revision; below them the fine-tuning
    method and its adapter settings (`adapter.*`, an AdapterForm this form loads, stores and marks along)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        help_of = lambda name: config_help("model." + name)  # noqa: E731

        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("owner/name or /path/to/model-folder")
        self.source_edit.setClearButtonEnabled(True)
        self.open_folder_button = QPushButton("Open folder…")
        self.demo_button = QPushButton("Built-in demo model")
        self.source_hint = hint_label()
        # An adapter folder picked as the model: offer the base model it names (core.adapters reads it).
        self.use_base_button = QPushButton()
        self.use_base_button.setObjectName("use_base_model")
        self.use_base_button.hide()

        self.dtype_combo = QComboBox()
        for dtype in MODEL_DTYPES:
            self.dtype_combo.addItem(DTYPE_LABELS.get(dtype, dtype), dtype)

        self.trust_check = QCheckBox("Trust remote code")
        self.trust_warning = QLabel("⚠  " + TRUST_WARNING)
        self.trust_warning.setProperty("role", "warning")
        self.trust_warning.setWordWrap(True)
        self.trust_warning.hide()

        self.revision_edit = QLineEdit()
        self.revision_edit.setPlaceholderText("main (default branch)")
        self.revision_edit.setClearButtonEnabled(True)

        box, form = section("Model")
        source_box = QVBoxLayout()
        source_box.setSpacing(6)
        source_box.addWidget(self.source_edit)
        buttons = FlowLayout()  # on two lines where the field is narrow, as the Dataset tab's
        buttons.addWidget(self.open_folder_button)
        buttons.addWidget(self.demo_button)
        source_box.addLayout(buttons)
        source_box.addWidget(self.source_hint)
        source_box.addWidget(self.use_base_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.add_field(form, "model.name_or_path", "Model", source_box, mark=self.source_edit,
                       tooltip=help_of("name_or_path"))
        self.add_field(form, "model.revision", "Revision", self.revision_edit, tooltip=help_of("revision"))

        load_box, load_form = section("Loading")
        self.add_field(load_form, "model.dtype", "Weight dtype", self.dtype_combo, tooltip=help_of("dtype"))
        self.add_field(load_form, "model.trust_remote_code", "Remote code",
                       column(self.trust_check, self.trust_warning, spacing=6), mark=self.trust_check,
                       tooltip=help_of("trust_remote_code"))

        self.adapter_form = AdapterForm()

        layout = page_layout(self)
        layout.addWidget(box)
        layout.addWidget(load_box)
        layout.addWidget(self.adapter_form)
        layout.addStretch(1)
        align_labels(self)
        guard_wheel(self)

        self._kept: dict[str, Any] = {}  # a loaded value the field cannot show as it is, as written (see load)
        # first: the user's change of the field (typing, its clear button, Open folder, the demo or base button)
        # replaces a kept name_or_path
        self.source_edit.textChanged.connect(lambda _=None: self._loading or self._kept.pop(SOURCE, None))
        self.source_edit.textChanged.connect(self._source_changed)
        self.source_edit.textEdited.connect(self._edited)
        self.open_folder_button.clicked.connect(self._open_folder)
        self.demo_button.clicked.connect(lambda: self._set_source(DEMO_MODEL_ID))
        self.use_base_button.clicked.connect(self._use_base_model)
        self.dtype_combo.activated.connect(self._edited)
        self.trust_check.toggled.connect(self._update_trust_warning)
        self.trust_check.toggled.connect(self._edited)
        self.revision_edit.textEdited.connect(self._edited)
        self.revision_edit.textChanged.connect(lambda _=None: self._update_hub_only(self.source_edit.text()))
        self.adapter_form.changed.connect(self._edited)
        self.changed.connect(self._model_shown)
        self._source_changed(self.source_edit.text())

    def load(self, config: RunConfig) -> None:
        model = config.model
        with self.loading():
            self.source_edit.setText(written_text(model.name_or_path))
            set_combo_value(self.dtype_combo, model.dtype)
            self.load_check("model.trust_remote_code", self.trust_check, model.trust_remote_code)
            self.revision_edit.setText(model.revision or "")
        # A name_or_path that is no text (a YAML list or mapping: `name_or_path: [a, b]`) is shown as the file writes
        # it and stored as written until the user changes the field, so validation refuses it at the field and
        # Start waits: it was shown as "['a', 'b']" and saved as that text, a different value, the written one gone.
        self._kept = ({SOURCE: copy.deepcopy(model.name_or_path)}
                      if model.name_or_path is not None and not isinstance(model.name_or_path, str) else {})
        self._source_changed(self.source_edit.text())  # the hint says what a kept value is, not a Hub id "[a, b]"
        self.adapter_form.load(config)
        self._model_shown()

    def store(self, config: RunConfig) -> None:
        config.model.name_or_path = (copy.deepcopy(self._kept[SOURCE]) if SOURCE in self._kept
                                     else self.source_edit.text().strip())
        config.model.dtype = self.dtype_combo.currentData()
        config.model.trust_remote_code = self.stored_check("model.trust_remote_code", self.trust_check)
        config.model.revision = self.revision_edit.text().strip() or None
        self.adapter_form.store(config)
        self.adapter_form.apply_method_defaults(config)

    def owns(self, field: str) -> bool:
        return super().owns(field) or self.adapter_form.owns(field)

    def show_problems(self, problems: list[Problem]) -> None:
        super().show_problems(problems)
        self.adapter_form.show_problems(problems)

    def set_warnings(self, warnings: list[Problem]) -> None:
        super().set_warnings(warnings)
        self.adapter_form.set_warnings(warnings)  # its own fields' (a rank past break-even), as show_problems

    def warning_text(self, key: str) -> str | None:
        return super().warning_text(key) or self.adapter_form.warning_text(key)

    def field_widget(self, key: str) -> QWidget | None:
        return super().field_widget(key) or self.adapter_form.field_widget(key)

    def _model_shown(self) -> None:
        """The adapter section reads the modules of the model shown here."""
        self.adapter_form.set_model(self.model_config())

    def model_config(self) -> ModelConfig:
        """The model settings as shown, name_or_path as store() gives it: a value kept as written (a YAML list) is
        that value, not the field's text "[a, b]", so the adapter section looks up no model of that name."""
        config = RunConfig()
        config.model.name_or_path = (copy.deepcopy(self._kept[SOURCE]) if SOURCE in self._kept
                                     else self.source_edit.text().strip())
        config.model.dtype = self.dtype_combo.currentData()
        config.model.trust_remote_code = self.stored_check("model.trust_remote_code", self.trust_check)
        config.model.revision = self.revision_edit.text().strip() or None
        return config.model

    def _set_source(self, text: str) -> None:
        if text != self.source_edit.text():
            self.source_edit.setText(text)
            self._edited()

    def _update_hub_only(self, text: str) -> None:
        """Revision and remote code are the Hub model's: the built-in demo is built here, with no branch and no code
        of its own, so both are disabled for it (their values kept and stored), as Dataset does its Hub fields for
        the built-in sample. A trust_remote_code written as no true/false (`no`) keeps its box enabled: validation
        refuses it there, and a click is its fix."""
        demo = SOURCE not in self._kept and text.strip() == DEMO_MODEL_ID
        kept = "model.trust_remote_code" in self._kept_checks
        for key, widget, off in (("model.revision", self.revision_edit, demo),
                                 ("model.trust_remote_code", self.trust_check, demo and not kept)):
            widget.setEnabled(not off)
            self.set_field_tooltip(key, NOT_FOR_DEMO if demo else config_help(key))
        # A model folder has no branches: transformers reads it as it is and ignores the revision, so a revision
        # typed here (or kept from a Hub id) trained the folder with no word. Its code is its own: remote code stays.
        # A revision already there (a config's, or kept from a Hub id) leaves the field enabled until it is cleared:
        # validation warns about it here (core.validation: "To fix: remove revision"), which a disabled field would
        # not let the user do.
        if not demo and SOURCE not in self._kept and self._is_folder(text):
            self.revision_edit.setEnabled(bool(self.revision_edit.text().strip()))
            self.set_field_tooltip("model.revision", NOT_FOR_FOLDER)
        self._update_trust_warning()

    @staticmethod
    def _is_folder(text: str) -> bool:
        return bool(text.strip()) and source_kind(text) is SourceKind.LOCAL

    def _update_trust_warning(self, *_: object) -> None:
        """The warning under a ticked "Trust remote code"; none while the box is disabled (the demo runs no code)."""
        self.trust_warning.setVisible(self.trust_check.isChecked() and self.trust_check.isEnabled())

    def _source_changed(self, text: str) -> None:
        self._update_hub_only(text)
        if SOURCE in self._kept:  # loaded from a file as written: no model name, whatever its text looks like
            kind = kind_of(self._kept[SOURCE])
            self.source_hint.setText(f"{kind[0].upper()}{kind[1:]} as the config file writes it, not one model. "
                                     "To fix: type one Hub id (owner/name), or pick a local folder.")
            self.use_base_button.hide()
            return
        self.source_hint.setText(describe_model_source(text))
        base = adapter_base(text)
        if base:
            self.source_hint.setText(f"An adapter folder, not a whole model: it was trained on {base}.")
            shown = base if len(base) <= 48 else "…" + base[-47:]
            self.use_base_button.setText(f"Use its base model ({shown})")
            self.use_base_button.setToolTip(f"Fine-tune {base}, the model this adapter was trained on")
        self.use_base_button.setVisible(bool(base))

    def _use_base_model(self) -> None:
        base = adapter_base(self.source_edit.text())
        if base:
            self._set_source(base)

    def _open_folder(self) -> None:
        start = os.path.expanduser(self.source_edit.text().strip())
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder (with config.json)",
                                                  start if os.path.isdir(start) else os.path.expanduser("~"))
        if folder:
            self._set_source(folder)
