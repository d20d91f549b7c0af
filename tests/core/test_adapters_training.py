"""LoRA runs on the demo model (CPU): what the model folder and checkpoints hold, that only the adapter trains, and
that stop/resume, "continue for N more epochs" and a SIGKILL mid-run behave as for full fine-tuning."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from finetune_studio.core.adapters import method_of_run
from finetune_studio.core.config import save_config
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import resume, run
from tests.helpers import ROOT, read_events, small_config

CORE_CLI = ("python", "-m", "finetune_studio.core.cli")


def lora_config(dataset: Path, runs: Path, name: str, **training: object):
    config = small_config(dataset, runs, **training)
    config.name = name
    config.adapter.method = "lora"
    config.adapter.r = 4
    config.adapter.alpha = 8
    return config


def losses(run_dir: Path) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in RunFolder(run_dir).read_metrics() if e["event"] == "log"}


def tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


@pytest.mark.slow
def test_a_lora_run_trains_only_the_adapter_and_saves_only_it(demo_cache: Path, small_dataset: Path,
                                                             runs_dir: Path) -> None:
    from finetune_studio.core.demo import demo_model_path

    result = run(lora_config(small_dataset, runs_dir, "lora", max_steps=6, eval_steps=3, save_steps=3,
                             logging_steps=1))
    assert result.state == "finished"
    model = result.model_dir
    assert (model / "adapter_model.safetensors").is_file() and not (model / "model.safetensors").exists()
    assert (model / "tokenizer.json").is_file()
    adapter_config = json.loads((model / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == str(demo_model_path())  # loads on this machine
    assert (adapter_config["r"], adapter_config["lora_alpha"], adapter_config["peft_type"]) == (4, 8, "LORA")
    weights = tensors(model / "adapter_model.safetensors")
    assert weights and all("lora_" in name for name in weights)
    assert any("lora_B" in name and weights[name].abs().sum() > 0 for name in weights)  # B starts at 0: it trained
    for checkpoint in ("checkpoint-3", "checkpoint-6"):
        files = {p.name for p in (result.run_dir / checkpoint).iterdir()}
        assert {"adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "trainer_state.json"} <= files
        assert "model.safetensors" not in files  # never a copy of the base model
    base_size = (demo_model_path() / "model.safetensors").stat().st_size
    assert (model / "adapter_model.safetensors").stat().st_size < base_size / 2
    assert method_of_run(result.run_dir) == "lora"
    assert RunFolder(result.run_dir).read_status()["method"] == "lora"
    notice = [e["message"] for e in read_events(result.run_dir, "notice") if "parameters" in e["message"]]
    assert notice and notice[0].startswith("LoRA r 4, alpha 8 (scale 2)")
    assert not [e for e in read_events(result.run_dir, "warning") if "is_gradient_checkpointing" in e["message"]]
    got = losses(result.run_dir)
    assert sorted(got) == [1, 2, 3, 4, 5, 6] and all(isinstance(v, float) for v in got.values())


@pytest.mark.slow
@pytest.mark.parametrize("stop_at", [3, 4, 5])  # 4: an evaluation is due at the step Stop lands on
def test_stopped_and_resumed_lora_run_matches_an_uninterrupted_one(demo_cache: Path, small_dataset: Path,
                                                                   runs_dir: Path, stop_at: int) -> None:
    import torch

    overrides = dict(logging_steps=1, max_steps=8, eval_steps=4, save_steps=4, load_best_model_at_end=False)
    whole = run(lora_config(small_dataset, runs_dir, "straight", **overrides))
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event["event"] == "step" and event["step"] == stop_at:
            stop.set()

    first = run(lora_config(small_dataset, runs_dir, "interrupted", **overrides), sink, stop)
    assert first.state == "stopped" and first.step == stop_at
    assert method_of_run(first.run_dir) == "lora"
    second = resume(first.run_dir)
    assert second.state == "finished"
    expected, got = losses(whole.run_dir), losses(first.run_dir)
    assert sorted(got) == list(range(1, 9))
    for step in range(1, 9):
        assert got[step] == pytest.approx(expected[step], rel=1e-6), step
    a = tensors(whole.model_dir / "adapter_model.safetensors")
    b = tensors(second.model_dir / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.slow
def test_a_stop_at_an_epochs_last_step_keeps_its_evaluation_and_resumes_identically(
        demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    """The seed's per-epoch evaluation and save: Stop at the epoch's last step (23 of 46) evaluates and saves as an
    uninterrupted run does there, so the resumed run's losses and adapter equal the uninterrupted run's."""
    import torch

    overrides = dict(logging_steps=1, max_steps=-1, num_train_epochs=2, eval_strategy="epoch", save_strategy="epoch",
                     load_best_model_at_end=False)
    whole = run(lora_config(small_dataset, runs_dir, "two-epochs", **overrides))
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 23:
            stop.set()

    first = run(lora_config(small_dataset, runs_dir, "stopped-at-epoch-end", **overrides), sink, stop)
    assert first.state == "stopped" and first.step == 23
    evals = [e for e in RunFolder(first.run_dir).read_metrics() if e["event"] == "eval"]
    assert [e["step"] for e in evals] == [23]  # the epoch's evaluation ran before the checkpoint
    assert RunFolder(first.run_dir).latest_checkpoint().name == "checkpoint-23"
    second = resume(first.run_dir)
    assert second.state == "finished" and second.step == 46
    expected, got = losses(whole.run_dir), losses(first.run_dir)
    assert sorted(got) == list(range(1, 47))
    for step in range(1, 47):
        assert got[step] == pytest.approx(expected[step], rel=1e-6), step
    a = tensors(whole.model_dir / "adapter_model.safetensors")
    b = tensors(second.model_dir / "adapter_model.safetensors")
    assert all(torch.equal(a[name], b[name]) for name in a)


@pytest.mark.slow
def test_continue_a_finished_lora_run_for_one_more_epoch(demo_cache: Path, small_dataset: Path,
                                                         runs_dir: Path) -> None:
    # 200 rows, 10 % held out, batch 8: 23 steps an epoch.
    config = lora_config(small_dataset, runs_dir, "more", max_steps=-1, num_train_epochs=1, eval_strategy="epoch",
                         save_strategy="epoch", logging_steps=5)
    first = run(config)
    assert first.state == "finished" and first.step == 23
    before = tensors(first.model_dir / "adapter_model.safetensors")
    again = resume(first.run_dir, extra_epochs=1)
    assert again.state == "finished" and (again.step, again.max_steps) == (46, 46)
    after = tensors(again.model_dir / "adapter_model.safetensors")
    assert any(not before[name].equal(after[name]) for name in before)
    assert [e["step"] for e in read_events(first.run_dir, "eval")] == [23, 46]


@pytest.mark.slow
def test_a_killed_lora_run_resumes_from_its_latest_checkpoint(demo_cache: Path, small_dataset: Path,
                                                             runs_dir: Path, tmp_path: Path) -> None:
    config = lora_config(small_dataset, runs_dir, "killed", max_steps=400, eval_strategy="no", save_steps=2,
                         load_best_model_at_end=False, logging_steps=1)
    path = tmp_path / "killed.yaml"
    save_config(config, path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([str(ROOT / ".venv/bin/python"), *CORE_CLI[1:], "train", str(path), "--quiet"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_dir = runs_dir / "killed"
    try:
        deadline = time.monotonic() + 240
        while not (run_dir / "checkpoint-4" / "trainer_state.json").is_file():
            assert process.poll() is None and time.monotonic() < deadline, "the run did not start training"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(60)
    folder = RunFolder(run_dir)
    assert folder.read_status()["state"] == "interrupted"
    latest = folder.latest_checkpoint()
    assert latest is not None and (latest / "adapter_model.safetensors").is_file()
    reached = json.loads((latest / "trainer_state.json").read_text())["global_step"]
    # Finish sooner than the 400 steps: the config's max_steps is the run's, so cap it through config.yaml.
    text = folder.config_path.read_text().replace("max_steps: 400", f"max_steps: {reached + 2}")
    folder.config_path.write_text(text)
    result = resume(run_dir)
    assert result.state == "finished" and result.step == reached + 2
    begins = read_events(run_dir, "train_begin")
    assert begins[-1]["start_step"] == reached
    assert (result.model_dir / "adapter_model.safetensors").is_file()


@pytest.mark.slow
def test_a_dora_run_learns_magnitudes_too(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    config = lora_config(small_dataset, runs_dir, "dora", max_steps=2, eval_strategy="no", save_strategy="no",
                         load_best_model_at_end=False)
    config.adapter.method = "dora"
    result = run(config)
    assert result.state == "finished" and method_of_run(result.run_dir) == "dora"
    assert json.loads((result.model_dir / "adapter_config.json").read_text())["use_dora"] is True
    assert any("lora_magnitude_vector" in name for name in tensors(result.model_dir / "adapter_model.safetensors"))


@pytest.mark.slow
def test_resuming_on_another_base_model_is_refused_before_anything_loads(demo_cache: Path, small_dataset: Path,
                                                                         runs_dir: Path, tmp_path: Path) -> None:
    import shutil

    from finetune_studio.core.config import load_config
    from finetune_studio.core.demo import demo_model_path
    from finetune_studio.core.errors import ConfigError

    stop = threading.Event()
    first = run(lora_config(small_dataset, runs_dir, "moved", max_steps=6, eval_strategy="no", save_steps=3,
                            load_best_model_at_end=False),
                lambda event: stop.set() if event["event"] == "step" and event["step"] == 2 else None, stop)
    assert first.state == "stopped"
    other = tmp_path / "other-base"
    shutil.copytree(demo_model_path(), other)
    folder = RunFolder(first.run_dir)
    config, _ = load_config(folder.config_path)
    config.model.name_or_path = str(other)
    save_config(config, folder.config_path)
    before = folder.metrics_path.read_text()
    with pytest.raises(ConfigError) as caught:
        resume(first.run_dir)
    message = {p.field: p.message for p in caught.value.problems}["model.name_or_path"]
    assert f"trained on {demo_model_path()}" in message and f"now names {other}" in message
    assert folder.metrics_path.read_text() == before  # refused before the run started again


@pytest.mark.slow
def test_a_kill_during_the_final_save_of_a_lora_run_is_finished_from_its_checkpoint(
        demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    import torch

    whole = run(lora_config(small_dataset, runs_dir, "cut", max_steps=6, eval_steps=3, save_steps=3))
    # Copies: the loaded tensors may map the file, which is cut below.
    expected = {k: v.clone() for k, v in tensors(whole.model_dir / "adapter_model.safetensors").items()}
    # As a kill while the final adapter is written leaves the run: a cut file, the status "running" of a process
    # that is gone, the metrics ending in the save phase.
    folder = RunFolder(whole.run_dir)
    (folder.model_dir / "adapter_model.safetensors").write_bytes(b"\0" * 100)
    gone = subprocess.Popen(["true"])
    gone.wait()
    status = json.loads(folder.status_path.read_text())
    folder.status_path.write_text(json.dumps({**status, "state": "running", "message": "Training", "pid": gone.pid}))
    lines = folder.metrics_path.read_text().splitlines()
    cut = max(i for i, line in enumerate(lines) if json.loads(line)["event"] == "phase")
    folder.metrics_path.write_text("\n".join(lines[:cut + 1]) + "\n")
    assert folder.read_status()["state"] == "interrupted"
    result = resume(folder.path)
    assert result.state == "finished" and result.step == 6
    assert [e["step"] for e in read_events(folder.path, "step")] == [1, 2, 3, 4, 5, 6]  # not a 7th
    got = tensors(folder.model_dir / "adapter_model.safetensors")
    assert got.keys() == expected.keys() and all(torch.equal(got[k], expected[k]) for k in got)
    assert (folder.model_dir / "adapter_config.json").is_file() and not (folder.model_dir / "optimizer.pt").exists()
