"""The Hugging Face Hub in the window: the account in the status bar, the Hub menu, the login and push dialogs.

`HubController` owns all of it: the window places its menu, status button and push widgets, and gives it the
session (core.session: the run shown, the runs folder) and a way to show a status message; it never holds the
window. Everything that talks to the Hub (checking the account, logging in and out, pushing) runs in
`gui.background`'s pool, so a slow or unreachable Hub never freezes the window; results come back as signals on
the GUI thread. The work itself is `core.hub`'s: the login is huggingface_hub's own (shared with `hf`,
transformers and the CLI), a push uploads the model, a model card, the metrics and a loss curve, and every failure
arrives as a `HubError` whose message is shown as it is.

The access token lives only in the login dialog's field until `core.hub.login` saves it where huggingface_hub
keeps it; it is never put into QSettings, a config, a run folder, a log line or an error dialog's details.

Nothing here imports huggingface_hub, transformers or torch at module level (the window must open fast):
`core.hub` imports the client inside its functions.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction, QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMenuBar,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QStatusBar,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core import hub as core_hub
from finetune_studio.core.events import RunState
from finetune_studio.core.session import Session
from finetune_studio.gui import background, dialogs
from finetune_studio.gui.session_signals import SessionSignals

ERROR_COLOR = "#c5221f"
WARNING_COLOR = "#b06000"
SUCCESS_COLOR = "#188038"
MESSAGE_STYLE = {
    "error": "QLabel { background: #fce8e6; color: #a50e0e; border: 1px solid #f4c7c3; border-radius: 4px; "
             "padding: 6px 8px; }",
    "warning": "QLabel { background: #fff4e0; color: #6b3d00; border: 1px solid #f2b457; border-radius: 4px; "
               "padding: 6px 8px; }",
    "success": "QLabel { background: #e6f4ea; color: #0d652d; border: 1px solid #a8dab5; border-radius: 4px; "
               "padding: 6px 8px; }",
    "info": "",
}


# ---- what the status bar shows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HubStatus:
    """The account state the app shows. `kind` is one of "checking", "account", "logged_out", "rejected",
    "unreachable" or "error"; `message` is core's sentence for the tooltip."""

    kind: str
    account: core_hub.Account | None = None
    message: str = ""

    @property
    def label(self) -> str:
        if self.kind == "account" and self.account is not None:
            role = {"read": "read", "write": "write", "fineGrained": "fine-grained"}.get(self.account.role,
                                                                                         self.account.role)
            text = f"Hub: {self.account.name}" + (f" ({role})" if role else "")
            if self.account.token_source == core_hub.FROM_ENVIRONMENT:
                text += " · HF_TOKEN"
            return text
        return {"checking": "Hub: checking…", "logged_out": "Hub: not logged in",
                "rejected": "Hub: token rejected", "unreachable": "Hub unreachable",
                "error": "Hub: account unknown"}.get(self.kind, "Hub")

    @property
    def sentence(self) -> str:
        """One sentence for places that are not clickable (the Hub form)."""
        if self.kind == "account" and self.account is not None:
            return self.account.describe()
        if self.kind == "logged_out":
            return "Not logged in to the Hugging Face Hub."
        if self.kind == "checking":
            return "Checking your Hugging Face account…"
        return self.message

    @property
    def tooltip(self) -> str:
        if self.kind == "account" and self.account is not None:
            text = self.account.describe()
            if self.account.token_source == core_hub.FROM_ENVIRONMENT and not self.account.env_overrides_saved:
                text += " Unset HF_TOKEN to use a login saved in the app instead."
            return text + "\nClick to log in with another token or to log out."
        if self.kind == "logged_out":
            return "Not logged in to the Hugging Face Hub. Click to log in with an access token."
        if self.kind == "checking":
            return "Checking your Hugging Face account…"
        return self.message + "\nClick to log in again or to check again."


def check_account() -> HubStatus:
    """The account the app would use, asked of the Hub; run in the background (it is a network call). Any
    failure becomes a status, never an exception: at start-up nothing must block or pop up."""
    if core_hub.current_token_source() is None:
        return HubStatus("logged_out")
    try:
        return HubStatus("account", core_hub.whoami())
    except core_hub.HubAuthError as exc:
        return HubStatus("rejected", message=str(exc))
    except (core_hub.HubConnectionError, core_hub.HubServerError) as exc:
        return HubStatus("unreachable", message=str(exc))
    except core_hub.HubError as exc:
        return HubStatus("error", message=str(exc))


def describe_error(error: BaseException, token: str | None = None) -> str:
    """A HubError's sentence as it is; anything else as one line with any token removed (it is a bug)."""
    if isinstance(error, core_hub.HubError):
        return str(error)
    first = (str(error).strip().splitlines() or [""])[0]
    return core_hub.redact(f"Unexpected error: {type(error).__name__}" + (f": {first}" if first else "")
                           + ". Please report it.", token)


def _message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.LinksAccessibleByMouse)
    label.setOpenExternalLinks(True)
    label.hide()
    return label


def _show_message(label: QLabel, kind: str, text: str, rich: bool = False) -> None:
    """Fill a dialog's message strip; an empty text hides it."""
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setStyleSheet(MESSAGE_STYLE.get(kind, ""))
    label.setProperty("kind", kind)
    label.setText(text)
    label.setVisible(bool(text))


def _fit_height(dialog: QDialog) -> None:
    """Grow a dialog to fit a message that was just shown (word-wrapped labels need their height for the
    dialog's width, which a plain sizeHint does not ask for), so no line is cut off."""
    layout = dialog.layout()
    if layout is None:
        return
    layout.activate()
    needed = dialogs.least_height(dialog) or 0
    if needed > dialog.height():
        dialog.resize(dialog.width(), needed)


def _link(url: str, text: str | None = None) -> str:
    return f"<a href='{html.escape(url, quote=True)}'>{html.escape(text or url)}</a>"


def _busy_bar() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(10)
    bar.hide()
    return bar


# ---- login -------------------------------------------------------------------------------------------------


def _check_then_login(token: str, cancelled: threading.Event) -> core_hub.Account:
    """Ask the Hub who the token belongs to, then save it (core.hub.login checks it once more and saves it where
    huggingface_hub's own login does). Cancel in the dialog is honoured between the two: nothing is saved."""
    core_hub.whoami(token)  # a rejected token raises here: nothing is written
    if cancelled.is_set():
        raise core_hub.HubCancelled("Login cancelled; nothing was saved.")
    return core_hub.login(token)


