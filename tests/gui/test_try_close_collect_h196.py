"""Closing the window while the Try tab's job stops: TryTab.shutdown waits for the job's thread on the GUI thread,
which owns collection (gui.collector). The job's gc.collect (a stopped load releasing its models) is served there
while it waits, instead of waiting REQUEST_WAIT_S (2 s) for a GUI thread that waits for it."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CycleTracer as Tracer

pytestmark = pytest.mark.usefixtures("drain_background")

WELL_UNDER_S = 1.0  # served: within a slice of core.collection.SERVE_SLICE_S; unserved: REQUEST_WAIT_S = 2 s


def test_closing_while_a_job_stops_serves_its_collection_on_the_gui_thread(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collected_in: list[int]) -> None:
    from finetune_studio.core import collection
    from finetune_studio.core.session import Session
    from finetune_studio.gui.try_tab import TryTab

    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    gui = threading.get_ident()
    tab = TryTab(Session())
    qtbot.addWidget(tab)
    seen: list[int] = []
    running = threading.Event()
    job_saw: dict[str, float] = {}

    def job(sink: Any, stop: threading.Event) -> None:
        """A load stopped by the close: it drops what it made and gives the memory back (Session.release)."""
        Tracer(seen)
        running.set()
        stop.wait(30)
        started = time.monotonic()
        gc.collect()
        job_saw["collect_s"] = time.monotonic() - started
        job_saw["freed_before_return"] = len(seen)

    assert tab.start_job("load", job)
    qtbot.waitUntil(running.is_set, timeout=10_000)
    collected_in.clear()
    started = time.monotonic()
    tab.shutdown()  # what MainWindow.closeEvent calls
    waited = time.monotonic() - started
    assert not tab.runner.running
    assert waited < WELL_UNDER_S, f"TryTab.shutdown() took {waited:.2f} s (REQUEST_WAIT_S is " \
                                  f"{collection.REQUEST_WAIT_S} s)"
    assert job_saw["collect_s"] < WELL_UNDER_S
    assert seen == [gui] and job_saw["freed_before_return"] == 1  # collected by the GUI thread, then it went on
    assert collected_in and set(collected_in) == {gui}  # every collection during the close: the GUI thread's
