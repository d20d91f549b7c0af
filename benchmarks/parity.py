"""Does the core train exactly like the tutorial's script, and as fast?

Runs benchmarks/seed_recipe.py and core.training.run on the same config and seed, alternately, in one process,
and prints the largest relative difference between their per-step losses and the ratio of core steps/s to
script steps/s (median over the repeats). Goals: difference <= 1e-5, ratio >= 0.98.

    python benchmarks/parity.py            # 40 optimizer steps per run, 3 runs each
    python benchmarks/parity.py --full     # the whole 3-epoch demo recipe, 1 run each
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import seed_recipe  # noqa: E402  (sits beside this file)


def step_losses(history: list[dict]) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in history if "loss" in e}


def run_script(overrides: dict) -> tuple[dict[int, float], float]:
    with tempfile.TemporaryDirectory() as tmp:
        trainer = seed_recipe.main(tmp, overrides=overrides)
        summary = trainer.state.log_history[-1]
        return step_losses(trainer.state.log_history), summary["train_steps_per_second"]


def run_core(overrides: dict) -> tuple[dict[int, float], float]:
    from core.config import default_config
    from core.runs import RunFolder
    from core.training import run

    config = default_config()
    config.training.update(overrides)
    with tempfile.TemporaryDirectory() as tmp:
        config.runs_dir = tmp
        result = run(config, None, threading.Event())
        events = RunFolder(result.run_dir).read_metrics()
    losses = {e["step"]: e["loss"] for e in events if e["event"] == "log"}
    summary = [e for e in events if e["event"] == "summary"][-1]
    return losses, summary["train_steps_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the whole recipe (3 epochs) instead of 40 steps")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    overrides: dict = {"logging_steps": 1}
    if not args.full:
        overrides.update(max_steps=40, eval_strategy="steps", save_strategy="steps", eval_steps=20, save_steps=20)
    repeats = args.repeats or (1 if args.full else 3)

    from core.demo import demo_model_path
    from core.hardware import detect

    demo_model_path()
    script_speeds, core_speeds, worst = [], [], 0.0
    for index in range(repeats):
        script_losses, script_speed = run_script(overrides)
        core_losses, core_speed = run_core(overrides)
        if script_losses.keys() != core_losses.keys():
            raise SystemExit(f"steps differ: script {sorted(script_losses)} vs core {sorted(core_losses)}")
        worst = max(worst, max(abs(core_losses[s] - script_losses[s]) / abs(script_losses[s]) for s in script_losses))
        script_speeds.append(script_speed)
        core_speeds.append(core_speed)
        print(f"repeat {index + 1}: script {script_speed:.3f} steps/s, core {core_speed:.3f} steps/s", flush=True)
    ratio = statistics.median(c / s for c, s in zip(core_speeds, script_speeds))
    print(f"device: {detect().name}; steps per run: {len(script_losses)}; repeats: {repeats}")
    print(f"largest relative per-step loss difference: {worst:.2e} (goal <= 1e-5)")
    print(f"core steps/s / script steps/s: {ratio:.3f} (goal >= 0.98)")


if __name__ == "__main__":
    main()
