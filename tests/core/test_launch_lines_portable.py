"""Copy launch command's lines carry what the app's own Start gives the ranks: the chosen GPUs (in nvidia-smi's
numbering) and an absolute run folder (helper-55's D3 and D4)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import default_config


def _two_machines(**launch_fields):
    config = default_config()
    config.name = "horo-2x2"
    config.launch.nodes = 2
    config.launch.processes = 2
    config.launch.rdzv_endpoint = "192.168.1.10:29500"
    for key, value in launch_fields.items():
        setattr(config.launch, key, value)
    return config


def test_the_lines_name_the_chosen_gpus_and_an_absolute_run_folder(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = _two_machines(devices=[2, 3])
    config.runs_dir = "./runs-rel"
    lines = [shlex.split(line) for line in launch.node_commands(config, tmp_path / "l2.yaml")]
    for argv in lines:
        assert argv[:3] == ["env", "CUDA_DEVICE_ORDER=PCI_BUS_ID", "CUDA_VISIBLE_DEVICES=2,3"]
        folder = argv[argv.index("worker") + 1]
        assert folder == str(tmp_path / "runs-rel" / "horo-2x2")  # absolute, whatever folder a shell starts in
    relative = launch.node_commands(_two_machines(), tmp_path / "l2.yaml", run_dir="myruns/horo")
    assert all(shlex.split(line)[0] != "env" for line in relative)  # no GPUs chosen: torch's own (all of them)
    assert all(str(tmp_path / "myruns" / "horo") in shlex.split(line) for line in relative)
