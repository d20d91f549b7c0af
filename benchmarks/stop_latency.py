"""Stop → a resumable checkpoint on disk and the run ended, on the demo recipe, against one step plus one save.

Each round trains the demo preset (built-in demo model and sample data, the tutorial's settings: per-epoch
evaluation and save, so no checkpoint is due in the --steps steps a round trains) through core.training.run in a
thread of its own, as the window's worker does, and sets the stop event the window's Stop sets at a random moment
(seeded): after a random step k, a random share of a step later. Timed from setting the event to run() returning
with status "stopped", a checkpoint of the step it ended at on disk (found by this script: its trainer_state.json
parses and names that step) which the core also names as the one Resume continues from. Each round also checks
the events: one checkpoint event, no evaluation.

Figure: that time / (the median optimizer-step time of the same round + the time of one checkpoint save, timed
right after the round with the Trainer it stopped: Trainer._save_checkpoint into a scratch folder). Step and save
are timed in the round they divide, so load from other work on a shared machine falls on both. The worst round is
the figure; goal <= 1.5 (about one step plus the save). Each round also says where the time went: Stop -> the
checkpoint event (the rest of the step and the save), -> the end event, -> run() returned.
Baseline, same invocation: what the old Stop cost on top (commit 6dc7c00's message: it ran the epoch's evaluation
and saved again on the way out): trainer.evaluate() on the demo's eval split plus one save, timed in each round
with that round's Trainer, in the same units (median of the rounds).

    python benchmarks/stop_latency.py [--stops 8] [--steps 40] [--seed 0]    # about 2 minutes on 2 cores
    python benchmarks/stop_latency.py --stops 1 --steps 12                   # the wiring only
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import exit_with, report  # noqa: E402 - sits beside this file

GOAL = 1.5


def checkpoint_step(path: Path) -> int | None:
    """The step a checkpoint folder holds, read without the code under test: its trainer_state.json (the Trainer
    writes it last) parses and names a global_step."""
    try:
        state = json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    step = state.get("global_step") if isinstance(state, dict) else None
    return step if isinstance(step, int) else None


def time_save_and_evaluate(trainer, scratch: Path) -> tuple[float, float, int]:
    """One checkpoint save and one evaluation with a Trainer as its run stopped (model, optimizer, scheduler and state
    of that step), its own callbacks removed so nothing reaches the run's files; returns seconds, seconds, eval rows."""
    from transformers.trainer_callback import DefaultFlowCallback

    trainer.callback_handler.callbacks = [c for c in trainer.callback_handler.callbacks
                                          if isinstance(c, DefaultFlowCallback)]
    trainer.args.output_dir = str(scratch)
    started = time.perf_counter()
    trainer._save_checkpoint(trainer.model, trial=None)
    save_s = time.perf_counter() - started
    started = time.perf_counter()
    trainer.evaluate()
    eval_s = time.perf_counter() - started
    return save_s, eval_s, len(trainer.eval_dataset) if trainer.eval_dataset is not None else 0


