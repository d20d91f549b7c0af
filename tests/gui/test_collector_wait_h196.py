"""gui.collector.wait: the GUI thread that blocks in a Qt wait (QThread.wait, QThreadPool.waitForDone, as the
window's close does) serves the gc.collect of the worker it waits for, on the GUI thread, in well under
REQUEST_WAIT_S."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any, Callable

import pytest

from tests.helpers import CycleTracer as Tracer

pytestmark = pytest.mark.usefixtures("drain_background")

WELL_UNDER_S = 1.0


def qthread(run: Callable[[], Any]) -> Any:
    from PySide6.QtCore import QThread

    class Thread(QThread):
        def run(self) -> None:
            run()

    return Thread()


def body(seen: list[int], times: dict[str, float]) -> Callable[[], None]:
    def work() -> None:
        Tracer(seen)
        time.sleep(0.05)  # the GUI thread is in its wait by now
        started = time.monotonic()
        gc.collect()
        times["collect_s"] = time.monotonic() - started
        times["freed_before_return"] = len(seen)

    return work


def test_a_qthread_and_a_pool_job_waited_for_have_their_collection_served(collected_in: list[int]) -> None:
    from PySide6.QtCore import QRunnable, QThreadPool

    from finetune_studio.core import collection
    from finetune_studio.gui.collector import wait

    gui = threading.get_ident()
    for kind in ("qthread", "pool"):
        seen: list[int] = []
        times: dict[str, float] = {}
        collected_in.clear()
        if kind == "qthread":
            thread = qthread(body(seen, times))
            thread.start()
            started = time.monotonic()
            assert wait(thread.wait, 10_000) is True
        else:
            pool = QThreadPool()
            pool.start(QRunnable.create(body(seen, times)))
            started = time.monotonic()
            assert wait(pool.waitForDone, 10_000) is True
        waited = time.monotonic() - started
        assert waited < WELL_UNDER_S, f"{kind}: the wait took {waited:.2f} s (REQUEST_WAIT_S: " \
                                      f"{collection.REQUEST_WAIT_S} s)"
        assert times["collect_s"] < WELL_UNDER_S, kind
        assert seen == [gui] and times["freed_before_return"] == 1, kind
        assert collected_in and set(collected_in) == {gui}, kind


def test_a_qt_wait_that_runs_out_says_so(collected_in: list[int]) -> None:
    from finetune_studio.gui.collector import wait

    release = threading.Event()
    thread = qthread(lambda: release.wait(30))
    thread.start()
    try:
        started = time.monotonic()
        assert wait(thread.wait, 200) is False
        assert 0.2 <= time.monotonic() - started < 0.2 + WELL_UNDER_S
    finally:
        release.set()
        assert thread.wait(10_000)
