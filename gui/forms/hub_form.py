"""Hub section (owns `hub.*`): where "push when training ends" uploads the fine-tuned model.

The three fields are the config's `hub` section. A run with `push_when_done` is pushed by core.hub once it has
finished and saved its model (the model, a model card, the metrics and a loss curve; see core.hub.push_when_done),
to `repo_id` or <your user>/<run name>, created private unless `private` is off. Validation reports a missing
login here, on the "Push when training ends" box. The account line below the fields is kept current by
gui.hub_dialogs (the status bar's Hub button and the Hub menu log in and out)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLineEdit, QVBoxLayout, QWidget

from finetune_studio.core.config import RunConfig
from finetune_studio.gui.forms.common import Form, align_labels, config_help, hint_label, section

LOGIN_NOTE = ("Log in to the Hugging Face Hub from the Hub menu or the Hub button in the status bar. When the run "
              "finishes, its model, a model card, the metrics and a loss curve are uploaded.")


class HubForm(Form):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        help_of = lambda name: config_help("hub." + name)  # noqa: E731

        self.repo_edit = QLineEdit()
        self.repo_edit.setPlaceholderText("owner/name (empty: your user / run name)")
        self.repo_edit.setClearButtonEnabled(True)
        self.private_check = QCheckBox("Create as a private repository")
        self.push_check = QCheckBox("Push when training ends")

        box, form = section("Hugging Face Hub")
        self.add_field(form, "hub.repo_id", "Repository", self.repo_edit, tooltip=help_of("repo_id"))
        self.add_field(form, "hub.private", "Visibility", self.private_check, tooltip=help_of("private"))
        self.add_field(form, "hub.push_when_done", "Upload", self.push_check, tooltip=help_of("push_when_done"))
        self.note = hint_label(LOGIN_NOTE)
        form.addRow(self.note)
        self.account_label = hint_label("")
        self.account_label.setObjectName("hub_account")
        self.account_label.hide()
        form.addRow(self.account_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addStretch(1)
        align_labels(self)

        self.repo_edit.textEdited.connect(self._edited)
        self.private_check.toggled.connect(self._edited)
        self.push_check.toggled.connect(self._edited)

    def load(self, config: RunConfig) -> None:
        with self.loading():
            self.repo_edit.setText(config.hub.repo_id or "")
            self.load_check("hub.private", self.private_check, config.hub.private)
            self.load_check("hub.push_when_done", self.push_check, config.hub.push_when_done)

    def store(self, config: RunConfig) -> None:
        config.hub.repo_id = self.repo_edit.text().strip()
        config.hub.private = self.stored_check("hub.private", self.private_check)
        config.hub.push_when_done = self.stored_check("hub.push_when_done", self.push_check)

    def set_account_text(self, text: str) -> None:
        """Who pushes, as the status bar says it ("Logged in as alice (write token)."); empty hides the line."""
        self.account_label.setText(text)
        self.account_label.setVisible(bool(text))
