"""The training worker's outgoing events: step events thinned out, never one that the window must show."""

from __future__ import annotations

import threading

import pytest

from finetune_studio.gui import runner
from finetune_studio.gui.runner import TrainingWorker


def test_step_events_are_thinned_out_but_none_that_matters_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(runner.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(runner, "lower_thread_priority", lambda: None)  # this is the test's own thread

    def job(sink, stop):  # what core.training.run does with its sink, on a fake clock
        for step in range(1, 6):  # 10 ms apart: the first goes out, the rest wait
            sink({"event": "step", "step": step})
            clock[0] += 0.01
        sink({"event": "log", "step": 5, "loss": 1.0})  # the held step 5 goes out first, in order
        sink({"event": "step", "step": 6})
        clock[0] += 0.01
        sink({"event": "step", "step": 7, "then": ["evaluate"]})  # an eval follows: out at once
        sink({"event": "step", "step": 8})
        clock[0] += runner.STEP_SIGNAL_INTERVAL_S
        sink({"event": "step", "step": 9})  # a quarter second since step 7 went out
        sink({"event": "step", "step": 10})  # held, and sent before the outcome
        return "result"

    got: list[tuple] = []
    worker = TrainingWorker(job, None, threading.Event())
    worker.event.connect(lambda event: got.append((event["event"], event["step"])))
    worker.succeeded.connect(lambda result: got.append(("succeeded", result)))
    worker.done.connect(lambda: got.append(("done",)))
    worker.execute()
    assert got == [("step", 1), ("step", 5), ("log", 5), ("step", 7), ("step", 9), ("step", 10),
                   ("succeeded", "result"), ("done",)]


def test_a_held_step_goes_out_before_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "lower_thread_priority", lambda: None)

    def job(sink, stop):
        sink({"event": "step", "step": 1})
        sink({"event": "step", "step": 2})
        raise RuntimeError("boom")

    got: list[tuple] = []
    worker = TrainingWorker(job, None, threading.Event())
    worker.event.connect(lambda event: got.append(("step", event["step"])))
    worker.errored.connect(lambda message, details: got.append(("errored", "boom" in message)))
    worker.execute()
    assert got == [("step", 1), ("step", 2), ("errored", True)]


def test_the_thread_ends_while_the_gui_thread_blocks_in_wait(qtbot: object,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Shutdown paths (closing the window, test teardown) stop a run and block in wait() without turning the event
    loop: the thread must end on its own, not wait for a quit queued to the blocked GUI thread."""
    monkeypatch.setattr(runner, "lower_thread_priority", lambda: None)
    began = threading.Event()

    def job(sink, stop):
        began.set()
        stop.wait(30)
        return "stopped"

    training = runner.TrainingRunner()
    training._launch(job, None)
    assert began.wait(10)
    training.stop()
    assert training.wait(5_000), "the training thread waited for the GUI thread's event loop"
    qtbot.waitUntil(lambda: not training.running, timeout=5_000)  # and the window hears that it ended
