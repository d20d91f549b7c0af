"""A sharded local model whose model.safetensors.index.json names a shard the folder lacks is told which shard to
copy where, not that config.json does not fit the weights (the shapes of a half-copied model blamed config.json);
copying the shard in clears it (the folder's cache stamps include the index and the shards)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.cli import main
from finetune_studio.core.model import config_weights_problem


@pytest.fixture
def sharded(demo_cache: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The demo model split into two shards with an index; the second shard is moved aside (returned too)."""
    from safetensors.torch import load_file, save_file

    from finetune_studio.core.demo import demo_model_path

    folder = tmp_path / "model"
    shutil.copytree(demo_model_path(), folder)
    (folder / "finetune_studio_demo.json").unlink(missing_ok=True)
    tensors = load_file(str(folder / "model.safetensors"))
    (folder / "model.safetensors").unlink()
    names = sorted(tensors)
    halves = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    weight_map = {}
    for file, part in halves.items():
        save_file({name: tensors[name].contiguous() for name in part}, str(folder / file), metadata={"format": "pt"})
        weight_map.update({name: file for name in part})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    aside = tmp_path / "aside"
    aside.mkdir()
    shutil.move(str(folder / "model-00002-of-00002.safetensors"), aside)
    return folder, aside / "model-00002-of-00002.safetensors"


def test_a_missing_shard_is_named_with_where_to_copy_it(
        sharded: tuple[Path, Path], runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, shard = sharded
    said = (f"model.safetensors.index.json in {folder} names 2 weight files, but 1 of them is not in the folder: "
            "model-00002-of-00002.safetensors. The model was copied only in part, so it cannot load. To fix: copy "
            f"model-00002-of-00002.safetensors into {folder} (from where the model came from), beside "
            "model.safetensors.index.json.")
    assert config_weights_problem(str(folder)) == said
    capsys.readouterr()
    assert main(["validate", "--set", f"model.name_or_path={folder}"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().out.splitlines() == [f"problem: model.name_or_path: {said}"]
    shutil.copy(shard, folder / shard.name)  # the fix passes (not the cached verdict)
    assert config_weights_problem(str(folder)) is None


def test_two_missing_shards_are_both_named(sharded: tuple[Path, Path]) -> None:
    folder, _ = sharded
    (folder / "model-00001-of-00002.safetensors").unlink()
    assert config_weights_problem(str(folder)) == (
        f"model.safetensors.index.json in {folder} names 2 weight files, but 2 of them are not in the folder: "
        "model-00001-of-00002.safetensors, model-00002-of-00002.safetensors. The model was copied only in part, so "
        "it cannot load. To fix: copy every one of model-00001-of-00002.safetensors, model-00002-of-00002.safetensors"
        f" into {folder} (from where the model came from), beside model.safetensors.index.json.")
