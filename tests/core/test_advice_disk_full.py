"""A full disk while a checkpoint or the model is written, in the forms torch and safetensors report it: the user
reads core.advice's "The disk is full" advice, not the library's words. A folder with room is not called full."""

from __future__ import annotations

import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from finetune_studio.core import advice
from finetune_studio.core.advice import disk_full_cause, runtime_failure
from finetune_studio.core.config import default_config
from finetune_studio.core.training import describe_failure

Usage = namedtuple("Usage", "total used free")
TORCH_TEXT = "[enforce fail at inline_container.cc:672] . unexpected pos 5952 vs 5844"
SAFETENSORS_TEXT = "Error while serializing: I/O error: No space left on device (os error 28)"


def safetensor_error() -> Exception:
    safetensors = pytest.importorskip("safetensors")
    error_type = getattr(safetensors, "SafetensorError", None) or type("SafetensorError", (Exception,), {})
    return error_type(SAFETENSORS_TEXT)


def torch_short_write() -> RuntimeError:
    """torch.save's failure on a full disk (its zip writer's short write), re-raised by the Trainer's save."""
    try:
        try:
            raise RuntimeError(TORCH_TEXT + " (raised in torch.serialization)")
        except RuntimeError as exc:
            raise RuntimeError("saving the checkpoint failed") from exc
    except RuntimeError as outer:
        return outer


def free_space(monkeypatch: pytest.MonkeyPatch, free: int) -> list[Path]:
    asked: list[Path] = []

    def usage(path: Path | str) -> Usage:
        asked.append(Path(path))
        return Usage(10 * 2**30, 10 * 2**30 - free, free)

    monkeypatch.setattr(shutil, "disk_usage", usage)
    return asked


def message(exc: BaseException, run_dir: Path) -> str:
    """What the run's status, the CLI and the error dialog say (as core.training.run composes it)."""
    config = default_config()
    config.training["output_dir"] = str(run_dir)
    return describe_failure(runtime_failure(exc, config, run_dir, {"step": 4, "phase": "train"}) or exc, config)


def full_disk_advice(run_dir: Path) -> str:
    return (f"The disk is full — free space in {run_dir} (or choose a runs folder on a disk with room); no "
            "checkpoint had been saved yet, so start the run again.")


def test_safetensors_no_space_is_the_full_disk_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    free_space(monkeypatch, 10 * 2**30)  # its words alone say so, whatever the folder holds now
    assert message(safetensor_error(), tmp_path) == full_disk_advice(tmp_path)
    wrapped = RuntimeError("saving failed")
    wrapped.__cause__ = safetensor_error()
    assert message(wrapped, tmp_path) == full_disk_advice(tmp_path)


def test_torch_unexpected_pos_on_a_full_folder_is_the_full_disk_advice(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    asked = free_space(monkeypatch, 4096)
    for exc in (torch_short_write(), RuntimeError(TORCH_TEXT)):
        assert message(exc, tmp_path) == full_disk_advice(tmp_path)
    assert asked and asked[0] == tmp_path  # the folder being written was measured


def test_torch_unexpected_pos_with_room_left_is_not_called_a_full_disk(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    free_space(monkeypatch, 50 * 2**30)
    said = message(RuntimeError(TORCH_TEXT), tmp_path)
    assert said == f"Training failed: RuntimeError: {TORCH_TEXT}"
    assert disk_full_cause(RuntimeError(TORCH_TEXT), tmp_path) is None


def test_an_unrelated_failure_on_a_full_disk_is_not_blamed_on_it(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    free_space(monkeypatch, 0)
    assert disk_full_cause(ValueError("bad label"), tmp_path) is None
    assert message(ValueError("bad label"), tmp_path) == "Training failed: ValueError: bad label"


def test_a_missing_checkpoint_folder_is_measured_on_its_nearest_parent(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Path] = []

    def usage(path: Path | str) -> Usage:
        asked.append(Path(path))
        if not Path(path).exists():
            raise FileNotFoundError(path)
        return Usage(2**20, 2**20, 0)

    monkeypatch.setattr(shutil, "disk_usage", usage)
    gone = tmp_path / "checkpoint-5"
    cause = disk_full_cause(RuntimeError(TORCH_TEXT), gone)
    assert cause is not None and asked[-1] == tmp_path
    assert advice.NEARLY_FULL_BYTES > 0
