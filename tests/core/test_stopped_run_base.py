"""A stopped adapter run that saved checkpoints but no final model: its base model, the dtype it trained in and the
size of a merged export are read from its newest checkpoint's adapter_config.json (core.export.run_adapter_config).
They were read from the model folder alone, so the Export and Push dialogs (which now offer such a run's checkpoints)
said "Same as training" with no dtype and "known once the base model is loaded" of a base on this computer."""

from __future__ import annotations

import shutil
from pathlib import Path

from finetune_studio.core.export import merged_size, trained_dtype
from finetune_studio.core.hub import local_base_size
from finetune_studio.core.runs import RunFolder
from tests.core.test_push_checkpoint_h212 import stopped  # noqa: F401 - the fixture: checkpoints 1 and 2, no model/


def test_a_stopped_runs_base_dtype_and_merged_size_come_from_its_newest_checkpoint(stopped: Path,
                                                                                   tmp_path: Path) -> None:
    from finetune_studio.core.adapters import read_adapter_config
    from finetune_studio.core.demo import demo_model_path

    newest = read_adapter_config(stopped / "checkpoint-2")
    base = Path(newest["base_model_name_or_path"])
    assert base.resolve() == demo_model_path().resolve()
    weights = sum(p.stat().st_size for p in base.iterdir() if p.suffix == ".safetensors")
    assert local_base_size(stopped) == weights > 0
    assert trained_dtype(stopped) == "float32"  # the demo's weights as saved
    assert merged_size(stopped) == weights and merged_size(stopped, "bfloat16") == weights // 2
    from finetune_studio.core.export import run_adapter_config

    assert run_adapter_config(RunFolder(stopped)) == newest
    # with no checkpoint left either, nothing is known without loading, as before
    bare = tmp_path / "bare"
    shutil.copytree(stopped, bare)
    for checkpoint in bare.glob("checkpoint-*"):
        shutil.rmtree(checkpoint)
    assert run_adapter_config(RunFolder(bare)) is None
    assert local_base_size(bare) == 0 and merged_size(bare) == 0 and trained_dtype(bare) is None
