"""Fixtures for the GUI tests (tests/conftest.py already gives every test under tests/gui/ private QSettings, an
open run-start gate and a watchdog for hangs)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import collection_threads

DRAIN_TIMEOUT_MS = 120_000  # a cold import of the training stack in a job on a loaded 2-core machine, and more


@pytest.fixture
def drain_background() -> Iterator[None]:
    """After the test, wait until every gui.background job has returned, and fail if one is still running after
    two minutes: no job of one test may deliver into the next one (a preview, statistics or check job finishing
    after the next test built its forms).

    Opt-in, for the modules whose forms start such jobs: `pytestmark = pytest.mark.usefixtures("drain_background")`.
    Not autouse for all of tests/gui: the other modules never waited here, and one whose test leaves a job running
    on purpose would then wait or fail; check a module's tests with it before opting the module in."""
    yield
    from finetune_studio.gui import background

    assert background.wait_idle(DRAIN_TIMEOUT_MS), (
        f"A background job was still running {DRAIN_TIMEOUT_MS // 1000} s after the test ended.")


@pytest.fixture
def collected_in(qtbot: Any) -> Iterator[list[int]]:
    """The GUI thread owns collection, as in the app (gui.app.main makes the Collector before the window); yields the
    threads each collection started in (gc.callbacks run in the collecting thread)."""
    from finetune_studio.gui.collector import Collector

    gc.collect()
    collector = Collector()
    try:
        with collection_threads() as seen:
            yield seen
    finally:
        collector.stop()
        collector.deleteLater()
