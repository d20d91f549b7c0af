"""The window's "Apply fix and restart" of a run of several processes (the config's launch: section, trained under
torchrun by a detached supervisor) that failed before its first checkpoint: the fix was written, then the
supervisor's resume refused with "has no complete checkpoint to resume from", and the run never trained again. The
CLI's `resume --apply-fix` and the window's run of one process restart such a run from step 0 (core.training.resume's
restart); the window's path now passes restart on to the detached `supervise --resume --restart`.

The slow test runs the demo on 2 processes under real torchrun (gloo, CPU); rank 0 "runs out of memory" on batches
of more than 2 rows from its first step (a sitecustomize on PYTHONPATH), so nothing is saved before it fails, and
the proposed fix (batch 2, accumulation 2) makes it fit."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import advice, launch
from finetune_studio.core.config import load_config, save_config
from finetune_studio.core.distributed import read_heartbeats
from finetune_studio.core.errors import TrainingError
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import RunResult
from finetune_studio.gui.runner import TrainingRunner
from tests.helpers import rank_out_of_memory, read_events, small_config

LONG = 240_000  # ms: two torchrun starts of 2 processes on a shared CPU


def _multi_process_run(runs_dir: Path, small_dataset: Path) -> Path:
    config = small_config(small_dataset, runs_dir, max_steps=4, per_device_train_batch_size=4)
    config.name, config.launch.processes = "oom", 2
    folder = RunFolder(runs_dir / "oom")
    folder.path.mkdir(parents=True)
    save_config(config, folder.config_path)
    folder.write_status("failed", "CUDA ran out of memory at step 1 with batch size 4 and max_length 64.", step=0,
                        fix={"description": "use batch size 2 with gradient accumulation 2",
                             "overrides": {"training.per_device_train_batch_size": 2,
                                           "training.gradient_accumulation_steps": 2}})
    return folder.path


def test_apply_fix_of_a_multi_process_run_asks_the_supervisor_to_restart(qtbot: Any, tmp_path: Path,
                                                                         small_dataset: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = _multi_process_run(tmp_path / "runs", small_dataset)
    calls: list[tuple] = []

    def follow(run_dir, sink, stop, extra_epochs=None, detach=None, restart=False, extra_steps=None):
        calls.append((Path(run_dir).name, extra_epochs, restart,
                      load_config(Path(run_dir) / "config.yaml")[0].training["per_device_train_batch_size"]))
        return RunResult("finished", "Finished 4 steps.", Path(run_dir), 4, 4)

    monkeypatch.setattr(launch, "resume_and_follow", follow)
    runner = TrainingRunner()
    results: list[Any] = []
    runner.succeeded.connect(results.append)
    runner.apply_fix_and_resume(run_dir)
    assert runner.detachable
    qtbot.waitUntil(lambda: not runner.running, timeout=10_000)
    assert [r.state for r in results] == ["finished"]
    assert calls == [("oom", None, True, 2)]  # the fix written first, then a resume that may restart from step 0


def test_the_window_resume_restarts_only_when_asked(qtbot: Any, tmp_path: Path, small_dataset: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain Resume of the same run keeps refusing a run with no checkpoint: only a fix applied restarts it."""
    run_dir = _multi_process_run(tmp_path / "runs", small_dataset)
    calls: list[bool] = []

    def follow(run_dir, sink, stop, extra_epochs=None, detach=None, restart=False, extra_steps=None):
        calls.append(restart)
        return RunResult("finished", "Finished 4 steps.", Path(run_dir), 4, 4)

    monkeypatch.setattr(launch, "resume_and_follow", follow)
    runner = TrainingRunner()
    runner.resume(run_dir)
    qtbot.waitUntil(lambda: not runner.running, timeout=10_000)
    assert calls == [False]


@pytest.mark.slow
def test_a_two_process_run_out_of_memory_before_its_first_checkpoint_restarts_in_the_window(
        qtbot: Any, demo_cache: Path, small_dataset: Path, runs_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.core.test_launch_processes import run_processes

    # from step 1, batches over 2 rows
    rank_out_of_memory(monkeypatch, tmp_path / "inject", 0, 0, when='inputs["input_ids"].shape[0] > 2')
    config = small_config(small_dataset, runs_dir, max_steps=4, save_steps=2, eval_strategy="no",
                          load_best_model_at_end=False, per_device_train_batch_size=4, logging_steps=1)
    config.name, config.launch.processes = "oom0", 2
    run_dir = runs_dir / "oom0"
    with pytest.raises(TrainingError, match="ran out of memory at step 1 with batch size 4"):
        launch.run(config, None, threading.Event())
    assert RunFolder(run_dir).checkpoints() == []
    assert advice.recorded_fix(run_dir) is not None
    # rank 0's heartbeat holds its fix too, for the supervisor when rank 0 leaves the status to it (a peer failed)
    assert read_heartbeats(run_dir)[0]["fix"]["overrides"] == {"training.per_device_train_batch_size": 2,
                                                              "training.gradient_accumulation_steps": 2}
    first = (run_dir / "metrics.jsonl").read_bytes()

    runner = TrainingRunner()
    results: list[Any] = []
    errors: list[str] = []
    runner.succeeded.connect(results.append)
    runner.errored.connect(lambda message, details: errors.append(message))
    runner.apply_fix_and_resume(run_dir)  # what "Apply fix and restart" calls
    qtbot.waitUntil(lambda: not runner.running, timeout=LONG)
    assert errors == []  # was: "... has no complete checkpoint to resume from ..." (the supervisor refused)
    assert [(r.state, r.step) for r in results] == [("finished", 4)]
    fixed = load_config(run_dir / "config.yaml")[0]
    assert (fixed.launch.processes, fixed.training["per_device_train_batch_size"],
            fixed.training["gradient_accumulation_steps"]) == (2, 2, 2)
    supervisors = [line for line in (run_dir / launch.LAUNCH_LOG).read_text().splitlines() if line.startswith("$ ")]
    assert len(supervisors) == 2 and all("--nproc-per-node 2" in line for line in supervisors), supervisors
    # the same folder, from step 0, and its log appended to: the failed segment's lines are still its first bytes
    log = (run_dir / "metrics.jsonl").read_bytes()
    assert log.startswith(first) and len(log) > len(first)
    assert [b["start_step"] for b in read_events(run_dir, "train_begin")] == [0, 0]
    assert [e["state"] for e in read_events(run_dir, "end")][-1] == "finished"
    assert [e["step"] for e in map(json.loads, log[len(first):].splitlines()) if e.get("event") == "step"] == [
        1, 2, 3, 4]
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["processes"], status["fix"]) == ("finished", 2, None)
    assert run_processes(run_dir) == []
