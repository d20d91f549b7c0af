"""The main window: forms on the left, the run (chart, progress, log) on the right, a config file as document.

The window's core.session.Session holds the config document and the run shown; the window builds the widgets, wires
them to the session, the runner and each other, and turns Qt events into calls on them. Panels get the session
and explicit callables, never the window. Each form writes the keys it owns into the config the moment it changes,
so the config is always current; validation follows 300 ms after the last edit. Nothing here imports the training
stack at module level: the window must show within a second, and `gui.warmup` imports torch & co. once it does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from finetune_studio.core.config import RunConfig
from finetune_studio.core.errors import WARNING, Problem
from finetune_studio.core.events import RunState
from finetune_studio.core.runs import MISSING, run_busy, run_folder_problem
from finetune_studio.core.session import Session, has_checkpoint, resume_differences
from finetune_studio.gui import background, chart_texts, collector, dialogs
from finetune_studio.gui import settings as store
from finetune_studio.gui.document import PRESET_LABELS, PRESET_TITLES, ConfigDocument
from finetune_studio.gui.forms import ArgumentsPanel, DatasetForm, HubForm, ModelForm, TrainingForm
from finetune_studio.gui.help_menu import HelpMenu
from finetune_studio.gui.history import HistoryPanel, RunsTabActions
from finetune_studio.gui.hub_dialogs import HubController
from finetune_studio.gui.log_panel import LogPanel
from finetune_studio.gui.progress import ProgressWidget
from finetune_studio.gui.run_header import RunHeader, problems_summary
from finetune_studio.gui.runner import TrainingRunner
from finetune_studio.gui.session_signals import SessionSignals
from finetune_studio.gui.status_bar import ElidingStatusBar
from finetune_studio.gui.try_tab import TryTab
from finetune_studio.gui.validator import ConfigValidator
from finetune_studio.gui.warmup import WarmStack, Warmup

VALIDATE_DELAY_MS = 300
# A recorded run's metrics.jsonl up to this size is read and shown at once (~0.1 s for 4k lines); a longer one is
# read in a worker (see MainWindow.show_run): 200k lines took 7 s of the GUI thread.
SHOW_AT_ONCE_BYTES = 1 << 20
MIN_CHART_COLUMN = 640  # px the chart's column keeps in a 1280 px window when the tab titles ask for more
DEFAULT_FORMS_WIDTH = 526  # px of a 1280 px window for the forms column, until the user moves the splitter


def _from_session(name: str) -> property:
    """window.<name> reads (and, for tests and scripts, sets) the session's field of that name."""
    return property(lambda self: getattr(self.session, name), lambda self, value: setattr(self.session, name, value))


class _EstimateRelay(QObject):
    """The memory estimate Start waits for (core.estimate.preflight), each in a thread of its own: the shared pool's
    threads can all be taken by display jobs waiting for a starting run (gui.background), this one among them."""

    done = Signal(int, object)  # (token, Preflight or None when it could not be computed)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.token = 0

    def submit(self, config: RunConfig, table: Any) -> None:
        self.token += 1
        token, done = self.token, self.done

        def job() -> None:
            try:
                with background.IMPORT_LOCK:  # its first imports must not race the warm-up's
                    from finetune_studio.core.estimate import preflight
                result = preflight(config, table)
            except Exception:  # noqa: BLE001 - no estimate says nothing against the run; validation still runs
                result = None
            with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
                done.emit(token, result)

        threading.Thread(target=job, name="start-estimate", daemon=True).start()

    def cancel(self) -> None:
        self.token += 1


