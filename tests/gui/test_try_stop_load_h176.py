"""The Try tab's Stop stops a model load: a user who picked the wrong (big) model no longer waits for the whole load.
Stop was disabled while models loaded ("Stop answering" stops answers only). Now it reads "Stop loading" then, the
load is asked to stop (core.generate.load's stop event: it ends between two tensors), what it made is dropped and its
memory freed on the GUI thread, and the tab is usable again, saying so; the stopped pick does not load by itself
again, a Send loads it.

The load is core.generate.load replaced by a fake that reads "weights" until its stop event is set (the real load's
stop is tests/test_load_stop_h176.py's)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate
from tests.gui.test_try_tab_states import WAIT, Fakes, idle, open_try_tab, pick, runs  # noqa: F401 - runs: fixture


class StoppableLoads(Fakes):
    """Fakes whose load, while `hold` is set, reads until its stop event is set, then ends as the real one does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        super().__init__(monkeypatch)
        self.hold = False
        self.stopped: list[str] = []  # the loads that saw their stop event
        self.freed_on: list[str] = []  # the thread each free_cached_memory ran on
        real_free = generate.free_cached_memory

        def free() -> None:
            self.freed_on.append(threading.current_thread().name)
            real_free()

        monkeypatch.setattr(generate, "free_cached_memory", free)

    def load(self, source: Any, progress: Any = None, stop: threading.Event | None = None, **kwargs: Any) -> Any:
        if not self.hold:
            return super().load(source, progress, **kwargs)
        self.loads.append(source.name)
        progress(f"Loading the base model ({source.name})…")
        deadline = time.monotonic() + WAIT / 1000
        while not (stop is not None and stop.is_set()) and time.monotonic() < deadline:
            time.sleep(0.01)  # a tensor read
        self.stopped.append(source.name)
        raise generate.LoadStopped("The load was stopped.")


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> StoppableLoads:
    return StoppableLoads(monkeypatch)


@pytest.fixture
def tab(qtbot: Any, runs: Path, fakes: StoppableLoads) -> Any:
    made = open_try_tab(qtbot, runs)
    yield made
    fakes.hold = False
    made.shutdown()


def test_stop_stops_a_load_and_the_tab_is_usable_again(qtbot: Any, tab: Any, fakes: StoppableLoads) -> None:
    assert tab.stop_button.text() == "Stop answering" and not tab.stop_button.isEnabled()
    fakes.hold = True
    pick(tab, "checkpoint-8")
    qtbot.waitUntil(lambda: tab.status_label.text() == "Loading the base model (newer · checkpoint-8)…",
                    timeout=WAIT)
    assert tab.runner.running and tab.loaded is None
    assert tab.stop_button.isEnabled() and tab.stop_button.text() == "Stop loading"
    assert tab.stop_button.toolTip().startswith("Stop loading newer · checkpoint-8: the load ends after the weights")
    tab.prompt_edit.setPlainText("Leo")
    tab.send_button.click()  # waits for the load
    assert tab.status_label.text() == "The prompt is sent as soon as the models are loaded."
    fakes.freed_on.clear()  # the last pick's models were freed when checkpoint-8 was picked
    tab.stop_button.click()
    assert tab.status_label.text() == "Stopping the load of newer · checkpoint-8…"
    assert not tab.stop_button.isEnabled() and tab.stop_button.text() == "Stop loading"
    idle(qtbot, tab)
    assert fakes.stopped == ["newer · checkpoint-8"], "the load was told to stop and ended"
    assert tab.status_label.text() == (
        "Loading stopped: newer · checkpoint-8 is not loaded, and the memory its load took was given back. Pick "
        "another model, or press Send to load this one after all. Your prompt was not sent: it is still in the box.")
    assert fakes.freed_on == ["MainThread"], "the memory is freed once the load has ended, on the GUI thread"
    assert tab.loaded is None and not fakes.asked and tab.prompt_edit.toPlainText() == "Leo"
    assert tab.send_button.isEnabled() and tab.new_button.isEnabled()
    assert not tab.stop_button.isEnabled() and tab.stop_button.text() == "Stop answering"
    assert tab.target_combo.currentText() == "checkpoint-8", "the pick stays"

    tab.hide()  # shown again: the stopped pick does not load by itself
    tab.show()
    qtbot.wait(50)
    assert not tab.runner.running and fakes.loads.count("newer · checkpoint-8") == 1

    fakes.hold = False
    tab.send_button.click()  # a Send loads it after all, then answers
    qtbot.waitUntil(lambda: bool(fakes.asked) and not tab.runner.running, timeout=WAIT)
    idle(qtbot, tab)
    assert fakes.asked == ["Leo"] and tab.loaded is not None
    assert tab.loaded.source.name == "newer · checkpoint-8"


def test_picking_another_model_while_a_load_stops_loads_that_one(qtbot: Any, tab: Any,
                                                                 fakes: StoppableLoads) -> None:
    fakes.hold = True
    pick(tab, "checkpoint-8")
    qtbot.waitUntil(lambda: "checkpoint-8" in fakes.loads[-1], timeout=WAIT)
    tab.stop_button.click()
    fakes.hold = False
    pick(tab, "checkpoint-4")  # while the stopped load ends
    idle(qtbot, tab)
    qtbot.waitUntil(lambda: tab.loaded is not None and not tab.runner.running, timeout=WAIT)
    assert tab.loaded.source.name == "newer · checkpoint-4"
    assert fakes.loads[-2:] == ["newer · checkpoint-8", "newer · checkpoint-4"]
    assert not tab.status_label.text().startswith("Loading stopped")
