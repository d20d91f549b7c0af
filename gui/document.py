"""The window's config document: which RunConfig the forms show, its file, modified state, recent files, presets
and the headless command for it (File menu).

A mixin of MainWindow, kept apart so the window module stays about layout and runs. The document itself (config,
file, modified flag) is the window's core.session.Session; this mixin shows it (forms, title, recent files) and
asks the user (save? where?). It uses the window's `forms`, `dataset_form`, `recent_menu`, `warm`, `log` and
`validate_now`; nothing here imports the training stack.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from finetune_studio.core.config import PRESETS, RunConfig, load_config, save_config
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.session import Session
from finetune_studio.gui import dialogs
from finetune_studio.gui import settings as store

APP_NAME = "Finetune Studio"
PRESET_LABELS = {"demo": "Built-in demo (offline)", "chat-demo": "Built-in chat demo (offline conversations)",
                 "seed": "Tutorial: Qwen3-0.6B + astro_horoscope (needs Hub)"}
PRESET_TITLES = {"demo": "Built-in demo", "chat-demo": "Built-in chat demo", "seed": "Tutorial preset"}
YAML_FILTER = "Run config (*.yaml *.yml);;All files (*)"


def file_digest(path: Path | None) -> str | None:
    """What a file holds, as a digest (None: no file, or it cannot be read): Save compares it with the digest taken
    when the window read or wrote the file, to tell that another program changed it since."""
    if path is None:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


REPLACE, SAVE_AS = "replace", "save-as"


def read_only(path: Path) -> bool:
    """Whether `path` is a file made read-only: one this user cannot write (os.access), or one with no write
    permission for anyone (chmod 444, a file manager's read-only). os.access alone says True to root for any file,
    so a root user's Save replaced a 0444 file without a word; the mode bits say what its owner meant."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # no file there (or none that can be read): the save itself says what goes wrong
    writable_by_someone = mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    return stat.S_ISREG(mode) and (not writable_by_someone or not os.access(path, os.W_OK))


def ask_replace_changed(parent: QWidget | None, path: Path) -> str | None:
    """The file was changed by another program since the window read it: REPLACE, SAVE_AS or None (cancel)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Config changed on disk",
                      f"{path.name} was changed by another program since this window opened or saved it.",
                      QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText(f"Saving replaces what is in {path} now with the settings shown here, and the other "
                           "program's changes are lost. To keep both, choose Save As… and another file name.")
    replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
    save_as = box.addButton("Save As…", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(save_as)
    box.exec()
    return {replace: REPLACE, save_as: SAVE_AS}.get(box.clickedButton())


class ConfigDocument:
    """File → New/Open/Save/Recent/Copy CLI command and Presets, for MainWindow."""

    session: Session
    forms: list[Any]
    dataset_form: Any
    recent_menu: Any
    warm: Any
    _loading: bool
    _disk_digest: tuple[Path | None, str | None] = (None, None)  # the file and what it held when last read or written
    _model_changed: bool

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Forms filled by the window, not the user: their `changed` signals do not mark the config modified."""
        self._loading = True
        try:
            yield
        finally:
            self._loading = False

    def set_config(self, config: RunConfig, path: Path | None = None, untitled: str | None = None) -> None:
        """Show config in every form; it becomes the document (unmodified)."""
        self.session.set_document(config, path, untitled)

    def _document_replaced(self) -> None:
        """The session has another config (set_config, or the Runs tab's "Use its settings"): every form shows it."""
        config = self.session.config
        self._disk_digest = (self.session.path, file_digest(self.session.path))  # as the window read it
        with self._quiet():
            for form in self.forms:
                form.load(config)
        store.set_last_config(str(self.session.path) if self.session.path else None)
        if self.warm:
            self.dataset_form.refresh_statistics(dataclasses.replace(config.model))
            self.validate_now()

    def _name_changed(self) -> None:
        super().setWindowModified(self.session.modified)  # type: ignore[misc] - QMainWindow's, after this mixin
        self.setWindowTitle(f"{self.session.name}[*] — {APP_NAME}")
        launch = getattr(self, "launch_form", None)  # none yet while the window builds itself
        if launch is not None:
            launch.set_document(self.session.path, self.session.modified)  # the copied lines name its file

    def setWindowModified(self, modified: bool) -> None:  # noqa: N802 - Qt name
        """The modified flag is the session's; Qt's (the [*] in the title) follows it (_name_changed)."""
        self.session.set_modified(modified)

    def _form_changed(self, form: Any) -> None:
        if self._loading:
            return
        form.store(self.session.config)
        if form is self.model_form:
            self._model_changed = True
        if form is not self.launch_form:  # ticked GPUs (processes), run name and runs folder (the lines' folder)
            self.launch_form.config_changed(self.session.config)
        if form is not self.training_form:  # max_steps on All arguments: the Training tab says the epochs stop
            self.training_form.config_changed(self.session.config)
        if not form.respelled:  # the data's spelling of the column the config names: the same document
            self.session.set_modified(True)
        if form.filled_in:  # a value the form filled in (a detected encoding): why the document is modified now
            self.log.message(form.filled_in, "notice")
        # The estimate shown is of the settings before this edit until validation asks for the new one (300 ms of
        # typing, then seconds for a large model): faded and its Apply off at once, not after the timer.
        self.hardware_panel.estimate_bar.note_change(self.session.config)
        self._validate_timer.start()

    def maybe_save(self) -> bool:
        """Before replacing or closing a modified config: True when it is fine to go on."""
        if not self.session.modified:
            return True
        choice = dialogs.ask_save_changes(self, self.session.name)
        if choice is dialogs.SaveChoice.SAVE:
            return self.save()
        return choice is dialogs.SaveChoice.DISCARD

    def new_config(self) -> None:
        self.load_preset("demo")

    def load_preset(self, key: str) -> None:
        if self.maybe_save():
            self.set_config(PRESETS[key](), None, PRESET_TITLES[key])
            self.statusBar().showMessage(f"Loaded the preset “{PRESET_LABELS[key]}”.", 5000)

    def open_config_dialog(self) -> None:
        path = dialogs.choose_open_path(self, "Open config", self._folder_hint(), YAML_FILTER)
        if path and self.maybe_save():
            self.open_config(Path(path))

    def open_config(self, path: Path) -> bool:
        """Load a YAML config into the window; a broken file leaves the current config as it was."""
        try:
            config, notices = load_config(path)
        except ConfigError as exc:
            store.remove_recent(store.RECENT_CONFIGS, str(path))
            self._rebuild_recent_menu()
            dialogs.show_error(self, "Cannot open config", f"{path} cannot be used:\n\n"
                               + "\n".join(f"• {p}" for p in exc.problems))
            return False
        self.set_config(config, path)
        for notice in notices:
            self.log.message(notice, "notice")
        store.push_recent(store.RECENT_CONFIGS, str(path))
        self._rebuild_recent_menu()
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def save(self) -> bool:
        path = self.session.path
        if path is None:
            return self.save_as()
        # Another program (an editor, a git checkout) changed the file since the window read or wrote it: Save
        # would silently replace those changes, so the user decides.
        known, digest = self._disk_digest
        now = file_digest(path)
        if known == path and now is not None and now != digest:
            choice = ask_replace_changed(self, path)
            if choice == SAVE_AS:
                return self.save_as()
            if choice != REPLACE:
                return False
        return self._write(path)

    def save_as(self) -> bool:
        session = self.session
        suggested = str(session.path or Path(self._folder_hint()) / f"{session.config.name or 'run'}.yaml")
        path = dialogs.choose_save_path(self, "Save config", suggested, YAML_FILTER)
        if not path:
            return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".yaml")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        # A file made read-only is one its owner means to keep as it is; the save writes a new file and renames it
        # over the old one, which the folder allows, so without this check it replaced the file all the same.
        if read_only(path):
            reason, fix = "the file is read-only", "choose File > Save As… and another file, or make this one writable"
        else:
            try:
                save_config(self.session.config, path)
            except OSError as exc:
                reason, fix = str(exc.strerror or exc), "choose File > Save As… and a folder you can write to"
            else:
                reason = fix = ""
        if reason:
            dialogs.show_error(self, "Cannot save config", f"{path} was not saved: {reason[:1].lower()}{reason[1:]}. "
                               f"Nothing was written, and the window keeps your settings, unsaved. To fix: {fix}.")
            return False
        self.session.saved(path)
        for form in self.forms:
            form.document_saved(self.session.config)
        self._disk_digest = (self.session.path, file_digest(self.session.path))
        store.set_last_config(str(path))
        store.push_recent(store.RECENT_CONFIGS, str(path))
        self._rebuild_recent_menu()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _folder_hint(self) -> str:
        return str(self.session.path.parent) if self.session.path else str(Path.home())

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = store.recent(store.RECENT_CONFIGS)
        for item in items:
            action = self.recent_menu.addAction(item)
            action.triggered.connect(lambda _=False, p=item: self.maybe_save() and self.open_config(Path(p)))
        self.recent_menu.setEnabled(bool(items))

    def copy_cli_command(self) -> None:
        from finetune_studio.gui.cli_command import flags_command, train_command

        session = self.session
        if session.path is not None and not session.modified:
            command = train_command(session.path)
        else:
            choice = dialogs.ask_cli_form(self)
            if choice is dialogs.CliChoice.CANCEL or (choice is dialogs.CliChoice.SAVE and not self.save()):
                return
            command = train_command(session.path) if choice is dialogs.CliChoice.SAVE else \
                flags_command(session.config)
        QGuiApplication.clipboard().setText(command)
        self.statusBar().showMessage(f"Copied: {command}", 8000)

    def _dataset_source_chosen(self, source: str) -> None:
        self.dataset_form.set_recent(store.push_recent(store.RECENT_DATASETS, source))
