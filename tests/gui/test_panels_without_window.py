"""Panels work from a core.session.Session and explicit callables: no main window is built here.

The Runs tab and the run header are driven the way the window drives them, with recording stand-ins for what only
the window can do (show a run on the chart, resume, ask to save), so a panel that reached for a window attribute
would fail here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QPushButton, QTabWidget

from finetune_studio.core.config import RunConfig
from finetune_studio.core.events import RunState
from finetune_studio.core.session import CONTINUE_TIP, Session
from finetune_studio.gui import dialogs
from finetune_studio.gui.history import HistoryPanel, RunsTabActions
from finetune_studio.gui.run_header import RunHeader
from tests.core import test_runs_history as fab
from tests.core.test_session import checkpoint
from tests.helpers import shown


class Window:
    """Records what the Runs tab asked for."""

    def __init__(self, session: Session):
        self.session = session
        self.calls: list[tuple[Any, ...]] = []
        self.save_answer = True
        self.tabs: QTabWidget | None = None

    def actions(self) -> RunsTabActions:
        def record(name: str, result: Any = None) -> Any:
            return lambda *args: (self.calls.append((name, *args)), result)[1]

        return RunsTabActions(show_run=self._show_run, forget_run=record("forget_run"),
                              add_event=record("add_event"), chart=record("chart"), built_chart=lambda: None,
                              resume_run=record("resume_run"), ask_to_save=lambda: self.save_answer,
                              show_message=record("show_message"), log_notice=record("log_notice"))

    def _show_run(self, path: Path) -> int:
        self.calls.append(("show_run", path))
        self.session.show_recorded(path)
        return 0


def runs_tab(qtbot: Any, session: Session, window: Window) -> HistoryPanel:
    window.tabs = QTabWidget()  # the panel is a page of the forms' tab widget, as in the window
    panel = HistoryPanel(session, window.actions())
    window.tabs.addTab(panel, "Runs")
    shown(qtbot, window.tabs, 700, 500)
    return panel


def test_the_runs_tab_lists_opens_and_continues_through_the_session(qtbot: Any, runs_dir: Path,
                                                                    monkeypatch: Any) -> None:
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message, details=None:
                        errors.append((title, message)))
    stopped = fab.make_run(runs_dir, "stopped-run", fab.segment(2, 12, end="stopped", max_steps=40),
                           {"state": "stopped", "message": "Stopped at step 12 of 40."})
    checkpoint(stopped, 12)
    session = Session()
    window = Window(session)
    panel = runs_tab(qtbot, session, window)
    qtbot.waitUntil(lambda: panel.model.summary(stopped) is not None, timeout=10_000)
    assert panel.runs_dir == runs_dir  # from the session's config

    panel.select([stopped])
    assert not panel.continue_button.isEnabled()  # the training stack is not loaded yet
    assert panel.continue_button.toolTip() == "The training stack is still loading."
    session.set_stack_ready()  # the panel hears it through the session, not from a window
    assert panel.continue_button.isEnabled() and panel.continue_button.toolTip() == CONTINUE_TIP

    panel.open_selected()
    assert window.calls[-1] == ("show_run", stopped)
    assert session.state is RunState.STOPPED and session.resumable == stopped

    panel.continue_epochs.setValue(2)
    panel.continue_button.click()
    assert window.calls[-1] == ("resume_run", stopped, 2.0) and not errors

    session.set_running(True)  # a run trains in this window: the tab says so and does not open another
    assert not panel.continue_button.isEnabled()
    assert panel.continue_button.toolTip().startswith("A run is training in this window")
    panel.open_run(stopped)
    assert window.calls[-1] == ("show_message", "stopped-run is training here; it is already on the chart.", 6000)


def test_use_its_settings_asks_to_save_then_replaces_the_document(qtbot: Any, runs_dir: Path) -> None:
    run = fab.make_run(runs_dir, "old-run", fab.segment(2, 20), {"state": "finished", "message": "Finished."})
    session = Session(RunConfig(), untitled="Built-in demo")
    replaced: list[str] = []
    session.subscribe(lambda change: replaced.append(session.config.model.name_or_path)
                      if change.value == "document" else None)
    window = Window(session)
    panel = runs_tab(qtbot, session, window)
    qtbot.waitUntil(lambda: panel.model.summary(run) is not None, timeout=10_000)
    panel.select([run])

    window.save_answer = False  # "Cancel" in the save question: nothing changes
    panel.use_settings()
    assert replaced == [] and session.name == "Built-in demo"

    window.save_answer = True
    panel.use_settings()
    assert replaced == ["builtin:demo"] and session.name == "Settings of old-run" and session.modified
    assert session.config.name == "" and session.path is None  # a new run, not old-run's folder again
    assert window.calls[-1][0] == "show_message"


def test_the_run_header_places_actions_beside_open_folder(qtbot: Any) -> None:
    header = shown(qtbot, RunHeader(), 600, 80)
    first, second = QPushButton("Push"), QPushButton("Other")
    header.add_actions(first, second)
    row = header.layout().itemAt(0).layout()
    order = [row.itemAt(i).widget() for i in range(row.count())]
    assert order.index(first) < order.index(second) < order.index(header.open_folder)
