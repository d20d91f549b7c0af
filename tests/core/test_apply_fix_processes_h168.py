"""`finetune-studio resume RUN --apply-fix` of a run that trained with several processes (its config's launch:
section, under torchrun) resumed in the CLI's own process, on one process: core.advice.apply_fix_and_resume called
core.training.resume with no executor, while a plain `resume` of the same run goes through the launcher with the
same number of processes. On a GPU workstation a 4-GPU run went on on one GPU. apply_fix_and_resume now resumes a
multi-process run through core.launch's torchrun executor (restart included: a run that failed before its first
checkpoint starts again from step 0 with the same processes).

The slow test runs the demo on 2 processes under real torchrun (gloo, CPU); rank 0 "runs out of memory" on batches
of more than 2 rows (a sitecustomize on PYTHONPATH), so the proposed fix (batch 2, accumulation 2) makes it fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import advice, launch
from finetune_studio.core import training as core_training
from finetune_studio.core.cli import main
from finetune_studio.core.config import load_config, save_config
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import RunResult
from tests.helpers import rank_out_of_memory, read_events, small_config

FIX = {"description": "use batch size 2 with gradient accumulation 2 instead of 4 with 1 (the effective batch stays "
                      "4)",
       "overrides": {"training.per_device_train_batch_size": 2, "training.gradient_accumulation_steps": 2}}


def _failed_run(runs_dir: Path, small_dataset: Path, processes: int) -> Path:
    """A run folder as an out-of-memory failure before its first checkpoint leaves it: config.yaml, a failed
    status with the proposed fix."""
    config = small_config(small_dataset, runs_dir, max_steps=4, per_device_train_batch_size=4)
    config.name, config.launch.processes = "oom", processes
    folder = RunFolder(runs_dir / "oom")
    folder.path.mkdir(parents=True)
    save_config(config, folder.config_path)
    folder.write_status("failed", "CUDA ran out of memory at step 1 with batch size 4 and max_length 64.", step=0,
                        fix=FIX)
    return folder.path


@pytest.mark.parametrize("processes, executor", [(2, "torchrun"), (1, "this process")])
def test_apply_fix_resumes_with_the_processes_the_run_trained_with(tmp_path: Path, small_dataset: Path,
                                                                   monkeypatch: pytest.MonkeyPatch, processes: int,
                                                                   executor: str) -> None:
    run_dir = _failed_run(tmp_path / "runs", small_dataset, processes)
    seen: list[tuple] = []

    def torchrun(config, folder, sink, stop, checkpoint, finish_only, *rest):
        seen.append(("torchrun", config.launch.processes, config.training["per_device_train_batch_size"],
                     checkpoint, finish_only))
        return RunResult("finished", "Finished 4 steps.", folder.path, 4, 4)

    def here(config, folder, sink=None, stop=None, checkpoint=None, finish_only=False):
        seen.append(("this process", config.launch.processes, config.training["per_device_train_batch_size"],
                     checkpoint, finish_only))
        return RunResult("finished", "Finished 4 steps.", folder.path, 4, 4)

    monkeypatch.setattr(launch, "torchrun_execute", torchrun)
    monkeypatch.setattr(core_training, "train_in_folder", here)
    result = advice.apply_fix_and_resume(run_dir)
    assert (result.state, result.step) == ("finished", 4)
    # the fix is in the config the executor trains; no checkpoint: it restarts from step 0 (restart=True)
    assert seen == [(executor, processes, 2, None, False)]
    assert load_config(run_dir / "config.yaml")[0].training["per_device_train_batch_size"] == 2


@pytest.mark.slow
def test_a_two_process_run_out_of_memory_resumes_on_two_processes_with_apply_fix(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.core.test_launch_processes import run_processes

    # batches of more than 2 rows
    rank_out_of_memory(monkeypatch, tmp_path / "inject", 0, 2, when='inputs["input_ids"].shape[0] > 2')
    config = small_config(small_dataset, runs_dir, max_steps=6, save_steps=2, eval_strategy="no",
                          load_best_model_at_end=False, per_device_train_batch_size=4, logging_steps=1)
    config.name, config.launch.processes = "oom2", 2
    path = tmp_path / "oom2.yaml"
    save_config(config, path)
    run_dir = runs_dir / "oom2"
    assert main(["train", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "ran out of memory at step 3 with batch size 4" in err, err
    assert err.strip().splitlines()[-2:] == [  # the supervisor's TrainingError carried no fix: these were missing
        "fix: --set training.per_device_train_batch_size=2 --set training.gradient_accumulation_steps=2",
        f"Apply it and restart from the latest checkpoint with: finetune-studio resume {run_dir} --apply-fix"]
    assert RunFolder(run_dir).read_status()["fix"] == FIX
    assert [p.name for p in RunFolder(run_dir).checkpoints()] == ["checkpoint-2"]
    assert run_processes(run_dir) == []

    assert main(["resume", str(run_dir), "--apply-fix", "--quiet"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("finished: Finished 6 steps.")
    fixed = load_config(run_dir / "config.yaml")[0]
    assert (fixed.launch.processes, fixed.training["per_device_train_batch_size"],
            fixed.training["gradient_accumulation_steps"]) == (2, 2, 2)
    # torchrun started twice (the run, then its resume), each time with 2 processes per node
    lines = [line for line in (run_dir / launch.LAUNCH_LOG).read_text().splitlines() if line.startswith("$ ")]
    assert len(lines) == 2 and all("--nproc-per-node 2" in line for line in lines), lines
    assert [b["start_step"] for b in read_events(run_dir, "train_begin")] == [0, 2]
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["processes"], status["fix"], status["fix_applied"]) == ("finished", 2, None, FIX)
    assert run_processes(run_dir) == []


# ---------------------------------------------------------------------------------------------- the CLI's fix lines
RANK_0_OOM = ("Rank 0 of 2 (pid 7 on vm) failed at step 2: CUDA ran out of memory at step 3 with batch size 4 and "
              "max_length 64 — use batch size 2 with gradient accumulation 2 instead of 4 with 1 (the effective batch "
              "stays 4). Apply the fix to restart from checkpoint-2.")


def _supervisor_fails(run_dir: Path, fix: dict | None):
    """launch.run / launch.resume as the supervisor ends when rank 0 ran out of memory: rank 0's run_start
    followed, the failure recorded in status.json (with rank 0's fix), and the supervisor's TrainingError raised,
    which carries that fix (core.launch.failed_with_fix; the CLI once read it from status.json itself)."""
    def job(*args, **kwargs):
        sink = args[1]
        sink({"event": "run_start", "run_dir": str(run_dir), "name": run_dir.name, "resume_from": None, "pid": 7,
              "time": 1.0})
        RunFolder(run_dir).write_status("failed", RANK_0_OOM, step=2, failed_rank=0, fix=fix)
        raise launch.failed_with_fix(RANK_0_OOM, fix, run_dir)

    return job


@pytest.mark.parametrize("command", ["train", "resume"])
def test_a_multi_process_run_out_of_memory_prints_the_fix_and_the_apply_fix_command(
        tmp_path: Path, small_dataset: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str) -> None:
    run_dir = _failed_run(tmp_path / "runs", small_dataset, 2)
    monkeypatch.setattr(launch, "run", _supervisor_fails(run_dir, FIX))
    monkeypatch.setattr(launch, "resume", _supervisor_fails(run_dir, FIX))
    config = tmp_path / "oom.yaml"
    config.write_bytes((run_dir / "config.yaml").read_bytes())
    args = ["train", str(config), "--quiet"] if command == "train" else ["resume", str(run_dir), "--quiet"]
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-3:] == [
        f"error: {RANK_0_OOM}",
        "fix: --set training.per_device_train_batch_size=2 --set training.gradient_accumulation_steps=2",
        f"Apply it and restart from the latest checkpoint with: finetune-studio resume {run_dir} --apply-fix"]


def test_a_multi_process_failure_with_no_fix_prints_none(tmp_path: Path, small_dataset: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = _failed_run(tmp_path / "runs", small_dataset, 2)
    monkeypatch.setattr(launch, "resume", _supervisor_fails(run_dir, None))  # rank 1 failed: the fix is cleared
    assert main(["resume", str(run_dir), "--quiet"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {RANK_0_OOM}"]
