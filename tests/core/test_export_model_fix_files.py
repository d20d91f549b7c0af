"""Which weights files export's advice for a damaged finished run tells the user to copy back (core.export.model_fix)
from the checkpoint the model was saved from: every weights file a whole model saves in, one file or shards with
their index, as .safetensors or as .bin. The patterns are core.runs.WEIGHT_PATTERNS, the ones damage() reads the
saved model by; export kept a copy of its own (_WEIGHTS) beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.config import default_config, save_config
from finetune_studio.core.export import model_fix
from finetune_studio.core.runs import RunFolder

SHARDS = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
BIN_SHARDS = ("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin")


def _checkpoint(folder: Path, files: tuple[str, ...]) -> None:
    """A full fine-tune's checkpoint at step 20 holding these weights files (an index maps the shards beside it)."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen3"}))
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": 20}))
    (folder / "optimizer.pt").write_bytes(b"optimizer")  # not weights: never named
    for name in files:
        if name.endswith(".index.json"):
            shards = [s for s in files if not s.endswith(".json") and s.split("-")[0] == name.split(".")[0]]
            (folder / name).write_text(json.dumps({"weight_map": {f"w{i}": s for i, s in enumerate(shards)}}))
        elif name.endswith(".safetensors"):
            import numpy as np
            from safetensors.numpy import save_file

            save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(folder / name))
        else:
            (folder / name).write_bytes(b"torch pickle")


def _finished_full_run(tmp_path: Path, files: tuple[str, ...]) -> RunFolder:
    run = tmp_path / "full1"
    run.mkdir()
    save_config(default_config(), run / "config.yaml")  # method full
    (run / "status.json").write_text(json.dumps({"state": "finished", "step": 20, "max_steps": 20}))
    (run / "model").mkdir()
    (run / "model" / "config.json").write_text(json.dumps({"model_type": "qwen3"}))  # its weights lost
    _checkpoint(run / "checkpoint-20", files)
    return RunFolder(run)


@pytest.mark.parametrize("files, named", [
    (("pytorch_model.bin",), "pytorch_model.bin"),
    (("model.safetensors",), "model.safetensors"),
    ((*SHARDS, "model.safetensors.index.json"),
     f"{SHARDS[0]} and {SHARDS[1]} and model.safetensors.index.json"),
    ((*BIN_SHARDS, "pytorch_model.bin.index.json"),
     f"{BIN_SHARDS[0]} and {BIN_SHARDS[1]} and pytorch_model.bin.index.json"),
])
def test_every_weights_file_of_the_checkpoint_is_named(tmp_path: Path, files: tuple[str, ...], named: str) -> None:
    folder = _finished_full_run(tmp_path, files)
    source = folder.path / "checkpoint-20"
    first = sorted(files)[0]
    assert model_fix(folder) == (
        f"copy {named} from {source}, which holds the weights the model was saved from, into {folder.model_dir} "
        f"(e.g. cp {source / first} {folder.model_dir}/), then try again; or train the run again.")


def test_a_checkpoint_without_weights_is_not_named(tmp_path: Path) -> None:
    """Its shards' index alone: damage() finds the checkpoint unusable, so it is no source to copy from."""
    folder = _finished_full_run(tmp_path, ("model.safetensors.index.json",))
    assert model_fix(folder) == (f"put the model folder {folder.model_dir} back from a copy of the run, or train the "
                                 "run again under a new name (a finished run does not resume).")
