"""How long the event loop stalls while the app sets up and while it trains.

A 1 ms precise QTimer heartbeat runs on the GUI thread; every tick records how much later than 1 ms it came (the
stall). Any slot that needs the GIL waits the same way, so this is what a user feels as a frozen window.

Phases, each reported as p50 / p99 / max stall in ms and the share of the phase's wall time spent in stalls
longer than 16 ms (a frame missed at 60 Hz):
  idle       the baseline, measured last in the same process: 2 s of the window doing nothing after the run;
  setup      from the window's first paint on: the background warm-up imports the training stack, the chart is
             built and the config validated (ends 1 s after "Ready");
  run        Start → finished on the demo preset (built-in model and sample data) cut to --steps steps, including
             tokenizing, model load and saving;
  training   the optimizer-step part of that run only (train_begin → end).
Targets: setup max <= 100 ms; training p99 <= 16 ms, max <= 50 ms, and at most 1 % of its wall time in stalls
over 16 ms. If the run did not train (no optimizer step, or it did not finish), the script says why and exits 2
instead of reporting stalls of a run that never happened.

    python benchmarks/ui_latency.py [--steps 60]
    xvfb-run -a -s "-screen 0 1280x800x24" python benchmarks/ui_latency.py    # with a real X server

The demo model is built beforehand in a separate process (so its torch import does not count as setup); runs
go to a temporary folder and QSettings to a temporary location.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import report  # noqa: E402 - sits beside this file

IDLE_S = 2.0  # the baseline phase
FRAME_S = 0.016


def build_demo_model() -> None:
    subprocess.run([sys.executable, "-c", "from core.demo import demo_model_path; demo_model_path()"], cwd=ROOT,
                   check=True)


class StallWatchdog:
    """While the heartbeat is late by more than `threshold`, sample the Python stack of every thread every 5 ms.

    If the GUI thread is the one in a long slot, its stack says which; if it waits for the GIL, the thread that
    had it (its top frames) is the culprit. Stacks of one stall are counted, so the common one stands out."""

    def __init__(self, last_tick: list[float], threshold: float = 0.03):
        import threading

        self.last_tick, self.threshold = last_tick, threshold
        self.samples: list[tuple[float, str]] = []
        self.main = threading.main_thread().ident
        self.thread = threading.Thread(target=self._run, daemon=True, name="watchdog")
        self.running = True
        self.thread.start()

    def _run(self) -> None:
        import threading
        import traceback

        names = {}
        while self.running:
            time.sleep(0.005)
            now = time.perf_counter()
            if self.last_tick[0] and now - self.last_tick[0] > self.threshold:
                names = {t.ident: t.name for t in threading.enumerate()}
                parts = []
                for ident, frame in sys._current_frames().items():
                    if ident == threading.get_ident():
                        continue
                    stack = traceback.extract_stack(frame)[-4:]
                    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
                    parts.append(f"[{names.get(ident, ident)}] {where}")
                self.samples.append((now, "\n        ".join(parts)))

    def report(self, marks: dict[str, float]) -> None:
        from collections import Counter

        self.running = False
        counts = Counter(sample for _, sample in self.samples)
        print(f"\nstack samples taken during stalls (most frequent first, {len(self.samples)} samples):")
        for sample, count in counts.most_common(12):
            print(f"  {count:4d}x  {sample}")


def stats(gaps: list[float]) -> str:
    if not gaps:
        return "no samples"
    ordered = sorted(gaps)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return (f"p50 {pct(0.50):6.2f} ms   p99 {pct(0.99):6.2f} ms   max {ordered[-1] * 1000:7.2f} ms   "
            f"({len(gaps)} ticks)")


def stalled_share(selected: list[tuple[float, float]], seconds: float) -> float:
    """Share of `seconds` spent in stalls longer than one 60 Hz frame."""
    return sum(gap for _, gap in selected if gap > FRAME_S) / seconds if seconds > 0 else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description="event-loop stalls during set-up and training")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps of the demo run")
    parser.add_argument("--top", type=int, default=5, help="list this many of the longest stalls per phase")
    parser.add_argument("--nice", type=int, default=None,
                        help="niceness added to the training thread (default: gui.runner.TRAINING_NICENESS; 0 = off)")
    parser.add_argument("--explain", action="store_true",
                        help="sample every thread's Python stack during stalls over 30 ms (perturbs the timing)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="ft-latency-"))
    os.environ["FINETUNE_STUDIO_RUNS"] = str(tmp / "runs")
    build_demo_model()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    from finetune_studio.core.config import PRESETS
    from finetune_studio.gui import dialogs, runner

    if args.nice is not None:
        runner.TRAINING_NICENESS = args.nice
    from finetune_studio.gui.main_window import MainWindow
    from finetune_studio.gui.run_header import RunState

    dialogs.show_error = lambda parent, title, message, details=None: print(f"ERROR DIALOG: {message}\n{details}")
    window = MainWindow()
    config = PRESETS["demo"]()
    config.training.update(max_steps=args.steps, logging_steps=5, eval_strategy="steps", save_strategy="steps",
                           eval_steps=args.steps // 2, save_steps=args.steps // 2)
    window.set_config(config)
    window.show()

    from heartbeat import heartbeat

    heart, ticks, last = heartbeat()  # ticks: (when, stall in s)
    marks: dict[str, float] = {}

    steps: list[int] = []
    ended: list[dict] = []

    def event_marks(event: dict) -> None:
        kind = event.get("event")
        if kind == "step":
            steps.append(int(event.get("step", 0)))
        elif kind == "end":
            ended.append(event)
        if kind == "train_begin":
            marks["train_begin"] = time.perf_counter()
        elif kind == "end":
            marks["train_end"] = time.perf_counter()

    window.runner.event.connect(event_marks)

    def idle() -> None:
        marks["idle"] = time.perf_counter()
        QTimer.singleShot(int(IDLE_S * 1000), idle_end)

    def idle_end() -> None:
        marks["idle_end"] = time.perf_counter()
        QTimer.singleShot(0, app.quit)

    def begin() -> None:
        heart.start()
        marks["setup"] = time.perf_counter()
        window.begin_warmup()
        poll_ready()

    def poll_ready() -> None:
        if window.warm is not None and window.start_action.isEnabled():
            marks.setdefault("ready", time.perf_counter())
            QTimer.singleShot(1000, start_run)
        elif window.warm_error:
            app.exit(1)
        else:
            QTimer.singleShot(5, poll_ready)

    def start_run() -> None:
        marks["setup_end"] = marks["run"] = time.perf_counter()
        window.start_action.trigger()
        poll_done()

    def poll_done() -> None:
        if window.state in (RunState.FINISHED, RunState.FAILED) and not window.runner.running:
            marks["run_end"] = time.perf_counter()
            QTimer.singleShot(500, idle)  # the baseline, once the finished run's last repaints are done
        else:
            QTimer.singleShot(5, poll_done)

    # The window's first paint is start-up (benchmarks/startup.py); the setup phase starts once it is on screen.
    QTimer.singleShot(0, lambda: (app.processEvents(), QTimer.singleShot(50, begin)))
    watchdog = StallWatchdog(last) if args.explain else None
    app.exec()
    heart.stop()
    if watchdog is not None:
        watchdog.report(marks)

    def window_of(start: str, end: str) -> list[tuple[float, float]]:
        return [(t, g) for t, g in ticks if marks.get(start, 0) < t <= marks.get(end, 0)]

    if (window.state is not RunState.FINISHED or max(steps, default=0) < args.steps or "train_begin" not in marks
            or "train_end" not in marks):
        reason = ended[-1].get("message") if ended else "no end event"
        print(f"THE RUN DID NOT TRAIN: state {window.state.value}, last optimizer step seen "
              f"{max(steps, default=0)} of {args.steps}, marks "
              f"{sorted(marks)}; {reason}. No stall figures are reported for a run that did not train.")
        window.close()
        return 2
    platform = app.platformName()
    print(f"load average before/after: {load_before} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"training thread niceness +{runner.TRAINING_NICENESS}")
    print(f"Qt platform: {platform}; warm-up took {marks['ready'] - marks['setup']:.1f} s; "
          f"run of {args.steps} steps took {marks['run_end'] - marks['run']:.1f} s "
          f"(training part {marks.get('train_end', 0) - marks.get('train_begin', 0):.1f} s); "
          f"state {window.state.value}; last optimizer step seen {max(steps)} of {args.steps}")
    phases = {"idle": ("idle", "idle_end"), "setup": ("setup", "setup_end"), "run": ("run", "run_end"),
              "training": ("train_begin", "train_end")}
    share = {}
    for name, (start, end) in phases.items():
        selected = window_of(start, end)
        share[name] = stalled_share(selected, marks[end] - marks[start])
        print(f"{name:9s} {stats([g for _, g in selected])}   in stalls > 16 ms: {share[name]:.2%}")
        for when, gap in sorted(selected, key=lambda item: -item[1])[: args.top]:
            print(f"            stall {gap * 1000:7.1f} ms ending at +{when - marks[start]:.3f} s")
    def values(name: str) -> dict[str, float]:
        gaps = sorted(g for _, g in window_of(*phases[name]))
        if not gaps:
            raise SystemExit(f"no heartbeat ticks during {name}: the measurement failed")
        return {"max": gaps[-1] * 1000, "p99": gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))] * 1000}

    idle_values = values("idle")
    met = True
    for name, goals in {"setup": [("max", 100)], "training": [("p99", 16), ("max", 50)]}.items():
        measured = values(name)
        for measure, goal in goals:
            met &= report(f"event-loop {measure} stall during {name}", f"{measured[measure]:.1f} ms",
                          f"<= {goal} ms", measured[measure] <= goal,
                          f"idle window {idle_values[measure]:.1f} ms")
    met &= report("share of training wall time in event-loop stalls over 16 ms", f"{share['training']:.2%}",
                  "<= 1 %", share["training"] <= 0.01, f"idle window {share['idle']:.2%}")
    window.close()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
