"""Hub section (owns `hub.*`): where "push when training ends" uploads the fine-tuned model.

The three fields are the config's `hub` section. A run with `push_when_done` is pushed by core.hub once it has
finished and saved its model (the model, a model card, the metrics and a loss curve; see core.hub.push_when_done),
to `repo_id` or <your user>/<run name>, created private unless `private` is off. Validation reports a missing
login here, on the "Push when training ends" box, and the run does not start (core.training validates it too); a
login that ends during a run makes that run's push fail at the end, the run finished and its model saved. The
account line below the fields is kept current by gui.hub_dialogs (the status bar's Hub button and the Hub menu log
in and out); while it says "not logged in", a "Log in…" button beside it asks for the same login (`login_requested`,
which the window connects to HubController.open_login; the button shows only once something is connected)."""

from __future__ import annotations

from PySide6.QtCore import SIGNAL, QMetaMethod, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from finetune_studio.core.config import RunConfig
from finetune_studio.gui.forms.common import Form, align_labels, config_help, hint_label, page_layout, section
from finetune_studio.gui.hub_dialogs import HubStatus

LOGIN_NOTE = ("Log in to the Hugging Face Hub from the Hub menu or the Hub button in the status bar. When the run "
              "finishes, its model, a model card, the metrics and a loss curve are uploaded.")


LOGGED_OUT = HubStatus("logged_out").sentence  # the account line while no login is saved


class HubForm(Form):
    login_requested = Signal()  # "Log in…" beside "Not logged in": the window opens the Hub menu's login

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
        self.login_button = QPushButton("Log in…")
        self.login_button.setObjectName("hub_form_login")
        self.login_button.setToolTip("Log in to the Hugging Face Hub with an access token (as Hub → Log in…)")
        self.login_button.hide()
        account_line = QHBoxLayout()
        account_line.addWidget(self.account_label, 1)
        account_line.addWidget(self.login_button)
        form.addRow(account_line)

        layout = page_layout(self)
        layout.addWidget(box)
        layout.addStretch(1)
        align_labels(self)

        self.repo_edit.textEdited.connect(self._edited)
        self.private_check.toggled.connect(self._edited)
        self.push_check.toggled.connect(self._edited)
        self.login_button.clicked.connect(self.login_requested)

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
        self._update_login_button()

    def connectNotify(self, signal: QMetaMethod) -> None:  # noqa: N802 (Qt's name)
        super().connectNotify(signal)
        if signal.name() == b"login_requested":
            self._update_login_button()

    def _update_login_button(self) -> None:
        """Shown while the account line says "not logged in", once the window has connected login_requested: with
        nothing connected it would be a button that does nothing."""
        wired = self.receivers(SIGNAL("login_requested()")) > 0
        self.login_button.setVisible(wired and self.account_label.text() == LOGGED_OUT)
