"""core.runs' one rule for a checkpoint: whether Resume can continue from it (checkpoint_problem: a complete save
that still holds whole weights, the reading core.generate's damage() gives the Try tab and export) and what training
state it lacks beside its weights (checkpoint_lacks, resume_state_warning). A checkpoint whose optimizer.pt and
scheduler.pt were deleted resumed without a word with a fresh optimizer, its learning rate at step 9 2e-05 instead
of 1.2e-05."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import generate
from finetune_studio.core import runs as core_runs

STATE = ("optimizer.pt", "scheduler.pt", "rng_state.pth")  # what the Trainer saves beside the weights


def _safetensors(path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.zeros((4, 4), dtype=np.float32)}, str(path))


def _checkpoint(root: Path, step: int, weights: str | None = "model.safetensors", adapter: bool = False,
                state: tuple[str, ...] = STATE) -> Path:
    folder = root / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    (folder / ("adapter_config.json" if adapter else "config.json")).write_text("{}")
    if weights is not None:
        if weights.endswith(".safetensors"):
            _safetensors(folder / weights)
        else:
            (folder / weights).write_bytes(b"\x80\x02}q\x00.")  # a .bin is only found, not read
    for name in state:
        (folder / name).write_bytes(b"\x80\x02}q\x00.")
    return folder


def test_generate_reads_the_same_rule() -> None:
    assert generate.damage is core_runs.damage


def test_whole_weights_resume(tmp_path: Path) -> None:
    assert core_runs.checkpoint_problem(_checkpoint(tmp_path, 5)) is None
    assert core_runs.checkpoint_problem(_checkpoint(tmp_path, 6, weights="pytorch_model.bin")) is None
    assert core_runs.checkpoint_problem(_checkpoint(tmp_path, 7, weights="adapter_model.bin", adapter=True)) is None


def test_a_checkpoint_without_weights_cannot_resume(tmp_path: Path) -> None:
    assert core_runs.checkpoint_problem(_checkpoint(tmp_path, 8, weights=None)) == \
        "it holds no weights (model*.safetensors)"
    assert core_runs.checkpoint_problem(_checkpoint(tmp_path, 9, weights=None, adapter=True)) == \
        "it holds no weights (adapter_model.safetensors)"


def test_weights_cut_short_cannot_resume(tmp_path: Path) -> None:
    eight = _checkpoint(tmp_path, 8)
    weights = eight / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-20])
    assert core_runs.checkpoint_problem(eight) == "its model.safetensors is cut short (smaller than its tensors)"


def test_sharded_weights_need_every_shard(tmp_path: Path) -> None:
    eight = _checkpoint(tmp_path, 8, weights="model-00001-of-00002.safetensors")
    (eight / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}))
    assert core_runs.checkpoint_problem(eight) == "its weights file model-00002-of-00002.safetensors is missing"
    _safetensors(eight / "model-00002-of-00002.safetensors")
    assert core_runs.checkpoint_problem(eight) is None


def test_fsdp_weights_resume(tmp_path: Path) -> None:
    """FSDP's sharded layout (pytorch_model_fsdp_0/): transformers resumes from it, though nothing else loads it."""
    eight = _checkpoint(tmp_path, 8, weights=None)
    (eight / "pytorch_model_fsdp_0").mkdir()
    assert core_runs.checkpoint_problem(eight) is None


def test_a_save_cut_off_cannot_resume(tmp_path: Path) -> None:
    eight = _checkpoint(tmp_path, 8)
    (eight / "trainer_state.json").unlink()
    assert core_runs.checkpoint_problem(eight) == \
        "its trainer_state.json is missing or unreadable (the save was cut off)"


def test_a_whole_checkpoint_lacks_nothing(tmp_path: Path) -> None:
    checkpoint = _checkpoint(tmp_path, 8)
    assert core_runs.checkpoint_lacks(checkpoint) == []
    assert core_runs.resume_state_warning(checkpoint) is None


def test_without_optimizer_and_scheduler_the_resume_must_say_so(tmp_path: Path) -> None:
    checkpoint = _checkpoint(tmp_path, 8, state=("rng_state.pth",))
    assert core_runs.checkpoint_problem(checkpoint) is None  # it still holds the weights: it resumes
    assert core_runs.checkpoint_lacks(checkpoint) == ["optimizer.pt", "scheduler.pt"]
    assert core_runs.resume_state_warning(checkpoint) == (
        "checkpoint-8 has no optimizer.pt and scheduler.pt (deleted since it was saved?), so training continues "
        "from its weights with a fresh optimizer and a learning-rate schedule that starts over: losses from here "
        "will differ from an uninterrupted run's. To fix: stop, put those files back from a copy of the run, then "
        "resume.")


@pytest.mark.parametrize(("state", "lacks"), [
    (("optimizer.pt", "rng_state.pth"), ["scheduler.pt"]),  # the Trainer then loads the optimizer neither
    (("scheduler.pt", "rng_state.pth"), ["optimizer.pt"]),
    (("optimizer.bin", "scheduler.pt", "rng_state_0.pth", "rng_state_1.pth"), []),  # FSDP, two processes
    ((), ["optimizer.pt", "scheduler.pt", "rng_state.pth"]),
])
def test_what_a_checkpoint_lacks(tmp_path: Path, state: tuple[str, ...], lacks: list[str]) -> None:
    assert core_runs.checkpoint_lacks(_checkpoint(tmp_path, 8, state=state)) == lacks


def test_an_fsdp_optimizer_folder_counts(tmp_path: Path) -> None:
    checkpoint = _checkpoint(tmp_path, 8, state=("scheduler.pt", "rng_state.pth"))
    (checkpoint / "optimizer_0").mkdir()
    assert core_runs.checkpoint_lacks(checkpoint) == []


def test_without_rng_state_only_the_random_state_is_fresh(tmp_path: Path) -> None:
    checkpoint = _checkpoint(tmp_path, 8, state=("optimizer.pt", "scheduler.pt"))
    assert core_runs.resume_state_warning(checkpoint) == (
        "checkpoint-8 has no rng_state.pth, so training continues with fresh random state (dropout, sampling): it "
        "will not repeat an uninterrupted run exactly.")


def test_all_three_are_named(tmp_path: Path) -> None:
    warning = core_runs.resume_state_warning(_checkpoint(tmp_path, 8, state=()))
    assert warning.startswith("checkpoint-8 has no optimizer.pt, scheduler.pt and rng_state.pth (deleted since")
