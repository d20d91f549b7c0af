"""Launch → window shown: how long a user waits for a usable window, and whether torch was imported by then.

Each run starts a fresh interpreter that calls `gui.app.main([])` (the `finetune-studio` entry point) with its
QSettings in a temporary home. The child notes the moment the main window is first exposed and the event loop has
turned once after it (the window is painted and accepts input), prints that with `'torch' in sys.modules`, and
exits at once. Times are wall-clock from just before the parent spawns the child, so interpreter start counts.
The baseline, measured in the same invocation and alternating with the app (app first, then baseline first, ...),
is a bare Qt window: the same child showing an empty QWidget, i.e. what Python + PySide6 cost before any app code.

Measured twice: first as a user gets it, the wheel (built from the sdist by packaging/install_wheel, .pyc compiled
at install as pip does) in a fresh venv outside the checkout, started by its `finetune-studio` console script
itself (a sitecustomize on PYTHONPATH arms the report when the app enters its event loop; goal <= 1.0 s); then
the checkout's editable install (goal <= 1.5 s), with an empty runs folder and then with one finished run of the
default recipe in it, as for a user who has trained once (goal <= 1.5 s; add_finished_run). The bare window runs
on the same interpreter as the app.

    python benchmarks/startup.py [--runs 5]          # offscreen unless DISPLAY is set
    python benchmarks/startup.py --no-installed      # the checkout only (building the wheel takes minutes)
    python benchmarks/startup.py --no-run            # without the launch that has a finished run
    xvfb-run -a python benchmarks/startup.py          # a real X server
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable

from goals import report  # this folder is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent

# Imported by every child that times the app's launch (also benchmarks/first_step.py): calls then(exposed_at)
# one event-loop turn after the main window is first exposed, i.e. painted and accepting input. The spy is an
# application-wide event filter, a Python call (and a take of the GIL) for every event of every object, so it
# removes itself at that expose: left in place, it ran ~2,500 times in first_step's app child between the expose and
# the first step (each repaint of the busy bar and its ancestors, every timer), taking the GIL from the warm-up's
# imports and the training thread, work the app does not do and the script it is compared with does not pay.
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
            QApplication.instance().removeEventFilter(self)
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
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
""" + ON_FIRST_EXPOSE + REPORT_AT_EXPOSE + r"""from finetune_studio.gui.app import main
main([])
"""

