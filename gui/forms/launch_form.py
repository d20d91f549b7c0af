"""Launch section (owns `launch.processes`, `launch.nodes`, `launch.node_rank`, `launch.rdzv_endpoint`,
`launch.join_timeout`).

One process (the default) trains inside the app. More processes, or more machines, train under torchrun in
processes of their own (core.launch): the window follows them through the run's metrics, closing it does not stop
them, and Stop stops every rank at the same step. For several machines, *Copy launch command* copies each
machine's exact torchrun line (core.launch.node_commands). The GPUs (`launch.devices`) are the hardware panel's.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QWidget

from finetune_studio.core.config import RunConfig
from finetune_studio.core.errors import WARNING, ConfigError, Problem
from finetune_studio.core.launch import MAX_NODES, MAX_PROCESSES, lines_checks  # light (no torch): caps, checks
from finetune_studio.gui.forms.common import (
    Form,
    align_labels,
    config_help,
    guard_wheel,
    hint_label,
    page_layout,
    section,
    shown_as_is,
    written_text,
)

SAVE_FIRST = ("Save the config first: every machine runs the same YAML file, named in its line. Save it (File ▸ "
              "Save), then press Copy launch command again.")
COPY_TIP = ("Copy the torchrun line of every machine (each needs the saved config file at the same path); run the "
            "lines on their machines")
STALE = "The launch settings changed after the copy: press Copy launch command again for the new lines."
COUNTED = {"processes": "Processes", "nodes": "Machines"}  # what the summary counts with, and the boxes' captions


def copy_blocker(problem: Problem) -> bool:
    """A problem that makes the copied lines wrong: any launch error, and the run's name (every line names its
    folder)."""
    return problem.level != WARNING and (problem.field.startswith("launch.") or problem.field == "name")


class LaunchForm(Form):
    """Processes on this machine, machines, this machine's number, the rendezvous endpoint; Copy launch command."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._config = RunConfig()
        self.config_path: str | None = None  # the document's file (absolute), named in the copied lines
        self._unsaved = False  # the document has changes its file lacks (the other machines read the file)
        self._copied: list[str] | None = None  # the lines last put on the clipboard
        self._copied_for: tuple | None = None  # what those lines were made from (see _line_inputs)
        self._blockers: list[str] = []  # the launch problems validation found last: Copy waits for their fix
        self._shown_warnings: list[Problem] = []  # warnings on these fields the window's last check passed in
        self._kept: dict[str, Any] = {}  # loaded values a field cannot show as they are (see load)
        self._refused: set[str] = set()  # COUNTED fields validation refused last (a cap the box allows), until edited
        self._following = False  # Machines is clamping This machine's number: not the user's edit of that box

        self.processes_spin = QSpinBox()
        self.processes_spin.setRange(1, MAX_PROCESSES)  # validation's cap (it was 256: 257 to 1024 kept, unshown)
        self.nodes_spin = QSpinBox()
        self.nodes_spin.setRange(1, MAX_NODES)  # what validation accepts: a box cannot offer a refused count
        self.node_rank_spin = QSpinBox()
        self.node_rank_spin.setRange(0, MAX_NODES - 1)
        self.endpoint_edit = QLineEdit()
        self.endpoint_edit.setPlaceholderText("host:port  (empty: this machine, a free port)")
        self.endpoint_edit.setClearButtonEnabled(True)
        self.join_timeout_spin = QSpinBox()
        self.join_timeout_spin.setRange(1, 7 * 24 * 3600)
        self.join_timeout_spin.setSuffix(" s")
        self.join_timeout_spin.setSingleStep(60)

        box, form = section("Processes and machines")
        self.add_field(form, "launch.processes", "Processes", self.processes_spin)
        self.add_field(form, "launch.nodes", "Machines", self.nodes_spin)
        self.add_field(form, "launch.node_rank", "This machine", self.node_rank_spin,
                       tooltip=config_help("launch.node_rank"))
        self.add_field(form, "launch.rdzv_endpoint", "Rendezvous", self.endpoint_edit)
        self.add_field(form, "launch.join_timeout", "Wait for machines", self.join_timeout_spin,
                       tooltip=config_help("launch.join_timeout"))
        self.summary = hint_label("")
        self.summary.setObjectName("launch_summary")
        form.addRow(self.summary)

        self.copy_button = QPushButton("Copy launch command")
        self.copy_button.setToolTip(COPY_TIP)
        self.copy_button.clicked.connect(self.copy_commands)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.copied_label = hint_label("")
        self.copied_label.hide()
        form.addRow(self.copied_label)
        # The lines as they were copied, one per machine, unwrapped (a wrapped command line reads as two).
        self.commands_view = QPlainTextEdit()
        self.commands_view.setObjectName("launch_commands")
        self.commands_view.setReadOnly(True)
        self.commands_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.commands_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.commands_view.setFixedHeight(self.commands_view.fontMetrics().lineSpacing() * 5 + 16)
        self.commands_view.hide()
        form.addRow(self.commands_view)

        layout = page_layout(self)
        layout.addWidget(box)
        layout.addStretch(1)
        align_labels(self)
        guard_wheel(self)

        for key, spin in self._spins().items():  # first: the user's edit of a box replaces its kept value
            spin.valueChanged.connect(lambda _=None, k=key: self._own_edit(k))
            # Typed even where the box shows it already (1000 shown as 256, and 256 typed): theirs all the same.
            spin.lineEdit().textEdited.connect(lambda _=None, k=key: self._own_edit(k, edited=True))
        # Machines takes effect when typed whole (Enter, or leaving the box): typing 12 would pass through 1, and
        # This machine's number would be clamped to it on the way.
        self.nodes_spin.setKeyboardTracking(False)
        self.nodes_spin.valueChanged.connect(self._follow_machines)
        self.node_rank_spin.valueChanged.connect(lambda: None if self._loading else self._follow_machines())
        for spin in (self.processes_spin, self.nodes_spin, self.node_rank_spin, self.join_timeout_spin):
            spin.valueChanged.connect(self._edited)
            spin.valueChanged.connect(self._update_summary)
        # first: the user's edit of the field (typing, its clear button) replaces a kept endpoint that is no text
        self.endpoint_edit.textEdited.connect(lambda _=None: self._own_edit("rdzv_endpoint"))
        self.endpoint_edit.textEdited.connect(self._edited)
        self.endpoint_edit.textEdited.connect(self._update_summary)
        self._update_summary()

    def load(self, config: RunConfig) -> None:
        self._config = config.copy()
        launch = config.launch
        with self.loading():
            self.processes_spin.setValue(launch.processes if isinstance(launch.processes, int) else 1)
            self.nodes_spin.setValue(launch.nodes if isinstance(launch.nodes, int) else 1)
            rank = launch.node_rank if isinstance(launch.node_rank, int) else 0
            # A file's number past its machines stays as written (validation marks it); an edit of either field
            # clamps it.
            self._follow_machines(keep=rank)
            self.node_rank_spin.setValue(rank)
            self.endpoint_edit.setText(written_text(launch.rdzv_endpoint))  # [node0, node1] as the file has it
            usable = isinstance(launch.join_timeout, int) and not isinstance(launch.join_timeout, bool)
            self.join_timeout_spin.setValue(launch.join_timeout if usable else 300)
        # A loaded value a box cannot show as it is (1000 processes past its 256, "two", 0, -1, 1.5) would be
        # clamped and saved so by the first edit of any field here: keep it until the user edits that box;
        # validation names it at the field.
        self._kept = {key: getattr(launch, key) for key, spin in self._spins().items()
                      if not shown_as_is(getattr(launch, key), spin)}
        # The same for a rendezvous endpoint that is no text (a list, true, a mapping): the field shows it as the
        # file writes it and it is stored as written until the user edits the field. It showed empty and was saved
        # as "" (one machine, a free port), the written value gone without a word; validation refuses it in words.
        if launch.rdzv_endpoint is not None and not isinstance(launch.rdzv_endpoint, str):
            self._kept["rdzv_endpoint"] = copy.deepcopy(launch.rdzv_endpoint)
        self._update_summary()

    def _spins(self) -> dict[str, QSpinBox]:
        return {"processes": self.processes_spin, "nodes": self.nodes_spin, "node_rank": self.node_rank_spin,
                "join_timeout": self.join_timeout_spin}

    def _own_edit(self, key: str, edited: bool = False) -> None:
        """The user edited this box: from now on it holds their value, not the one loaded."""
        if self._loading or self._following:
            return
        self._kept.pop(key, None)
        self._refused.discard(key)  # validation's word on the old value no longer holds; it speaks again shortly
        if edited:
            self._edited()

    def config_changed(self, config: RunConfig) -> None:
        """Another tab edited the config (the Hardware tab's GPUs, which set how many processes a run starts):
        the summary and the copied lines follow it; this form's own fields keep what the user typed."""
        self._config = config.copy()
        self._update_summary()

    def set_document(self, path: str | Path | None, modified: bool = False) -> None:
        """The document's file (None: never saved) and whether it has unsaved changes: the copied lines name the
        file by its absolute path, and every other machine reads that file, not this window."""
        self.config_path = str(Path(path).absolute()) if path else None
        self._unsaved = bool(path) and modified
        if self.config_path and self.copied_label.text() == SAVE_FIRST:
            self.copied_label.hide()
        self._update_summary()

    def show_problems(self, problems: list[Problem]) -> None:
        super().show_problems(problems)
        # Copy waits for what `finetune-studio launch-command` refuses, by its rule (core.launch.lines_checks):
        # where machine 0's line runs elsewhere, this machine's own errors (a chosen GPU it lacks) stop Start here,
        # not the lines for the other machines.
        answered, _ = lines_checks(self.current_config(), problems)
        self._blockers = list(dict.fromkeys(p.message for p in answered if copy_blocker(p)))
        self._shown_warnings = [p for p in problems if p.level == WARNING and self.owns(p.field)]
        self._refused = {key for key in COUNTED
                         if any(p.level != WARNING and p.field == f"launch.{key}" for p in problems)}
        self._update_summary()

    def _follow_machines(self, *_: object, keep: int = 0) -> None:
        """This machine's number is one of 0 … Machines − 1 (the spin box clamps it when Machines shrinks); with
        one machine there is nothing to choose (unless a loaded file says otherwise, so it can be fixed)."""
        top = max(self.nodes_spin.value() - 1, keep)
        following, self._following = self._following, True
        try:
            self.node_rank_spin.setMaximum(top)  # may clamp the box: not the user's edit of it
        finally:
            self._following = following
        self.node_rank_spin.setEnabled(top > 0)
        self.join_timeout_spin.setEnabled(self.nodes_spin.value() > 1)  # one machine meets itself at once

    def store(self, config: RunConfig, numbers_only: bool = False) -> None:
        """numbers_only: a kept value that is no whole number gives way to its box's (for the summary, which
        counts processes; validation names the kept value at its field)."""
        for key, spin in self._spins().items():
            kept = self._kept.get(key)
            usable = key in self._kept and not (numbers_only and (not isinstance(kept, int) or isinstance(kept, bool)))
            setattr(config.launch, key, kept if usable else spin.value())
        config.launch.rdzv_endpoint = (copy.deepcopy(self._kept["rdzv_endpoint"]) if "rdzv_endpoint" in self._kept
                                       else self.endpoint_edit.text().strip())

    def current_config(self) -> RunConfig:
        """The last loaded config with this form's values: what the copied lines and the summary describe."""
        config = self._config.copy()
        self.store(config)
        return config

    def commands(self) -> list[str]:
        """Every machine's torchrun line for the fields as they are, naming the document's file (empty while the
        document has none: the other machines could not read it)."""
        from finetune_studio.core.launch import node_commands

        if not self.config_path:
            return []
        return node_commands(self.current_config(), self.config_path)

    def _line_inputs(self) -> tuple:
        """What the copied lines are made of (the file, the run folder, the counts, the endpoint, the GPUs), to
        tell whether lines copied earlier still describe the fields: comparing the lines themselves would not do,
        as a one-machine run's lines get a fresh free port each time."""
        from finetune_studio.core.launch import processes_per_node

        config = self.current_config()
        launch = config.launch
        return (self.config_path, config.name, config.runs_dir, processes_per_node(config), launch.nodes,
                launch.rdzv_endpoint, launch.join_timeout,
                tuple(launch.devices) if isinstance(launch.devices, list) else launch.devices)

    def copy_commands(self) -> None:
        self._copied = None
        try:
            lines = self.commands()
        except ConfigError as exc:  # validation has not caught up with the last edit yet
            lines, refused = [], "Not copied: " + " ".join(p.message for p in exc.problems)
        else:
            refused = SAVE_FIRST
        if not lines:
            self.commands_view.hide()
            self.copied_label.setText(refused)
            self.copied_label.show()
            return
        QGuiApplication.clipboard().setText("\n".join(lines) + "\n")
        self._copied, self._copied_for = lines, self._line_inputs()
        self.commands_view.setPlainText("\n".join(f"# machine {rank}\n{line}" for rank, line in enumerate(lines)))
        self._show_copied()

    def _show_copied(self) -> None:
        """The copied lines while they are what Copy would give now; once a field changes them, a note to copy
        again instead (lines that no longer match the config would start a different run); nothing once Copy
        does not apply (one process in the app, or a launch problem)."""
        if self._copied is None:
            return
        if not self.copy_button.isEnabled():
            self.copied_label.hide()
            self.commands_view.hide()
            return
        current = self._line_inputs() == self._copied_for
        text = f"Copied {len(self._copied)} line(s), one per machine (machine 0 first):" if current else STALE
        if current and self._unsaved:
            text += (" The config has unsaved changes: save it before running them, every machine reads the "
                     "file.")
        self.copied_label.setText(text)
        self.copied_label.show()
        self.commands_view.setVisible(current)

    def to_fix(self) -> list[str]:
        """The settings the summary cannot count with, named as the boxes are: a loaded value a box cannot show
        ("Processes 1000 (the box takes 1 to 256)"), and a count validation refused (Machines past the most it
        takes: its message is under the box). A total made from them read "1000 processes on each of 0 machines
        (1000 in all)" beside boxes showing 256 and 1. Only the counted fields: a kept This machine or Wait for
        machines leaves the count right, and validation marks it at its field."""
        spins, launch = self._spins(), self.current_config().launch
        named = []
        for key, label in COUNTED.items():
            if key in self._kept:
                spin = spins[key]
                named.append(f"{label} {self._kept[key]!r} (the box takes {spin.minimum()} to {spin.maximum()})")
            elif key in self._refused:
                named.append(f"{label} {getattr(launch, key)!r} (see the message under the box)")
        return named

    def _update_summary(self) -> None:
        from finetune_studio.core.launch import processes_per_node, uses_torchrun, world_size

        config = self._config.copy()
        self.store(config, numbers_only=True)
        to_fix = self.to_fix()
        if to_fix:
            those = "each of those boxes" if len(to_fix) > 1 else "that box"
            text = (f"The config has values to fix before the processes can be counted: {', '.join(to_fix)}. "
                    f"To fix: type a value in {those}, or correct the config file and open it again.")
        elif not uses_torchrun(config):
            text = ("One process: the run trains inside the app (the usual run). More processes train "
                    "data-parallel under torchrun, each on its own GPU (on a computer without one, on CPU cores).")
        else:
            per_node, total = processes_per_node(config), world_size(config)
            where = "this machine" if config.launch.nodes == 1 else f"each of {config.launch.nodes} machines"
            processes = f"{per_node} process" + ("" if per_node == 1 else "es")
            text = (f"{processes} on {where} ({total} in all) under torchrun. The run trains in "
                    "processes of its own: closing the window does not stop it, and Stop stops every process at "
                    "the same step with one checkpoint.")
            if config.launch.nodes > 1:
                text += (" Start this machine's part with Start, and every other machine's with its line from "
                         "Copy launch command.")
        self.summary.setText(text)
        # several processes (from here or the ticked GPUs), and no launch problem the lines would carry
        self.copy_button.setEnabled(uses_torchrun(config) and not self._blockers)
        self.copy_button.setToolTip("Copy launch command waits for this to be fixed: " + " ".join(self._blockers)
                                    if self._blockers else COPY_TIP)
        self._show_copied()
        self._update_warnings(self.current_config())

    def _update_warnings(self, config: RunConfig) -> None:
        """Warnings about the fields shown here (a loopback rendezvous for several machines, more CPU processes than
        cores), in amber under the field, not blocking: core.validation.warnings_for decides, as for `finetune-studio
        validate`; kept beside those the window's last check passed in (show_problems)."""
        from finetune_studio.core.validation import warnings_for  # light (no training stack)

        found = self._shown_warnings + [w for w in warnings_for(config) if self.owns(w.field)]
        self.set_warnings(list(dict.fromkeys(found)))
