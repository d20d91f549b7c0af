"""A command started with its stdout closed (`finetune-studio init a.yaml >&-`; a service, cron job or supervisor that
closes it) runs as it would with stdout discarded: Python leaves sys.stdout None, print() writes nothing, and the
command's work is done, but core.cli.main's last flush of sys.stdout ended every command with a traceback
("AttributeError: 'NoneType' object has no attribute 'flush'") and exit 1 after it had succeeded, and `--help`
did the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from finetune_studio.core import cli

ROOT = Path(__file__).resolve().parents[2]


def closed_stdout(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`finetune-studio ARGS >&-`: the console script's own entry point, with file descriptor 1 closed."""
    env = {**os.environ, "HOME": str(tmp_path / "home"), "FINETUNE_STUDIO_RUNS": str(tmp_path / "runs")}
    code = "import sys; from finetune_studio.gui.launcher import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env, stdout=None,
                          stderr=subprocess.PIPE, text=True, timeout=120, preexec_fn=lambda: os.close(1))


def test_init_with_stdout_closed_writes_the_file_and_exits_0(tmp_path: Path) -> None:
    done = closed_stdout(tmp_path, "init", "a.yaml")
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "a.yaml").read_text(encoding="utf-8").startswith("name:")


def test_a_refusal_with_stdout_closed_keeps_its_exit_code_and_its_error(tmp_path: Path) -> None:
    done = closed_stdout(tmp_path, "validate", "nosuch.yaml")
    assert done.returncode == 2
    assert done.stderr == (f"error: Config file not found: nosuch.yaml (looked for in {tmp_path}). To fix: check the "
                           "path, or write a new config there with 'finetune-studio init nosuch.yaml'.\n")


def test_help_with_stdout_closed_exits_0_without_a_traceback(tmp_path: Path) -> None:
    done = closed_stdout(tmp_path, "runs", "--help")
    assert done.returncode == 0
    assert "Traceback" not in done.stderr and done.stderr.startswith("usage: finetune-studio runs")


def test_main_in_process_with_sys_stdout_none(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    assert cli.main(["init", str(tmp_path / "b.yaml")]) == 0
    assert (tmp_path / "b.yaml").is_file()