class LoginDialog(QDialog):
    """Paste a token, check it with the Hub in the background, save it. A rejected token keeps the dialog open
    with the Hub's reason, and nothing is saved; `logged_in(Account)` is emitted once the login is saved."""

    logged_in = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("hub_login_dialog")
        self.setWindowTitle("Log in to the Hugging Face Hub")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._cancelled = threading.Event()
        self.task = background.BackgroundTask(self)
        self.task.result.connect(self._done)
        self.task.error.connect(self._failed)

        tokens_url = f"{core_hub.endpoint()}/settings/tokens"
        self.intro = QLabel(
            "Paste a Hugging Face access token (<b>Write</b> access to push models).<br>"
            f"Create one at {_link(tokens_url)}")
        self.intro.setObjectName("tokens_link")
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.intro.setOpenExternalLinks(True)
        self.intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.tokens_url = tokens_url

        self.token_edit = QLineEdit()
        self.token_edit.setObjectName("token")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("hf_…")
        self.token_edit.setClearButtonEnabled(True)
        self.token_edit.setMinimumWidth(QFontMetrics(self.token_edit.font()).horizontalAdvance("M" * 32))
        self.show_check = QCheckBox("Show token")
        self.show_check.toggled.connect(self._toggle_shown)

        self.note = QLabel("The token is saved where huggingface_hub keeps it (shared with the hf command line "
                           "and transformers), never in the app's settings or your run folders.")
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.env_note = _message_label()
        if core_hub.current_token_source() == core_hub.FROM_ENVIRONMENT:
            _show_message(self.env_note, "warning",
                          "HF_TOKEN is set in this app's environment, so it is used instead of the login you "
                          "save here. Unset it to use the saved login.")

        self.message = _message_label()
        self.message.setObjectName("login_message")
        self.busy = _busy_bar()

        self.buttons = QDialogButtonBox()
        self.login_button = self.buttons.addButton("Log in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.login_button.setObjectName("login_button")
        self.login_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        # The field is disabled while the token is checked, so focus went to Cancel, which (auto-default) then took
        # Return: Return pressed twice cancelled the login it had started. Escape cancels; Return only logs in.
        self.cancel_button.setAutoDefault(False)
        self.login_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self.token_edit.textChanged.connect(self._update_buttons)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Access token", self.token_edit)
        form.addRow("", self.show_check)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.env_note)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addWidget(self.note)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(max(520, self.sizeHint().width()), self.sizeHint().height())
        self._update_buttons()

    @property
    def checking(self) -> bool:
        return self.task.busy

    @Slot(bool)
    def _toggle_shown(self, shown: bool) -> None:
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)

    def _update_buttons(self) -> None:
        self.login_button.setEnabled(bool(self.token_edit.text().strip()) and not self.checking)

    @Slot()
    def submit(self) -> None:
        token = self.token_edit.text().strip()
        if not token or self.checking:
            return
        self._cancelled = threading.Event()
        self.token_edit.setEnabled(False)
        self.show_check.setEnabled(False)
        self.busy.show()
        _show_message(self.message, "info", "Checking the token with the Hub…")
        self.task.submit(_check_then_login, token, self._cancelled)
        self._update_buttons()

    def _idle(self) -> None:
        self.busy.hide()
        self.token_edit.setEnabled(True)
        self.show_check.setEnabled(True)
        self._update_buttons()

    @Slot(object)
    def _done(self, account: core_hub.Account) -> None:
        self._idle()
        self.token_edit.clear()  # the token now lives only in huggingface_hub's token file
        self.logged_in.emit(account)
        self.accept()

    @Slot(object)
    def _failed(self, error: BaseException) -> None:
        self._idle()
        _show_message(self.message, "error", describe_error(error, self.token_edit.text().strip()))
        _fit_height(self)
        self.token_edit.setFocus()
        self.token_edit.selectAll()

    def reject(self) -> None:
        if self.checking:
            self._cancelled.set()  # the check may still finish; nothing is saved after this
            self.task.cancel()
        self.token_edit.clear()
        super().reject()


# ---- push --------------------------------------------------------------------------------------------------


class _PushProgress(QObject):
    """Carries core.hub's progress events from the pool thread to the dialog (a queued signal)."""

    event = Signal(object)


def _size(size: int) -> str:
    return core_hub.size_text(size)  # the same units as core's progress messages ("270.0 kB")


def push_gone_text(run_dir: Path, window: bool = False) -> str:
    """What the push dialog says of a run whose folder went since it was shown: core's "No run folder at …" names
    the command line's fix (give a run's folder; `finetune-studio runs` lists the runs). `window`: what the run
    header's Push to Hub… says (in the status bar), where there is no Choose… button."""
    fix = ("open it from its new place (the Runs tab, or File → Open run folder) and push it from there, or choose "
           "its folder with Push a run folder… in the Hub menu" if window else "choose it in its new place (Choose…)")
    return (f"The run {run_dir.name} is no longer in {run_dir.parent} (deleted, moved or renamed since it was shown), "
            f"so there is nothing to push there. Nothing was sent to the Hub. To fix: if it was moved or renamed, "
            f"{fix}.")


def nothing_left_text(run_dir: Path, window: bool = False) -> str:
    """What the push dialog says of a run whose final model and checkpoints were all deleted while it was open
    (`window`: what the run header's Push to Hub… says of them deleted since the run was shown)."""
    if window:
        return (f"The run {run_dir.name} has no model left to push: its final model and checkpoints were deleted "
                "since it was shown. Nothing was sent to the Hub. To fix: open another run, or train this one again "
                "(the Runs tab, Use its settings, then Start).")
    return (f"The run {run_dir.name} has no model left to push: its final model and checkpoints were deleted since "
            "the dialog listed them. Nothing was sent to the Hub. To fix: choose another run (Choose…), or train this "
            "one again.")


