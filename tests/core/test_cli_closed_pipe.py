"""A reader that leaves early (`finetune-studio estimate run.yaml | head -1`) ends every command quietly, exit 0.

Each command runs in a child process whose stdout is a pipe whose reading end is closed before it starts, so the
first write, or the last flush, meets a reader that has gone: the case of `| head -1` once head has its line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import cli


def run_into_closed_pipe(args: list[str], unbuffered: bool, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `python -m finetune_studio.core.cli ARGS` with stdout a pipe nobody reads; (exit code, stderr)."""
    reading, writing = os.pipe()
    os.close(reading)
    environment = dict(env or os.environ)
    environment.pop("PYTHONUNBUFFERED", None)
    if unbuffered:  # each print reaches the pipe at once (the write fails), else at the end (the flush fails)
        environment["PYTHONUNBUFFERED"] = "1"
    try:
        done = subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", *args], stdout=writing,
                              stderr=subprocess.PIPE, env=environment, timeout=300)
    finally:
        os.close(writing)
    return done.returncode, done.stderr.decode()


@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
def test_runs_into_a_closed_pipe_exits_0_silently(tmp_path: Path, unbuffered: bool) -> None:
    code, err = run_into_closed_pipe(["runs", "--runs-dir", str(tmp_path)], unbuffered)
    assert (code, err) == (0, "")  # was 1 "error: Training failed: BrokenPipeError …", or 120 "Exception ignored"


@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
def test_help_into_a_closed_pipe_exits_0_silently(unbuffered: bool) -> None:
    code, err = run_into_closed_pipe(["estimate", "--help"], unbuffered)
    assert (code, err) == (0, "")


def test_init_into_a_closed_pipe_still_writes_its_file(tmp_path: Path) -> None:
    code, err = run_into_closed_pipe(["init", str(tmp_path / "run.yaml")], unbuffered=True)
    assert (code, err) == (0, "")
    assert (tmp_path / "run.yaml").read_text().strip()


@pytest.mark.slow
@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
def test_estimate_into_a_closed_pipe_exits_0_silently(demo_cache: Path, unbuffered: bool) -> None:
    code, err = run_into_closed_pipe(["estimate", "--preset", "demo"], unbuffered, env=dict(os.environ))
    assert "BrokenPipe" not in err and "Training failed" not in err and "Exception ignored" not in err
    assert (code, err) == (0, "")


@pytest.mark.slow
def test_validate_into_a_closed_pipe_exits_0_silently(demo_cache: Path) -> None:
    code, err = run_into_closed_pipe(["validate", "--preset", "demo"], unbuffered=True, env=dict(os.environ))
    assert (code, err) == (0, "")


def test_a_broken_pipe_that_is_not_stdout_still_fails_the_command(tmp_path: Path, monkeypatch, capsys) -> None:
    """A BrokenPipeError from elsewhere (a socket, a child's pipe) while stdout is fine is a failure, said."""
    def broken(_runs_dir: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_list_runs", broken)
    assert cli.main(["runs", "--runs-dir", str(tmp_path)]) == cli.EXIT_FAILED
    assert "BrokenPipeError: [Errno 32] Broken pipe" in capsys.readouterr().err


def test_generate_fails_on_a_broken_pipe_that_is_not_stdout(tmp_path: Path, monkeypatch, capsys) -> None:
    """`generate` ends quietly for a reader of stdout that left, through core.cli.main as every command does; a
    BrokenPipeError from another program's pipe while stdout is fine is a failure there too (it exited 0 silently)."""
    from finetune_studio.core import generate_cli

    def broken(_args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(generate_cli, "_generate", broken)
    assert cli.main(["generate", str(tmp_path), "--prompt", "Today"]) == cli.EXIT_FAILED
    assert "Broken pipe" in capsys.readouterr().err
