"""Hardware tab (owns `launch.devices`): the GPUs as nvidia-smi shows them, which ones a run uses, and the estimate.

The table comes from core.gpus.read_gpus (NVML, numbered by PCI bus id like nvidia-smi), refreshed every few
seconds while the tab is visible; the tick boxes are the config's device list (none ticked: the first GPU, as a
run without devices uses). What is wrong with the choice (a GPU that does not exist, one another process fills,
mixed models) is said under the table, from core.gpus.device_problems. A machine without an NVIDIA GPU says so and
shows its CPU cores and RAM. The memory estimate (gui/estimate_bar.py) sits below: the window asks it to estimate
whenever the config changes. Under it, memory and GPU use over the shown run (gui/resource_plot.py), fed the run's
events by the window (`add_event`, `load_events`, `clear_run`).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.config import RunConfig
from finetune_studio.core.errors import ERROR, Problem
from finetune_studio.core.estimate import GIB, budget_of, gib
from finetune_studio.core.gpus import GpuTable, device_problems, read_gpus
from finetune_studio.core.launch import is_gpu_number
from finetune_studio.gui.estimate_bar import EstimateBar, size_text
from finetune_studio.gui.forms.common import Form, config_help, error_label, hint_label, page_layout, section
from finetune_studio.gui.resource_plot import ResourcePlot

REFRESH_MS = 3000
COLUMNS = ("Use", "GPU", "Memory used", "Free", "Util.")  # short headers: the GPU names get the width


def in_gib(value: float) -> str:
    """The table's one unit: GiB with two decimals (614 MiB is 0.60), so a column reads down without unit jumps."""
    return f"{value / GIB:.2f}"


def short_name(name: str) -> str:
    """NVML's name less the vendor every row shares ("NVIDIA GeForce RTX 4090" -> "GeForce RTX 4090"): the model
    number at its end is what tells GPUs apart, and a narrow column elides the middle, never that end."""
    return name.removeprefix("NVIDIA ").strip() or name


