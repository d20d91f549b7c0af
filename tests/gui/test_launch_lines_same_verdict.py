"""The Launch tab's Copy launch command and `finetune-studio launch-command` judge "this machine" by one rule
(core.launch.lines_checks): for the same config, on a machine without GPUs, both give the lines or both refuse.
A chosen GPU this machine lacks stops the lines only where machine 0's line runs here."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import gpus, launch
from finetune_studio.core.cli import main
from finetune_studio.core.config import RunConfig, save_config
from finetune_studio.core.validation import validate
from finetune_studio.gui.forms.launch_form import LaunchForm

ELSEWHERE = "192.0.2.10:29500"  # TEST-NET-1 (RFC 5737): never this machine
HERE = f"{socket.gethostname()}:29500"


@pytest.fixture(autouse=True)
def _a_machine_without_gpus(monkeypatch: Any) -> None:
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    monkeypatch.setattr(launch, "_memory_bytes", lambda: 8 << 30)
    monkeypatch.setattr(gpus, "read_gpus", lambda with_cpu=True: gpus.GpuTable(unavailable="No NVIDIA GPU found."))


def _config(endpoint: str, nodes: int, devices: list[int]) -> RunConfig:
    config = RunConfig()
    config.name = "shared"
    config.launch.processes, config.launch.nodes = 2, nodes
    config.launch.rdzv_endpoint, config.launch.devices = endpoint, devices
    return config


def _cli_gives_lines(config: RunConfig, tmp_path: Path, capsys: Any) -> bool:
    path = tmp_path / "run.yaml"
    save_config(config, path)
    code = main(["launch-command", str(path), "--run-dir", str(tmp_path / "runs" / "shared")])
    out = capsys.readouterr().out.splitlines()
    assert (code == 0) == bool(out) and code in (0, 2)
    return code == 0


def _tab_copies(config: RunConfig, qtbot: Any, tmp_path: Path) -> bool:
    form = LaunchForm()
    qtbot.addWidget(form)
    form.load(config)
    form.set_document(tmp_path / "run.yaml")
    form.show_problems(validate(config))  # what the window passes after its check
    return form.copy_button.isEnabled()


@pytest.mark.parametrize("endpoint", [ELSEWHERE, HERE, ""], ids=["machine0-elsewhere", "machine0-here", "none"])
@pytest.mark.parametrize("nodes", [1, 2])
@pytest.mark.parametrize("devices", [[0, 1], [3], []], ids=["gpus-0-1", "gpu-3", "no-gpus-chosen"])
def test_launch_tab_and_launch_command_give_the_same_verdict(endpoint: str, nodes: int, devices: list[int],
                                                             qtbot: Any, tmp_path: Path, capsys: Any) -> None:
    config = _config(endpoint, nodes, devices)
    assert _tab_copies(config, qtbot, tmp_path) == _cli_gives_lines(config, tmp_path, capsys)


def test_chosen_gpus_this_machine_lacks_stop_the_lines_only_where_machine_0_runs_here(qtbot: Any, tmp_path: Path,
                                                                                       capsys: Any) -> None:
    elsewhere = _config(ELSEWHERE, 2, [0, 1])
    assert _tab_copies(elsewhere, qtbot, tmp_path) and _cli_gives_lines(elsewhere, tmp_path, capsys)
    problems, left_out = launch.lines_checks(elsewhere, validate(elsewhere))
    assert [p.message.split(":")[0] for p in left_out] == ["GPU 0 does not exist", "GPU 1 does not exist"]
    assert not any(p in problems for p in left_out)
    here = _config(HERE, 2, [0, 1])
    assert not _tab_copies(here, qtbot, tmp_path) and not _cli_gives_lines(here, tmp_path, capsys)
    assert launch.lines_checks(here, validate(here))[1] == []
