"""How long the window freezes when runs are compared in the Runs tab (selecting several overlays their loss curves).

The real window (gui.app.create_window, warm-up begun as gui.app.main begins it) on a runs folder of --runs
fabricated finished runs of --steps logged steps each (written by this script, no training). A 1 ms precise QTimer
heartbeat runs on the GUI thread; the longest gap between two beats after a selection, over the next second, is
that selection's stall (the slot, the repaint it causes, and any GIL hold of another thread: what a user feels).
Each round is two fresh processes:
  during   2 runs selected as soon as the table lists them, while the warm-up still imports the training stack
           and the chart is not built yet; the stall is the longest from the click until their curves are on the
           chart, and a second after (the chart's build: pyqtgraph's import and its construction, on the click
           or in the warm-up's steps, under the warm-up thread's GIL holds); how long the curves took is printed;
  after    the window as a user finds it once the warm-up is done and the chart built: 1.5 s idle (the baseline),
           then 2 runs selected (the first compare), then 5 others (the second compare).
Figures: the worst round's stall of the first compare after the warm-up and of a compare during the warm-up, each
against the goal <= 100 ms; baseline: the idle window's and the second compare's longest stall, same invocation.

    python benchmarks/compare_latency.py [--rounds 2] [--runs 20] [--steps 300]
    xvfb-run -a -s "-screen 0 1280x800x24" python benchmarks/compare_latency.py     # with a real X server
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import exit_with, report  # noqa: E402 - sits beside this file

GOAL_MS = 100.0
SETTLE_S = 1.0  # a selection's stall is the longest gap in this long after it
T0 = 1_764_000_000


def make_runs(folder: Path, count: int, steps: int) -> list[Path]:
    """Finished runs as core.training leaves them: config.yaml, metrics.jsonl (a loss and a step event per step, an
    evaluation every 50), status.json."""
    paths = []
    for index in range(count):
        path = folder / f"run-{index:02d}"
        path.mkdir(parents=True)
        (path / "config.yaml").write_text(f"name: {path.name}\nmodel:\n  name_or_path: builtin:demo\n"
                                          "dataset:\n  source: /data/horoscopes.jsonl\n")
        total = steps + 10 * index
        events = [{"event": "run_start", "resume_from": None},
                  {"event": "train_begin", "step": 0, "start_step": 0, "max_steps": total}]
        for step in range(1, total + 1):
            events.append({"event": "step", "step": step, "max_steps": total})
            events.append({"event": "log", "step": step, "loss": 3.0 / step ** 0.3 + 0.01 * index,
                           "learning_rate": 1e-3, "grad_norm": 1.0})
            if step % 50 == 0:
                events.append({"event": "eval", "step": step, "eval_loss": 3.5 / step ** 0.3 + 0.01 * index})
        events.append({"event": "end", "state": "finished", "step": total, "max_steps": total})
        (path / "metrics.jsonl").write_text("".join(json.dumps({"time": T0 + 10_000 * index + i, **event}) + "\n"
                                                    for i, event in enumerate(events)))
        (path / "status.json").write_text(json.dumps({"pid": 1, "state": "finished",
                                                      "message": f"Finished {total} steps.", "model": "builtin:demo",
                                                      "dataset": "/data/horoscopes.jsonl",
                                                      "created": "2026-01-01T10:00:00+00:00"}))
        paths.append(path)
    return paths


def phase(name: str, runs: int, steps: int) -> dict:
    """One fresh window; returns the stalls (ms) it measured."""
    tmp = Path(tempfile.mkdtemp(prefix="ft-compare-latency-"))
    os.environ["FINETUNE_STUDIO_RUNS"] = str(tmp / "runs")
    paths = make_runs(tmp / "runs", runs, steps)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv[:1])
    from heartbeat import heartbeat

    from finetune_studio.gui.app import create_window

    heart, ticks, _ = heartbeat()  # (when, how late)

    def spin(seconds: float, until=None) -> bool:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.0005)
            if until is not None and until():
                return True
        return False

    def stall_after(start: float) -> float:
        spin(SETTLE_S)
        return max((gap for when, gap in ticks if when > start), default=0.0) * 1000

    def select(chosen: list[Path]) -> float:
        start = time.perf_counter()
        window.history.select(chosen)
        return stall_after(start)

    window = create_window()
    window.resize(1280, 800)
    window.show()
    spin(0.3)
    heart.start()
    window.begin_warmup()
    result: dict = {}
    listed = spin(30, lambda: window.history.model.rowCount() == runs)
    if not listed:
        raise SystemExit(f"the Runs tab listed {window.history.model.rowCount()} of {runs} runs in 30 s")
    window.tabs.setCurrentWidget(window.history)
    if name == "during":
        spin(0.2)
        result["chart_built_before"] = window.chart is not None and window.chart.built
        result["warm_before"] = window.warm is not None
        start = time.perf_counter()
        window.history.select(paths[:2])
        wanted = sorted(path.name for path in paths[:2])
        shown = spin(120, lambda: window.chart is not None and sorted(window.chart.overlays) == wanted)
        result["curves_s"] = time.perf_counter() - start if shown else None
        result["during"] = stall_after(start)  # the click, the chart's build (now or in the warm-up's steps), a second
    started = time.perf_counter()
    warm = spin(300, lambda: window.warm is not None and window.chart is not None and window.chart.built)
    if not warm:
        raise SystemExit(f"the warm-up did not end in 300 s: {window.warm_error or 'no error'}")
    result["warm_s"] = time.perf_counter() - started
    if name == "after":
        spin(1.0)
        idle_start = time.perf_counter()
        spin(1.5)
        result["idle"] = max((gap for when, gap in ticks if when > idle_start), default=0.0) * 1000
        result["first"] = select(paths[:2])
        result["second"] = select(paths[2:7])
        result["overlays"] = sorted(window.chart.overlays)
    heart.stop()
    window.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="fresh windows per phase; the worst is the figure")
    parser.add_argument("--runs", type=int, default=20, help="runs in the folder")
    parser.add_argument("--steps", type=int, default=300, help="logged steps of the first run (each next has 10 more)")
    parser.add_argument("--phase", choices=("during", "after"), help=argparse.SUPPRESS)  # one child process
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.phase:
        print("RESULT " + json.dumps(phase(args.phase, args.runs, args.steps)), flush=True)
        return 0
    found: dict[str, list[dict]] = {"during": [], "after": []}
    for index in range(args.rounds):
        for name in found:
            done = subprocess.run([sys.executable, __file__, "--phase", name, "--runs", str(args.runs), "--steps",
                                   str(args.steps)], capture_output=True, text=True, timeout=600)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode or not lines:
                print(done.stdout + done.stderr[-4000:], file=sys.stderr)
                raise RuntimeError(f"the {name} phase's window exited {done.returncode} without its figures")
            got = json.loads(lines[-1][len("RESULT "):])
            found[name].append(got)
            print(f"round {index + 1} {name}: " + ", ".join(
                f"{key} {value:.1f}" if isinstance(value, float) else f"{key} {value}" for key, value in got.items()),
                flush=True)
    during, after = found["during"], found["after"]
    idle = max(r["idle"] for r in after)
    second = max(r["second"] for r in after)
    first = max(r["first"] for r in after)
    early = max(r["during"] for r in during)
    unbuilt = sum(not r["chart_built_before"] for r in during)
    if any(r["curves_s"] is None for r in during):
        raise RuntimeError("the compared runs' curves never reached the chart during the warm-up phase")
    print(f"platform {os.environ.get('QT_QPA_PLATFORM') or 'display ' + os.environ.get('DISPLAY', '')}; "
          f"{args.runs} runs of {args.steps}+ steps; warm-up {min(r['warm_s'] for r in after):.1f}-"
          f"{max(r['warm_s'] for r in after):.1f} s; the chart was not built yet at {unbuilt} of {len(during)} "
          f"compares during the warm-up, whose curves appeared {min(r['curves_s'] for r in during):.2f}-"
          f"{max(r['curves_s'] for r in during):.2f} s after the click")
    met = report(f"longest stall of the first compare (2 runs) after the warm-up, worst of {args.rounds}",
                 f"{first:.1f} ms", f"<= {GOAL_MS:.0f} ms", first <= GOAL_MS,
                 f"idle window {idle:.1f} ms, second compare (5 runs) {second:.1f} ms, same invocation")
    met &= report(f"longest stall of a compare (2 runs) during the warm-up, chart not built yet, worst of "
                  f"{args.rounds}", f"{early:.1f} ms", f"<= {GOAL_MS:.0f} ms", early <= GOAL_MS,
                  f"idle window {idle:.1f} ms, the first compare after the warm-up {first:.1f} ms, same invocation")
    return 0 if met else 1


if __name__ == "__main__":
    exit_with(main)
