"""Kill a demo run with SIGKILL at random moments and resume it each time from its latest complete checkpoint.

A run of the demo recipe (shortened, with a checkpoint every few steps so that kills often land while one is
being written) is started with the CLI, killed at a random moment, checked (status reads "interrupted", the
latest complete checkpoint is found, metrics.jsonl still reads), resumed, killed again, ... and finally resumed
to the end. Prints how many of the resumes continued from the latest complete checkpoint.

    python benchmarks/kill_resume.py [--kills 20] [--seed 0]
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


def max_step(folder) -> int:  # noqa: ANN001
    return max((e.get("step", 0) for e in folder.read_metrics() if e["event"] == "step"), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from core.config import default_config, save_config
    from core.demo import demo_model_path
    from core.runs import RunFolder

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
    cli = [sys.executable, "-m", "core.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    command = [*cli, "train", str(path), "--quiet"]
    expected: int | None = 0
    ok, problems = 0, []
    for kill in range(1, args.kills + 1):
        before = len(folder.metrics_path.read_text().splitlines()) if folder.metrics_path.exists() else 0
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_for_training(folder.metrics_path, before):
            process.kill()
            problems.append(f"kill {kill}: training never started: {process.stderr.read().decode()[-300:]}")
            break
        begins = [json.loads(line) for line in folder.metrics_path.read_text().splitlines()[before:]
                  if '"train_begin"' in line]
        resumed_from = begins[0]["start_step"] if begins else None
        if kill > 1:
            if resumed_from == expected:
                ok += 1
            else:
                problems.append(f"kill {kill - 1}: resume began at step {resumed_from}, not {expected}")
        time.sleep(rng.uniform(0.0, 3.0))
        if process.poll() is not None:
            problems.append(f"kill {kill}: the run ended before the kill ({process.returncode})")
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
        status = folder.read_status()
        if status["state"] != "interrupted":
            problems.append(f"kill {kill}: status reads {status['state']!r}, not 'interrupted'")
        folder.read_metrics()  # must still read, whatever line the kill tore
        latest = folder.latest_checkpoint()
        expected = int(latest.name.split("-")[1]) if latest else None
        print(f"kill {kill} at step {max_step(folder)}: latest complete checkpoint {expected}", flush=True)
        command = [*cli, "resume", str(folder.path), "--quiet"]
        if latest is None:
            problems.append(f"kill {kill}: killed before the first checkpoint; starting over")
            import shutil

            shutil.rmtree(folder.path)
            command, expected = [*cli, "train", str(path), "--quiet"], 0
    # The last kill's resume is the final run to the end.
    before = len(folder.metrics_path.read_text().splitlines())
    final = subprocess.run([*cli, "resume", str(folder.path), "--quiet"], cwd=ROOT, env=env, capture_output=True,
                           text=True)
    begins = [json.loads(line) for line in folder.metrics_path.read_text().splitlines()[before:]
              if '"train_begin"' in line]
    if begins and begins[0]["start_step"] == expected:
        ok += 1
    else:
        problems.append(f"kill {args.kills}: resume began at {begins[:1]}, not step {expected}")
    status = folder.read_status()
    steps = {json.loads(line)["step"] for line in folder.metrics_path.read_text().splitlines()
             if line.startswith('{"event": "step"')}
    finished = status["state"] == "finished" and steps == set(range(1, args.steps + 1))
    for problem in problems:
        print(problem)
    print(f"final resume: {status['state']}; every step 1..{args.steps} recorded: {steps == set(range(1, args.steps + 1))}")
    print(f"successful resumes after SIGKILL: {ok}/{args.kills} (goal {args.kills}/{args.kills})")
    sys.exit(0 if ok == args.kills and finished else 1)


if __name__ == "__main__":
    main()