# The installed console script is run as it is; this sitecustomize (found through PYTHONPATH, imported by the
# interpreter at start) arms the same report when the app enters its event loop, after the window is shown.
PROBE_SITECUSTOMIZE = r"""
import os
if os.environ.get("FINETUNE_STUDIO_STARTUP_PROBE"):
    import json, sys, time
    from PySide6.QtWidgets import QApplication
""" + textwrap.indent(ON_FIRST_EXPOSE + REPORT_AT_EXPOSE.replace("spy = on_first_expose(report)\n", ""), "    ") + r"""
    _exec = QApplication.exec

    def _exec_with_probe(*args):
        global _spy
        _spy = on_first_expose(report)
        return _exec()

    QApplication.exec = _exec_with_probe
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


def launch_env(home: str, **extra: str) -> dict[str, str]:
    """The environment of a timed launch: settings, runs and caches in a temporary home, offscreen without a
    display, and Python's bytecode cache on. A shell with PYTHONDONTWRITEBYTECODE set (this project's VMs have it)
    would make every launch of the checkout compile the app's own modules again (~0.1-0.2 s) while the libraries
    it is compared with were compiled by pip at install: the untimed first launch writes the cache, as a user's
    first launch does, so both sides start from compiled code."""
    env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
           "XDG_DATA_HOME": os.path.join(home, ".local", "share"), "FINETUNE_STUDIO_RUNS": os.path.join(home, "runs"),
           **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def launch_once(env: dict[str, str], child: str = CHILD, python: str = sys.executable,
                command: list[str] | None = None) -> dict:
    """One launch: `python -c child`, or `command` as it is (the installed console script with the probe)."""
    t0 = time.time()
    out = subprocess.run(command or [python, "-c", child], env=env, capture_output=True, text=True, timeout=120)
    line = next((text for text in out.stdout.splitlines() if text.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"the child printed no result:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line)
    return {"shown_s": data["exposed"] - t0, "usable_s": data["usable"] - t0, "torch": data["torch"],
            "transformers": data["transformers"]}


def alternate(runs: int, label: str, app: Callable[[], dict], bare: Callable[[], dict]) -> tuple[list, list]:
    """`runs` app launches, each paired with a bare-window launch, in alternating order; prints each pair."""
    app(), bare()  # warm the OS file cache; not counted
    results, baseline = [], []
    for i in range(runs):
        if i % 2:
            baseline.append(bare())
        results.append(app())
        if not i % 2:
            baseline.append(bare())
        r = results[-1]
        print(f"{label} run {i + 1} ({'baseline' if i % 2 else 'app'} first): window shown {r['shown_s']:.2f} s, "
              f"usable {r['usable_s']:.2f} s, torch imported: {r['torch']}, transformers imported: "
              f"{r['transformers']}; bare Qt window usable {baseline[-1]['usable_s']:.2f} s")
    return results, baseline


def judge(what: str, results: list, bare: list, goal_s: float) -> bool:
    usable = [r["usable_s"] for r in results]
    median = statistics.median(usable)
    baseline = statistics.median(r["usable_s"] for r in bare)
    print(f"{what}: median {median:.2f} s, best {min(usable):.2f} s, worst {max(usable):.2f} s; torch in "
          f"sys.modules at that moment: {any(r['torch'] for r in results)}  (target <= {goal_s} s, torch not "
          "imported)")
    met = report(f"launch to window shown and usable, median ({what})", f"{median:.2f} s", f"<= {goal_s} s",
                 median <= goal_s, f"bare Qt window {baseline:.2f} s")
    torch = any(r["torch"] for r in results)
    met &= report(f"torch imported when the window is usable ({what})", str(torch), "False", not torch,
                  f"bare Qt window {any(r['torch'] for r in bare)}")
    return met


def add_finished_run(env: dict[str, str]) -> None:
    """One finished run of the default recipe (the demo, chat format 'auto' as the seed leaves it, 2 optimizer
    steps) in the launch's runs folder, trained by `finetune-studio train` as a user's would be. Why: with an empty
    runs folder this benchmark never saw the Try tab resolve the newest run, reading its data with datasets and
    importing torch on the GUI thread while the window was built (~3 s more before the window showed, fixed in
    7935d23)."""
    code = ("from finetune_studio.core.cli import main; raise SystemExit(main(['train', '--quiet', '--name', 'first', "
            "'--set', 'training.max_steps=2', '--set', 'training.eval_strategy=no', '--set', "
            "'training.save_strategy=no', '--set', 'training.load_best_model_at_end=false']))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(f"training the run failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")


def install_wheel(folder: Path) -> Path:
    """packaging/install_wheel: sdist -> wheel -> a fresh venv in `folder` with .pyc compiled as pip does for a
    user. Returns the venv."""
    out = subprocess.run([str(ROOT / "packaging" / "install_wheel"), str(folder), "--compile"],
                         capture_output=True, text=True, timeout=1800)
    if out.returncode:
        raise RuntimeError(f"packaging/install_wheel failed:\n{out.stdout}\n{out.stderr}")
    return folder / "venv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-installed", action="store_true",
                        help="only the checkout; skip building and installing the wheel (a few minutes)")
    parser.add_argument("--bundle", metavar="EXE", help="also time this PyInstaller bundle's executable "
                        "(packaging/build_bundle adds the probe as a runtime hook)")
    parser.add_argument("--print-probe", action="store_true", help="print the probe (for packaging/build_bundle)")
    parser.add_argument("--no-run", action="store_true",
                        help="skip the launch with a finished run in the runs folder (training it takes ~20 s)")
    args = parser.parse_args()
    if args.print_probe:
        print(PROBE_SITECUSTOMIZE)
        return 0
    home = tempfile.mkdtemp(prefix="ft-startup-")
    env = launch_env(home)
    met = True
    if not args.no_installed:
        # The wheel as a user installs it, started by its console script from a folder outside the checkout.
        work = Path(tempfile.mkdtemp(prefix="ft-startup-wheel-"))
        try:  # the venv is ~1.7 GB: gone afterwards, whatever happened
            venv = install_wheel(work)
            probe = work / "probe"
            probe.mkdir()
            (probe / "sitecustomize.py").write_text(PROBE_SITECUSTOMIZE)
            installed_env = {**env, "PYTHONPATH": str(probe), "FINETUNE_STUDIO_STARTUP_PROBE": "1"}
            script, python = str(venv / "bin" / "finetune-studio"), str(venv / "bin" / "python")
            results, bare = alternate(args.runs, "installed wheel",
                                      lambda: launch_once(installed_env, command=[script]),
                                      lambda: launch_once(env, BARE_CHILD, python))
            met &= judge("installed wheel, finetune-studio console script", results, bare, 1.0)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if args.bundle:
        probed = {**env, "FINETUNE_STUDIO_STARTUP_PROBE": "1"}
        results, bare = alternate(args.runs, "bundle", lambda: launch_once(probed, command=[args.bundle]),
                                  lambda: launch_once(env, BARE_CHILD))
        met &= judge("PyInstaller bundle", results, bare, 1.0)
    results, bare = alternate(args.runs, "checkout", lambda: launch_once(env), lambda: launch_once(env, BARE_CHILD))
    met &= judge("checkout", results, bare, 1.5)
    if not args.no_run:
        # A user who has trained once: the same launch with a finished run of the default recipe in the runs folder.
        add_finished_run(env)
        results, bare = alternate(args.runs, "checkout, one run", lambda: launch_once(env),
                                  lambda: launch_once(env, BARE_CHILD))
        met &= judge("checkout, a finished run of the default recipe in the runs folder", results, bare, 1.5)
    shutil.rmtree(home, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
