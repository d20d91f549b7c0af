"""Runtime faults during real runs of the demo model: NaN loss, an exception in the forward pass, running out of
memory (with a fix that is applied and resumed), a full disk, a stop before the first step, Ctrl-C to the CLI.

Each ends the run with state "failed" (or "stopped") and a sentence that says what to do; checkpoints saved before
the fault are byte-for-byte intact, and so is an earlier run in the same runs folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import advice
from finetune_studio.core.advice import Fix, apply_fix, apply_fix_and_resume, propose_oom_fix, runtime_failure
from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config, load_config, save_config
from finetune_studio.core.errors import FinetuneError, OutOfMemoryFailure, TrainingError
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import resume, run
from tests.helpers import ROOT, read_events, small_config
from tests.robustness.faults import Snapshot, cuda_oom, disk_full, faulty_forward

CORE_CLI = (sys.executable, "-m", "finetune_studio.core.cli")  # what `finetune-studio COMMAND` runs


def quick_config(dataset: Path, runs: Path, name: str, **training: Any) -> Any:
    """8 optimizer steps of 8 rows, a checkpoint every 2 steps, no evaluation: a second or two on a CPU."""
    config = small_config(dataset, runs, **{"max_steps": 8, "save_steps": 2, "eval_strategy": "no",
                                            "load_best_model_at_end": False, **training})
    config.name = name
    return config


def status(run_dir: Path) -> dict:
    return json.loads((run_dir / "status.json").read_text())


# ---------------------------------------------------------------------------------------------- out of memory


def test_oom_at_step_k_proposes_a_fix_that_apply_fix_resumes(demo_cache: Path, small_dataset: Path,
                                                              runs_dir: Path, earlier_run: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    saved = Snapshot(earlier_run, small_dataset)
    counts = faulty_forward(monkeypatch, cuda_oom, after=5, rows_over=4)  # batches of 8 fit 5 times, not 6
    with pytest.raises(OutOfMemoryFailure) as info:
        run(quick_config(small_dataset, runs_dir, "oom"))
    run_dir = runs_dir / "oom"
    expected = ("CUDA ran out of memory at step 6 with batch size 8 and max_length 64 — use batch size 4 with "
                "gradient accumulation 2 instead of 8 with 1 (the effective batch stays 8). Apply the fix to "
                "restart from checkpoint-4.")
    assert str(info.value) == expected
    fix = {"description": "use batch size 4 with gradient accumulation 2 instead of 8 with 1 (the effective batch "
                          "stays 8)",
           "overrides": {"training.per_device_train_batch_size": 4, "training.gradient_accumulation_steps": 2}}
    assert info.value.fix == Fix.from_dict(fix) and info.value.run_dir == run_dir
    assert type(info.value.__cause__).__name__ == "OutOfMemoryError"
    recorded = status(run_dir)
    assert (recorded["state"], recorded["message"], recorded["step"], recorded["fix"]) == ("failed", expected, 5, fix)
    end = read_events(run_dir, "end")[-1]
    assert (end["state"], end["message"], end["error_type"], end["fix"]) == ("failed", expected, "OutOfMemoryError",
                                                                             fix)
    assert [p.name for p in RunFolder(run_dir).checkpoints()] == ["checkpoint-2", "checkpoint-4"]
    checkpoints = Snapshot(run_dir / "checkpoint-2", run_dir / "checkpoint-4")
    config_before = (run_dir / "config.yaml").read_bytes()

    result = apply_fix_and_resume(run_dir)
    assert (result.state, result.step, result.max_steps) == ("finished", 8, 8)
    assert counts["raised"] == 1  # batches of 4 fit: the fix was really in effect
    assert (run_dir / "config.before-fix.yaml").read_bytes() == config_before
    fixed = load_config(run_dir / "config.yaml")[0].training
    assert (fixed["per_device_train_batch_size"], fixed["gradient_accumulation_steps"]) == (4, 2)
    assert [b["start_step"] for b in read_events(run_dir, "train_begin")] == [0, 4]
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3, 4, 5, 5, 6, 7, 8]  # step 5 redone
    assert status(run_dir)["state"] == "finished" and status(run_dir)["fix"] is None
    assert status(run_dir)["fix_applied"] == fix
    checkpoints.assert_kept()
    saved.assert_unchanged()


def test_oom_through_the_cli_prints_the_fix_and_resume_apply_fix_finishes(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, tmp_path: Path, earlier_run: Path,
        capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = Snapshot(earlier_run)
    faulty_forward(monkeypatch, cuda_oom, after=0, rows_over=4)  # the first batch of 8 already does not fit
    path = tmp_path / "oom.yaml"
    save_config(quick_config(small_dataset, runs_dir, "cli-oom"), path)
    assert main(["train", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    run_dir = runs_dir / "cli-oom"
    assert err == [
        "warning: training.max_steps: max_steps 8 ends the run: the epochs set in num_train_epochs do not apply. To "
        "train by epochs, remove max_steps (or set it to -1).",  # validate's warning, before the run (6143191)
        "error: CUDA ran out of memory at step 1 with batch size 8 and max_length 64 — use batch size 4 with "
        "gradient accumulation 2 instead of 8 with 1 (the effective batch stays 8). Apply the fix to restart from "
        "the beginning (no checkpoint was saved yet).",
        "fix: --set training.per_device_train_batch_size=4 --set training.gradient_accumulation_steps=2",
        f"Apply it and restart from the latest checkpoint with: finetune-studio resume {run_dir} --apply-fix",
    ]
    assert main(["resume", str(run_dir), "--apply-fix", "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("finished: Finished 8 steps.")
    assert [b["start_step"] for b in read_events(run_dir, "train_begin")] == [0, 0]  # restarted from step 0
    assert main(["resume", str(run_dir), "--apply-fix", "--quiet"]) == 2  # the fix is used up: bad input (8cbe89d)
    assert capsys.readouterr().err.startswith("error: The run cli-oom has no proposed fix to apply (it is finished")
    saved.assert_unchanged()


@pytest.mark.parametrize("error, device", [
    (lambda: cuda_oom(), "CUDA ran out of memory"),
    (lambda: RuntimeError("CUDA error: out of memory"), "CUDA ran out of memory"),
    (lambda: RuntimeError("MPS backend out of memory (MPS allocated: 17.00 GB, other allocations: 1 GB)"),
     "MPS (the Apple GPU) ran out of memory"),
    (lambda: MemoryError(), "The computer (RAM) ran out of memory"),
], ids=["torch-OutOfMemoryError", "cuda-runtime-error", "mps-runtime-error", "MemoryError"])
def test_every_kind_of_oom_is_recognised(tmp_path: Path, error: Any, device: str) -> None:
    config = default_config()  # batch 2, accumulation 8, activation checkpointing on
    failure = runtime_failure(error(), config, tmp_path, {"step": 11, "phase": "train"})
    assert isinstance(failure, OutOfMemoryFailure)
    assert str(failure) == (f"{device} at step 12 with batch size 2 and max_length 512 — use batch size 1 with "
                            "gradient accumulation 16 instead of 2 with 8 (the effective batch stays 16). Apply the "
                            "fix to restart from the beginning (no checkpoint was saved yet).")
    assert failure.fix.overrides == {"training.per_device_train_batch_size": 1,
                                     "training.gradient_accumulation_steps": 16}


@pytest.mark.parametrize("training, max_length, overrides", [
    ({"per_device_train_batch_size": 8, "gradient_accumulation_steps": 1}, 512,
     {"training.per_device_train_batch_size": 4, "training.gradient_accumulation_steps": 2}),
    ({"per_device_train_batch_size": 6, "gradient_accumulation_steps": 3}, 512,
     {"training.per_device_train_batch_size": 3, "training.gradient_accumulation_steps": 6}),
    ({"per_device_train_batch_size": 3, "gradient_accumulation_steps": 2}, 512,
     {"training.per_device_train_batch_size": 1, "training.gradient_accumulation_steps": 6}),
    ({"per_device_train_batch_size": 1, "activation_checkpointing": False}, 512,
     {"training.activation_checkpointing": True}),
    ({"per_device_train_batch_size": 1, "activation_checkpointing": True}, 512, {"dataset.max_length": 256}),
    ({"per_device_train_batch_size": 1, "activation_checkpointing": True}, 40, {"dataset.max_length": 32}),
    ({"per_device_train_batch_size": 1, "activation_checkpointing": True}, 32, None),
], ids=["halve-8", "halve-6", "odd-3", "checkpointing", "max-length", "max-length-floor", "nothing-left"])
def test_oom_fix_proposals_in_order(training: dict, max_length: int, overrides: dict | None) -> None:
    config = default_config()
    config.training.update(training)
    config.dataset.max_length = max_length
    fix = propose_oom_fix(config)
    assert (fix.overrides if fix else None) == overrides
    if fix:  # the effective batch never changes
        fixed = advice.with_overrides(config, fix.overrides).training
        assert (fixed["per_device_train_batch_size"] * fixed["gradient_accumulation_steps"]
                == config.training["per_device_train_batch_size"] * config.training["gradient_accumulation_steps"])


def test_oom_during_evaluation_halves_the_evaluation_batch(tmp_path: Path) -> None:
    config = default_config()
    config.training["per_device_eval_batch_size"] = 16
    assert propose_oom_fix(config, "eval").overrides == {"training.per_device_eval_batch_size": 8}


def test_oom_with_nothing_left_to_lower_and_oom_while_loading(tmp_path: Path) -> None:
    config = default_config()
    config.training["per_device_train_batch_size"] = 1
    config.dataset.max_length = 32
    failure = runtime_failure(cuda_oom(), config, tmp_path, {"step": 0, "phase": "train"})
    assert failure.fix is None
    assert str(failure).endswith("and max_length 32 leave nothing to lower — use a smaller model or a GPU with more "
                                 "memory.")
    failure = runtime_failure(cuda_oom(), default_config(), tmp_path, {"step": 0, "phase": "model"})
    assert failure.fix is None
    assert str(failure).startswith("CUDA ran out of memory while loading the model, before training began — the "
                                   "model does not fit: pick a smaller model")


def test_without_a_checkpoint_the_advice_is_to_start_again(tmp_path: Path) -> None:
    failure = runtime_failure(disk_full(str(tmp_path / "metrics.jsonl")), default_config(), tmp_path,
                              {"step": 0, "phase": "train"})
    assert str(failure) == (f"The disk is full — free space in {tmp_path} (or choose a runs folder on a disk with "
                            "room); no checkpoint had been saved yet, so start the run again.")
    failure = runtime_failure(cuda_oom(), default_config(), tmp_path, {"step": 30, "phase": "save"})
    assert (str(failure), failure.fix) == ("CUDA ran out of memory while saving the final model — close other "
                                           "programs that use it; no checkpoint had been saved yet, so start the "
                                           "run again.", None)
    assert runtime_failure(RuntimeError("tokenizer exploded"), default_config(), tmp_path,
                           {"step": 0, "phase": "tokenize"}) is None  # not a known runtime failure: left as it is


def test_apply_fix_keeps_the_old_config_and_is_idempotent(tmp_path: Path) -> None:
    run_dir = tmp_path / "failed"
    config = default_config()
    save_config(config, RunFolder(run_dir).config_path)
    original = (run_dir / "config.yaml").read_bytes()
    fix = propose_oom_fix(config)
    RunFolder(run_dir).write_status("failed", "out of memory", fix=fix.to_dict())
    assert advice.recorded_fix(run_dir) == fix
    assert apply_fix(run_dir) == fix
    assert (run_dir / "config.before-fix.yaml").read_bytes() == original
    fixed = (run_dir / "config.yaml").read_bytes()
    assert load_config(run_dir / "config.yaml")[0].training["per_device_train_batch_size"] == 1
    assert advice.recorded_fix(run_dir) is None  # used up: a second --apply-fix cannot halve again
    with pytest.raises(FinetuneError, match="has no proposed fix to apply"):
        apply_fix(run_dir)
    apply_fix(run_dir, fix)  # the same fix again changes no file
    assert (run_dir / "config.yaml").read_bytes() == fixed
    assert (run_dir / "config.before-fix.yaml").read_bytes() == original
    assert [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_apply_fix_refuses_a_run_that_is_still_training_and_changes_nothing(tmp_path: Path) -> None:
    """Apply-fix used to rewrite config.yaml and the status before resume() found the run locked: the resume was
    refused, but the config had already changed under the running trainer."""
    from finetune_studio.core.runs import RunBusy, RunLock

    run_dir = tmp_path / "training"
    config = default_config()
    save_config(config, RunFolder(run_dir).config_path)
    RunFolder(run_dir).write_status("failed", "out of memory", fix=propose_oom_fix(config).to_dict())
    files = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    lock = RunLock.acquire(run_dir)  # this process trains it
    try:
        with pytest.raises(RunBusy, match="still training"):
            apply_fix(run_dir)
        with pytest.raises(RunBusy, match="still training"):
            apply_fix_and_resume(run_dir)
        assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.name != "run.lock"} == files
    finally:
        lock.release()
    assert apply_fix(run_dir).overrides  # released: the fix applies


# ---------------------------------------------------------------------------------------------- other faults


def test_forward_exception_fails_the_run_naming_the_forward_pass(demo_cache: Path, small_dataset: Path,
                                                                  runs_dir: Path, earlier_run: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    saved = Snapshot(earlier_run, small_dataset)
    faulty_forward(monkeypatch, lambda: ValueError("shapes (8, 64) and (8, 65) do not match"), after=3)
    checkpoint: dict[str, Snapshot] = {}

    def sink(event: dict) -> None:
        if event["event"] == "checkpoint":
            checkpoint["2"] = Snapshot(Path(event["path"]))

    with pytest.raises(TrainingError) as info:
        run(quick_config(small_dataset, runs_dir, "forward"), sink)
    expected = ("The model's forward pass (Qwen3ForCausalLM) raised ValueError at step 4: shapes (8, 64) and "
                "(8, 65) do not match. Check the model (and its own code, if it needs trust_remote_code) and the "
                "data it was fed; checkpoints saved before are kept (latest: checkpoint-2), so Resume continues "
                "from there once it is fixed.")
    assert str(info.value) == expected
    assert type(info.value) is TrainingError and isinstance(info.value.__cause__, ValueError)
    run_dir = runs_dir / "forward"
    assert (status(run_dir)["state"], status(run_dir)["message"], status(run_dir)["fix"]) == ("failed", expected, None)
    end = read_events(run_dir, "end")[-1]
    assert (end["state"], end["message"], end["error_type"], end["step"]) == ("failed", expected, "ValueError", 3)
    assert "fix" not in end
    checkpoint["2"].assert_kept()
    assert RunFolder(run_dir).latest_checkpoint() == run_dir / "checkpoint-2"
    assert not (run_dir / "model").exists()
    saved.assert_unchanged()


def test_nan_loss_ends_the_run_with_advice(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                           earlier_run: Path, diverging_learning_rate: None) -> None:
    saved = Snapshot(earlier_run, small_dataset)
    with pytest.raises(TrainingError) as info:
        run(quick_config(small_dataset, runs_dir, "nan", learning_rate=1e30))
    message = str(info.value)
    assert " became nan at step " in message or " became inf at step " in message
    assert "training diverged" in message and "Lower the learning rate (now 1e+30)" in message
    assert status(runs_dir / "nan")["state"] == "failed" and status(runs_dir / "nan")["message"] == message
    assert read_events(runs_dir / "nan", "end")[-1]["message"] == message
    assert not (runs_dir / "nan" / "model").exists()
    saved.assert_unchanged()


def test_stop_requested_before_the_first_step_trains_and_saves_nothing(demo_cache: Path, small_dataset: Path,
                                                                       runs_dir: Path, earlier_run: Path) -> None:
    """A Stop already asked when the run starts ends it before its first step (it used to train step 1 and save
    checkpoint-1 first); the name can start again (tests/core/test_stop_before_training.py has the rest)."""
    saved = Snapshot(earlier_run, small_dataset)
    stop = threading.Event()
    stop.set()
    result = run(quick_config(small_dataset, runs_dir, "early-stop"), stop=stop)
    assert (result.state, result.step) == ("stopped", 0)
    assert result.message.startswith("Stopped before training began: nothing was trained or saved.")
    assert RunFolder(result.run_dir).latest_checkpoint() is None
    assert status(result.run_dir)["state"] == "stopped"
    assert read_events(result.run_dir, "step") == []
    saved.assert_unchanged()


@pytest.mark.parametrize("where", ["checkpoint", "metrics"])
def test_full_disk_says_where_to_free_space_and_keeps_earlier_checkpoints(
        where: str, demo_cache: Path, small_dataset: Path, runs_dir: Path, earlier_run: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import Trainer

    from finetune_studio.core.runs import MetricsLog

    saved = Snapshot(earlier_run, small_dataset)
    run_dir = runs_dir / f"full-{where}"
    kept: dict[str, Snapshot] = {}
    if where == "checkpoint":
        save = Trainer._save_checkpoint

        def save_checkpoint(self: Any, model: Any, trial: Any) -> None:
            if self.state.global_step < 4:
                return save(self, model, trial)
            partial = run_dir / f"checkpoint-{self.state.global_step}"
            partial.mkdir()
            (partial / "model.safetensors").write_bytes(b"\0" * 100)  # cut off: the disk filled up
            raise disk_full(str(partial / "model.safetensors"))

        monkeypatch.setattr(Trainer, "_save_checkpoint", save_checkpoint)
    else:
        append = MetricsLog.append

        def append_until_full(self: Any, event: dict) -> None:
            if event["event"] == "step" and event["step"] >= 3 or kept.get("full"):
                kept["full"] = True  # the disk stays full
                raise disk_full(str(self.path))
            append(self, event)

        monkeypatch.setattr(MetricsLog, "append", append_until_full)

    def sink(event: dict) -> None:
        if event["event"] == "checkpoint" and event["step"] == 2:
            kept["checkpoint"] = Snapshot(Path(event["path"]))

    with pytest.raises(TrainingError) as info:
        run(quick_config(small_dataset, runs_dir, f"full-{where}"), sink)
    assert str(info.value) == (f"The disk is full — free space in {run_dir} (or choose a runs folder on a disk with "
                               "room); checkpoints saved before are kept (latest: checkpoint-2), so Resume continues "
                               "from there.")
    assert isinstance(info.value.__cause__, OSError)
    assert status(run_dir)["state"] == "failed" and status(run_dir)["message"] == str(info.value)
    kept["checkpoint"].assert_kept()
    assert RunFolder(run_dir).latest_checkpoint() == run_dir / "checkpoint-2"
    saved.assert_unchanged()


@pytest.mark.slow
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_or_sigterm_to_the_cli_mid_run_exits_3_and_the_run_is_resumable(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, earlier_run: Path, tmp_path: Path,
        sent: signal.Signals) -> None:
    """Ctrl-C, and SIGTERM (what timeout, kill, docker stop, systemd and Slurm send), stop at the end of the step
    with a checkpoint: SIGTERM used to kill the run where it stood, losing every step since its last checkpoint."""
    saved = Snapshot(earlier_run, small_dataset)
    path = tmp_path / "long.yaml"
    config = quick_config(small_dataset, runs_dir, "ctrl-c", max_steps=400, save_steps=100,
                          per_device_train_batch_size=2)
    save_config(config, path)
    process = subprocess.Popen([*CORE_CLI, "train", str(path), "--quiet"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    metrics = runs_dir / "ctrl-c" / "metrics.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if metrics.exists() and '"event": "step"' in metrics.read_text():
            break
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()
    process.send_signal(sent)
    out, err = process.communicate(timeout=240)
    assert process.returncode == 3, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("stopped: Stopped at step ") and lines[0].endswith(" of 400, resumable.")
    assert lines[1] == f"Resume with: finetune-studio resume {runs_dir / 'ctrl-c'}"
    step = status(runs_dir / "ctrl-c")["step"]
    assert status(runs_dir / "ctrl-c")["state"] == "stopped" and 1 <= step < 400
    assert RunFolder(runs_dir / "ctrl-c").latest_checkpoint() == runs_dir / "ctrl-c" / f"checkpoint-{step}"
    stop = threading.Event()
    stop.set()  # resume, stopped again before it trains: it is still at the checkpoint, resumable from it
    again = resume(runs_dir / "ctrl-c", stop=stop)
    assert (again.state, again.step) == ("stopped", step)
    assert again.message.startswith(f"Stopped before training resumed: the run is still at step {step} of 400")
    assert RunFolder(runs_dir / "ctrl-c").latest_checkpoint() == runs_dir / "ctrl-c" / f"checkpoint-{step}"
    saved.assert_unchanged()


def test_a_good_run_still_works_after_the_faults_in_this_process(demo_cache: Path, small_dataset: Path,
                                                                  runs_dir: Path) -> None:
    result = run(quick_config(small_dataset, runs_dir, "after-faults", max_steps=2))
    assert (result.state, result.step) == ("finished", 2)
    assert (result.model_dir / "model.safetensors").is_file()
