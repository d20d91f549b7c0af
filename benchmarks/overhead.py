"""What the desktop app costs the training loop: steps/s through the GUI runner ÷ steps/s of the bare core.

Two runs of the same config (the built-in demo recipe, logging every 10 steps, cut to --steps optimizer steps, no
eval or checkpoints) train in this one process *taking turns*: the GUI run trains --chunk steps while the headless
run waits at a step boundary, then the headless run trains the same --chunk steps while the GUI run waits, and so
on, in the order G H H G G H H G … so that a steady drift cancels within each pair of pairs. Both draw the same
batches in the same order (same seed), so chunk k of one run is the same work as chunk k of the other, done a
second or two apart. This matters here: on this shared VM the speed of identical work drifts by 20-30 % within a
minute, and comparing two whole runs made one after the other (what this script did before) measured that drift
more than the GUI.

  GUI       the real main window: Start, its QThread worker, signals for the events into the chart, progress and
            log, the event loop turning (what a user runs);
  headless  `finetune_studio.core.training.run(config, sink, stop)` in a plain thread, as the CLI runs it.

A chunk's time runs from the moment a run gets its turn to the event of its last step, plus the GUI thread's CPU
time in the PAUSE_S pause that follows it: the repaint the GUI owes for the chunk's last step (its throttled
progress and chart timers fire in that pause) is charged to the chunk, on both sides alike, never to the other
run's time. The first chunk (first-step set-up) is left out. The GUI thread's CPU over the whole GUI run, Start
to idle (set-up, chunks, pauses, final save), is reported too, as a share of that run's wall time. Prints the
ratio over all chunks (headless time ÷ GUI time for the same steps), the median and quartiles of the per-chunk
ratios, per round; a second round lets the headless run go first.

With --control there is no GUI: the GUI run's place is taken by the core running in the main thread, as the CLI
runs it, which shows this machine's noise and what training in a thread costs by itself (with --own-arenas: 2-6 %,
see gui.runner.share_malloc_arena).

    python benchmarks/overhead.py [--steps 300] [--chunk 5] [--rounds 2] [--control] [--own-arenas]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import report  # noqa: E402 - sits beside this file

PAUSE_S = 0.3  # longer than the GUI's repaint throttles (gui.progress.REFRESH_MS, gui.chart.REDRAW_MS)
TIMEOUT_S = 900


class Turns:
    """Lets two training threads run one chunk of steps at a time, alternately, and times each chunk."""

    def __init__(self, first: str, second: str, chunk: int):
        self.names = (first, second)
        self.chunk = chunk
        self.turn = first
        self.ready: set[str] = set()
        self.done: set[str] = set()
        self.ended: set[str] = set()
        self.failed: str | None = None
        self.times: dict[str, dict[int, float]] = {first: {}, second: {}}  # last step of a chunk -> seconds
        self._began: dict[str, float] = {}
        self._cond = threading.Condition()
        # The GUI thread's CPU time, read from the training threads: how much of it lands in whose chunks.
        self._gui_clock = time.pthread_getcpuclockid(threading.main_thread().ident)
        self._gui_cpu_began = 0.0
        self.gui_cpu = {first: 0.0, second: 0.0}  # GUI-thread CPU seconds during each side's chunks (+ pauses)
        self.repaint = {first: 0.0, second: 0.0}  # of which in the pause after a chunk (its last step's repaint)

    def observe(self, name: str, event: dict) -> None:
        """Called by a run's sink in its training thread, after the event went out."""
        kind = event.get("event")
        if kind == "train_begin":
            with self._cond:
                self.ready.add(name)
                self._cond.notify_all()
            self._wait_turn(name)
        elif kind == "step":
            step, last = int(event["step"]), int(event["max_steps"])
            if step % self.chunk == 0 or step == last:
                self.times[name][step] = time.perf_counter() - self._began[name]
                paused = time.clock_gettime(self._gui_clock)
                self.gui_cpu[name] += paused - self._gui_cpu_began
                time.sleep(PAUSE_S)  # the GUI catches up on this chunk's repaints while nobody trains ...
                owed = time.clock_gettime(self._gui_clock) - paused
                self.times[name][step] += owed  # ... and that work is charged to the chunk it was owed for
                self.gui_cpu[name] += owed
                self.repaint[name] += owed
                other = self.names[1 - self.names.index(name)]
                with self._cond:
                    if step == last:
                        self.done.add(name)
                    if other not in self.done and len(self.times[other]) < len(self.times[name]):
                        self.turn = other  # it is a chunk behind; else this run goes first for the next pair
                    self._cond.notify_all()
                    if step == last and other not in self.done:
                        # Saving the model now would slow the other run's last chunk, and two Trainers winding
                        # up at once in one process trip over accelerate's shared state: wait for its end.
                        self._cond.wait_for(lambda: self.failed or other in self.ended, TIMEOUT_S)
                if step != last:
                    self._wait_turn(name)
        elif kind == "end":
            with self._cond:
                self.ended.add(name)
                self._cond.notify_all()
            if event.get("state") != "finished":
                self.fail(name)

    def wait_ready(self, name: str) -> None:
        """Until `name` waits for its first turn. Runs are set up one after the other: TrainingArguments resets
        accelerate's process-wide state, which would pull it from under a run that is setting up too."""
        with self._cond:
            self._cond.wait_for(lambda: self.failed or name in self.ready, TIMEOUT_S)

    def fail(self, name: str) -> None:
        with self._cond:
            self.failed = self.failed or name
            self._cond.notify_all()

    def _wait_turn(self, name: str) -> None:
        with self._cond:
            ok = self._cond.wait_for(lambda: self.failed or (self.turn == name and len(self.ready) == 2), TIMEOUT_S)
        if not ok or self.failed:
            raise RuntimeError(f"the other run did not go on (failed: {self.failed})")
        self._gui_cpu_began = time.clock_gettime(self._gui_clock)
        self._began[name] = time.perf_counter()