class PushDialog(QDialog):
    """Push one run folder: repository, visibility, commit message, the files that will be uploaded, then the
    push itself in the background with progress and Cancel. A failure shows core's message and leaves the dialog
    ready to push again; the run folder is only ever read."""

    pushed = Signal(object)  # core.hub.PushResult
    login_requested = Signal()
    token_rejected = Signal()  # a push found the login rejected (revoked or expired): the account is checked again

    def __init__(self, run_dir: Path, account: core_hub.Account | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("hub_push_dialog")
        self.setWindowTitle("Push run to the Hugging Face Hub")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.run_dir = Path(run_dir)
        self.account = account
        self.result: core_hub.PushResult | None = None
        self.plan: list[tuple[str, int]] = []
        self._auto_repo = ""  # the repository the dialog proposed itself (<account>/<run name>), not typed
        self._adapter_run = False  # the run trained an adapter: it can be pushed as one or merged
        self._base = ""  # its base model, as its adapter_config.json names it (the merged choice's tooltip)
        self._cancel = threading.Event()
        self._uploading = False
        self._phase = ""
        self._pushing_checkpoint: int | None = None
        self._progress = _PushProgress(self)
        self._progress.event.connect(self._on_progress)
        self.plan_task = background.BackgroundTask(self)
        self.plan_task.result.connect(self._planned)
        self.plan_task.error.connect(self._plan_failed)
        self.push_task = background.BackgroundTask(self)
        self.push_task.result.connect(self._pushed)
        self.push_task.error.connect(self._push_failed)

        self.run_label = QLabel()
        self.run_label.setObjectName("run_folder")
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.run_label.setTextFormat(Qt.TextFormat.RichText)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setToolTip("Push another run folder")
        self.choose_button.clicked.connect(self.choose_run)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_label, 1)
        run_row.addWidget(self.choose_button)

        self.repo_edit = QLineEdit()
        self.repo_edit.setObjectName("repo_id")
        self.repo_edit.setPlaceholderText("owner/name (empty: your user / run name, -checkpoint-N for a checkpoint)")
        self.repo_edit.setClearButtonEnabled(True)
        self.private_check = QCheckBox("Private repository (only you can see it)")
        self.private_check.setChecked(True)
        self.message_edit = QLineEdit()
        self.message_edit.setObjectName("commit_message")
        # Which of the run's models is pushed: its final model or a complete checkpoint, newest first (core.hub
        # .model_choices, the export dialog's Model box's reader); a stopped run's newest checkpoint is the first.
        self.choices: list[core_hub.Choice] = []
        self._damaged: set[int] = set()  # checkpoints a push found damaged: "(damaged)" after their name
        self._gone: str | None = None  # why nothing is left to push (the run's folder or every model went)
        self._gone_pick: int | None = None  # what the box picked when the run's folder went
        self._training: str | None = None  # another process trains the run: its checkpoints alone are offered
        self.training_label = _message_label()
        self.training_label.setObjectName("push_training")
        self.what_box = dialogs.ModelBox()
        self.what_box.setObjectName("push_what")
        self.what_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.what_box.currentIndexChanged.connect(self._what_changed)
        self.what_box.opening.connect(self._reread_choices)  # the labels follow the files (a repaired checkpoint)
        self.what_box.activated.connect(self._picked)
        what_row = QHBoxLayout()
        what_row.setContentsMargins(0, 0, 0, 0)
        what_row.addWidget(self.what_box)
        what_row.addStretch(1)
        # An adapter run pushes the adapter (small; loads with peft on its base) or the model merged into its base.
        self.adapter_radio = QRadioButton("The adapter (small; loads with peft on top of its base model)")
        self.adapter_radio.setObjectName("push_adapter")
        self.merged_radio = QRadioButton("Merged into its base model (an ordinary model; no peft needed)")
        self.merged_radio.setObjectName("push_merged")
        self.adapter_radio.setChecked(True)
        self.form_group = QButtonGroup(self)
        for radio in (self.adapter_radio, self.merged_radio):
            self.form_group.addButton(radio)
        self.form_box = QWidget()
        form_column = QVBoxLayout(self.form_box)
        form_column.setContentsMargins(0, 0, 0, 0)
        form_column.setSpacing(2)
        form_column.addWidget(self.adapter_radio)
        form_column.addWidget(self.merged_radio)
        # What a merged push's weights are saved in, as the export dialog's Weights box (core.export's
        # MERGED_DTYPES, and that dialog's labels and note): disabled unless Merged is chosen, since the adapter and
        # a whole model are uploaded as the run saved them. Filled for each run (set_run): "Same as training (…)".
        from finetune_studio.gui.export_dialog import weights_row  # here: export_dialog imports this module

        self.dtype_box, self.dtype_note, self.dtype_row = weights_row(
            "push_dtype", "<p>The dtype the merged model's weights are saved in and uploaded (config.json's dtype and "
            "torch_dtype say it). float16 and bfloat16 take half the bytes of float32; the adapter is merged before "
            "the weights are converted. Only a merged push has a dtype to choose: the adapter is uploaded as the run "
            "saved it.</p>")
        form_column.addWidget(self.dtype_row)
        form_column.addWidget(self.dtype_note)
        self.form_group.buttonToggled.connect(self._form_changed)
        self.dtype_box.currentIndexChanged.connect(self._dtype_changed)

        self.account_label = _message_label()
        self.account_label.setObjectName("push_account")
        self.files = QTreeWidget()
        self.files.setObjectName("push_files")
        self.files.setHeaderLabels(["File", "Size"])
        self.files.setRootIsDecorated(False)
        self.files.setUniformRowHeights(True)
        self.files.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.files.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a list to read: no focus frame on its first row
        self.files.header().setStretchLastSection(False)
        self.files.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.files.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.files.setMinimumHeight(150)
        self.total_label = QLabel("Listing the files…")
        self.total_label.setObjectName("push_total")
        self.total_label.setWordWrap(True)
        self.total_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.phase_label = QLabel()
        self.phase_label.setObjectName("push_phase")
        self.phase_label.setWordWrap(True)  # a long phase or Cancel line wraps: it widened the dialog off the screen
        self.phase_label.hide()
        self.busy = _busy_bar()
        self.message = _message_label()
        self.message.setObjectName("push_message")

        self.buttons = QDialogButtonBox()
        self.push_button = self.buttons.addButton("Push", QDialogButtonBox.ButtonRole.AcceptRole)
        self.push_button.setObjectName("push_button")
        self.push_button.setDefault(True)
        self.login_button = self.buttons.addButton("Log in…", QDialogButtonBox.ButtonRole.ActionRole)
        self.login_button.hide()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("cancel_button")
        # Push and the fields are disabled while pushing, so focus went to Cancel, which (auto-default) then took
        # Return: Return pressed twice (Push "pressed twice") cancelled the push it had started. Escape cancels.
        self.cancel_button.setAutoDefault(False)
        self.login_button.setAutoDefault(False)
        self.push_button.clicked.connect(self.start_push)
        self.login_button.clicked.connect(self.login_requested)
        self.cancel_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Run", run_row)
        form.addRow("Model", what_row)
        form.addRow("Repository", self.repo_edit)
        form.addRow("Visibility", self.private_check)
        form.addRow("Commit message", self.message_edit)
        form.addRow("Push", self.form_box)
        self._form_row = form.rowCount() - 1
        self._form_layout = form
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.training_label)
        layout.addLayout(form)
        layout.addWidget(self.account_label)
        files_title = QLabel("<b>Files to upload</b> (the model, a model card, the metrics and a loss curve)")
        files_title.setWordWrap(True)
        layout.addWidget(files_title)
        layout.addWidget(self.files, 1)
        layout.addWidget(self.total_label)
        layout.addWidget(self.phase_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(640, 540)

        self.set_account(account)
        self.set_run(self.run_dir)

    def event(self, event: QEvent) -> bool:
        """Each layout request (a line shown or hidden, a message set, the dialog resized) fits the dialog's least
        height to its word-wrapped lines at its width: a QDialog's layout sets its least size from one-line heights,
        so at its smallest (545 by 505 px) the Weights row and the two lines of its note were squeezed into one line's
        height, overlapping and cut (as the export dialog's were: 210f320)."""
        handled = super().event(event)
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            dialogs.fit_least_height(self)
        return handled

    # ---- state ---------------------------------------------------------------------------------------------

    @property
    def pushing(self) -> bool:
        return self.push_task.busy

    @property
    def checkpoint(self) -> int | None:
        """The checkpoint the Model box picks (push_run's checkpoint=), None for the final model."""
        step = self.what_box.currentData()
        return None if step is None else int(step)

    @property
    def form(self) -> str | None:
        """What an adapter run pushes: core.hub.PUSH_ADAPTER or PUSH_MERGED; None for a full fine-tuning run."""
        if not self._adapter_run:
            return None
        return core_hub.PUSH_MERGED if self.merged_radio.isChecked() else core_hub.PUSH_ADAPTER

    @property
    def dtype(self) -> str | None:
        """What a merged push's weights are saved in (core.export.MERGED_DTYPES); None for any other push, which
        uploads the model as the run saved it."""
        if self.form != core_hub.PUSH_MERGED:
            return None
        return str(self.dtype_box.currentData() or "auto")

    def _form_changed(self, *_: Any) -> None:
        """The file list follows the choice (a merged push lists model.safetensors instead of the adapter)."""
        if self._adapter_run and not self.pushing:
            self._update_buttons()  # the Weights box is for a merged push only
            self._list_files()

    def _what_changed(self, *_: Any) -> None:
        """The file list (and the commit message proposed) follow the model picked; whether it is an adapter, and
        its base, are read from its own folder (a stopped run has no final model to read them from)."""
        if self.pushing:
            return
        self._read_model()
        self._dtype_changed()  # lists the files of a merged push
        if self.form != core_hub.PUSH_MERGED:
            self._list_files()

    def _read_model(self) -> None:
        from finetune_studio.core.adapters import is_adapter_folder, read_adapter_config
        from finetune_studio.core.runs import RunFolder

        index = self.what_box.currentIndex()
        path = self.choices[index].path if 0 <= index < len(self.choices) else RunFolder(self.run_dir).model_dir
        self._adapter_run = is_adapter_folder(path)
        self._form_layout.setRowVisible(self._form_row, self._adapter_run)
        adapter = (read_adapter_config(path) or {}) if self._adapter_run else {}
        self._base = str(adapter.get("base_model_name_or_path") or "its base model")
        step = self.checkpoint
        self.message_edit.setPlaceholderText(f"Upload {self.run_dir.name} from Finetune Studio" if step is None else
                                             f"Upload checkpoint-{step} of {self.run_dir.name} from Finetune Studio")
        self._fill_repo_default()  # a checkpoint's own repository (default_repo_id), unless the user typed one

    def _fill_choices(self) -> None:
        """The Model box for this run: its final model first, then each complete checkpoint, newest first; disabled
        (its tooltip says why) for a run that kept none."""
        self.choices = self._read_choices()
        self._damaged = set()
        self._gone = None
        self.what_box.blockSignals(True)
        self._list_choices()
        self.what_box.setCurrentIndex(0 if self.choices else -1)
        self.what_box.blockSignals(False)
        self._choice_tip()

    def _read_choices(self) -> list[core_hub.Choice]:
        """The run's models as its folder holds them now (core.hub.model_choices), less the final model while
        another process trains the run and has saved a complete checkpoint (offered_choices; the export dialog's
        training_line, said above the form). Reads no weight file."""
        from finetune_studio.gui.export_dialog import offered_choices, training_line

        training = training_line(self.run_dir, "pushed")
        choices = offered_choices(core_hub.model_choices(self.run_dir), training is not None)
        self._training = training if any(choice.checkpoint is not None for choice in choices) else None
        _show_message(self.training_label, "warning", self._training or "")
        return choices

    def _list_choices(self) -> None:
        self.what_box.clear()
        for choice in self.choices:
            damaged = choice.checkpoint is not None and choice.checkpoint in self._damaged
            self.what_box.addItem(choice.label + (" (damaged)" if damaged else ""), choice.checkpoint)

    def _choice_tip(self) -> None:
        if self._gone:
            self.what_box.setToolTip(f"<p>{html.escape(self._gone)}</p>")
            return
        if not any(choice.checkpoint is not None for choice in self.choices):
            tip = "This run kept no complete checkpoint, so its final model is the one to push."
        else:
            tip = ("The final model, or a checkpoint the run saved while training (the Try tab answers with each). A "
                   "checkpoint is pushed as a model: its weights (or adapter), with the run's model card, which names "
                   "the checkpoint, its metrics and loss curve; never the optimizer state that only Resume reads.")
        self.what_box.setToolTip(f"<p>{html.escape(tip)}</p>")

    def _dtype_changed(self, *_: Any) -> None:
        """The note under the box (the weights' size in that dtype, where core.export estimates it) and the merged
        choice's tooltip follow it, in the export dialog's words; a merged push's list, its files' sizes."""
        from finetune_studio.gui.export_dialog import dtype_note, merged_hint

        if not self._adapter_run:
            return
        dtype = str(self.dtype_box.currentData() or "auto")
        self.dtype_note.setText(dtype_note(self.run_dir, dtype))
        self.merged_radio.setToolTip(merged_hint(self.run_dir, self._base, dtype))
        if self.form == core_hub.PUSH_MERGED and not self.pushing:
            self._list_files()

    def _fill_dtypes(self) -> None:
        """The Weights box's choices for this run: "Same as training (float32)" names the dtype the run trained in
        (core.export.trained_dtype); a dtype chosen for the run shown before stays chosen."""
        from finetune_studio.core.export import MERGED_DTYPES, trained_dtype
        from finetune_studio.gui.export_dialog import dtype_label

        chosen = self.dtype_box.currentData()
        trained = trained_dtype(self.run_dir) if self._adapter_run else None
        self.dtype_box.blockSignals(True)
        self.dtype_box.clear()
        for dtype in MERGED_DTYPES:
            self.dtype_box.addItem(dtype_label(dtype, trained), dtype)
        self.dtype_box.setCurrentIndex(max(0, self.dtype_box.findData(chosen)))
        self.dtype_box.blockSignals(False)

    def set_account(self, account: core_hub.Account | None, rejected: bool = False) -> None:
        """The account the push will use, when known: fills the default repository and warns about a read-only
        token before anything is sent (core refuses it too). `rejected`: no account, as the Hub rejected the token
        in use (revoked or expired): said, with the Log in… button, and the repository proposed is kept."""
        self.account = account
        if account is None and rejected:  # the repository proposed for the account stays: the next login refills it
            self._say_rejected()
            return
        if account is None:
            _show_message(self.account_label, "info", "")
        elif not account.can_write:
            _show_message(self.account_label, "warning",
                          f"You are logged in as {account.name} with a read-only token, which cannot push. Log in "
                          "with a token that has write access.")
            self.login_button.show()
        else:
            _show_message(self.account_label, "info", account.describe())
            self.login_button.hide()
        self._fill_repo_default()

    def _say_rejected(self) -> None:
        _show_message(self.account_label, "warning", "The Hub rejected the login in use (revoked or expired), so "
                                                     "this push cannot be sent. To fix: log in again (Log in…).")
        self.login_button.show()

    def set_run(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.result = None
        metrics = QFontMetrics(self.run_label.font())
        folder = metrics.elidedText(str(self.run_dir.parent), Qt.TextElideMode.ElideMiddle, 300)
        self.run_label.setText(f"<b>{html.escape(self.run_dir.name)}</b> in {html.escape(folder)}")
        self.run_label.setToolTip(str(self.run_dir))
        self.repo_edit.clear()
        self._auto_repo = ""
        self._apply_run_config()
        self._fill_repo_default()
        _show_message(self.message, "info", "")
        self._fill_choices()
        self._read_model()
        self._fill_dtypes()
        self._dtype_changed()  # lists the files of a merged push
        if self.form != core_hub.PUSH_MERGED:
            self._list_files()

    def _list_files(self) -> None:
        self.files.clear()
        self.plan = []
        self.total_label.setText("Listing the files…")
        picked = {} if self.checkpoint is None else {"checkpoint": self.checkpoint}  # the final model's as it was
        self.plan_task.submit(core_hub.plan_push, self.run_dir, None, self.form, dtype=self.dtype, **picked)
        self._update_buttons()

    def _apply_run_config(self) -> None:
        """The run's own hub settings (repository, private) are the defaults, as "push when done" would use."""
        from finetune_studio.core.config import load_config
        from finetune_studio.core.errors import FinetuneError
        from finetune_studio.core.runs import RunFolder

        try:
            config = load_config(RunFolder(self.run_dir).config_path)[0]
        except (FinetuneError, OSError):
            return
        if config.hub.repo_id:
            self.repo_edit.setText(config.hub.repo_id)
        self.private_check.setChecked(bool(config.hub.private))

    def _fill_repo_default(self) -> None:
        """Propose <account>/<run name>, following the account in use: a proposal of the dialog's own is replaced
        when another account logs in (and cleared on log out); a repository typed by the user, or the run's own
        hub.repo_id, is kept."""
        current = self.repo_edit.text().strip()
        if current and current != self._auto_repo:
            return
        proposed = core_hub.default_repo_id(self.account.name, self.run_dir, self.checkpoint) \
            if self.account is not None else ""
        if proposed != current:
            self.repo_edit.setText(proposed)
        self._auto_repo = proposed

    def _update_buttons(self) -> None:
        busy = self.pushing
        for widget in (self.repo_edit, self.private_check, self.message_edit, self.choose_button,
                       self.adapter_radio, self.merged_radio):
            widget.setEnabled(not busy)
        self.what_box.setEnabled(not busy and any(choice.checkpoint is not None for choice in self.choices))
        for widget in (self.dtype_row, self.dtype_note):  # the adapter is uploaded as the run saved it
            widget.setEnabled(not busy and self.merged_radio.isChecked())
        self.push_button.setEnabled(not busy and bool(self.plan))
        self.push_button.setToolTip(self._gone or "")
        cancelling = busy and self._cancel.is_set()
        self.cancel_button.setEnabled(not cancelling)  # pressed once: the push stops at its next request
        self.cancel_button.setToolTip(
            "Stops the push before its commit is sent: nothing is committed. The upload is a single commit: once it "
            "is sent, the repository gets every file or none, and the push runs to its end."
            if busy and self._uploading else "")

    # ---- the plan ------------------------------------------------------------------------------------------

    @Slot(object)
    def _planned(self, plan: list[tuple[str, int]]) -> None:
        self.plan = list(plan)
        self.files.clear()
        for name, size in self.plan:
            item = QTreeWidgetItem([name, _size(size)])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.files.addTopLevelItem(item)
        total = sum(size for _, size in self.plan)
        self.total_label.setText(f"{len(self.plan)} files, {_size(total)} in all. The run folder is only read, "
                                 "never changed.")
        self._update_buttons()

    @Slot(object)
    def _plan_failed(self, error: BaseException) -> None:
        self.plan = []
        self.files.clear()
        self.total_label.setText("Nothing to upload.")
        text = describe_error(error)
        if getattr(error, "kind", None) in (core_hub.NO_CHECKPOINT, core_hub.NOT_A_RUN_FOLDER):
            # the model picked went, or is damaged, since the box listed it (or the run's folder went)
            text = self._refused_model_text(error, self.checkpoint)
        _show_message(self.message, "error", text)
        self._update_buttons()

    def _refresh_choices(self, damaged: int | None = None) -> bool:
        """The Model box as the run's folder is now, after a push (or its list of files) refused the model picked:
        one deleted since the box listed it is no longer offered, a damaged one is named so, and a run whose folder
        went (deleted, moved or renamed), or whose every model went, offers nothing, with Push disabled (its tooltip
        says why). The pick stays where it is still listed, else the newest model is picked and its files listed.
        Reads what model_choices reads: no weight file. Returns whether the pick moved."""
        from finetune_studio.core.runs import MISSING, damage, run_folder_problem

        if damaged is not None:
            self._damaged.add(damaged)
        problem = run_folder_problem(self.run_dir)
        had = bool(self.choices)
        picked = self.checkpoint if had else self._gone_pick  # the pick before the run's folder went
        if problem is not None and problem.kind == MISSING:
            self._gone, choices = push_gone_text(self.run_dir), []
            self._gone_pick = picked
            self._training = None
            _show_message(self.training_label, "info", "")
        else:
            choices = self._read_choices()
            self._gone = nothing_left_text(self.run_dir) if had and not choices else None
        repaired = {choice.checkpoint for choice in choices if choice.checkpoint in self._damaged
                    and choice.checkpoint != damaged and damage(choice.path) is None}
        self._damaged -= repaired
        self.choices = choices
        self.what_box.blockSignals(True)
        self._list_choices()
        rows = [row for row, choice in enumerate(choices) if choice.checkpoint == picked]
        self.what_box.setCurrentIndex(rows[0] if rows else 0 if choices else -1)
        self.what_box.blockSignals(False)
        self._choice_tip()
        moved = bool(choices) and not rows
        if moved or (picked is not None and picked in repaired and not self.pushing):
            self._what_changed()  # the newest model's (or the repaired pick's) files, commit message and Push row
        elif (not choices and not (problem is not None and problem.kind == MISSING)) or (
                picked is not None and picked in self._damaged):
            # nothing left, or a damaged pick: nothing to push until another is picked. A run whose folder went
            # keeps its list: put back, Push pushes it (start_push reads the folder again)
            self.plan = []
            self.files.clear()
            self.total_label.setText("Nothing to upload.")
        self._update_buttons()
        return moved

    def _reread_choices(self) -> None:
        """The Model box's list is opening: read the run's folder again (_refresh_choices), so what it lists and
        names "(damaged)" is what the folder holds now (a checkpoint repaired since the box named it so was still
        named so, and could not be told from a damaged one)."""
        if not self.pushing:
            self._refresh_choices()

    def _picked(self, *_: Any) -> None:
        """The user picked a model: its label follows its files (_refresh_choices). A damaged pick is refused, in
        words, by the list of its files (_plan_failed), which the pick has asked for."""
        self._reread_choices()

    def _refused_model_text(self, error: BaseException, picked: int | None) -> str:
        """What the dialog says when core refused the model the box picked (core.hub's NO_CHECKPOINT: gone since
        the box listed it, or damaged; CHECKPOINT_REMOVED: the run deleted it while it was pushed; the run's folder
        gone): which model, and what to do in this dialog, in the Export dialog's words (refused_pick_text, from
        core's CheckpointRefusal, where core's fix names the command line's --checkpoint). The box is re-read first."""
        from finetune_studio.core.generate import DAMAGED
        from finetune_studio.gui.export_dialog import refused_pick_text  # here: export_dialog imports this module

        refusal = getattr(error, "refusal", None)
        self._refresh_choices(picked if refusal is not None and refusal.cause == DAMAGED else None)
        if self._gone:
            return self._gone
        if refusal is None:  # core's refusal with no checkpoint facts (a checkpoint holding no model files)
            return describe_error(error)
        return refused_pick_text(refusal, [choice.checkpoint for choice in self.choices if choice.checkpoint is None
                                           or choice.checkpoint not in self._damaged], "Nothing was sent to the Hub.",
                                 "open another run (Choose…), or resume this one until it saves a whole checkpoint.")

    @Slot()
    def choose_run(self) -> None:
        path = dialogs.choose_folder(self, "Choose a run folder to push", str(self.run_dir.parent))
        if path:
            self.set_run(Path(path))

    # ---- the push ------------------------------------------------------------------------------------------

    @Slot()
    def start_push(self) -> None:
        if self.pushing:
            return
        if self._gone:  # the run's folder went while the dialog was open: put back since, or still away
            self._refresh_choices()
            if self._gone:
                _show_message(self.message, "error", self._gone)
                _fit_height(self)
                return
        if not self.plan:
            return
        self._cancel = threading.Event()
        self._uploading = False
        self._phase = ""  # the push's last phase (core.hub's progress), for what Cancel says it waits for
        self.result = None
        self._pushing_checkpoint = self.checkpoint  # what a refusal names, whatever the box shows by then
        relay = self._progress

        def progress(event: dict[str, Any]) -> None:  # pool thread
            if shiboken6.isValid(relay):
                relay.event.emit(dict(event))

        self.push_task.submit(core_hub.push_run, self.run_dir, repo_id=self.repo_edit.text().strip() or None,
                              private=self.private_check.isChecked(),
                              commit_message=self.message_edit.text().strip() or None,
                              progress=progress, cancel=self._cancel, form=self.form, dtype=self.dtype,
                              **({} if self.checkpoint is None else {"checkpoint": self.checkpoint}))
        self.login_button.hide()
        _show_message(self.message, "info", "")
        self.phase_label.setText("Starting…")
        self.phase_label.show()
        self.busy.show()
        self.cancel_button.setText("Cancel")
        self._update_buttons()

    @Slot(object)
    def _on_progress(self, event: dict[str, Any]) -> None:
        if not self.pushing:
            return  # a late event of a push that already ended
        phase = event.get("phase")
        if phase != "retry":
            self._phase = str(phase or "")
        if phase == "upload":
            self._uploading = True
        if event.get("message") and phase != "done" and not self._cancel.is_set():  # "Cancelling…" stays
            self.phase_label.setText(f"{event['message']}…")
        self._update_buttons()

    def _finish(self) -> None:
        self._uploading = False
        self.busy.hide()
        self.phase_label.hide()
        self._update_buttons()

    @Slot(object)
    def _pushed(self, result: core_hub.PushResult) -> None:
        self._finish()
        self.result = result
        if self.account is None:  # a login that was rejected (or unknown) has just pushed: the window checks it
            _show_message(self.account_label, "info", "")
        said = (f"Nothing new to push: {_link(result.url)} holds these {len(result.files)} files already (no commit "
                "was made)" if result.unchanged else f"Pushed {len(result.files)} files to {_link(result.url)}")
        if self._cancel.is_set() and result.unchanged:  # Cancel came after the last request: nothing was sent
            said += ". Cancel came after the Hub's last answer; nothing was committed"
        elif self._cancel.is_set():  # Cancel came after the commit was sent: say why the push went through
            said += (". Cancel came after the commit was sent, so the push went through; to take the files back, "
                     f"delete them (or the repository) on {_link(result.url, 'its page')}")
        _show_message(self.message, "success", said, rich=True)
        self.push_button.setText("Push again")
        self.cancel_button.setText("Close")
        _fit_height(self)
        self.pushed.emit(result)

    @Slot(object)
    def _push_failed(self, error: BaseException) -> None:
        self._finish()
        if isinstance(error, core_hub.HubCancelled):
            _show_message(self.message, "warning", str(error))
        elif getattr(error, "kind", None) in (core_hub.NO_CHECKPOINT, core_hub.CHECKPOINT_REMOVED,
                                              core_hub.NOT_A_RUN_FOLDER):
            _show_message(self.message, "error", self._refused_model_text(error, self._pushing_checkpoint))
        else:
            text = describe_error(error)
            self._refresh_choices()  # as the run's folder is now: its final model may have gone since it was listed
            if self._pushing_checkpoint is None and self.choices and not any(
                    choice.checkpoint is None for choice in self.choices):
                # the final model went since the box listed it: the box now picks the newest checkpoint
                text += f" Or push one of its checkpoints: the Model box now picks the newest, {self.choices[0].label}."
            _show_message(self.message, "error", text)
        if isinstance(error, core_hub.HubError) and error.needs_login:
            self.login_button.show()
        if isinstance(error, core_hub.HubAuthError):  # "Logged in as alice (write token)" above it no longer holds
            self._say_rejected()
            self.token_rejected.emit()
        self.push_button.setText("Push")
        self.cancel_button.setText("Close")
        _fit_height(self)

    def reject(self) -> None:
        """Cancel while pushing (the push stops before its next request; once its commit is sent, it runs to its
        end), else close. Cancel, Escape and the window's close button all come here: closing waits for the push to
        stop, with the dialog saying so (during the upload they did nothing at all, and said nothing)."""
        if self.pushing:
            if not self._cancel.is_set():
                self._cancel.set()
                if self._uploading:
                    said = ("Cancelling: the push stops before its commit is sent (if the commit is already sent, it "
                            "runs to its end)…")
                elif self._phase == "merge":  # core.export looks at Cancel between the merge's steps (04c22ad);
                    # the step under way runs to its end, minutes for a big base model, and what it wrote is deleted
                    said = ("Cancelling: the push stops once the merge's current step ends (loading the base model, "
                            "merging or saving); no file is uploaded and the merged files are deleted…")
                else:
                    said = "Cancelling: the push stops after the Hub answers the request under way…"
                self.phase_label.setText(said)
                self._update_buttons()
                _fit_height(self)
            return
        super().reject()


# ---- the window's Hub menu, status bar widget and push button ---------------------------------------------


class HubController(QObject):
    """Everything Hub in the main window: the account (checked in the background at start), the status bar
    button, the Hub menu, the push button next to "Open folder", and the outcome of "push when training ends".

    The window places `menu`, `status_button`, `push_result` and `push_button`; this object reads the session,
    listens to the run's events and shows messages with `show_message(text, timeout_ms)`."""

    status_changed = Signal(object)  # HubStatus
    account_changed = Signal()  # logged in or out: "push when training ends" needs checking again

    def __init__(self, session: Session, show_message: Callable[[str, int], None], run_events: SignalInstance,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._show_message = show_message
        self.status = HubStatus("checking")
        # run folder -> ("done", repository page, repo id) or ("failed"/"cancelled", message, ""), this session
        self.push_outcomes: dict[Path, tuple[str, str, str]] = {}
        self.login_dialog: LoginDialog | None = None
        self.push_dialog: PushDialog | None = None
        self.check_task = background.BackgroundTask(self)
        self.check_task.result.connect(self._set_status)
        self.check_task.error.connect(lambda exc: self._set_status(HubStatus("error", message=describe_error(exc))))
        self.logout_task = background.BackgroundTask(self)
        self.logout_task.result.connect(self._logged_out)
        self.logout_task.error.connect(self._logout_failed)

        self.login_action = QAction("Log in…", self)
        self.login_action.setStatusTip("Log in to the Hugging Face Hub with an access token")
        self.login_action.triggered.connect(self.open_login)
        self.logout_action = QAction("Log out", self)
        self.logout_action.setStatusTip("Forget the Hugging Face login saved on this computer")
        self.logout_action.triggered.connect(self.log_out)
        self.refresh_action = QAction("Check again", self)
        self.refresh_action.triggered.connect(self.refresh)
        self.push_action = QAction("Push run to Hub…", self)
        self.push_action.setStatusTip("Upload the finished run's model, model card, metrics and loss curve")
        self.push_action.triggered.connect(self.push_current_run)
        self.push_folder_action = QAction("Push a run folder…", self)
        self.push_folder_action.setStatusTip("Choose any finished run folder and push it")
        self.push_folder_action.triggered.connect(self.push_chosen_run)

        self.menu = QMenu("&Hub")
        self.menu.setObjectName("hub_menu")
        for action in (self.login_action, self.logout_action, None, self.push_action, self.push_folder_action):
            self.menu.addSeparator() if action is None else self.menu.addAction(action)

        self.status_button = QToolButton()
        self.status_button.setObjectName("hub_status")
        self.status_button.setAutoRaise(True)
        self.status_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.status_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        status_menu = QMenu(self.status_button)
        for action in (self.login_action, self.logout_action, self.refresh_action):
            status_menu.addAction(action)
        self.status_button.setMenu(status_menu)

        self.push_button = QPushButton("Push to Hub…")
        self.push_button.setObjectName("push_to_hub")
        self.push_button.setToolTip("Upload this run's model, model card, metrics and loss curve to the Hub")
        self.push_button.clicked.connect(self.push_current_run)
        self.push_result = QLabel()
        self.push_result.setObjectName("push_result")
        self.push_result.setOpenExternalLinks(True)
        self.push_result.setTextFormat(Qt.TextFormat.RichText)
        self.push_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.push_button.hide()
        self.push_result.hide()

        run_events.connect(self._run_event)
        # While another process trains the shown run, its first complete checkpoint (or the end of its lock) is
        # looked for now and then, as the Export… button does: nothing in the session changes when it saves one.
        from finetune_studio.gui.export_dialog import ELSEWHERE_POLL_MS  # here: export_dialog imports this module

        self.poll = QTimer(self)
        self.poll.setInterval(ELSEWHERE_POLL_MS)
        self.poll.timeout.connect(self.show_run_state)
        SessionSignals(session, self).run_changed.connect(self.show_run_state)
        self._set_status(self.status)
        self.show_run_state()
        self.refresh()

    def place(self, menu_bar: QMenuBar, status_bar: QStatusBar, header: Any) -> None:
        """The Hub menu in the menu bar, the account at the status bar's right, the push button and its outcome
        beside the run header's "Open folder" (gui.run_header.RunHeader.add_actions)."""
        menu_bar.addMenu(self.menu)
        status_bar.addPermanentWidget(self.status_button)
        header.add_actions(self.push_result, self.push_button)

    def _dialog_parent(self) -> QWidget:
        """Dialogs open over the window that shows the Hub's status button."""
        return self.status_button.window()

    # ---- account -------------------------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Ask the Hub who is logged in, in the background; the status shows "checking…" meanwhile."""
        if not self.check_task.busy:
            self._set_status(HubStatus("checking"))
        self.check_task.submit(check_account)

    @Slot(object)
    def _set_status(self, status: HubStatus) -> None:
        self.status = status
        self.status_button.setText(status.label)
        self.status_button.setToolTip(status.tooltip)
        color = {"rejected": ERROR_COLOR, "unreachable": WARNING_COLOR, "error": WARNING_COLOR}.get(status.kind)
        self.status_button.setStyleSheet(f"QToolButton {{ color: {color}; }}" if color else "")
        self.logout_action.setEnabled(status.kind not in ("logged_out", "checking"))
        self.login_action.setText("Log in with another token…" if status.kind == "account" else "Log in…")
        known = status.kind in ("account", "logged_out", "rejected")  # not while checking, nor when unreachable
        if known and self.push_dialog is not None and shiboken6.isValid(self.push_dialog):
            self.push_dialog.set_account(status.account if status.kind == "account" else None,
                                         rejected=status.kind == "rejected")
        self.status_changed.emit(status)

    @property
    def account(self) -> core_hub.Account | None:
        return self.status.account if self.status.kind == "account" else None

    def _revalidate(self) -> None:
        """"Push when training ends" needs a login: the window checks the config again after it changed."""
        self.account_changed.emit()

    @Slot()
    def open_login(self) -> LoginDialog:
        """Show the login dialog (window-modal, not blocking the caller); the same one if it is already open."""
        if _open(self.login_dialog):
            self.login_dialog.raise_()
            self.login_dialog.activateWindow()
            return self.login_dialog
        dialog = LoginDialog(self._dialog_parent())
        dialog.logged_in.connect(self._logged_in)
        self.login_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _logged_in(self, account: core_hub.Account) -> None:
        if account.env_overrides_saved:
            self._show_message(
                f"Saved the login of {account.name}, but HF_TOKEN is set and is used instead.", 10_000)
            self.refresh()  # show the account HF_TOKEN belongs to
        else:
            self._set_status(HubStatus("account", account))
            self._show_message(f"Logged in to the Hugging Face Hub as {account.name}.", 8000)
        self._revalidate()

    @Slot()
    def log_out(self) -> None:
        if not self.logout_task.busy:
            self.logout_task.submit(_logout_then_check)

    @Slot(object)
    def _logged_out(self, status: HubStatus) -> None:
        self._set_status(status)
        if status.kind == "logged_out":
            self._show_message("Logged out of the Hugging Face Hub.", 8000)
        elif status.account is not None and status.account.token_source == core_hub.FROM_ENVIRONMENT:
            self._show_message(
                "Logged out, but HF_TOKEN is set in the environment and still logs you in. Unset it to log out.",
                10_000)
        self._revalidate()

    @Slot(object)
    def _logout_failed(self, error: BaseException) -> None:
        dialogs.show_error(self._dialog_parent(), "Log out failed", describe_error(error))
        self.refresh()

    # ---- push ----------------------------------------------------------------------------------------------

    def _pushable(self, run_dir: Path | None) -> bool:
        if run_dir is None:
            return False
        from finetune_studio.core.runs import RunFolder

        # a saved model, or (a stopped run's) complete checkpoints, one of which the dialog's Model box pushes
        return RunFolder(Path(run_dir)).model_dir.is_dir() or bool(core_hub.model_choices(Path(run_dir)))

    @Slot()
    def push_current_run(self) -> PushDialog | None:
        """Push the run the window shows, if it has a saved model; otherwise ask for a run folder. A run offered
        (its Push to Hub… button shown) whose folder went since (deleted, moved or renamed), or whose models all
        went, is said in the status bar, as the Export… button says it, and the button goes: a chooser of runs
        opened, saying nothing of the run the user had asked to push."""
        run_dir = self.session.run_dir
        if run_dir is not None and self._pushable(run_dir) and not self.session.running:
            return self.open_push(Path(run_dir))
        if run_dir is not None and not self.session.running and (not self.push_button.isHidden()
                                                                  or not Path(run_dir).exists()):
            from finetune_studio.core.runs import MISSING, run_folder_problem

            problem = run_folder_problem(Path(run_dir))
            gone = problem is not None and problem.kind == MISSING
            self._show_message(push_gone_text(Path(run_dir), window=True) if gone else
                               nothing_left_text(Path(run_dir), window=True), 15_000)
            self.push_button.hide()
            return None
        return self.push_chosen_run()

    @Slot()
    def push_chosen_run(self) -> PushDialog | None:
        path = dialogs.choose_folder(self._dialog_parent(), "Choose a run folder to push",
                                     str(self.session.runs_dir))
        return self.open_push(Path(path)) if path else None

    def open_push(self, run_dir: Path) -> PushDialog:
        """Show the push dialog for run_dir (window-modal, not blocking the caller)."""
        if _open(self.push_dialog):
            if not self.push_dialog.pushing:
                self.push_dialog.set_run(run_dir)
            self.push_dialog.raise_()
            self.push_dialog.activateWindow()
            return self.push_dialog
        dialog = PushDialog(run_dir, self.account, self._dialog_parent())
        if self.status.kind == "rejected":
            dialog.set_account(None, rejected=True)
        dialog.pushed.connect(self._pushed)
        dialog.login_requested.connect(self.open_login)
        dialog.token_rejected.connect(self.refresh)  # the status bar says 'token rejected', not the account
        self.push_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _pushed(self, result: core_hub.PushResult) -> None:
        dialog = self.push_dialog
        if dialog is not None and shiboken6.isValid(dialog):
            self._record(dialog.run_dir, ("done", result.url, result.repo_id))
        if self.status.kind != "account":  # a login said rejected or unknown has just pushed: ask again
            self.refresh()

    def _record(self, run_dir: Path, outcome: tuple[str, str, str]) -> None:
        self.push_outcomes[Path(run_dir)] = outcome
        self._render_outcome()

    def _render_outcome(self) -> None:
        """The last push of the run the window shows, as a link (or why it failed) beside the push button."""
        run_dir = self.session.run_dir
        outcome = self.push_outcomes.get(Path(run_dir)) if run_dir is not None else None
        if outcome is None:
            self.push_result.hide()
            return
        kind, text, repo_id = outcome
        if kind == "done":
            self.push_result.setStyleSheet(f"QLabel {{ color: {SUCCESS_COLOR}; }}")
            self.push_result.setText(f"Pushed to {_link(text, repo_id or text)}")
            self.push_result.setToolTip(text)
        else:
            self.push_result.setStyleSheet(f"QLabel {{ color: {ERROR_COLOR if kind == 'failed' else WARNING_COLOR}; }}")
            self.push_result.setText("Not pushed (see the log)" if kind == "failed" else "Push cancelled")
            self.push_result.setToolTip(text)
        self.push_result.show()

    @Slot()
    def show_run_state(self) -> None:
        """Whenever the session's run changes: offer a push for a finished run, and for a stopped, failed or
        interrupted one that kept a complete checkpoint (the dialog's Model box picks it: such a run may have no
        final model, and could not be pushed at all)."""
        from finetune_studio.gui.export_dialog import trained_elsewhere

        run_dir = self.session.run_dir
        finished = self.session.state is RunState.FINISHED and self._pushable(run_dir)
        # a run another process trains offers its complete checkpoints (the dialog lists those alone)
        elsewhere = trained_elsewhere(self.session)
        ended = ((self.session.state in (RunState.STOPPED, RunState.FAILED, RunState.INTERRUPTED) or elsewhere)
                 and not self.session.running and run_dir is not None and Path(run_dir).is_dir()
                 and any(choice.checkpoint is not None for choice in core_hub.model_choices(Path(run_dir))))
        self.push_button.setVisible(finished or ended)
        if elsewhere and not self.poll.isActive():
            self.poll.start()
        elif not elsewhere:
            self.poll.stop()
        self._render_outcome()

    @Slot(object)
    def _run_event(self, event: dict) -> None:
        """Progress and outcome of "push when training ends", which core.training runs after saving the model."""
        if event.get("event") == "phase" and event.get("phase") == "push":
            self._show_message(f"Hub: {event.get('message', '')}…", 30_000)
            return
        state = event.get("push")
        run_dir = self.session.run_dir
        if state is None or run_dir is None:
            return
        self._show_message(str(event.get("problem") or event.get("message", "")), 10_000)
        if state == "done" and event.get("url"):
            self._record(Path(run_dir), ("done", str(event["url"]), str(event.get("repo_id", ""))))
        else:
            self._record(Path(run_dir), (str(state), str(event.get("message", "")), ""))


def _open(dialog: QDialog | None) -> bool:
    """A dialog that is on screen (a closed one is only waiting for deleteLater)."""
    return dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible()


def _logout_then_check() -> HubStatus:
    core_hub.logout()
    return check_account()
