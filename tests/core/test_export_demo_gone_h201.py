"""An adapter export of a run on the built-in demo model whose cache folder is gone (the cache cleared to free
space) builds the demo again, so the export loads (helper-201): it said 'Its base model folder …/demo-model-v1 is
not there now …: put the base model back there', which the user has no copy of, while the app builds it the same
way each time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from finetune_studio.core.export import export_adapter
from tests import helpers


@pytest.mark.slow
def test_the_demo_base_is_built_again_and_the_export_gives_the_runs_logits(tmp_path: Path, demo_cache: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path / "cache"))  # a cache of this test's own
    run = helpers.lora_run(tmp_path, "demo-run", rows=8, max_steps=1)
    first = export_adapter(run, tmp_path / "before")
    ids = AutoTokenizer.from_pretrained(str(first.out_dir))("Aries: today", return_tensors="pt").input_ids
    with torch.no_grad():
        expected = AutoPeftModelForCausalLM.from_pretrained(str(first.out_dir))(ids).logits
    base = demo_model_path(build=False)
    shutil.rmtree(base)  # the cache cleared

    result = export_adapter(run, tmp_path / "after")
    assert result.message.endswith(
        f"Its base model, the built-in demo model, was gone from the app's cache (cleared since the run), so it was "
        f"built again at {base}, where the adapter loads it.")
    assert "not there now" not in result.message
    with torch.no_grad():
        assert torch.equal(AutoPeftModelForCausalLM.from_pretrained(str(result.out_dir))(ids).logits, expected)


def test_another_gone_base_is_still_said_gone(tmp_path: Path) -> None:
    from tests.core.test_export_other_run_h201 import _adapter_run, update_base

    run = _adapter_run(tmp_path / "runs", "lora-run", b"mine")
    update_base(run, str(tmp_path / "models" / "gone"))
    message = export_adapter(run, tmp_path / "out").message
    assert message.endswith(f"Its base model folder {tmp_path / 'models' / 'gone'} is not there now (moved or "
                            "deleted), so the adapter does not load until it is: put the base model back there, or "
                            f"set base_model_name_or_path in {tmp_path / 'out' / 'adapter_config.json'} to where it "
                            "is now.")