class HardwarePanel(Form):
    def __init__(self, reader: Callable[[], GpuTable] = read_gpus, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("hardware_panel")
        self.reader = reader
        self._table: GpuTable | None = None  # read when first needed: NVML's init can take a while (see table_data)
        self.devices: list[int] = []
        self._kept_devices: Any = None  # launch.devices as loaded when the ticks cannot show it (load)
        self._own_errors: list[Problem] = []  # a chosen GPU that does not exist, found against the last reading
        self._last_problems: list[Problem] = []  # what validation said last (shown with the panel's own)

        box, form = section("Devices")
        self.summary = QLabel()
        self.summary.setObjectName("hardware_summary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("gpu_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeaderItem(len(COLUMNS) - 1).setToolTip("Utilization: the share of the last moment the "
                                                                     "GPU was computing (nvidia-smi's GPU-Util)")
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(config_help("launch.devices"))
        self.hint = hint_label("")
        self.problems_label = QLabel()
        self.problems_label.setObjectName("device_warnings")
        self.problems_label.setProperty("role", "warning")
        self.problems_label.setWordWrap(True)
        self.problems_label.hide()
        self.error = error_label()
        self.register_field("launch.devices", self.table, self.error, config_help("launch.devices"))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        # One column in a box layout, a form row of its own: QFormLayout sizes a word-wrapped label of a row of its
        # own for a width it does not get, so the warnings (set after the layout) were cut at top and bottom.
        devices = QWidget()
        rows = QVBoxLayout(devices)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(form.verticalSpacing())
        rows.addLayout(top)
        for widget in (self.table, self.hint, self.error, self.problems_label):
            rows.addWidget(widget)
        form.addRow(devices)

        estimate_box, estimate_form = section("Before Start")
        self.estimate_bar = EstimateBar()
        estimate_form.addRow(self.estimate_bar)

        run_box, run_form = section("During the run")
        self.resources = ResourcePlot()
        run_form.addRow(self.resources)

        layout = page_layout(self)  # the form tabs' page margin, so its sections line up with theirs
        layout.addWidget(box)
        layout.addWidget(estimate_box)
        layout.addWidget(run_box)
        layout.addStretch(1)

        self.table.itemChanged.connect(self._ticked)
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

    # ---- reading the machine
    @property
    def table_data(self) -> GpuTable:
        """The last reading; the first is taken when the tab is first shown or the estimate first needs it, not
        while the window starts (initialising NVML loads the driver, tens of milliseconds on a multi-GPU box)."""
        if self._table is None:
            self.refresh()
        return self._table  # type: ignore[return-value]

    def refresh(self) -> None:
        self.set_table(self.reader())

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh()
        self.timer.start()

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.timer.stop()

    def set_table(self, table: GpuTable) -> None:
        previous = self._table
        self._table = table
        if previous is not None and self._budget_moved(previous, table):
            self.estimate_bar.rejudge(table)
        elif previous is not None:
            self.estimate_bar.show_free(table)  # the estimate's "free RAM" is this reading's, as the line below
        cpu = table.cpu
        # size_text: the estimate's rule, so the available RAM reads the same here and in its verdict
        machine = (f"CPU: {cpu.cores} cores · RAM {size_text(cpu.ram_total_bytes)}, "
                   f"{size_text(cpu.ram_available_bytes)} available") if cpu else ""
        # core.gpus says why there is no GPU in a sentence, then (lines after the first) what the driver's library
        # said: the clue on a machine that has a GPU, noise on one that has none, so a tooltip
        sentence, _, detail = table.unavailable.partition("\n") if not table.gpus else ("", "", "")
        self.summary.setToolTip(detail.strip())
        if not table.gpus:
            self.summary.setText(f"{sentence}\n{machine}".strip())
        else:
            driver = f" · driver {table.driver}" if table.driver else ""
            self.summary.setText(f"{len(table.gpus)} NVIDIA GPU{'s' if len(table.gpus) != 1 else ''}{driver}, "
                                 f"numbered as nvidia-smi does.\n{machine}")
        self._show_table()
        self._show_device_problems()

    def missing(self) -> list[int]:
        """Chosen GPUs this machine does not have (a config made on another machine): rows of their own, ticked,
        so that unticking them is the way out."""
        have = {gpu.index for gpu in self.table_data.gpus}
        return [index for index in self.devices if index not in have]

    def _show_table(self) -> None:
        """The table when there is something to show or untick: this machine's GPUs, and chosen ones it lacks."""
        visible = bool(self.table_data.gpus or self.missing())
        self.table.setVisible(visible)
        self.hint.setVisible(visible)
        if visible:
            self._fill()
        else:
            self.hint.setText("")

    def _budget_moved(self, before: GpuTable, after: GpuTable) -> bool:
        """The free memory the estimate is judged against changed by more than 5 % (or the GPUs did)."""
        old, new = budget_of(self.devices, before), budget_of(self.devices, after)
        return old.device != new.device or abs(new.free_bytes - old.free_bytes) > 0.05 * max(old.free_bytes, 1)

    def _fill(self) -> None:
        with self.loading():
            self.table.blockSignals(True)
            gpus, missing = self.table_data.gpus, self.missing()
            self.table.setRowCount(len(gpus) + len(missing))
            for row, index in enumerate(missing, start=len(gpus)):
                use = self._use_item(index)
                name = QTableWidgetItem(f"{index}: not on this machine")
                name.setToolTip(f"The config chooses GPU {index}, which this machine does not have (chosen on "
                                "another machine?). Untick it: " + ("the run uses the ticked GPUs." if gpus else
                                                                    "with none ticked the run trains on the CPU."))
                for column, item in enumerate((use, name, QTableWidgetItem("—"), QTableWidgetItem("—"),
                                               QTableWidgetItem("—"))):
                    self.table.setItem(row, column, item)
            for row, gpu in enumerate(gpus):
                use = self._use_item(gpu.index)
                name = QTableWidgetItem(f"{gpu.index}: {short_name(gpu.name)}")
                name.setToolTip(gpu.name + (f"\nPCI bus {gpu.pci_bus_id}" if gpu.pci_bus_id else ""))
                used = QTableWidgetItem(f"{in_gib(gpu.used_bytes)} / {in_gib(gpu.total_bytes)} GiB")
                others = gpu.others()
                if others:
                    used.setToolTip("\n".join(f"{p.name or '?'} (pid {p.pid})"
                                              + (f": {gib(p.used_bytes)}" if p.used_bytes is not None else "")
                                              for p in others))
                free = QTableWidgetItem(f"{in_gib(gpu.free_bytes)} GiB")
                util = QTableWidgetItem("—" if gpu.utilization is None else f"{gpu.utilization} %")
                for column, item in enumerate((use, name, used, free, util)):
                    self.table.setItem(row, column, item)
            self.table.blockSignals(False)
            height = self.table.horizontalHeader().height() + sum(self.table.rowHeight(r)
                                                                    for r in range(self.table.rowCount()))
            self.table.setFixedHeight(height + 2 * self.table.frameWidth())
        if missing and not gpus:
            self.hint.setText("The config chooses GPUs this machine does not have: untick them to train on the CPU.")
        elif missing:
            self.hint.setText("Untick the GPUs this machine does not have, and tick the ones this run trains on.")
        elif self.devices:
            self.hint.setText("Tick the GPUs this run trains on; more than one trains data-parallel, one process "
                              "each.")
        else:
            self.hint.setText(f"None ticked: the run uses GPU {gpus[0].index} ({gpus[0].name}).")

    def _use_item(self, index: int) -> QTableWidgetItem:
        use = QTableWidgetItem()
        use.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
        use.setCheckState(Qt.CheckState.Checked if index in self.devices else Qt.CheckState.Unchecked)
        use.setData(Qt.ItemDataRole.UserRole, index)
        return use

    def _ticked(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        self.devices = sorted(
            int(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)) for row in range(self.table.rowCount())
            if self.table.item(row, 0).checkState() == Qt.CheckState.Checked)
        self._kept_devices = None  # the user chose: the ticks are the value now
        self._show_table()
        self._show_device_problems()
        self._edited()

    def _show_device_problems(self) -> None:
        found = device_problems(self.devices, self.table_data) if self.devices else []
        warnings = [p.message for p in found if p.level != ERROR]
        self.problems_label.setText("\n".join(warnings))
        self.problems_label.setVisible(bool(warnings))
        self._own_errors = [p for p in found if p.level == ERROR]
        self.show_problems(self._last_problems)

    def device_errors(self) -> list[Problem]:
        """Chosen GPUs this machine does not have (errors that block Start), against the latest reading."""
        if not self.devices:
            return []
        return [p for p in device_problems(self.devices, self.table_data) if p.level == ERROR]

    # ---- the form contract
    def load(self, config: RunConfig) -> None:
        devices = config.launch.devices if isinstance(config.launch.devices, list) else []
        self.devices = sorted(d for d in devices if is_gpu_number(d))  # `true` is no GPU 1: validation says so
        # A value the ticks cannot show (devices: 1, "0,1", [0, gpu1]) is kept as it was until the user ticks a GPU,
        # so validation names it at the field: stored as the ticks, it became [] (the first GPU) without a word.
        shown = isinstance(config.launch.devices, list) and len(self.devices) == len(config.launch.devices)
        self._kept_devices = None if shown else copy.deepcopy(config.launch.devices)
        if self._table is None:
            return  # shown when the table is first read
        self._show_table()
        self._show_device_problems()

    def store(self, config: RunConfig) -> None:
        kept = self._kept_devices
        config.launch.devices = copy.deepcopy(kept) if kept is not None else list(self.devices)

    def show_problems(self, problems: list[Problem]) -> None:
        self._last_problems = [p for p in problems if p not in self._own_errors]
        super().show_problems(self._last_problems + self._own_errors)

    # ---- the shown run (the window forwards its events)
    def add_event(self, event: dict) -> None:
        self.resources.add_event(event)

    def load_events(self, events: list[dict]) -> None:
        self.resources.load_events(events)

    def set_resources(self, curves: Any) -> None:
        """A recorded run's core.metrics.ResourceCurves, folded off the GUI thread (see ResourcePlot.set_curves)."""
        self.resources.set_curves(curves)

    def clear_run(self) -> None:
        self.resources.clear()
