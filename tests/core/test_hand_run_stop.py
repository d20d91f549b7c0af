"""The torchrun line Copy launch command gives, run by hand (no supervisor), stopped through the stop file (the
window's Stop on a run it follows): rank 0 removes the file as its segment ends, so the same line run again with
--resume-from latest trains on. It used to stay, and the resumed line stopped before its first step."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import save_config
from finetune_studio.core.distributed import request_stop, stop_path
from finetune_studio.core.runs import RunFolder
from tests.core.test_launch_processes import _config, run_processes
from tests.helpers import ROOT, read_events

pytestmark = pytest.mark.slow


def _run_line(line: str, run_dir: Path, stop_at: int | None = None) -> None:
    env = {key: value for key, value in os.environ.items() if key != "FINETUNE_STUDIO_SUPERVISED"}
    node = subprocess.Popen(shlex.split(line), cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if stop_at is not None:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and node.poll() is None:
                if (run_dir / "metrics.jsonl").exists() and [e for e in read_events(run_dir, "step")
                                                             if e["step"] >= stop_at]:
                    request_stop(run_dir)
                    break
                time.sleep(0.1)
        output = node.communicate(timeout=400)[0]
    finally:
        if node.poll() is None:
            node.kill()
    assert node.returncode == 0, output[-3000:]


def test_a_stop_of_a_line_run_by_hand_does_not_stop_its_resume(demo_cache: Path, small_dataset: Path,
                                                               runs_dir: Path, tmp_path: Path) -> None:
    config = _config(small_dataset, runs_dir, "by-hand", max_steps=40, eval_strategy="no",
                     load_best_model_at_end=False, save_steps=100, logging_steps=1)
    path = tmp_path / "by-hand.yaml"
    save_config(config, path)
    run_dir = runs_dir / "by-hand"
    [line] = launch.node_commands(config, path, run_dir)
    _run_line(line, run_dir, stop_at=2)
    status = RunFolder(run_dir).read_status()
    assert status["state"] == "stopped" and 2 <= status["step"] < 40, status
    at = status["step"]
    assert not stop_path(run_dir).exists()

    [again] = launch.node_commands(config, path, run_dir, resume=True)
    _run_line(again, run_dir)
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["step"]) == ("finished", 40), status
    assert [e["start_step"] for e in read_events(run_dir, "train_begin")] == [0, at]
    assert run_processes(run_dir) == []
