"""Closing the window (and the process's exit after it) blocks the GUI thread on workers: the validator's and the
estimate's pool jobs, the thread that follows a run of several processes (detached), the warm-up's imports. The GUI
thread owns collection (gui.collector); a worker's gc.collect there asked it and waited REQUEST_WAIT_S (2 s) for a
thread that waited for that worker, and the close with it. The waits now serve it meanwhile (gui.collector.wait,
core.collection.join / wait_serving), as TryTab.shutdown does since 87664f1 (tests/gui/test_try_close_collect_h196).

Each test: a real window (or Warmup), a worker that leaves garbage in a cycle and calls gc.collect() (a job releasing
what it held), the real close; asserted: how long the close took, how long the worker's gc.collect took, which thread
collected its garbage (the GUI thread), and that no collection ran in any other thread (gc.callbacks)."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.helpers import CycleTracer as Tracer
from tests.helpers import window_on_runs

pytestmark = pytest.mark.usefixtures("drain_background")

WELL_UNDER_S = 1.0  # served: within a slice of core.collection.SERVE_SLICE_S (0.02 s); unserved: REQUEST_WAIT_S = 2 s


class Releasing:
    """A worker's body: it runs until `go` (or the event its owner passes) is set, then drops what it held and gives
    the memory back (gc.collect), recording how long that took and what had been freed by its return."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.go = threading.Event()
        self.seen: list[int] = []
        self.collect_s = -1.0
        self.freed_before_return = -1

    def __call__(self, until: threading.Event | None = None) -> None:
        Tracer(self.seen)
        self.running.set()
        (until or self.go).wait(30)
        time.sleep(0.05)  # the GUI thread is in its wait by now
        started = time.monotonic()
        gc.collect()
        self.collect_s = time.monotonic() - started
        self.freed_before_return = len(self.seen)


def closed(qtbot: Any, window: Any, work: Releasing, collected_in: list[int]) -> float:
    """Close the window while `work` runs; returns the seconds window.close() took."""
    qtbot.waitUntil(work.running.is_set, timeout=10_000)
    collected_in.clear()
    work.go.set()
    started = time.monotonic()
    window.close()
    return time.monotonic() - started


def assert_served(work: Releasing, waited: float, what: str, collected_in: list[int]) -> None:
    from finetune_studio.core import collection

    gui = threading.get_ident()
    assert waited < WELL_UNDER_S, f"{what} took {waited:.2f} s (REQUEST_WAIT_S is {collection.REQUEST_WAIT_S} s)"
    assert work.collect_s < WELL_UNDER_S, f"the worker's gc.collect() took {work.collect_s:.2f} s"
    assert work.seen == [gui] and work.freed_before_return == 1  # collected by the GUI thread, then it went on
    assert collected_in and set(collected_in) == {gui}  # every collection during the close: the GUI thread's


def pool_job(pool: Any, body: Callable[[], None]) -> None:
    from PySide6.QtCore import QRunnable

    pool.start(QRunnable.create(body))


@pytest.mark.parametrize("which", ["validator", "estimate"])
def test_closing_while_a_form_job_collects_serves_it_on_the_gui_thread(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collected_in: list[int], which: str) -> None:
    """The validator's and the estimate bar's pools, which closeEvent waits for (10 s and 30 s at most)."""
    window = window_on_runs(qtbot, tmp_path / "runs", monkeypatch)
    pools = {"validator": window.validator._pool, "estimate": window.hardware_panel.estimate_bar._pool}
    work = Releasing()
    pool_job(pools[which], work)  # behind a job of the window's own, if one runs: each pool has one thread
    waited = closed(qtbot, window, work, collected_in)
    assert not window.isVisible() and pools[which].activeThreadCount() == 0
    assert_served(work, waited, f"closing with the {which} job collecting", collected_in)


def test_closing_while_following_a_detached_run_serves_the_follower_on_the_gui_thread(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collected_in: list[int]) -> None:
    """A run of several processes: closing detaches the thread that follows it (the run trains on) and waits up to
    15 s for that thread, which drops what it read and collects as it ends."""
    from finetune_studio.core.events import RunState
    from finetune_studio.core.training import RunResult

    window = window_on_runs(qtbot, tmp_path / "runs", monkeypatch)
    runner = window.runner
    work = Releasing()

    def follow(sink: Any, stop: threading.Event) -> RunResult:
        work(until=runner._detach)  # the Event of this run (made by _launch), set by closeEvent's detach()
        return RunResult(RunState.RUNNING, "", tmp_path / "runs" / "multi")  # what core.launch's follower returns

    runner._launch(follow, None, detachable=True)
    assert runner.running and runner.detachable
    waited = closed(qtbot, window, work, collected_in)
    assert not window.isVisible() and runner._detach.is_set() and not runner._stop.is_set()  # detached, not stopped
    assert_served(work, waited, "closing while following a detached run", collected_in)
    qtbot.waitUntil(lambda: not runner.running, timeout=10_000)


def test_the_exit_wait_for_the_warm_up_serves_its_collection(
        qtbot: Any, monkeypatch: pytest.MonkeyPatch, collected_in: list[int]) -> None:
    """gui.app.main, after app.exec(): torch's preload and the warm-up are waited for (up to 60 s each) with no event
    loop turning; their imports' gc.collect is served there."""
    from finetune_studio.gui import app, warmup

    preload_work, warm_work = Releasing(), Releasing()

    def warm(*_args: Any) -> str:
        warm_work()
        return "stack"

    monkeypatch.setattr(warmup, "warm", warm)
    monkeypatch.setattr(warmup, "warm_chart", lambda **_kwargs: None)
    preload = threading.Thread(target=preload_work, name="torch-preload-h198", daemon=True)
    preload.start()
    warming = warmup.Warmup()
    warming.start()
    for work in (preload_work, warm_work):
        assert work.running.wait(10)
    collected_in.clear()
    preload_work.go.set()
    warm_work.go.set()
    started = time.monotonic()
    app.wait_for_imports(preload, warming)
    waited = time.monotonic() - started
    assert not preload.is_alive() and not warming.running
    for work, what in ((preload_work, "the preload"), (warm_work, "the warm-up")):
        assert_served(work, waited, f"the exit's wait for {what}", collected_in)
    warming.deleteLater()
