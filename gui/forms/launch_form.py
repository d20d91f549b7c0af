"""Launch section (owns `launch.processes`, `launch.nodes`, `launch.node_rank`, `launch.rdzv_endpoint`).

One process (the default) trains inside the app. More processes, or more machines, train under torchrun in
processes of their own (core.launch): the window follows them through the run's metrics, closing it does not stop
them, and Stop stops every rank at the same step. For several machines, *Copy launch command* copies each
machine's exact torchrun line (core.launch.node_commands). The GPUs (`launch.devices`) are the hardware panel's.
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from finetune_studio.core.config import RunConfig
from finetune_studio.gui.forms.common import Form, align_labels, config_help, guard_wheel, hint_label, section

CONFIG_PLACEHOLDER = "CONFIG.yaml"  # in the copied lines when the document has no file yet


class LaunchForm(Form):
    """Processes on this machine, machines, this machine's number, the rendezvous endpoint; Copy launch command."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._config = RunConfig()
        self.config_path: str | None = None  # the document's file, named in the copied lines

        self.processes_spin = QSpinBox()
        self.processes_spin.setRange(1, 256)
        self.nodes_spin = QSpinBox()
        self.nodes_spin.setRange(1, 4096)
        self.node_rank_spin = QSpinBox()
        self.node_rank_spin.setRange(0, 4095)
        self.endpoint_edit = QLineEdit()
        self.endpoint_edit.setPlaceholderText("host:port  (empty: this machine, a free port)")
        self.endpoint_edit.setClearButtonEnabled(True)

        box, form = section("Processes and machines")
        self.add_field(form, "launch.processes", "Processes", self.processes_spin)
        self.add_field(form, "launch.nodes", "Machines", self.nodes_spin)
        self.add_field(form, "launch.node_rank", "This machine", self.node_rank_spin,
                       tooltip=config_help("launch.node_rank"))
        self.add_field(form, "launch.rdzv_endpoint", "Rendezvous", self.endpoint_edit)
        self.summary = hint_label("")
        self.summary.setObjectName("launch_summary")
        form.addRow(self.summary)

        self.copy_button = QPushButton("Copy launch command")
        self.copy_button.setToolTip("Copy the torchrun line of every machine (each needs the saved config file "
                                    "at the same path); run the lines on their machines")
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

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addStretch(1)
        align_labels(self)
        guard_wheel(self)

        for spin in (self.processes_spin, self.nodes_spin, self.node_rank_spin):
            spin.valueChanged.connect(self._edited)
            spin.valueChanged.connect(self._update_summary)
        self.endpoint_edit.textEdited.connect(self._edited)
        self.endpoint_edit.textEdited.connect(self._update_summary)
        self._update_summary()

    def load(self, config: RunConfig) -> None:
        self._config = config.copy()
        launch = config.launch
        with self.loading():
            self.processes_spin.setValue(launch.processes if isinstance(launch.processes, int) else 1)
            self.nodes_spin.setValue(launch.nodes if isinstance(launch.nodes, int) else 1)
            self.node_rank_spin.setValue(launch.node_rank if isinstance(launch.node_rank, int) else 0)
            self.endpoint_edit.setText(launch.rdzv_endpoint if isinstance(launch.rdzv_endpoint, str) else "")
        self._update_summary()

    def config_changed(self, config: RunConfig) -> None:
        """Another tab edited the config (the Hardware tab's GPUs, which set how many processes a run starts):
        the summary and the copied lines follow it; this form's own fields keep what the user typed."""
        self._config = config.copy()
        self._update_summary()

    def store(self, config: RunConfig) -> None:
        config.launch.processes = self.processes_spin.value()
        config.launch.nodes = self.nodes_spin.value()
        config.launch.node_rank = self.node_rank_spin.value()
        config.launch.rdzv_endpoint = self.endpoint_edit.text().strip()

    def current_config(self) -> RunConfig:
        """The last loaded config with this form's values: what the copied lines and the summary describe."""
        config = self._config.copy()
        self.store(config)
        return config

    def commands(self) -> list[str]:
        from finetune_studio.core.launch import node_commands

        return node_commands(self.current_config(), self.config_path or CONFIG_PLACEHOLDER)

    def copy_commands(self) -> None:
        lines = self.commands()
        QGuiApplication.clipboard().setText("\n".join(lines) + "\n")
        self.copied_label.setText(f"Copied {len(lines)} line(s), one per machine (machine 0 first):")
        self.copied_label.show()
        self.commands_view.setPlainText("\n".join(f"# machine {rank}\n{line}" for rank, line in enumerate(lines)))
        self.commands_view.show()

    def _update_summary(self) -> None:
        from finetune_studio.core.launch import processes_per_node, uses_torchrun, world_size

        config = self.current_config()
        if not uses_torchrun(config):
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
        self.copy_button.setEnabled(uses_torchrun(config))  # several processes, from here or the ticked GPUs
