"""The window collects cycles on its GUI thread only (gui.collector over core.collection): the fresh-clone CI of
4296e5e died with a segmentation fault "Garbage-collecting" in a thread that read an answers file, which destroyed
a Qt object an earlier test had left in a cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import launched_app


@pytest.mark.slow
def test_the_app_collects_only_on_its_gui_thread(demo_cache: Path, tmp_path: Path) -> None:
    """gui.app.main as launched: once the warm-up is done (it pauses collection in its own thread), garbage a
    worker leaves in a cycle, with allocations past every threshold and an explicit gc.collect() as accelerate's
    free_memory() makes at train start, is collected by the GUI thread, and the worker's gc.collect() returns after
    it."""
    driver = """
import gc, json, sys, threading
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
gui = threading.get_ident()
seen = {"freed_in": []}

class Tracer:
    def __init__(self):
        self.me = self
    def __del__(self):
        seen["freed_in"].append("gui" if threading.get_ident() == gui else "worker")

def work():
    Tracer()
    keep = []
    for _ in range(50_000):
        pair = []
        pair.append(pair)
        keep.append(pair)
    seen["before_collect"] = list(seen["freed_in"])
    gc.collect()
    seen["after_collect"] = list(seen["freed_in"])

def poll():
    windows = [w for w in app.topLevelWidgets() if w.objectName() == "main_window" and w.isVisible()]
    if windows and windows[0].warm is not None and "started" not in seen:
        seen["started"] = True
        seen["automatic_after_warmup"] = gc.isenabled()
        worker = threading.Thread(target=work)
        worker.start()
        def wait():
            if worker.is_alive():
                QTimer.singleShot(20, wait)
                return
            print(json.dumps(seen), flush=True)
            windows[0].close()
        wait()
        return
    QTimer.singleShot(20, poll)
QTimer.singleShot(0, poll)
from finetune_studio.gui.launcher import main
sys.exit(main([]))
"""
    seen = launched_app(driver, tmp_path)
    assert seen["automatic_after_warmup"] is False
    assert seen["before_collect"] == []  # 50,000 cycles allocated, and no collection ran in the worker
    assert seen["after_collect"] == ["gui"]  # gc.collect() in the worker waited for the GUI thread's


@pytest.mark.slow
def test_a_run_trains_to_the_end_with_every_collection_on_the_gui_thread(demo_cache: Path, small_dataset: Path,
                                                                          tmp_path: Path) -> None:
    """A real run in the launched app, from Start to its end: accelerate's free_memory() collects at the train's
    start in the training thread's code, so the run goes through the routed gc.collect, and the run must still
    finish. gc.callbacks (called in the thread that collects) record where each collection ran, all app long."""
    driver = f"""
import gc, json, sys, threading
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from tests.helpers import small_config
app = QApplication(sys.argv[:1])
threads = {{}}
def seen(phase, info):
    if phase == "start":
        name = threading.current_thread().name
        threads[name] = threads.get(name, 0) + 1
gc.callbacks.append(seen)
state = {{}}

def poll():
    windows = [w for w in app.topLevelWidgets() if w.objectName() == "main_window" and w.isVisible()]
    if not windows or windows[0].warm is None:
        QTimer.singleShot(20, poll)
        return
    w = windows[0]
    if "started" not in state:
        if w.start_action.isEnabled():
            state["started"] = True
            threads.clear()  # from here on: the run
            w.set_config(small_config({str(small_dataset)!r}, {str(tmp_path / "runs")!r}, max_steps=6, eval_steps=3,
                                      save_steps=3))
            w.start_action.trigger()
        QTimer.singleShot(20, poll)
        return
    if w.runner.running or w.state.value in ("preparing", "running"):
        QTimer.singleShot(50, poll)
        return
    print(json.dumps({{"state": w.state.value, "threads": threads}}), flush=True)
    w.setWindowModified(False)
    w.close()
QTimer.singleShot(0, poll)
from finetune_studio.gui.launcher import main
sys.exit(main([]))
"""
    seen = launched_app(driver, tmp_path, timeout=300)
    assert seen["state"] == "finished"
    assert set(seen["threads"]) == {"MainThread"} and seen["threads"]["MainThread"] > 0
