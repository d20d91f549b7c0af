"""What the desktop app costs the training loop: steps/s through the GUI runner ÷ steps/s of the bare core.

Both sides train the same config (the built-in demo recipe, logging every 10 steps, cut to --steps optimizer steps,
no eval or checkpoints, which would come after the last step anyway) in this one process, alternating A/B so
drift in the machine's load hits both:

  GUI       the real main window: Start, its QThread worker, signals for every event into the chart, progress and
            log, the event loop turning (what a user runs);
  headless  `core.training.run(config, no-op sink, stop)` in a plain thread while the main thread just waits.

Steps/s comes from each run's metrics.jsonl: (last step - first step) / (elapsed between them), so model loading
and tokenizing are left out. Prints every pair and the median ratio (target >= 0.98).

    python benchmarks/overhead.py [--pairs 3] [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def steps_per_second(run_dir: Path) -> float:
    steps = [e for e in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if e["event"] == "step"]
    first, last = steps[0], steps[-1]
    return (last["step"] - first["step"]) / (last["elapsed_s"] - first["elapsed_s"])


def main() -> int:
    parser = argparse.ArgumentParser(description="GUI runner steps/s ÷ headless core steps/s")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--nice", type=int, default=None,
                        help="niceness added to the GUI's training thread (default: gui.runner.TRAINING_NICENESS)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="ft-overhead-"))
    runs = tmp / "runs"
    os.environ["FINETUNE_STUDIO_RUNS"] = str(runs)
    subprocess.run([sys.executable, "-c", "from core.demo import demo_model_path; demo_model_path()"], cwd=ROOT,
                   check=True)

    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv[:1])
    from core.config import PRESETS
    from gui import dialogs, runner
    from gui.main_window import MainWindow

    if args.nice is not None:
        runner.TRAINING_NICENESS = args.nice
    from gui.run_header import RunState

    dialogs.show_error = lambda parent, title, message, details=None: print(f"ERROR: {message}\n{details}")
    window = MainWindow()
    window.show()
    window.begin_warmup()
    while window.warm is None:
        app.processEvents()
        time.sleep(0.01)
    import core.training

    def config(name: str):  # noqa: ANN202
        c = PRESETS["demo"]()
        c.name = name
        c.training.update(max_steps=args.steps, eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
        return c

    def gui_run(name: str) -> float:
        window.set_config(config(name))
        while not window.start_action.isEnabled():
            app.processEvents()
            time.sleep(0.005)
        loop = QEventLoop()
        window.runner.idle.connect(loop.quit)
        cpu, wall = time.thread_time(), time.perf_counter()
        window.start_action.trigger()
        loop.exec()
        gui_cpu[name] = (time.thread_time() - cpu) / (time.perf_counter() - wall)
        window.runner.idle.disconnect(loop.quit)
        assert window.state is RunState.FINISHED, window.header.state_label.text()
        return steps_per_second(runs / name)

    def headless_run(name: str) -> float:
        done = threading.Event()
        thread = threading.Thread(target=lambda: (core.training.run(config(name), lambda e: None, threading.Event()),
                                                  done.set()))
        thread.start()
        thread.join()
        assert done.is_set()
        return steps_per_second(runs / name)

    ratios = []
    gui_cpu: dict[str, float] = {}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.steps} steps per run; "
          f"torch threads: {__import__('torch').get_num_threads()}; training thread niceness "
          f"+{runner.TRAINING_NICENESS}")
    for i in range(args.pairs):
        order = [("gui", gui_run), ("headless", headless_run)]
        if i % 2:
            order.reverse()
        result = {kind: run(f"{kind}-{i}") for kind, run in order}
        ratio = result["gui"] / result["headless"]
        ratios.append(ratio)
        print(f"pair {i + 1}: GUI {result['gui']:.3f} steps/s, headless {result['headless']:.3f} steps/s, "
              f"ratio {ratio:.3f}  (GUI thread busy {gui_cpu[f'gui-{i}'] * 100:.1f} % of the run)")
    print(f"overhead: median GUI/headless steps/s ratio {statistics.median(ratios):.3f} over {len(ratios)} pairs "
          f"(target >= 0.98); load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"GUI runner steps/s / headless steps/s (median of {len(ratios)} pairs): "
          f"{statistics.median(ratios):.3f} (goal >= 0.98)")
    window.setWindowModified(False)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