class MainWindow(ConfigDocument, QMainWindow):
    # The session's fields, readable on the window as before it existed (scripts, tests, benchmarks).
    config, path, state, run_dir, resumable, model_dir = map(_from_session, (
        "config", "path", "state", "run_dir", "resumable", "model_dir"))

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("main_window")
        self.session = Session(untitled=PRESET_TITLES["demo"])
        self.problems: list[Problem] = []
        self.warm: WarmStack | None = None
        self.warm_error: str | None = None
        self._loading = False
        self._model_changed = False
        self._closing = False
        self._arguments_ready = False
        self.start_queued = False  # Start was pressed before the training stack was loaded: it runs once it is
        # Start never goes on a stale estimate: the config the shown estimate is of, and a run waiting for its own
        self._estimate_asked: RunConfig | None = None
        self._estimated_for: RunConfig | None = None
        self._start_after_estimate: Callable[[], None] | None = None
        self._start_after_try: Callable[[], None] | None = None  # a run waiting for the Try tab's job to end
        self._after_run_start: list[Callable[[], None]] = []  # put off until the run's first step (or its end)
        self._validated_during_run = False
        self._splitter_restored = True  # until _restore_window says: no automatic split before the window is laid out
        self._widened = False  # the forms column took half of a window's width past 1280 px (_split_for_width)

        self.runner = TrainingRunner(self)
        self.validator = ConfigValidator(self)
        self.warmup = Warmup(self)
        self._validate_timer = QTimer(self, singleShot=True, interval=VALIDATE_DELAY_MS)

        self._build_forms()
        self._build_right()
        self._build_actions()
        self._build_menus()
        self._connect()
        self._restore_window()
        self._name_changed()
        self._run_changed()
        self._install_panels()
        self.help_menu = HelpMenu(self)  # last: Help is the menu bar's last menu

    # ------------------------------------------------------------------ construction
    def _build_forms(self) -> None:
        self.dataset_form = DatasetForm()
        self.model_form = ModelForm()
        self.training_form = TrainingForm()
        self.arguments_panel = ArgumentsPanel()
        self.hub_form = HubForm()
        from finetune_studio.gui.forms.launch_form import LaunchForm

        self.launch_form = LaunchForm()  # processes and machines (torchrun); Copy launch command
        from finetune_studio.gui.hardware_panel import HardwarePanel

        self.hardware_panel = HardwarePanel()  # the GPUs (launch.devices) and the memory estimate before Start
        self.forms: list[Any] = [self.dataset_form, self.model_form, self.training_form, self.arguments_panel,
                                 self.hub_form, self.launch_form, self.hardware_panel]
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages: dict[Any, QWidget] = {}
        for form, title in zip(self.forms, ("Dataset", "Model", "Training", "All arguments", "Hub", "Launch",
                                             "Hardware"),
                               strict=True):
            page: QWidget = form
            if form.findChild(QScrollArea) is None:  # All arguments scrolls its own list; the others get a scroller
                page = QScrollArea()
                page.setWidgetResizable(True)
                page.setFrameShape(QScrollArea.Shape.NoFrame)
                page.setWidget(form)
            self.pages[form] = page
            self.tabs.addTab(page, title)
        # Wide enough for every form without a horizontal scroll bar (they scroll vertically only).
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        needed = max(form.minimumSizeHint().width() for form in self.forms) + scrollbar + 8
        self.tabs.setMinimumWidth(min(needed, 440))  # every form whole in a 900 px wide window
        # The first split of a larger window gives the forms more: the Runs tab's columns read whole at 1280 px.
        self.forms_width = max(needed, DEFAULT_FORMS_WIDTH)

    def _build_right(self) -> None:
        self.header = RunHeader()
        # pyqtgraph takes ~0.25 s to import (after QtWidgets, 2-core Xeon); the warm-up thread imports it after the
        # training stack (and after a starting run's first step) and the chart replaces this placeholder in steps
        # (_warm_imported), or at once when something needs it sooner (install_chart).
        self.chart: Any = None
        self._chart_backlog: list[dict] | None = None  # a starting run's events, kept until its first step
        self._chart_waiting: list[Callable[[Any], None]] = []  # a recorded run's, until the warm-up built the chart
        # A recorded run whose metrics.jsonl is long is read off the GUI thread (show_run); the events a follower
        # brings meanwhile wait here until what was read is shown.
        self._recorded_task = background.BackgroundTask(self)
        self._recorded_task.result.connect(self._recorded_ready)
        self._recorded_task.error.connect(self._recorded_failed)
        self._recorded_backlog: list[dict] | None = None
        self._recorded_reading: Path | None = None
        self.chart_area = QStackedWidget()
        self.chart_placeholder = QLabel(chart_texts.EMPTY, objectName="chart_placeholder")
        self.chart_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chart_placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.chart_area.addWidget(self.chart_placeholder)
        self.chart_area.setMinimumHeight(240)
        self.progress = ProgressWidget()
        self.progress.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.log = LogPanel()
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(self.chart_area)
        self.right_splitter.addWidget(self.progress)
        self.right_splitter.addWidget(self.log)
        self.right_splitter.setStretchFactor(0, 3)
        self.right_splitter.setStretchFactor(1, 0)
        self.right_splitter.setStretchFactor(2, 1)
        for i in range(3):
            self.right_splitter.setCollapsible(i, False)
        self.right_splitter.setSizes([460, self.progress.sizeHint().height(), 180])  # the chart gets the room
        right = QWidget()
        layout = QVBoxLayout(right)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.header)
        layout.addWidget(self.right_splitter, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([self.forms_width, 1280 - self.forms_width])
        self.setCentralWidget(self.splitter)

        self.setStatusBar(ElidingStatusBar())  # long messages end in … instead of being cut off
        self.stack_label = QLabel("Loading the training stack…")
        self.stack_label.setObjectName("stack_state")
        self.statusBar().addWidget(self.stack_label, 1)

    def _action(self, text: str, slot: Any, shortcut: Any = None, icon: QStyle.StandardPixmap | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        self.start_action = self._action("Start", self.start, "Ctrl+R", SP.SP_MediaPlay, "Train a new run")
        self.stop_action = self._action("Stop", self.stop, "Ctrl+.", SP.SP_MediaStop,
                                        "Stop training after the current step and save a checkpoint")
        self.resume_action = self._action("Resume", self.resume, "Ctrl+Shift+R", SP.SP_MediaSeekForward,
                                          "Continue the stopped run from its latest checkpoint")
        self.new_action = self._action("New", self.new_config, QKeySequence.StandardKey.New)
        self.open_action = self._action("Open config…", self.open_config_dialog, QKeySequence.StandardKey.Open)
        self.save_action = self._action("Save config", self.save, QKeySequence.StandardKey.Save)
        self.save_as_action = self._action("Save config as…", self.save_as, QKeySequence.StandardKey.SaveAs)
        self.open_run_action = self._action("Open run folder…", self.open_run_dialog)
        self.copy_cli_action = self._action("Copy CLI command", self.copy_cli_command, "Ctrl+Shift+C",
                                            tip="Copy the command that runs this config headless")
        self.quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        self.preset_actions = {key: self._action(label, lambda _=False, k=key: self.load_preset(k))
                               for key, label in PRESET_LABELS.items()}

        toolbar = QToolBar("Run")
        toolbar.setObjectName("run_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.start_action, self.stop_action, self.resume_action):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        menu.addAction(self.new_action)
        menu.addAction(self.open_action)
        self.recent_menu = menu.addMenu("Recent configs")
        menu.addSeparator()
        menu.addAction(self.save_action)
        menu.addAction(self.save_as_action)
        menu.addSeparator()
        menu.addAction(self.open_run_action)
        menu.addAction(self.copy_cli_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        presets = self.menuBar().addMenu("&Presets")
        for action in self.preset_actions.values():
            presets.addAction(action)
        run = self.menuBar().addMenu("&Run")
        for action in (self.start_action, self.stop_action, self.resume_action):
            run.addAction(action)
        self._rebuild_recent_menu()

    def _install_panels(self) -> None:
        """The Hub and the Runs tab: they read the session and get what they may do as callables."""
        show_message = self.statusBar().showMessage
        self.hub = HubController(self.session, show_message, self.runner.event, self)
        self.hub.place(self.menuBar(), self.statusBar(), self.header)
        self.hub.status_changed.connect(lambda status: self.hub_form.set_account_text(status.sentence))
        self.hub_form.set_account_text(self.hub.status.sentence)
        self.hub_form.login_requested.connect(self.hub.open_login)  # the Hub tab's Log in…, as the Hub menu's
        self.hub.account_changed.connect(self.validate_now)
        from finetune_studio.gui.export_dialog import ExportController  # adapter runs: export adapter or merged

        self.exporter = ExportController(self.session, show_message, self)
        self.exporter.place(self.header)
        # Picking an adapter method can move the learning rate (core.adapters.follow_method): the Training tab shows it
        self.model_form.adapter_form.training_changed.connect(lambda: self.training_form.load(self.config))
        self.history = HistoryPanel(self.session, RunsTabActions(
            show_run=self.show_run, forget_run=self.forget_run, add_event=self._show_recorded_event,
            chart=self.install_chart, built_chart=lambda: self.chart, resume_run=self.resume_run,
            ask_to_save=self.maybe_save, show_message=show_message,
            log_notice=lambda text: self.log.message(text, "notice"), with_chart=self._with_chart))
        self.tabs.addTab(self.history, "Runs")
        self.try_tab = TryTab(self.session, show_message)  # base and fine-tuned answers side by side
        self.try_tab.waits_for_stack = True  # it lists the runs once the warm-up has imported the stack
        self.tabs.addTab(self.try_tab, "Try")
        self._fit_tab_bar()
        self.runner.started.connect(self.try_tab.release_for_training)  # training always wins the memory
        self.try_tab.runner.idle.connect(self._try_tab_idle)  # a run waiting for the Try tab's job begins
        self.runner.succeeded.connect(self.try_tab.run_finished)
        self.history.runs_deleted.connect(self.try_tab.runs_deleted)  # it lets a deleted run's models go

    def _connect(self) -> None:
        signals = SessionSignals(self.session, self)
        signals.document_replaced.connect(self._document_replaced)
        signals.name_changed.connect(self._name_changed)
        signals.run_changed.connect(self._run_changed)
        self.runner.started.connect(partial(self.session.set_running, True))
        self.runner.idle.connect(partial(self.session.set_running, False))  # first: the rest see it ended
        for form in self.forms:
            form.changed.connect(lambda f=form: self._form_changed(f))
        self.dataset_form.source_chosen.connect(self._dataset_source_chosen)
        self.dataset_form.source_files_changed.connect(self.validate_now)  # a file fixed on disk: check again
        # The Model tab's figures count the embedding rows a chat template's added tokens grow, as training does.
        self.dataset_form.chat_changed.connect(self.model_form.adapter_form.set_chat)
        self.model_form.adapter_form.set_chat(self.dataset_form.chat_rows())  # what it said before this connect
        self.dataset_form.set_recent(store.recent(store.RECENT_DATASETS))
        self._validate_timer.timeout.connect(self.validate_now)
        self.validator.validated.connect(self._show_problems)
        self.hardware_panel.estimate_bar.fix_chosen.connect(self.apply_estimate_fix)
        self.hardware_panel.estimate_bar.shown.connect(self._estimate_shown)
        self._start_check = _EstimateRelay(self)  # the estimate Start waits for when none is current
        self._start_check.done.connect(self._start_estimate_arrived)
        self.warmup.progress.connect(self._warm_progress)
        self.warmup.imported.connect(self._warm_imported)
        self.warmup.ready.connect(self._warm_ready)
        self.warmup.failed.connect(self._warm_failed)
        self.runner.event.connect(self._run_event)
        self.runner.succeeded.connect(self._run_succeeded)
        self.runner.errored.connect(self._run_errored)
        self.runner.invalid.connect(self._run_invalid)
        self.runner.started.connect(self._hold_for_run_start)
        self.runner.idle.connect(self._release_after_run_start)
        self.runner.idle.connect(self._revalidate_after_run)
        self.tabs.currentChanged.connect(self._populate_arguments)
        self.header.field_requested.connect(self.show_field)
        self.header.open_folder_requested.connect(self.open_model_folder)

    def _restore_window(self) -> None:
        saved = store.saved_layout()
        if not (saved["geometry"] and self.restoreGeometry(saved["geometry"])):
            self.resize(1280, 800)
        if saved["state"]:
            self.restoreState(saved["state"])
        self._splitter_restored = bool(saved["splitter"]) and self.splitter.restoreState(saved["splitter"])
        if saved["right_splitter"]:
            self.right_splitter.restoreState(saved["right_splitter"])

    def _fit_tab_bar(self) -> None:
        """The first split (no saved one) makes the forms column as wide as the tab bar's titles, so no tab hides
        behind its scroll arrows at the default 1280 px: at 526 px, Runs and Try (the last two) did."""
        if self._splitter_restored:
            return
        titles = self.tabs.tabBar().sizeHint().width() + 4  # the tab widget's own margins
        self.forms_width = max(self.forms_width, min(titles, 1280 - MIN_CHART_COLUMN))
        self.splitter.setSizes([self.forms_width, 1280 - self.forms_width])
        self.splitter.splitterMoved.connect(self._splitter_moved_by_hand)  # setSizes does not emit it
        self._split_for_width()

    def _splitter_moved_by_hand(self) -> None:
        self._splitter_restored = True  # the user's split from now on: kept as it is and saved on close

    def _split_for_width(self) -> None:
        """Until the user moves the splitter, a window wider than 1280 px gives half of the extra width to the forms
        column: the chart needs no more than a 1280 px window gives it, and the Runs tab's Model and Dataset columns
        were left hidden at ~600 px on a 1920 px screen. Narrower windows take the width from the chart as before,
        so every form stays whole at 900 px."""
        if self._splitter_restored:
            return
        width = self.splitter.width()
        if width <= 1280 and not self._widened:
            return
        forms = self.forms_width + max(0, width - 1280) // 2
        self._widened = width > 1280
        self.splitter.setSizes([forms, width - forms])

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._split_for_width()

    # ------------------------------------------------------------------ warm-up
    def begin_warmup(self) -> None:
        """Start importing the training stack (called once the window is on screen)."""
        self.stack_label.setText("Loading the training stack…")
        self.warmup.start()

    @Slot(str)
    def _warm_progress(self, module: str) -> None:
        self.stack_label.setText(f"Loading the training stack… ({module})")

    @Slot(str)
    def _warm_imported(self, module: str) -> None:
        if module == "pyqtgraph" and self.chart is None:
            from finetune_studio.gui.chart import LossChart

            self.chart = LossChart(staged=True)
            self._build_chart_step()

    @Slot()
    def _build_chart_step(self) -> None:
        """One part of the chart per event-loop turn, then show it (see LossChart.build_step)."""
        if self.chart.build_step():
            QTimer.singleShot(0, self, self._build_chart_step)  # dropped if the window is destroyed meanwhile
        else:
            self._show_chart()

    def _show_chart(self) -> None:
        if self.chart_area.indexOf(self.chart) < 0:
            self.chart_area.addWidget(self.chart)
            self.chart_area.setCurrentWidget(self.chart)
        waiting, self._chart_waiting = self._chart_waiting, []
        for action in waiting:
            action(self.chart)

    def _with_chart(self, action: Callable[[Any], None]) -> None:
        """action(chart) once the chart is built: now when it is, or when the warm-up has imported pyqtgraph and
        built it in steps (_show_chart). Built at once instead (install_chart), the import and the construction
        froze a window whose user opened a run during the warm-up for 0.5-1.2 s (helper-87's measurement). The
        warm-up is told, so it imports pyqtgraph next rather than after the whole training stack (the curves came
        1.2-4.2 s after a run opened early, 0.3-1.8 s since: helper-132's measurement)."""
        if (self.chart is None or not self.chart.built) and self.warmup.running:
            self.warmup.want_chart()
            self._chart_waiting.append(action)
            self.chart_placeholder.setText(chart_texts.WAITING)
            return
        action(self.install_chart())

    def install_chart(self) -> Any:
        """The live chart, built now if the warm-up has not built it yet (imports pyqtgraph if needed)."""
        if self.chart is None:
            from finetune_studio.gui.chart import LossChart

            self.chart = LossChart()
        self.chart.ensure_built()
        self._show_chart()
        return self.chart

    def _chart_for_new_run(self) -> None:
        """Clear the chart for a run that starts now. When the chart is not built yet its events wait in a backlog
        until the run's first step (_chart_catch_up): importing pyqtgraph and building the chart would otherwise
        take the GIL from the run just as it loads (gui.warmup.warm_chart)."""
        self._cancel_recorded()  # a recorded run still being read is not shown over the new run
        if self.chart is not None and self.chart.built:
            self.chart.clear()
            return
        if self._chart_backlog is None:
            self._after_run_start.append(self._chart_catch_up)
        self._chart_backlog = []
        self.chart_placeholder.setText(chart_texts.STARTING)

    def _chart_add(self, event: dict) -> None:
        if self._chart_backlog is not None:
            self._chart_backlog.append(event)
        else:
            self.install_chart().add_event(event)

    def _chart_catch_up(self) -> None:
        backlog, self._chart_backlog = self._chart_backlog, None
        if backlog is not None:
            self.install_chart().load_events(backlog)

    @Slot(object)
    def _warm_ready(self, stack: WarmStack) -> None:
        self.warm = stack
        self.session.set_stack_ready()
        self.stack_label.setText("Ready")
        self.stack_label.setToolTip(f"Training stack loaded in {stack.seconds:.1f} s on {stack.hardware.name}.")
        with self._quiet():
            self.training_form.populate(stack.training_fields)
            self.training_form.set_hardware(stack.hardware)
        if self.start_queued:
            # The run goes first: the user pressed Start and waits for its first step. It validates the config
            # itself (problems end it in the "Cannot start" dialog); the window's own checks follow that step.
            self.start_queued = False
            self._start_when_it_fits(self._begin_queued_run)
        else:
            self.validate_now()
        self._populate_arguments()
        self.dataset_form.refresh_statistics(dataclasses.replace(self.config.model))  # its jobs yield to a start

    def _begin_queued_run(self) -> None:
        self._begin_run()
        self._after_run_start.append(self.validate_now)

    @Slot()
    def _populate_arguments(self) -> None:
        """Build the All arguments rows the first time that tab is shown: one row per TrainingArguments field takes
        ~0.2 s on the GUI thread, which would otherwise freeze the window just as it becomes ready. Even then they
        are built a few per event-loop turn (populate_in_steps): all at once held the window 0.1-0.6 s."""
        shown = self.tabs.currentWidget() is self.pages[self.arguments_panel]
        if self.warm is None or self._arguments_ready or not shown:
            return
        self._arguments_ready = True
        with self._quiet():
            self.arguments_panel.populate_in_steps(self.warm.training_fields)  # rows a few at a time
            self.arguments_panel.load(self.config)
        self.arguments_panel.show_problems(self.problems)

    @Slot(str, str)
    def _warm_failed(self, message: str, details: str) -> None:
        self.warm_error = message
        if self._chart_waiting:  # no staged chart is coming: built now, the runs it waited for shown
            self.install_chart()
        self.try_tab.waits_for_stack = False  # nothing to wait for: it lists the runs (and says what fails) itself
        self.stack_label.setText("The training stack failed to load")
        if self.start_queued:
            self.start_queued = False
            self._set_state(RunState.IDLE, "The run did not start: the training libraries could not be loaded")
            self._release_after_run_start()
        self._update_actions()
        dialogs.show_error(self, "Cannot train", message, details)

    # ------------------------------------------------------------------ validation
    @Slot()
    def validate_now(self) -> None:
        """Check the config now instead of after the edit pause (problems show when the check returns)."""
        self._validate_timer.stop()
        if self.warm is None:
            return
        if self._model_changed:
            self._model_changed = False
            self.dataset_form.refresh_statistics(dataclasses.replace(self.config.model))
        self._validated_during_run = self._validated_during_run or self.runner.running
        self.validator.request(self.config)

    @Slot()
    def _revalidate_after_run(self) -> None:
        """A config validated while a run trained skipped the checks that would touch the run's state
        (core.shared_state): check it whole now. Otherwise the problems shown stay, including those the run's own
        refusal listed (a taken run name), which validation alone does not find."""
        if self._validated_during_run:
            self._validated_during_run = False
            self.validate_now()

    @Slot(object)
    def _show_problems(self, problems: list[Problem]) -> None:
        # validate()'s problems, and a chosen GPU this machine lacks (the Hardware tab reads NVML)
        self.problems = list(problems) + [p for p in self.hardware_panel.device_errors() if p not in problems]
        for form in self.forms:
            form.show_problems(self.problems)
        self._show_warnings()
        self.header.set_problems(self.problems)
        self._update_actions()
        self._estimate_asked = self.config.copy()
        self.hardware_panel.estimate_bar.request(self.config, self.hardware_panel.table_data)  # off the GUI thread

    def _show_warnings(self) -> None:
        """Every tab's warnings at each check of the whole config, each at the form that owns its field (its
        section: dataset., adapter., training., launch.): core.validation.warnings_for decides, as for
        `finetune-studio validate`, beside validation's own warnings. Some depend on other tabs and only the whole
        config tells (max_length past the model's context on the Dataset tab, an adapter rank past the model's
        layers' break-even on the Model tab, which were passed to the Dataset tab alone and so never shown); the
        forms also say their own fields' warnings as those are edited."""
        from finetune_studio.core.validation import warnings_for  # light (no training stack)

        found = list(dict.fromkeys([p for p in self.problems if p.level == WARNING] + warnings_for(self.config)))
        for form in self.forms:
            if hasattr(form, "set_warnings"):  # the Hardware tab shows its own (the GPUs' table)
                form.set_warnings([w for w in found if form.owns(w.field)])

    def apply_estimate_fix(self, overrides: dict[str, Any]) -> None:
        """One of the estimate's fixes, applied to the config the forms show (modified, not saved)."""
        from finetune_studio.core.estimate import with_overrides

        changed = with_overrides(self.session.config, overrides)
        for declared in dataclasses.fields(changed):
            setattr(self.session.config, declared.name, getattr(changed, declared.name))
        with self._quiet():
            for form in self.forms:
                form.load(self.session.config)
        self.session.set_modified(True)
        self.statusBar().showMessage("Applied: " + ", ".join(f"{k} = {v}" for k, v in overrides.items()), 8000)
        self.validate_now()

    def show_field(self, field: str) -> None:
        """Bring the tab holding a problem's field to the front and focus its editor when the form says which."""
        for form in self.forms:
            owns = getattr(form, "owns", None)
            if owns is not None and owns(field):
                page = self.pages[form]
                self.tabs.setCurrentWidget(page)
                widget_of = getattr(form, "field_widget", None)
                try:
                    widget = widget_of(field) if widget_of else None
                except KeyError:
                    widget = None
                if widget is not None:
                    if isinstance(page, QScrollArea):
                        page.ensureWidgetVisible(widget)
                    widget.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    # ------------------------------------------------------------------ running
    def _update_actions(self) -> None:
        running = self.runner.running
        if self.warm is None:  # Start is not held up by the warm-up: a press queues the run (see start)
            can_start = self.warm_error is None and not self.start_pending
        else:
            can_start = not self.problems and not running and not self.start_pending
        self.start_action.setEnabled(can_start)
        if self.start_queued:
            tip = "The run starts as soon as the training libraries are loaded."
        elif self.warm is None:
            tip = self.warm_error or ("Train a new run with these settings (it starts as soon as the training "
                                      "libraries are loaded)")
        elif self.problems:
            tip = problems_summary(self.problems)
        elif running or self.start_pending:
            tip = "A run is in progress."
        else:
            tip = "Train a new run with these settings"
        self.start_action.setToolTip(tip)
        self.stop_action.setEnabled((running and not self.runner.stopping) or self.start_pending
                                    or getattr(self, "_detached_run", None) is not None)
        self.resume_action.setEnabled(self.session.can_resume_now)

    def _set_state(self, state: RunState, text: str) -> None:
        self.session.set_state(state, text)

    @Slot()
    def _run_changed(self) -> None:
        """The session's run changed (state, shown run, running or not): the header, busy bar and actions follow."""
        self._detached_run = self._stoppable_detached_run()
        self.header.set_state(self.session.state, self.session.state_text)
        self.progress.set_busy(self.session.state is RunState.PREPARING)
        self._update_actions()

    @Slot()
    def start(self) -> None:
        if not self.start_action.isEnabled():
            return
        warning = self.dataset_form.start_warning()  # the row checks found rows these settings train nothing on
        if warning:
            from finetune_studio.gui import inspector

            if not inspector.confirm_untrained(self, warning):
                return
        if self.warm is None:
            # Pressed before the training stack is loaded (the first seconds after launch): the run is queued and
            # begins the moment the warm-up is done (_warm_ready), instead of Start being disabled until then. The
            # estimate is asked about then (_start_when_it_fits), unless one of this config is already shown.
            current = self._current_estimate()
            if current is not None and not self._confirm_estimate(current):
                return
            self.start_queued = True
            self._hold_for_run_start()
            self.progress.reset()
            self.log.clear_log()
            self.session.begin("Starting… loading the training libraries")
            return
        self._start_when_it_fits(self._begin_run)

    @property
    def start_pending(self) -> bool:
        """Start (or Resume) was pressed and the run has not begun: it waits for the warm-up, for the memory
        estimate or for the Try tab's job to end. Stop cancels it; Start is not offered again meanwhile."""
        return self.start_queued or self._start_after_estimate is not None or self._start_after_try is not None

    @property
    def checking_estimate(self) -> bool:
        """Start waits for the memory estimate of the config it runs (tests wait for it to be done)."""
        return self._start_after_estimate is not None

    def _current_estimate(self) -> Any:
        """The shown estimate (a core.estimate.Preflight) when it is of the config Start would run, else None: one
        shown a second after an edit, or before the first has come, is of another config."""
        bar = self.hardware_panel.estimate_bar
        return bar.result if bar.result is not None and self._estimated_for == self.config else None

    def _confirm_estimate(self, result: Any) -> bool:
        from finetune_studio.gui.estimate_bar import confirm_start

        return confirm_start(self, result)  # asks only when the estimate says it will not fit

    def _start_when_it_fits(self, begin: Callable[[], None]) -> None:
        """begin() once the estimate of this config says it fits, or the user said to go on anyway. With no current
        estimate the window waits for one (Starting… checking the memory estimate; Stop cancels): the bar's own
        requests wait behind the validation timer and yield to a starting run, so this one is asked at once."""
        current = self._current_estimate()
        if current is not None:
            if self._confirm_estimate(current):
                begin()
            else:
                self._release_after_run_start()
            return
        self._start_after_estimate = begin
        self._hold_for_run_start()
        self.session.begin("Starting… checking the memory estimate")
        self._start_check.submit(self.config.copy(), self.hardware_panel.table_data)

    @Slot(int, object)
    def _start_estimate_arrived(self, token: int, result: Any) -> None:
        if token != self._start_check.token or self._start_after_estimate is None:
            return  # Stop cancelled that start meanwhile
        begin, self._start_after_estimate = self._start_after_estimate, None
        if result is not None:
            self._estimated_for = self.config.copy()
            self._estimate_asked = self._estimated_for
            self.hardware_panel.estimate_bar.show_result(result)
            if not self._confirm_estimate(result):
                self._set_state(RunState.IDLE, "Start cancelled: the run would not fit")
                self._release_after_run_start()
                return
        begin()  # an estimate that failed to compute says nothing against the run: validation still runs

    @Slot(object)
    def _estimate_shown(self, _result: Any) -> None:
        if self._start_after_estimate is None:  # the bar showed the newest of its requests
            self._estimated_for = self._estimate_asked

    def _begin_run(self) -> None:
        self._chart_for_new_run()
        self.hardware_panel.clear_run()
        self.progress.reset()
        self.log.clear_log()
        self.session.begin("Preparing…")
        config = self.config.copy()
        self._after_try_job(lambda: self.runner.start(config), self.session.begin)

    def _after_try_job(self, begin: Callable[[], None], say: Callable[[str], None]) -> None:
        """begin() once no job of the Try tab runs in this process. Its model load cannot be interrupted, and
        from_pretrained sets torch's default dtype for the whole process while it builds (and a LoRA load draws from
        torch's global random generator): a run beginning meanwhile would train on that state (issue 12's rule).
        An answer or a comparison stops within a token; a load is dropped and waited for. `say` shows the wait."""
        tab = self.try_tab
        if not tab.runner.running:
            begin()
            return
        tab.release_for_training()  # training wins: an answer stops, a load's models are not kept
        self._start_after_try = begin
        say("Starting… waiting for the Try tab to let its model go")
        self._update_actions()

    @Slot()
    def _try_tab_idle(self) -> None:
        begin, self._start_after_try = self._start_after_try, None
        if begin is not None and not self._closing:
            begin()
        self._update_actions()

    @Slot()
    def stop(self) -> None:
        if self._start_after_try is not None:
            self._start_after_try = None
            self._set_state(RunState.IDLE, "Start cancelled before the run began")
            self._release_after_run_start()
            self._update_actions()
            return
        if self._start_after_estimate is not None:
            self._start_after_estimate = None
            self._start_check.cancel()
            self._set_state(RunState.IDLE, "Start cancelled before the run began")
            self._release_after_run_start()
            return
        if self.start_queued:
            self.start_queued = False
            self._set_state(RunState.IDLE, "Start cancelled before the run began")
            self._release_after_run_start()
            return
        if self.runner.running and not self.runner.stopping:
            setting_up = self.state is RunState.PREPARING  # no step yet: the run ends before its first (core.training)
            self.runner.stop()
            if setting_up and self.runner.detachable:
                # Several processes: their events are read from metrics.jsonl a poll late, so the run may be some
                # steps in already, and "nothing will be trained" would stay up over a checkpoint (as the CLI's
                # words, b988948).
                text = ("Stopping… (at the end of the current step, with a checkpoint, if training has begun; before "
                        "that nothing is trained)")
            elif setting_up:
                text = "Stopping before the first step… (nothing will be trained)"
            else:
                text = "Stopping… (finishing the step and saving a checkpoint)"
            self._set_state(RunState.STOPPING, text)
        elif getattr(self, "_detached_run", None) is not None:  # a multi-process run this window only follows
            from finetune_studio.core.distributed import request_stop

            request_stop(self._detached_run)
            self._set_state(RunState.STOPPING, "Stopping every process… (finishing the step and saving a "
                                               "checkpoint)")

    def _stoppable_detached_run(self) -> Path | None:
        """The shown run when it trains in processes of its own that this window did not start (reopened after
        closing): Stop reaches it through its stop file."""
        if self.runner.running or self.session.state is not RunState.RUNNING or self.session.run_dir is None:
            return None
        from finetune_studio.core.launch import stoppable_run

        return self.session.run_dir if stoppable_run(self.session.run_dir) else None

    @Slot()
    def resume(self) -> None:
        if self.resumable is not None:
            self.resume_run(self.resumable)

    def resume_run(self, run_dir: Path, extra_epochs: float | None = None, extra_steps: int | None = None) -> None:
        """Continue run_dir from its latest checkpoint (Resume, and the Runs tab's "Train N more epochs", or "Train N
        more steps" for a run its config's max_steps caps: core.training.resume's extra_epochs, extra_steps)."""
        if self.runner.running or self.warm is None or self.start_pending:
            return
        problem = run_folder_problem(run_dir)
        if problem is not None and problem.kind == MISSING:  # deleted, moved or renamed since it was shown
            if self.run_dir == run_dir:
                self.session.forget_run()
            dialogs.show_error(self, "Cannot resume", f"The run {run_dir.name} is no longer in {run_dir.parent} "
                               "(deleted, moved or renamed since it was shown), so there is nothing to resume "
                               "there. If it was moved or renamed, open it from its new place (the Runs tab, or "
                               "File → Open run folder) and resume it.")
            return
        if problem is not None:  # still there, but no run any more (its config.yaml gone): the one wording of it
            dialogs.show_error(self, "Cannot resume", str(problem))
            return
        busy = run_busy(run_dir)  # another process (a CLI run, another window) still trains it
        if busy:
            self.show_run(run_dir)
            dialogs.show_error(self, "Cannot resume", busy)
            return
        if self.run_dir != run_dir:
            self.show_run(run_dir)
        differs = resume_differences(self.config, run_dir)  # edits made for this run would otherwise seem to apply
        if differs:
            self.log.message(f"Resume continues {run_dir.name} with the settings it was started with (its "
                             f"config.yaml), not the form's, which differs in {differs}. The form's settings are "
                             "for a new Start.", "notice")
        more = f" for {extra_epochs:g} more epoch{'s' if extra_epochs != 1 else ''}" if extra_epochs else ""
        short_epochs = _short_of_epochs(run_dir) if extra_epochs else None  # stopped before its epochs' end
        if short_epochs is not None:
            more = f" to epoch {short_epochs + extra_epochs:g} (num_train_epochs {short_epochs:g} + {extra_epochs:g})"
        if extra_steps:
            more = f" for {extra_steps:,} more step{'s' if extra_steps != 1 else ''}"
            short = _short_of_cap(run_dir)  # stopped or failed before its max_steps: its steps left are trained too
            if short is not None:
                more = f" to step {short[1] + extra_steps:,} (max_steps {short[1]:,} + {extra_steps:,})"
        steps = {"extra_steps": extra_steps} if extra_steps else {}  # the runner's, as more epochs are
        self.session.resuming(run_dir, f"Resuming {run_dir.name}{more}…")
        self._after_try_job(lambda: self.runner.resume(run_dir, extra_epochs=extra_epochs, **steps),
                            lambda text: self.session.resuming(run_dir, text))

    # ------------------------------------------------------------------ a run starting goes first
    def _hold_for_run_start(self) -> None:
        """From Start (or Resume) to the run's first optimizer step, the window's display jobs wait (see
        gui.background.hold_for_run_start): what the user waits for then is that step."""
        background.hold_for_run_start()

    @Slot()
    def _release_after_run_start(self) -> None:
        """The first step came, or the run ended or never began: held jobs go on, then the checks put off for it."""
        if not background.run_starting() and not self._after_run_start:
            return
        background.release_after_run_start()
        later, self._after_run_start = self._after_run_start, []
        for job in later:
            job()

    @Slot(object)
    def _run_event(self, event: dict) -> None:
        if event.get("event") == "step" and background.run_starting():
            # The held jobs and checks (the chart's build among them) go on the next event-loop turn, after this
            # step is shown: it is what the user waited for, and they take a few hundred ms of the GUI thread.
            QTimer.singleShot(0, self, self._release_after_run_start)
        self._chart_add(event)
        self.hardware_panel.add_event(event)  # memory and GPU use over the run
        self.progress.add_event(event)
        self.log.add_event(event)
        self.session.run_event(event)

    @Slot(object)
    def _run_succeeded(self, result: Any) -> None:
        if result.state == RunState.RUNNING:
            return  # the window stopped following a run that trains on in its own processes (closing)
        if result.state == RunState.STOPPED:
            self.session.run_stopped(Path(result.run_dir), result.step, result.max_steps)
        else:
            self.session.run_finished(Path(result.run_dir), result.model_dir)
            self.statusBar().showMessage(result.message, 10_000)
            if result.untrained:  # a resume that trained nothing wrote no event: the log says why, as it stays
                self.log.message(result.message, "notice")

    @Slot(str, str)
    def _run_errored(self, message: str, details: str) -> None:
        self.session.run_failed(message)
        self.log.message(message, "error")
        from finetune_studio.core.advice import (
            recorded_fix,  # a failure that proposes a config change offers to apply it
        )

        fix = recorded_fix(self.run_dir)
        if fix is None:
            dialogs.show_error(self, "Training failed", message, details)
        elif dialogs.offer_fix(self, "Training failed", message, fix.description, details):
            self._restart_with_fix(self.run_dir)

    def _restart_with_fix(self, run_dir: Path) -> None:
        """core.advice writes the run's proposed fix into its config.yaml and resumes it, in the runner's thread."""
        if self.runner.running:  # the failed run's thread is still ending: go once it has
            self.runner.idle.connect(lambda: self._restart_with_fix(run_dir), Qt.ConnectionType.SingleShotConnection)
            return
        if not has_checkpoint(run_dir):  # it restarts from step 0: so does the chart
            self.install_chart().clear()
        self.session.resuming(run_dir, f"Applying the fix and restarting {run_dir.name}…")
        self.runner.apply_fix_and_resume(run_dir)

    @Slot(object)
    def _run_invalid(self, problems: list[Problem]) -> None:
        self._show_problems(problems)
        self._set_state(RunState.IDLE, "The run did not start")
        dialogs.show_error(self, "Cannot start", problems_summary(problems, limit=len(problems)))

    def show_run(self, run_dir: Path) -> int:
        """Show a recorded run: its chart from metrics.jsonl; its state and whether Resume continues it are the
        session's (core.session). Returns the metrics.jsonl offset read up to, for following a run another process
        is still writing.

        A log longer than SHOW_AT_ONCE_BYTES is read and folded in a worker (read_recorded: seconds for 100k
        steps, which froze the window for as long) and shown when it is read, curves, figures and memory plot at
        once; meanwhile the chart says it is reading, and the window stays responsive. The offset returned is then
        the end of the log's last complete line, where the worker stops: a follower reads on from there, and what
        it brings before the worker is done waits for it (_show_recorded_event). `reading_run` says whether a log
        is being read (tests wait on it)."""
        from finetune_studio.core.runs import RunFolder

        run_dir = Path(run_dir)
        path = RunFolder(run_dir).metrics_path
        self._cancel_recorded()
        end = _complete_end(path) if _file_size(path) > SHOW_AT_ONCE_BYTES else None
        if end is None:
            recorded = read_recorded(path)
            self._with_chart(lambda chart: (chart.clear(), chart.set_curves(recorded.curves)))
            self._show_recorded_figures(recorded)
            self.session.show_recorded(run_dir)
            return recorded.offset
        text = _reading_text(run_dir.name, end)
        self._with_chart(lambda chart: (chart.clear(), chart.show_loading(text)))
        self.hardware_panel.clear_run()
        self.progress.reset()
        self._recorded_backlog = []
        self._recorded_reading = run_dir
        self.session.show_recorded(run_dir)
        self._recorded_task.submit(read_recorded, path, end)
        return end

    @property
    def reading_run(self) -> bool:
        """A recorded run's long log is being read off the GUI thread (see show_run)."""
        return self._recorded_reading is not None

    def _show_recorded_figures(self, recorded: "RecordedRun") -> None:
        self.hardware_panel.set_resources(recorded.resources)
        self.progress.show_state(recorded.progress)

    def _cancel_recorded(self) -> None:
        """A log still being read is not shown after all (another run was opened or started, or it was deleted)."""
        if self._recorded_reading is not None:
            self._recorded_task.cancel()
        self._recorded_reading = None
        self._recorded_backlog = None

    @Slot(object)
    def _recorded_ready(self, recorded: "RecordedRun") -> None:
        run_dir, self._recorded_reading = self._recorded_reading, None
        backlog, self._recorded_backlog = self._recorded_backlog or [], None
        if run_dir is None or self.runner.running or self.session.run_dir != run_dir:
            return  # a run started here, or another was shown, while it was read
        self._with_chart(lambda chart: chart.set_curves(recorded.curves))
        self._show_recorded_figures(recorded)
        for event in backlog:  # what a follower read past the worker's end meanwhile, in order
            self._show_recorded_event(event)

    @Slot(object)
    def _recorded_failed(self, error: BaseException) -> None:
        run_dir, self._recorded_reading, self._recorded_backlog = self._recorded_reading, None, None
        if run_dir is None:
            return
        self._with_chart(lambda chart: chart.show_loading(""))
        self.log.message(f"Could not read {run_dir / 'metrics.jsonl'} ({error}), so its chart stays empty. To fix: "
                         "make the file readable, then open the run again.", "error")

    def _show_recorded_event(self, event: dict) -> None:
        """A new line of a run another process writes (the Runs tab follows it): chart and progress."""
        if self._recorded_backlog is not None:  # its log is still being read: after what was read
            self._recorded_backlog.append(event)
            return
        self._with_chart(lambda chart: chart.add_event(event))
        self.hardware_panel.add_event(event)
        self.progress.add_event(event)

    def forget_run(self) -> None:
        """The shown run's folder was deleted: nothing left to show, resume or open."""
        self._cancel_recorded()
        self._with_chart(lambda chart: chart.clear())
        self.progress.reset()
        self.session.forget_run()

    @Slot()
    def open_run_dialog(self) -> None:
        path = dialogs.choose_folder(self, "Open run folder", str(self.session.runs_dir))
        if not path:
            return
        problem = run_folder_problem(path)  # said as the command line says it (the runs folder itself, a lost
        if problem is not None:  # config.yaml …), with what to open instead
            dialogs.show_error(self, "Not a run folder", str(problem))
            return
        if not self.runner.running:
            self.show_run(Path(path))

    @Slot()
    def open_model_folder(self) -> None:
        if self.model_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.model_dir)))

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self._closing:
            event.ignore()  # already waiting for the run to stop
            return
        if self.runner.running and not self.runner.detachable:
            # One question covers both the run and unsaved changes: a second dialog would keep the run training
            # behind it. The run is told to stop at once; saving (which may ask where) happens while it stops.
            unsaved = self.session.name if self.session.modified else None
            answer = dialogs.confirm_stop_and_close(self, unsaved)
            if not answer:
                event.ignore()
                return
            self.stop()
            if answer is dialogs.CloseChoice.SAVE_AND_STOP and not self.save():
                event.ignore()  # the save was cancelled or failed: stay open, with the config as it is
                self.statusBar().showMessage("Not closed: the config was not saved. The run stops with a "
                                             "checkpoint; Resume continues it.", 15_000)
                return
        elif not self.maybe_save():
            event.ignore()
            return
        self.start_queued = False  # a run queued behind the warm-up must not begin in a closed window
        self._start_after_try = None  # nor one waiting for the Try tab
        self._after_run_start = []
        background.release_after_run_start()  # nothing held may outlive the window that held it
        self._cancel_recorded()  # a long log still being read is shown in no closed window
        if self.runner.running and self.runner.detachable:
            # A run of several processes trains in processes of its own: closing the window only stops following
            # it (reopening the app reattaches through the Runs tab). Stop is not sent.
            self.runner.detach()
            collector.wait(self.runner.wait, 15_000)
        elif self.runner.running:
            self._wait_for_run()
        self._save_window()
        # What is left to wait for may not stop at once (a model the Try tab is loading cannot be interrupted):
        # the window goes now rather than staying on screen frozen, and the process ends when it has ended.
        # Each wait serves the gc.collect of the worker waited for (gui.collector.wait): this thread owns
        # collection, and a plain wait would make that worker, and the close, wait REQUEST_WAIT_S for nothing.
        self.hide()
        self.try_tab.shutdown()  # stops a generation and waits for its thread (serving it the same way)
        collector.wait(self.validator.wait, 10_000)
        collector.wait(self.hardware_panel.estimate_bar.wait, 30_000)
        event.accept()

    def _wait_for_run(self) -> None:
        """Stop the run and keep the event loop turning until its thread has ended (it saves a checkpoint)."""
        self._closing = True
        self.centralWidget().setEnabled(False)
        self.menuBar().setEnabled(False)
        self.toolbar.setEnabled(False)
        self.stop()
        self.statusBar().showMessage("Stopping the run and saving a checkpoint before closing…")
        loop = QEventLoop(self)
        self.runner.idle.connect(loop.quit)
        if self.runner.running:
            loop.exec()
        self.runner.idle.disconnect(loop.quit)
        self._closing = False

    def _save_window(self) -> None:
        store.save_layout(geometry=self.saveGeometry(), state=self.saveState(), splitter=self.splitter.saveState(),
                          right_splitter=self.right_splitter.saveState())


# ---------------------------------------------------------------------------------------------- recorded runs


@dataclasses.dataclass
class RecordedRun:
    """A recorded run's metrics.jsonl folded into what the window shows of it (see read_recorded)."""

    curves: Any  # core.metrics.RunCurves: the chart's curves (gui.chart.LossChart.set_curves)
    resources: Any  # core.metrics.ResourceCurves: the Hardware tab's memory plot
    progress: dict[str, Any] | None  # the progress figures (gui.progress.fold_events)
    offset: int  # how far the log was read, for following it


def read_recorded(path: Path, end: int | None = None) -> RecordedRun:
    """Read a run's metrics.jsonl (up to byte `end`) and fold its events into the chart's curves, the memory plot's
    and the progress figures, by the rules each of them applies to events one at a time. Touches no widget: runs
    in a worker for a long log. Read in pieces of 16 KiB and folded piece by piece (core.metrics.read_metrics_chunks):
    no single call holds the GIL (and so the GUI thread) for long, and no list of every event is kept. After each
    piece it gives the GIL up: PySide releases the GIL around its calls into Qt, and each time the GUI thread took
    it back it waited for the worker's switch interval (5 ms), so a relayout of the window that takes 0.15 s took
    1.5 s while a 200k-line log was read; with the worker yielding every piece, 0.2-0.3 s (the read: 1.2 -> 1.5 s)."""
    from finetune_studio.core.metrics import ResourceCurves, RunCurves, read_metrics_chunks
    from finetune_studio.gui.progress import fold_event

    curves, resources, latest, offset = RunCurves(), ResourceCurves(), None, 0
    add_curve, add_resource = curves.add_event, resources.add_event
    for events, offset in read_metrics_chunks(Path(path), 0, end):
        for event in events:
            add_curve(event)
            add_resource(event)
            latest = fold_event(latest, event)[0]
        time.sleep(0)  # the GIL to the GUI thread, if it waits for it (see above)
    return RecordedRun(curves, resources, latest, offset)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _complete_end(path: Path) -> int | None:
    """The offset just past the last newline of the file (where read_metrics stops), or None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            position = handle.seek(0, 2)
            while position > 0:
                start = max(0, position - (1 << 16))
                handle.seek(start)
                block = handle.read(position - start)
                newline = block.rfind(b"\n")
                if newline >= 0:
                    return start + newline + 1
                position = start
            return 0
    except OSError:
        return None


def _reading_text(name: str, size: int) -> str:
    """What the empty chart says while a long log is read."""
    return f"Reading {name}'s metrics.jsonl ({size / 1e6:.0f} MB)…"


def _short_of_cap(run_dir: Path) -> tuple[int, int] | None:
    """(last step, max_steps) of a run its config.yaml's max_steps caps that stopped short of it (stopped, failed),
    as its status.json says; None for any other: "for N more steps" is then what a resume for more steps trains."""
    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import run_steps_cap

    cap = run_steps_cap(run_dir)
    step = RunFolder(Path(run_dir)).read_status().get("step") if cap is not None else None
    if cap is None or isinstance(step, bool) or not isinstance(step, int) or step >= cap:
        return None
    return step, cap


def _short_of_epochs(run_dir: Path) -> float | None:
    """num_train_epochs of a run by epochs that stopped short of its end (its status.json's step below its planned
    max_steps), or None: "for N more epochs" is then what a resume for more epochs trains."""
    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import run_epochs_set, run_steps_cap

    status = RunFolder(Path(run_dir)).read_status()
    step, total = status.get("step"), status.get("max_steps")
    whole = all(isinstance(n, int) and not isinstance(n, bool) for n in (step, total))
    if run_steps_cap(run_dir) is not None or not whole or not 0 < step < total or status.get("state") == "finished":
        return None
    return run_epochs_set(run_dir)
