"""Shared test set-up: Qt without a screen, and no test ever touches the user's settings, runs or caches.

Environment changes that Qt or the libraries read once per process happen at import time, before any test (or
QApplication) exists: the offscreen platform, and HOME/XDG_CONFIG_HOME in a throwaway folder so QSettings, the
Hugging Face caches and everything else keyed on the home folder stay out of the real one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_HOME = tempfile.mkdtemp(prefix="finetune-studio-test-home-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["HOME"] = _HOME
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, ".config")
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, ".local", "share")

from tests.helpers import SAMPLE  # noqa: E402 - after the environment above, which Qt reads once

_REAL_STDERR: int | None = None  # a copy of the terminal's stderr taken before pytest captured it, for hang reports


def pytest_configure(config: pytest.Config) -> None:
    global _REAL_STDERR
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            _REAL_STDERR = os.dup(2)
    # The offscreen platform plugin warns whenever a top-level window's size constraints change; that is the
    # plugin's limitation, not an app bug, and qt_log_level_fail = WARNING would fail every window test on it.
    config.addinivalue_line("qt_log_ignore", "This plugin does not support propagateSizeHints")


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder per test session, so the demo model is built once (a few seconds) for all tests."""
    path = tmp_path_factory.getbasetemp() / "cache"
    path.mkdir(exist_ok=True)
    os.environ["FINETUNE_STUDIO_CACHE"] = str(path)
    from finetune_studio.core.demo import demo_model_path

    demo_model_path()
    return path


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs"
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(path))
    return path


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    """200 rows of the sample data: enough for a few real optimizer steps in a second or two."""
    path = tmp_path / "small.jsonl"
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:200]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _private_qsettings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each GUI test starts with empty QSettings of its own (recent files, last config, geometry)."""
    if "gui" not in Path(str(request.node.path)).parts:
        return  # core tests must run without Qt importable
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))


@pytest.fixture(autouse=True)
def _run_start_gate_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that ends while a run was starting (its window not closed) must not leave the next test's display
    jobs waiting on gui.background's run-start gate."""
    yield
    if "gui" in Path(str(request.node.path)).parts:
        from finetune_studio.gui import background

        background.release_after_run_start()


@pytest.fixture(autouse=True)
def _collection_left_to_python() -> Iterator[None]:
    """A test that makes its thread the only one that collects (core.collection, as gui.app.main does) must hand it
    back: the tests after it would otherwise run with automatic collection off, and a worker's gc.collect()
    waiting on a main thread that spins no event loop (a run still going at the next teardown's close question)."""
    yield
    from finetune_studio.core import collection

    if collection.owner() is not None:
        collection.give_back()
        pytest.fail("The test left cycle collection owned by one thread: hand it back (core.collection.give_back).")


# Beyond pytest-timeout's 600 s: only for a test that timeout cannot interrupt.
HANG_S = int(os.environ.get("FINETUNE_STUDIO_TEST_HANG_S", "660"))


@pytest.fixture(autouse=True)
def _end_a_hung_test() -> Iterator[None]:
    """If a test hangs where pytest-timeout cannot reach it (the main thread blocked in Qt's C++ with the GIL held,
    or a Python exception swallowed by a Qt slot), print every thread's stack and end the process, so CI fails with
    a trace within minutes instead of running into its own time limit with nothing to show. faulthandler's
    watchdog is a C thread: it needs neither the GIL nor the event loop."""
    import faulthandler
    import sys

    faulthandler.dump_traceback_later(HANG_S, exit=True,
                                      file=_REAL_STDERR if _REAL_STDERR is not None else sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def diverging_learning_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lifts validate's limit on the learning rate (core.validation.MAX_LEARNING_RATE, 10) for a test that makes a
    run diverge with 1e9 or 1e30: validate refuses those before any model loads, and a test of what a diverged run
    leaves (the advice, no checkpoint of NaN weights) needs one that diverges in a few steps. Real runs diverge for
    other reasons too (fp16 overflow, a bad batch); the demo does not diverge at 10 in 12 steps."""
    from finetune_studio.core import validation

    monkeypatch.setattr(validation, "MAX_LEARNING_RATE", float("inf"))
