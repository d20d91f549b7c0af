"""core.collection: while a thread owns cycle collection, no collection runs anywhere else, automatic or asked for
(a worker's collection that finds a Qt object in a cycle destroys it off the GUI thread: the CI crash of 34a88d4)."""

from __future__ import annotations

import gc
import threading
import time
from typing import Iterator

import pytest

from finetune_studio.core import collection
from tests.helpers import CycleTracer as Tracer


@pytest.fixture
def owned() -> Iterator[threading.Event]:
    """This (the test's) thread owns collection; the event is set whenever a worker wakes it."""
    woken = threading.Event()
    gc.collect()
    collection.hand_to_this_thread(woken.set)
    try:
        yield woken
    finally:
        collection.give_back()


def serve(woken: threading.Event, worker: threading.Thread) -> list[int | None]:
    """Act as the GUI's timer until the worker ends: run what is due whenever it is woken (or every 50 ms)."""
    ran = []
    while worker.is_alive():
        woken.wait(0.05)
        woken.clear()
        ran.append(collection.run_due())
    return ran


@pytest.mark.parametrize(("counts", "generation"), [
    ((700, 10, 10), None), ((701, 0, 0), 0), ((701, 11, 3), 1), ((701, 11, 11), 2), ((5, 50, 50), None),
    ((701, 5, 50), 0),
])
def test_due_is_pythons_rule(counts: tuple[int, int, int], generation: int | None) -> None:
    assert collection.due(counts, (700, 10, 10)) == generation


def test_a_worker_allocating_past_every_threshold_never_collects(owned: threading.Event) -> None:
    seen: list[int] = []
    assert not gc.isenabled()

    def work() -> None:
        Tracer(seen)
        churn = []
        for _ in range(50_000):  # containers in cycles: without the owner, Python collects here several times
            pair: list = []
            pair.append(pair)
            churn.append(pair)
            del pair

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == []  # nothing collected it in the worker
    assert collection.run_due() == 0  # the owner's tick: the youngest generation is far past its threshold
    assert seen == [threading.get_ident()]


def test_gc_collect_in_a_worker_is_run_by_the_owner_and_waited_for(owned: threading.Event) -> None:
    """accelerate's free_memory() calls gc.collect() in the training thread: it must run on the owner's."""
    seen: list[int] = []
    returned: list[int] = []

    def work() -> None:
        Tracer(seen)
        returned.append(gc.collect())  # the routed collect: returns once the owner collected
        returned.append(len(seen))

    worker = threading.Thread(target=work)
    worker.start()
    ran = serve(owned, worker)
    assert seen == [threading.get_ident()]
    assert returned == [0, 1]  # the worker went on only after its garbage was gone
    assert 2 in ran


def test_a_paused_block_defers_the_owners_collections(owned: threading.Event) -> None:
    seen: list[int] = []
    with collection.paused():
        Tracer(seen)
        assert collection.run_due() is None
        assert seen == []
    collection.collect()
    assert seen == [threading.get_ident()]


def test_give_back_restores_python() -> None:
    collection.hand_to_this_thread()
    assert not gc.isenabled() and gc.collect is collection.collect
    collection.give_back()
    assert gc.isenabled() and gc.collect is collection.collect.python_collect


def test_without_an_owner_paused_blocks_may_overlap_across_threads() -> None:
    """The warm-up and the Inspector pause collection in two threads: the first to end must not turn it back on
    while the other still imports."""
    assert gc.isenabled()
    first, second = collection.paused(), collection.paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_worker_whose_waker_is_gone_goes_on_without_collecting() -> None:
    """At the app's exit the Collector's Qt object can be deleted while a daemon thread still runs: its gc.collect()
    must neither raise ("Internal C++ object already deleted") nor wait, nor collect in that thread."""
    seen: list[int] = []

    def gone() -> None:
        raise RuntimeError("Internal C++ object (Collector) already deleted.")

    gc.collect()
    collection.hand_to_this_thread(gone)
    try:
        returned: list[object] = []

        def work() -> None:
            Tracer(seen)
            started = time.monotonic()
            try:
                returned.append(gc.collect())
            except RuntimeError as exc:
                returned.append(exc)
            returned.append(time.monotonic() - started)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        assert returned[0] == 0 and returned[1] < collection.REQUEST_WAIT_S / 2
        assert seen == []
        assert collection.run_due() != 2  # no request left behind (one makes the owner's tick collect everything)
        collection.collect()
        assert seen == [threading.get_ident()]
    finally:
        collection.give_back()
