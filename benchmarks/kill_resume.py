"""Kill a demo run with SIGKILL at random moments and resume it each time from its latest complete checkpoint.

A run of the demo recipe (shortened, with a checkpoint every few steps so that kills often land while one is
being written) is started with the CLI, killed at a random moment, checked (status reads "interrupted", the
latest complete checkpoint is found, metrics.jsonl still reads), resumed, killed again, ... and finally resumed
to the end. The checkpoint a resume must start from is found by this script itself (every checkpoint-* folder whose
trainer_state.json parses), not by the code under test. A kill counts as survived when the status then reads
"interrupted", the core names that same checkpoint, and the resume begins at its step; prints survived/kills.

    python benchmarks/kill_resume.py [--kills 20] [--seed 0] [--steps 800]   # ~5 min
    python benchmarks/kill_resume.py --kills 3 --steps 200                    # the wiring only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from goals import report  # noqa: E402 - sits beside this file

CORE_CLI = (sys.executable, "-m", "finetune_studio.core.cli")  # what `finetune-studio COMMAND` runs


def wait_for_training(metrics: Path, after: int, timeout: float = 120) -> bool:
    """True once the process has logged a step event past `after` lines (so a kill lands mid-training)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metrics.exists():
            lines = metrics.read_text(encoding="utf-8", errors="replace").splitlines()[after:]
            if any('"event": "step"' in line for line in lines):
                return True
        time.sleep(0.05)
    return False


def max_step(folder) -> int:
    return max((e.get("step", 0) for e in folder.read_metrics() if e["event"] == "step"), default=0)


def recorded_steps(folder) -> set[int]:
    """Steps with a step event in metrics.jsonl, read as plain JSON lines (a torn last line is skipped)."""
    steps = set()
    for line in folder.metrics_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith('{"event": "step"'):
            try:
                steps.add(json.loads(line)["step"])
            except ValueError:
                continue
    return steps


def latest_complete_checkpoint(run_dir: Path) -> int | None:
    """The step of the newest checkpoint a resume must start from, found without the code under test: every
    checkpoint-* folder whose trainer_state.json (the Trainer writes it last) parses and names its global_step."""
    steps = []
    for child in run_dir.glob("checkpoint-*"):
        try:
            state = json.loads((child / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # cut off while being written
        if isinstance(state, dict) and isinstance(state.get("global_step"), int):
            steps.append(state["global_step"])
    return max(steps) if steps else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=800,
                        help="enough that the run outlasts the kills: each kill lands up to 3 s into a resume")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from finetune_studio.core.config import default_config, save_config
    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.runs import RunFolder

    demo_model_path()
    tmp = Path(tempfile.mkdtemp(prefix="kill-resume-"))
    config = default_config()
    config.name, config.runs_dir = "killed", str(tmp / "runs")
    config.dataset.max_length = 128
    config.training.update(max_steps=args.steps, per_device_train_batch_size=4, gradient_accumulation_steps=1,
                           eval_strategy="steps", save_strategy="steps", eval_steps=4, save_steps=4,
                           logging_steps=2, activation_checkpointing=False)
    path = tmp / "run.yaml"
    save_config(config, path)
    folder = RunFolder(tmp / "runs" / "killed")
    cli = list(CORE_CLI)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    command = [*cli, "train", str(path), "--quiet"]
    expected: int | None = 0
    failed: set[int] = set()  # kills whose status, checkpoint or resume was wrong
    problems: list[str] = []
    finished_early = False
    for kill in range(1, args.kills + 1):
        before = len(folder.metrics_path.read_text().splitlines()) if folder.metrics_path.exists() else 0
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_for_training(folder.metrics_path, before):
            process.kill()
            problems.append(f"kill {kill}: training never started: {process.stderr.read().decode()[-300:]}")
            failed.update(range(kill - 1, args.kills + 1))
            break
        begins = [json.loads(line) for line in folder.metrics_path.read_text().splitlines()[before:]
                  if '"train_begin"' in line]
        resumed_from = begins[0]["start_step"] if begins else None
        if kill > 1 and resumed_from != expected:
            failed.add(kill - 1)
            problems.append(f"kill {kill - 1}: resume began at step {resumed_from}, not {expected}")
        time.sleep(rng.uniform(0.0, 3.0))
        if process.poll() is not None:
            finished_early = folder.read_status()["state"] == "finished"
            hint = "; give it more --steps" if finished_early else ""
            problems.append(f"kill {kill}: the run ended (exit {process.returncode}) before the kill, so kills "
                            f"{kill}-{args.kills} never happened{hint}")
            failed.update(range(kill, args.kills + 1))
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
        status = folder.read_status()
        if status["state"] == "finished" and len(recorded_steps(folder)) == args.steps:
            # The kill landed after the run had finished training (while it saved and exited): nothing to resume.
            problems.append(f"kill {kill}: the run had already finished, so kills {kill}-{args.kills} never "
                            "happened; give it more --steps")
            failed.update(range(kill, args.kills + 1))
            finished_early = True
            break
        if status["state"] != "interrupted":
            failed.add(kill)
            problems.append(f"kill {kill}: status reads {status['state']!r}, not 'interrupted'")
        try:
            folder.read_metrics()  # must still read, whatever line the kill tore
        except Exception as exc:  # noqa: BLE001 - reported as this kill's failure
            failed.add(kill)
            problems.append(f"kill {kill}: metrics.jsonl no longer reads: {exc}")
        expected = latest_complete_checkpoint(folder.path)
        found = folder.latest_checkpoint()
        if (int(found.name.split("-")[1]) if found else None) != expected:
            failed.add(kill)
            problems.append(f"kill {kill}: the core names {found and found.name}, the folders say step {expected}")
        print(f"kill {kill} at step {max_step(folder)}: status {status['state']}; latest complete checkpoint "
              f"{expected}", flush=True)
        command = [*cli, "resume", str(folder.path), "--quiet"]
        if expected is None:
            problems.append(f"kill {kill}: killed before the first checkpoint; starting over")
            import shutil

            shutil.rmtree(folder.path)
            command, expected = [*cli, "train", str(path), "--quiet"], 0
    # The last kill's resume is the final run to the end.
    final = None
    if not finished_early:
        before = len(folder.metrics_path.read_text().splitlines())
        final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        begins = [json.loads(line) for line in folder.metrics_path.read_text().splitlines()[before:]
                  if '"train_begin"' in line]
        if not (begins and begins[0]["start_step"] == expected):
            failed.add(args.kills)
            problems.append(f"kill {args.kills}: resume began at {begins[:1]}, not step {expected}")
    status = folder.read_status()
    steps = recorded_steps(folder)
    every_step = steps == set(range(1, args.steps + 1))
    for problem in problems:
        print(problem)
    if final is not None and final.returncode != 0:
        print(f"final resume exited {final.returncode}: {final.stderr[-500:]}")
    print(f"final resume: {status['state']}; every step 1..{args.steps} recorded: {every_step}")
    ok = args.kills - len(failed & set(range(1, args.kills + 1)))
    met = report("SIGKILLs survived (status interrupted, checkpoint found, resumed from it)",
                 f"{ok}/{args.kills}", f"{args.kills}/{args.kills}", ok == args.kills,
                 "the newest checkpoint-*/trainer_state.json that parses, listed by this script")
    met &= report("run finished after the last resume with every step recorded",
                  f"{status['state']}, {len(steps)} of {args.steps} steps", f"finished, {args.steps} of {args.steps}",
                  status["state"] == "finished" and every_step, f"max_steps {args.steps} of the config")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
