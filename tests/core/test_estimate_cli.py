"""`finetune-studio estimate CONFIG.yaml`: the parts, the verdict against this machine, and the exit code."""

from __future__ import annotations

import pytest

from finetune_studio.core import gpus
from finetune_studio.core.cli import main


@pytest.mark.slow
def test_estimate_prints_parts_and_verdict(demo_cache, tmp_path, capsys, monkeypatch) -> None:
    from finetune_studio.core.config import default_config, save_config

    config = default_config()
    config.training["per_device_train_batch_size"] = 4
    path = tmp_path / "run.yaml"
    save_config(config, path)
    table = gpus.GpuTable(cpu=gpus.CpuInfo(cores=2, ram_total_bytes=8 * 2**30, ram_available_bytes=4 * 2**30))
    monkeypatch.setattr(gpus, "read_gpus", lambda: table)
    assert main(["estimate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "batch 4 x 512 tokens" in out and "optimizer states" in out
    assert "Verdict: fits" in out and "free RAM)." in out and "free on RAM" not in out
    tiny = gpus.GpuTable(cpu=gpus.CpuInfo(cores=2, ram_total_bytes=2**30, ram_available_bytes=10 * 2**20))
    monkeypatch.setattr(gpus, "read_gpus", lambda: tiny)
    assert main(["estimate", str(path), "--set", "activation_checkpointing=false"]) == 1
    out = capsys.readouterr().out
    assert "Verdict: will not fit" in out
    assert "Fixes, best first" in out and "--set training.activation_checkpointing=true" in out
