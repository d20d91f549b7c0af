"""torch's shared libraries are mapped while the window is built, by a thread that holds no GIL (gui.warmup)."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest


def test_preload_maps_torchs_libraries_without_importing_torch() -> None:
    code = (
        "import sys\n"
        "from finetune_studio.gui.warmup import preload_in_background\n"
        "thread = preload_in_background()\n"
        "thread.join(120)\n"
        "maps = open('/proc/self/maps').read()\n"
        "print('libtorch_cpu.so' in maps, 'torch' in sys.modules, thread.name)\n"
    )
    if not sys.platform.startswith("linux"):
        pytest.skip("the preload is Linux-only (dlopen through ctypes)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "torch-preload"]


def test_the_app_starts_the_preload_before_it_builds_the_window(monkeypatch: Any) -> None:
    from finetune_studio.gui import app

    order: list[str] = []

    class Stop(Exception):
        pass

    def create_window() -> Any:
        order.append("window")
        raise Stop

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # main() installs its own hooks before the window
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(app, "preload_in_background", lambda: order.append("preload"))
    monkeypatch.setattr(app, "create_window", create_window)
    # main() hands cycle collection to this thread (gui.collector) for good: the tests after this one would run
    # with a collector whose timer ticks only while a test spins the event loop
    monkeypatch.setattr(app, "Collector", lambda parent: None)
    with pytest.raises(Stop):
        app.main([])
    assert order == ["preload", "window"]
