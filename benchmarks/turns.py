"""Training children that take turns, so two ways of doing the same work are timed on the same machine at the same
moments: the way to compare speeds on a shared CPU whose speed drifts between runs.

Each child trains and, every `chunk` optimizer steps, reports the time and CPU it took since its last turn began,
then waits (blocked on a pipe, using no CPU) until the parent says "go". The parent lets one child run at a time,
and the order of the children changes every turn through all their permutations, so a drift in the machine's speed
falls on every side alike. The first WARMUP_TURNS turns (set-up, warm-up) are left out. A child given twice with
the same work (a control) shows this machine's noise floor for identical work.

The child side is CHILD_CODE, a snippet a child script runs first (exec): `say(**message)` sends a message to the
parent, `Turns(chunk)` is what the training loop calls, `.begin()` when training begins and `.step(step,
max_steps)` after each optimizer step. Used by parity.py and memory_estimate.py (--allocator-speed).
"""

from __future__ import annotations

import itertools
import json
import random
import statistics
import subprocess
from pathlib import Path
from typing import Any

WARMUP_TURNS = 2  # left out: the first turn sets the run up, the second still warms caches and the heap

CHILD_CODE = r'''
import json as _json, resource as _resource, sys as _sys, time as _time

def say(**message):
    _sys.__stdout__.write("@@" + _json.dumps(message) + "\n")
    _sys.__stdout__.flush()

def _usage():
    use = _resource.getrusage(_resource.RUSAGE_SELF)
    return {"seconds": _time.perf_counter(), "cpu": use.ru_utime + use.ru_stime, "sys": use.ru_stime,
            "faults": use.ru_minflt}

def _wait_turn():
    if _sys.stdin.readline().strip() != "go":
        raise SystemExit(0)
    return _usage()

class Turns:
    """Pause at every `chunk`-th optimizer step (and the last) until the parent says go."""

    def __init__(self, chunk):
        self.chunk, self.began = chunk, None

    def begin(self):
        say(ready=True)
        self.began = _wait_turn()

    def step(self, step, max_steps):
        if step % self.chunk == 0 or step == max_steps:
            now = _usage()
            say(step=step, **{key: now[key] - self.began[key] for key in now})
            self.began = _wait_turn()  # after the last step too: winding up must not overlap another's turn
'''


class Children:
    """Child processes started with a pipe each way; `receive(name)` reads the next message a child sent."""

    def __init__(self, folder: Path, argv: dict[str, list[str]], env: dict[str, str]):
        self.folder = folder
        self.processes: dict[str, tuple[subprocess.Popen, Any]] = {}
        for name, command in argv.items():
            (folder / name).mkdir(parents=True, exist_ok=True)
            log = open(folder / name / "stderr.txt", "w")
            self.processes[name] = (subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                     stderr=log, text=True), log)

    def send(self, name: str) -> None:
        child, _ = self.processes[name]
        child.stdin.write("go\n")
        child.stdin.flush()

    def receive(self, name: str) -> dict:
        child, log = self.processes[name]
        for line in child.stdout:
            if line.startswith("@@"):
                return json.loads(line[2:])
        log.flush()
        raise RuntimeError(f"the {name} child ended ({child.wait()}): "
                           f"{(self.folder / name / 'stderr.txt').read_text()[-2000:]}")

    def close(self) -> None:
        for child, log in self.processes.values():
            if child.poll() is None:
                child.kill()
            child.wait()
            log.close()


def take_turns(children: Children, total_steps: int) -> dict[str, Any]:
    """Run the children's turns to their last step, then let each wind up alone (its final evaluation and save)
    and return {"times", "cpu", "sys": {name: [seconds per turn]}, "faults": {name: minor faults after the
    warm-up}, "done": {name: the child's last message}}."""
    names = list(children.processes)
    for name in names:
        children.receive(name)  # ready: at its first step, waiting for its turn
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    system: dict[str, list[float]] = {name: [] for name in names}
    steps: dict[str, list[int]] = {name: [] for name in names}
    faults = {name: 0 for name in names}
    orders = list(itertools.permutations(names))
    turn, finished = 0, False
    while not finished:
        for name in orders[turn % len(orders)]:
            children.send(name)
            message = children.receive(name)
            times[name].append(message["seconds"])
            cpu[name].append(message["cpu"])
            system[name].append(message["sys"])
            steps[name].append(message["step"])
            if turn >= WARMUP_TURNS:
                faults[name] += message["faults"]
        finished = all(values[-1] == total_steps for values in steps.values())
        turn += 1
    done = {}
    for name in names:  # one at a time, after every turn
        children.send(name)
        done[name] = children.receive(name)
    return {"times": times, "cpu": cpu, "sys": system, "faults": faults, "done": done}


def bootstrap(ratios: list[float], level: float = 0.9, resamples: int = 4000) -> tuple[float, float]:
    """Interval of the median of per-turn ratios, resampled: how far it could move by chance."""
    rng = random.Random(0)
    ratios = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(resamples))
    cut = int(resamples * (1 - level) / 2)
    return ratios[cut], ratios[-cut - 1]


def speed_ratios(result: dict[str, Any], side: str, baseline: str, key: str = "times") -> list[float]:
    """Per turn after the warm-up: steps/s of `side` ÷ steps/s of `baseline` (the same steps in each turn)."""
    return [b / s for s, b in zip(result[key][side][WARMUP_TURNS:], result[key][baseline][WARMUP_TURNS:])]
