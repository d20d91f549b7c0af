"""Launch → window shown: how long a user waits for a usable window, and whether torch was imported by then.

Each run starts a fresh interpreter that calls `gui.app.main([])` (the `finetune-studio` entry point) with its
QSettings in a temporary home. The child notes the moment the main window is first exposed and the event loop has
turned once after it (the window is painted and accepts input), prints that with `'torch' in sys.modules`, and
exits at once. Times are wall-clock from just before the parent spawns the child, so interpreter start counts.
The baseline, measured in the same invocation and alternating with the app (app first, then baseline first, ...),
is a bare Qt window: the same child showing an empty QWidget, i.e. what Python + PySide6 cost before any app code.

    python benchmarks/startup.py [--runs 5]          # offscreen unless DISPLAY is set
    xvfb-run -a python benchmarks/startup.py          # a real X server
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from goals import report  # this folder is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent

# Imported by every child that times the app's launch (also benchmarks/first_step.py): calls then(exposed_at)
# one event-loop turn after the main window is first exposed, i.e. painted and accepting input.
ON_FIRST_EXPOSE = r"""
import time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication

class FirstExpose(QObject):
    def __init__(self, then):
        super().__init__()
        self.then, self.done = then, False

    def eventFilter(self, obj, event):
        if (not self.done and event.type() == QEvent.Type.Expose and isinstance(obj, QWindow)
                and obj.isExposed() and obj.objectName().startswith("main_window")):
            self.done = True
            exposed_at = time.time()
            QTimer.singleShot(0, lambda: self.then(exposed_at))
        return False

def on_first_expose(then):
    spy = FirstExpose(then)
    QApplication.instance().installEventFilter(spy)
    return spy
"""

# The child's report at its first expose: when, and whether the training stack was already imported.
REPORT_AT_EXPOSE = r"""
def report(exposed_at):
    print(json.dumps({"exposed": exposed_at, "usable": time.time(), "torch": "torch" in sys.modules,
                      "transformers": "transformers" in sys.modules}), flush=True)
    os._exit(0)

spy = on_first_expose(report)
"""

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, os.environ["STARTUP_ROOT"])
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
""" + ON_FIRST_EXPOSE + REPORT_AT_EXPOSE + r"""from gui.app import main
main([])
"""


BARE_CHILD = r"""
import json, os, sys, time
from PySide6.QtWidgets import QApplication, QWidget

app = QApplication(sys.argv[:1])
""" + ON_FIRST_EXPOSE + REPORT_AT_EXPOSE + r"""window = QWidget()
window.setObjectName("main_window")
window.resize(1280, 800)
window.show()
app.exec()
"""


def launch_once(env: dict[str, str], child: str = CHILD) -> dict:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=120)
    line = next((text for text in out.stdout.splitlines() if text.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"the child printed no result:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line)
    return {"shown_s": data["exposed"] - t0, "usable_s": data["usable"] - t0, "torch": data["torch"],
            "transformers": data["transformers"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="ft-startup-")
    env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"), "STARTUP_ROOT": str(ROOT)}
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    launch_once(env)  # warm the OS file cache; not counted
    launch_once(env, BARE_CHILD)
    results, bare = [], []
    for i in range(args.runs):
        if i % 2:
            bare.append(launch_once(env, BARE_CHILD))
        results.append(launch_once(env))
        if not i % 2:
            bare.append(launch_once(env, BARE_CHILD))
        r = results[-1]
        print(f"run {i + 1} ({'baseline' if i % 2 else 'app'} first): window shown {r['shown_s']:.2f} s, usable "
              f"{r['usable_s']:.2f} s, torch imported: {r['torch']}, transformers imported: {r['transformers']}; "
              f"bare Qt window usable {bare[-1]['usable_s']:.2f} s")
    usable = [r["usable_s"] for r in results]
    baseline = statistics.median(r["usable_s"] for r in bare)
    print(f"startup (launch -> window shown and usable): median {statistics.median(usable):.2f} s, "
          f"best {min(usable):.2f} s, worst {max(usable):.2f} s; torch in sys.modules at that moment: "
          f"{any(r['torch'] for r in results)}  (target <= 1.5 s, torch not imported)")
    met = report("launch to window shown and usable, median", f"{statistics.median(usable):.2f} s", "<= 1.5 s",
                 statistics.median(usable) <= 1.5, f"bare Qt window {baseline:.2f} s")
    torch = any(r["torch"] for r in results)
    met &= report("torch imported when the window is usable", str(torch), "False", not torch,
                  f"bare Qt window {any(r['torch'] for r in bare)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
