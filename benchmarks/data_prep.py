"""Preparing 100k rows off the GUI thread: how long it takes, whether a second run reuses the datasets cache,
and how long the Qt event loop stalls meanwhile (a 1 ms heartbeat timer; a stall is gap minus interval). Baselines
from the same invocation: the first preparation (for the cache ratio) and 2 s of the idle event loop (for stalls).

Like the app, it first runs `gui.warmup.warm()` (the window enables Start only after that: the stack is imported
and `gc.freeze()`d), so the measurement is of preparing data in the process a user presses Start in, not of
importing torch.

    QT_QPA_PLATFORM=offscreen python benchmarks/data_prep.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goals import report

IDLE_S = 2.0


def stalls_while(work, app) -> tuple[list[float], float]:
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]
    done = threading.Event()
    elapsed = [0.0]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000 - 1)
        last[0] = now
        if done.is_set():
            app.quit()

    def target() -> None:
        started = time.perf_counter()
        work()
        elapsed[0] = time.perf_counter() - started
        done.set()

    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(beat)
    timer.start()
    thread = threading.Thread(target=target)
    last[0] = time.perf_counter()
    thread.start()
    app.exec()
    thread.join()
    timer.stop()
    return gaps, elapsed[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp())
    os.environ["HF_DATASETS_CACHE"] = str(tmp / "cache")
    import numpy as np
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from finetune_studio.gui.warmup import warm

    warm()
    import datasets

    datasets.disable_progress_bars()
    from finetune_studio.core.config import DatasetConfig, ModelConfig
    from finetune_studio.core.data import load_split, tokenize_and_split, tokenize_workers
    from finetune_studio.core.demo import SAMPLE_DATASET
    from finetune_studio.core.model import load_tokenizer

    rows = SAMPLE_DATASET.read_text(encoding="utf-8").splitlines()
    big = tmp / "big.jsonl"
    big.write_text("\n".join((rows * (args.rows // len(rows) + 1))[: args.rows]) + "\n", encoding="utf-8")
    tokenizer = load_tokenizer(ModelConfig())
    config = DatasetConfig(source=str(big))

    def prepare() -> None:
        tokenize_and_split(load_split(config), tokenizer, config, seed=42)

    idle_gaps, _ = stalls_while(lambda: time.sleep(IDLE_S), app)  # the baseline: the loop with nothing to do
    first_gaps, first = stalls_while(prepare, app)
    second_gaps, second = stalls_while(prepare, app)
    gaps = np.array(first_gaps + second_gaps)
    print(f"{args.rows} rows, {tokenize_workers(args.rows) or 1} tokenizer processes")
    print(f"first preparation: {first:.1f} s; second (same config): {second:.2f} s")
    print(f"event-loop stall p50 {np.percentile(gaps, 50):.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms; idle "
          f"baseline p50 {np.percentile(idle_gaps, 50):.1f} ms, p99 {np.percentile(idle_gaps, 99):.1f} ms")
    met = report("second run / first run time", f"{second / first:.3f}", "< 0.1: the cache is reused",
                 second / first < 0.1, f"first preparation {first:.1f} s")
    met &= report("event-loop max stall while preparing", f"{gaps.max():.0f} ms", "<= 100 ms", gaps.max() <= 100,
                  f"idle event loop {max(idle_gaps):.0f} ms over {IDLE_S:g} s")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
