"""Real (non-padding) tokens/s and padding fraction of each batching mode, and the ratio to the seed's mode.

Runs core.training.run on the demo model and the sample dataset with the seed's settings for each mode, in one
invocation, alternating the modes over the repeats, and checks that the modes reach comparable eval loss.

    python benchmarks/throughput.py                # 30 optimizer steps per run, 2 repeats
    python benchmarks/throughput.py --steps 60 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODES = ("padded", "group_by_length", "padding_free", "packed")


class CountingCollator:
    """Wraps a collator to count the tokens it hands the model for training, and how many of them are real.
    Eval batches (per_device_eval_batch_size 8, not the training 2) are left out of the count."""

    def __init__(self, inner: Any, train_batch: int):
        self.inner = inner
        self.train_batch = train_batch
        self.real = 0
        self.total = 0

    def __call__(self, features: list[dict]) -> Any:
        batch = self.inner(features)
        if len(features) == self.train_batch:
            self.real += sum(len(f["input_ids"]) for f in features)
            self.total += batch["input_ids"].numel()
        return batch


def run_mode(mode: str, steps: int) -> dict[str, float]:
    import core.batching
    from core.config import default_config
    from core.training import run

    made: list[CountingCollator] = []
    original = core.batching.collator

    config = default_config()

    def counting(mode_: str, tokenizer: Any) -> CountingCollator:
        made.append(CountingCollator(original(mode_, tokenizer), config.training["per_device_train_batch_size"]))
        return made[-1]

    config.dataset.batching = mode
    config.training.update(max_steps=steps, eval_strategy="steps", eval_steps=steps, save_strategy="no",
                           load_best_model_at_end=False, logging_steps=steps)
    events: list[dict] = []
    core.batching.collator = counting
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config.runs_dir = tmp
            started = time.perf_counter()
            run(config, events.append, threading.Event())
    finally:
        core.batching.collator = original
    train_time = sum(e["train_runtime"] for e in events if e["event"] == "summary")
    eval_time = sum(e.get("eval_runtime", 0) for e in events if e["event"] == "eval")
    counter = made[0]
    # The counter also saw the eval batches; count training tokens from the Trainer's own non-padding tally.
    tokens = [e for e in events if e["event"] == "summary"][-1]["num_input_tokens_seen"]
    return {
        "tokens_per_s": tokens / (train_time - eval_time),
        "padding": 1 - counter.real / counter.total,
        "eval_loss": [e for e in events if e["event"] == "eval"][-1]["eval_loss"],
        "wall_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    from core.demo import demo_model_path
    from core.hardware import detect

    demo_model_path()
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    for repeat in range(args.repeats):
        order = MODES if repeat % 2 == 0 else tuple(reversed(MODES))
        for mode in order:
            results[mode].append(run_mode(mode, args.steps))
            print(f"repeat {repeat + 1} {mode}: {results[mode][-1]['tokens_per_s']:.0f} real tokens/s", flush=True)
    base = statistics.median(r["tokens_per_s"] for r in results["padded"])
    print(f"\ndevice: {detect().name}; seed settings (batch 2 x accumulation 8, activation checkpointing); "
          f"{args.steps} steps x {args.repeats} repeats per mode")
    print(f"{'mode':<16} {'real tokens/s':>14} {'ratio to seed':>14} {'padding':>8} {'eval loss':>10}")
    for mode in MODES:
        speed = statistics.median(r["tokens_per_s"] for r in results[mode])
        padding = statistics.median(r["padding"] for r in results[mode])
        loss = statistics.median(r["eval_loss"] for r in results[mode])
        print(f"{mode:<16} {speed:>14.0f} {speed / base:>13.2f}x {padding:>7.1%} {loss:>10.4f}")
    best = max(MODES[1:], key=lambda m: statistics.median(r["tokens_per_s"] for r in results[m]))
    best_ratio = statistics.median(r["tokens_per_s"] for r in results[best]) / base
    print(f"best mode ({best}) real tokens/s / seed mode: {best_ratio:.2f}x (goal >= 1.5x)")
    losses = [statistics.median(r["eval_loss"] for r in results[m]) for m in MODES]
    spread = (max(losses) - min(losses)) / min(losses)
    print(f"eval loss spread between modes: {spread:.1%} (goal < 2%: comparable loss)")


if __name__ == "__main__":
    main()