def interval(pairs: list[tuple[float, float]], level: float = 0.9, resamples: int = 4000) -> tuple[float, float]:
    """Bootstrap interval of sum(headless) / sum(GUI) over chunks: how far the ratio could move by chance."""
    rng = random.Random(0)
    ratios = sorted(sum(b for b, _ in sample) / sum(g for _, g in sample)
                    for sample in (rng.choices(pairs, k=len(pairs)) for _ in range(resamples)))
    cut = int(resamples * (1 - level) / 2)
    return ratios[cut], ratios[-cut - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description="GUI runner steps/s ÷ headless core steps/s, alternating chunks")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--chunk", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--control", action="store_true",
                        help="no GUI: the core in the main thread (as the CLI runs it) in the GUI run's place; "
                             "shows this machine's noise and what training in a thread costs by itself")
    parser.add_argument("--own-arenas", action="store_true",
                        help="leave glibc's per-thread malloc arenas on (see gui.runner.share_malloc_arena)")
    parser.add_argument("--nice", type=int, default=None,
                        help="niceness added to the GUI's training thread (default: gui.runner.TRAINING_NICENESS)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="ft-overhead-"))
    os.environ["FINETUNE_STUDIO_RUNS"] = str(tmp / "runs")
    subprocess.run([sys.executable, "-c", "from core.demo import demo_model_path; demo_model_path()"], cwd=ROOT,
                   check=True)

    from finetune_studio.gui import runner

    if not args.own_arenas:
        runner.share_malloc_arena()  # as gui.app.main does, before any thread starts
    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv[:1])
    from finetune_studio.core.config import PRESETS
    from finetune_studio.gui import dialogs
    from finetune_studio.gui.main_window import MainWindow
    from finetune_studio.gui.run_header import RunState

    if args.nice is not None:
        runner.TRAINING_NICENESS = args.nice
    dialogs.show_error = lambda parent, title, message, details=None: print(f"ERROR: {message}\n{details}")
    window = MainWindow()
    window.show()
    window.begin_warmup()
    while window.warm is None:
        app.processEvents()
        time.sleep(0.01)
    import torch

    from finetune_studio.core import training as core_training
    def config(name: str):
        c = PRESETS["demo"]()
        c.name = name
        c.training.update(max_steps=args.steps, eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
        return c

    turns: Turns | None = None
    worker_sink = runner.TrainingWorker._sink

    def gui_sink(self: runner.TrainingWorker, event: dict) -> None:
        worker_sink(self, event)
        turns.observe("gui", event)

    runner.TrainingWorker._sink = gui_sink

    def headless(name: str, side: str = "headless") -> None:
        if turns.names[0] != side:
            turns.wait_ready(turns.names[0])
        try:
            core_training.run(config(name), lambda event: turns.observe(side, event), threading.Event())
        except BaseException as exc:  # noqa: BLE001 - reported, and the other run released
            print(f"{name} run failed: {exc}")
            turns.fail(side)

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.steps} steps per run in "
          f"chunks of {args.chunk}; torch threads: {torch.get_num_threads()}; GUI training thread niceness "
          f"+{runner.TRAINING_NICENESS}; malloc: {'per-thread arenas' if args.own_arenas else 'one arena'}")
    a, b = ("core in the main thread", "core in a thread") if args.control else ("GUI", "headless")
    totals = {"gui": 0.0, "headless": 0.0}
    all_ratios: list[float] = []
    gui_whole_cpu = gui_whole_wall = 0.0  # the GUI thread's CPU over whole GUI runs (Start to idle), and their wall
    pairs: list[tuple[float, float]] = []  # (headless, GUI) seconds of each chunk
    for round_ in range(args.rounds):
        order = ("gui", "headless") if round_ % 2 == 0 else ("headless", "gui")
        turns = Turns(*order, chunk=args.chunk)
        window.set_config(config(f"gui-{round_}"))
        while not window.start_action.isEnabled():
            app.processEvents()
            time.sleep(0.005)
        thread = threading.Thread(target=headless, args=(f"headless-{round_}",))
        thread.start()
        if args.control:  # in the main thread, as the CLI runs it
            headless(f"cli-{round_}", "gui")
        else:
            while order[0] == "headless" and "headless" not in turns.ready and not turns.failed:
                app.processEvents()
                time.sleep(0.01)
            loop = QEventLoop()
            window.runner.idle.connect(loop.quit)
            gui_clock = time.pthread_getcpuclockid(threading.main_thread().ident)
            cpu_began, wall_began = time.clock_gettime(gui_clock), time.perf_counter()
            window.start_action.trigger()
            loop.exec()
            whole_cpu = time.clock_gettime(gui_clock) - cpu_began
            whole_wall = time.perf_counter() - wall_began
            window.runner.idle.disconnect(loop.quit)
            gui_whole_cpu += whole_cpu
            gui_whole_wall += whole_wall
            if window.state is not RunState.FINISHED:
                turns.fail("gui")
        thread.join()
        if turns.failed:
            print(f"round {round_ + 1}: the {turns.failed} run failed")
            return 1
        chunks = sorted(set(turns.times["gui"]) & set(turns.times["headless"]))[1:]  # the first: set-up
        gui = [turns.times["gui"][c] for c in chunks]
        bare = [turns.times["headless"][c] for c in chunks]
        ratios = [b / g for b, g in zip(bare, gui)]
        all_ratios += ratios
        pairs += list(zip(bare, gui))
        totals["gui"] += sum(gui)
        totals["headless"] += sum(bare)
        q1, median, q3 = statistics.quantiles(ratios, n=4)
        print(f"round {round_ + 1} ({(a if order[0] == 'gui' else b)} first): {len(chunks)} chunks of {args.chunk} "
              f"steps; {a} {sum(gui):.1f} s, {b} {sum(bare):.1f} s for the same steps; ratio "
              f"{sum(bare) / sum(gui):.3f}; per chunk median {median:.3f} (quartiles {q1:.3f}-{q3:.3f})")
        print("  per-chunk ratios: " + " ".join(f"{r:.2f}" for r in ratios))
        if not args.control:
            every = {side: sum(turns.times[side].values()) for side in ("gui", "headless")}
            print(f"  GUI thread busy {turns.gui_cpu['gui'] / every['gui'] * 100:.2f} % of the GUI run's chunks "
                  f"({turns.repaint['gui']:.2f} s of it in the pauses, charged to the chunks), "
                  f"{turns.gui_cpu['headless'] / every['headless'] * 100:.2f} % of the headless run's; over the whole "
                  f"GUI run (Start to idle, {whole_wall:.1f} s): {whole_cpu:.2f} s, "
                  f"{whole_cpu / whole_wall * 100:.2f} %")
    overall = totals["headless"] / totals["gui"]
    low, high = interval(pairs)
    print(f"all rounds: median per-chunk ratio {statistics.median(all_ratios):.3f} over {len(all_ratios)} chunks; "
          f"ratio {overall:.3f}, 90 % bootstrap interval {low:.3f}-{high:.3f} (this machine's noise: run with "
          f"--control to see it); load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rate = args.chunk * len(all_ratios) / totals["headless"]  # steps/s of the headless run over the timed chunks
    if args.control:
        print(f"core in a thread steps/s / core in the main thread (CLI) steps/s: {1 / overall:.3f} (should be 1)")
        met = True
    else:
        print(f"GUI thread CPU over the whole GUI runs (Start to idle, set-up and saving included): "
              f"{gui_whole_cpu:.2f} s of {gui_whole_wall:.1f} s, {gui_whole_cpu / gui_whole_wall * 100:.2f} %")
        met = report("GUI runner steps/s / headless steps/s (same steps, alternating chunks, repaints charged)",
                     f"{overall:.3f} (90 % interval {low:.3f}-{high:.3f})", ">= 0.98", overall >= 0.98,
                     f"headless core in a thread, {rate:.2f} steps/s over the same chunks")
    window.setWindowModified(False)
    window.close()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
