"""`finetune-studio launch-command` reads ~ as the user's home, as every other command does (core.cli.user_path):
a quoted '~/runs/x' given to --run-dir (or --run-dir=~/runs/x, which the shell leaves as typed) put
"worker /current/folder/~/runs/x" in every machine's line, a folder named ~, and a quoted '~/run.yaml' was "not
found"."""

from __future__ import annotations

import shlex
from pathlib import Path

from finetune_studio.core import cli
from finetune_studio.core.config import PRESETS, save_config


def test_launch_command_expands_home_in_the_config_and_run_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    config = PRESETS["demo"]()
    config.runs_dir = str(tmp_path / "runs")
    save_config(config, home / "run.yaml")
    assert cli.main(["launch-command", "~/run.yaml", "--run-dir=~/runs/x"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    argv = shlex.split(lines[0])
    assert argv[argv.index("worker") + 1] == str(home / "runs" / "x")
    assert argv[argv.index("--config") + 1] == str(home / "run.yaml")
    assert not (tmp_path / "~").exists()
