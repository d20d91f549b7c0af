"""core.collection.wait_serving / join: the owner of collection that blocks on a worker (the window closing while a
generation stops, a thread joined) runs the worker's gc.collect on its own thread meanwhile, so neither the worker
nor the close waits REQUEST_WAIT_S for nothing."""

from __future__ import annotations

import gc
import threading
import time
from typing import Iterator

import pytest

from finetune_studio.core import collection
from tests.helpers import CycleTracer as Tracer
from tests.helpers import collection_threads

WELL_UNDER_S = 1.0  # the guard: a served request returns within a slice (0.02 s); an unserved one after 2 s


@pytest.fixture
def owned() -> Iterator[list[int]]:
    """This (the test's) thread owns collection, with no timer serving it (wake does nothing: the owner is blocked).
    Yields the threads every collection started in, from gc.callbacks (called in the collecting thread)."""
    gc.collect()
    collection.hand_to_this_thread()
    try:
        with collection_threads() as collected_in:
            yield collected_in
    finally:
        collection.give_back()


def collecting_worker(seen: list[int], times: dict[str, float]) -> threading.Thread:
    """A worker that leaves garbage in a cycle and calls gc.collect() (accelerate's free_memory, a stopped load
    releasing its models), then records how long that call took and what it had freed by then."""

    def work() -> None:
        Tracer(seen)
        started = time.monotonic()
        gc.collect()
        times["collect_s"] = time.monotonic() - started
        times["freed_before_return"] = len(seen)

    return threading.Thread(target=work, name="worker-h196")


def test_a_worker_collecting_while_the_owner_joins_it_is_served_at_once(owned: list[int]) -> None:
    seen: list[int] = []
    times: dict[str, float] = {}
    worker = collecting_worker(seen, times)
    started = time.monotonic()
    worker.start()
    assert collection.join(worker, 10) is True
    waited = time.monotonic() - started
    owner = threading.get_ident()
    assert waited < WELL_UNDER_S, f"the owner's join took {waited:.2f} s"
    assert times["collect_s"] < WELL_UNDER_S, f"the worker's gc.collect() took {times['collect_s']:.2f} s"
    assert seen == [owner]  # the worker's garbage was collected by the owner's thread
    assert times["freed_before_return"] == 1  # and gc.collect() returned only after it was
    assert owned and set(owned) == {owner}  # no collection started in any other thread


def test_without_serving_the_same_worker_waits_the_full_request_time(owned: list[int]) -> None:
    """The problem wait_serving solves: the owner in a plain join, the worker's gc.collect waits REQUEST_WAIT_S, and
    nothing is collected meanwhile (never in the worker)."""
    seen: list[int] = []
    times: dict[str, float] = {}
    worker = collecting_worker(seen, times)
    started = time.monotonic()
    worker.start()
    worker.join(10)
    waited = time.monotonic() - started
    assert waited >= collection.REQUEST_WAIT_S and times["collect_s"] >= collection.REQUEST_WAIT_S
    assert seen == [] and times["freed_before_return"] == 0 and owned == []
    assert collection.run_due() == 2  # the request it gave up on is still there: the owner's next tick collects
    assert seen == [threading.get_ident()]


def test_wait_serving_keeps_to_its_timeout_and_says_the_worker_goes_on(owned: list[int]) -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait, args=(30,), name="slow-h196")
    worker.start()
    try:
        started = time.monotonic()
        assert collection.join(worker, 0.2) is False
        waited = time.monotonic() - started
        assert 0.2 <= waited < 0.2 + WELL_UNDER_S
        assert worker.is_alive()
    finally:
        release.set()
        worker.join(10)
    slices: list[float] = []

    def ended(seconds: float) -> bool:
        slices.append(seconds)
        return len(slices) == 3

    assert collection.wait_serving(ended) is True  # no timeout: as many slices as it takes
    assert slices == [collection.SERVE_SLICE_S] * 3


def test_in_a_thread_that_does_not_own_collection_it_is_a_plain_wait(owned: list[int]) -> None:
    """Only the owner collects: another thread that waits through join runs no collection (its run_due is a no-op),
    and a worker's request stays for the owner."""
    seen: list[int] = []
    times: dict[str, float] = {}
    worker = collecting_worker(seen, times)
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(collection.join(worker, 10)), name="waiter-h196")
    worker.start()
    waiter.start()
    while waiter.is_alive():  # the owner serves as its timer would
        waiter.join(0.05)
        collection.run_due()
    assert result == [True]
    assert seen == [threading.get_ident()] and set(owned) == {threading.get_ident()}