def one_round(config, rng: random.Random, steps: int, made: list, scratch: Path) -> dict:
    """Train one demo run, press Stop at a random moment, and time it; returns what was measured and seen."""
    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import run

    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    outcome: dict = {}

    def sink(event: dict) -> None:  # called on the training thread, as the window's worker's sink is
        events.put((time.perf_counter(), dict(event)))

    def train() -> None:
        try:
            outcome["result"] = run(config, sink, stop)
        except BaseException as exc:  # noqa: BLE001 - reported by the round
            outcome["error"] = exc
        events.put((time.perf_counter(), {"event": "_returned"}))

    press_after = rng.randint(3, max(3, steps - 4))  # a step that is neither the first nor near the last
    share = rng.random()  # how far into the next step Stop is pressed
    before = len(made)
    thread = threading.Thread(target=train, name="training", daemon=True)
    thread.start()
    step_times: list[float] = []
    seen: list[tuple[float, dict]] = []
    pressed = None
    while True:
        when, event = events.get(timeout=600)
        seen.append((when, event))
        if event["event"] == "_returned":
            break
        if event["event"] == "step":
            step_times.append(when)
            if event["step"] == press_after and pressed is None:
                gaps = [b - a for a, b in zip(step_times[1:], step_times[2:])] or [0.0]
                time.sleep(share * statistics.median(gaps))
                stop.set()
                pressed = time.perf_counter()
    thread.join()
    if "error" in outcome:
        raise RuntimeError(f"the run failed: {outcome['error']!r}") from outcome["error"]
    result = outcome["result"]
    if pressed is None:
        raise RuntimeError(f"the run ended ({result.state}: {result.message}) before step {press_after}; give it "
                           "more --steps")
    if len(made) != before + 1:
        raise RuntimeError(f"the run made {len(made) - before} Trainers, not one")

    def after(kind: str) -> float | None:
        return next((when - pressed for when, e in seen if e["event"] == kind and when >= pressed), None)

    gaps = [b - a for a, b in zip(step_times[1:], step_times[2:])]  # the first step also pays for warm-up
    folder = RunFolder(result.run_dir)
    found = {p.name: checkpoint_step(p) for p in result.run_dir.glob("checkpoint-*")}
    resumable = folder.resumable_checkpoint()
    problems = []
    if result.state != "stopped":
        problems.append(f"state {result.state!r}, not 'stopped' ({result.message})")
    if found != {f"checkpoint-{result.step}": result.step}:
        problems.append(f"checkpoints on disk {found}, not checkpoint-{result.step} alone, complete")
    if resumable is None or resumable.name != f"checkpoint-{result.step}":
        problems.append(f"the core resumes from {resumable}, not checkpoint-{result.step}")
    checkpoints = [e["step"] for _, e in seen if e["event"] == "checkpoint"]
    if checkpoints != [result.step]:
        problems.append(f"checkpoint events at steps {checkpoints}, not one at {result.step}")
    if any(e["event"] == "eval" for _, e in seen):
        problems.append("it evaluated")
    if result.step > press_after + 2:
        problems.append(f"pressed during step {press_after + 1}, it trained on to step {result.step}")
    save_s, eval_s, eval_rows = time_save_and_evaluate(made[-1], scratch)
    return {"pressed_after": press_after, "share": share, "stopped_at": result.step, "seconds": after("_returned"),
            "checkpoint_at": after("checkpoint"), "end_at": after("end"), "step_s": statistics.median(gaps),
            "save_s": save_s, "eval_s": eval_s, "eval_rows": eval_rows, "problems": problems}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stops", type=int, default=8, help="rounds: one run and one Stop each")
    parser.add_argument("--steps", type=int, default=40, help="max_steps of each run (Stop comes before the end)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    import transformers

    from finetune_studio.core.config import PRESETS
    from finetune_studio.core.demo import demo_model_path

    demo_model_path()
    made: list = []  # the Trainer each round builds, for the save and evaluation timed after it
    original_init = transformers.Trainer.__init__

    def recording_init(self, *a, **kw) -> None:
        original_init(self, *a, **kw)
        made.append(self)

    transformers.Trainer.__init__ = recording_init
    tmp = Path(tempfile.mkdtemp(prefix="ft-stop-latency-"))
    rounds = []
    for index in range(args.stops):
        config = PRESETS["demo"]()
        config.name, config.runs_dir = f"stop-{index + 1}", str(tmp / "runs")
        config.training["max_steps"] = args.steps
        got = one_round(config, rng, args.steps, made, tmp / f"scratch-{index + 1}")
        got["ratio"] = got["seconds"] / (got["step_s"] + got["save_s"])
        got["old"] = (got["eval_s"] + got["save_s"]) / (got["step_s"] + got["save_s"])
        rounds.append(got)
        print(f"round {index + 1}: Stop {got['share']:.2f} of a step after step {got['pressed_after']}, stopped at "
              f"step {got['stopped_at']}: checkpoint event +{got['checkpoint_at']:.3f} s, end event "
              f"+{got['end_at']:.3f} s, run() returned +{got['seconds']:.3f} s; median step {got['step_s']:.3f} s, "
              f"one save {got['save_s']:.3f} s: {got['ratio']:.2f}; the old Stop's evaluation of "
              f"{got['eval_rows']} rows {got['eval_s']:.3f} s + save: {got['old']:.2f}"
              f"{'; PROBLEMS: ' + '; '.join(got['problems']) if got['problems'] else ''}", flush=True)
    transformers.Trainer.__init__ = original_init

    ratios = [r["ratio"] for r in rounds]
    worst = rounds[max(range(len(rounds)), key=lambda i: ratios[i])]
    old = statistics.median(r["old"] for r in rounds)
    old_s = statistics.median(r["eval_s"] + r["save_s"] for r in rounds)
    print(f"Stop -> ended with its checkpoint / (median step + one save), per round: "
          f"{', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}")
    problems = [f"round {i + 1}: {p}" for i, r in enumerate(rounds) for p in r["problems"]]
    for line in problems:
        print(f"PROBLEM {line}")
    met = report(f"Stop -> resumable checkpoint and run ended / (median step + one save), worst of {len(rounds)}",
                 f"{worst['ratio']:.2f} ({worst['seconds']:.3f} s / ({worst['step_s']:.3f} s + {worst['save_s']:.3f} "
                 "s))", f"<= {GOAL}", worst["ratio"] <= GOAL and not problems,
                 f"the old Stop's evaluation + save, median {old_s:.2f} s = {old:.1f} in the same units")
    return 0 if met else 1


if __name__ == "__main__":
    exit_with(main)
