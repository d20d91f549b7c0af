"""How long one chart frame takes on a long run: 100k logged steps, new points arriving at 10 Hz.

Builds the real LossChart (offscreen unless a display exists), loads 100k steps of train loss, learning rate and
grad norm plus an eval every 1000 steps, then appends one logged step every 100 ms (an eval every 10th) and
times each frame: the chart's redraw (`_redraw`: smoothing, setData on every curve) plus a full paint of the
widget into a pixmap (`grab()`), which is what the screen would show. Two phases: smoothing 0.6 with a linear
loss axis, then the same with a log axis. Goal: every frame within 16 ms (60 Hz). The baseline, in the same
process: the same appends and frames on a 1,000-point chart (half as long per phase).

    python benchmarks/chart.py [--points 100000] [--seconds 10]
    xvfb-run -a -s "-screen 0 1280x800x24" python benchmarks/chart.py

Timings include whatever else the machine is doing: on a shared CPU, take max with a grain of salt.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import report  # noqa: E402 - sits beside this file

BASELINE_POINTS = 1_000

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def events(first: int, last: int) -> list[dict]:
    """Logged steps first..last as a run writes them: a noisy falling loss, a cosine learning rate."""
    out = []
    for step in range(first, last + 1):
        loss = 0.5 + 2.5 * math.exp(-step / 20_000) + 0.15 * math.sin(step * 12.9898) ** 2
        lr = 1e-3 * 0.5 * (1 + math.cos(math.pi * min(step, 200_000) / 200_000))
        out.append({"event": "log", "step": step, "loss": loss, "learning_rate": lr,
                    "grad_norm": 1.0 + 0.5 * math.cos(step * 78.233) ** 2})
        if step % 1000 == 0:
            out.append({"event": "eval", "step": step, "eval_loss": loss + 0.1})
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def timed_frames(chart, next_step: int, seconds: float, log_scale: bool) -> tuple[list[float], int]:
    """Appends one logged step every 100 ms for `seconds` and times each frame (redraw + full paint)."""
    from PySide6.QtCore import QEventLoop, QTimer

    chart.smoothing.setValue(60)
    chart.log_scale.setChecked(log_scale)
    chart.grab()
    frames: list[float] = []
    deadline = time.monotonic() + seconds
    loop = QEventLoop()
    timer = QTimer(interval=100)  # 10 Hz, with the event loop turning in between as in the app

    def tick() -> None:
        nonlocal next_step
        if time.monotonic() > deadline:
            timer.stop()
            loop.quit()
            return
        for event in events(next_step, next_step):
            chart.add_event(event)
        next_step += 1
        t0 = time.perf_counter()
        chart._redraw()
        chart.grab()
        frames.append((time.perf_counter() - t0) * 1000)

    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    return frames, next_step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="appending time per phase")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    from finetune_studio.gui.chart import LossChart

    # As the app does once its warm-up has imported the stack (gui.warmup): without it a full collection walks
    # every module object of PySide6, pyqtgraph and numpy (~30 ms here), which the app never pays mid-run.
    gc.freeze()
    chart = LossChart()
    chart.resize(1000, 600)
    chart.show()
    app.processEvents()

    started = time.perf_counter()
    chart.load_events(events(1, args.points))
    chart.grab()
    load_ms = (time.perf_counter() - started) * 1000
    print(f"load {args.points:,} points and first paint: {load_ms:.0f} ms")

    next_step = args.points + 1
    all_frames: list[float] = []
    for log_scale in (False, True):
        frames, next_step = timed_frames(chart, next_step, args.seconds, log_scale)
        all_frames += frames
        name = "log" if log_scale else "linear"
        print(f"{name} loss axis, smoothing 0.6, {chart.point_count:,} points, {len(frames)} frames: "
              f"p50 {percentile(frames, 50):.1f} ms, p99 {percentile(frames, 99):.1f} ms, max {max(frames):.1f} ms")
    chart.close()

    # The baseline, in this process: the same appends and frames on a short run's chart (BASELINE_POINTS steps).
    small = LossChart()
    small.resize(1000, 600)
    small.show()
    small.load_events(events(1, BASELINE_POINTS))
    small.grab()
    base: list[float] = []
    step = BASELINE_POINTS + 1
    for log_scale in (False, True):
        frames, step = timed_frames(small, step, args.seconds / 2, log_scale)
        base += frames
    print(f"baseline: {BASELINE_POINTS:,}-point chart, same appends, {len(base)} frames: "
          f"p50 {percentile(base, 50):.1f} ms, p99 {percentile(base, 99):.1f} ms, max {max(base):.1f} ms")
    small.close()

    points = f"{args.points // 1000}k" if args.points % 1000 == 0 else f"{args.points:,}"
    print(f"chart redraw p50 at {points} points: {percentile(all_frames, 50):.1f} ms")
    met = report(f"chart redraw p99 at {points} points", f"{percentile(all_frames, 99):.1f} ms", "<= 16 ms",
                 percentile(all_frames, 99) <= 16, f"{BASELINE_POINTS:,}-point chart {percentile(base, 99):.1f} ms")
    met &= report(f"chart redraw max at {points} points", f"{max(all_frames):.1f} ms", "<= 16 ms",
                  max(all_frames) <= 16, f"{BASELINE_POINTS:,}-point chart {max(base):.1f} ms")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
