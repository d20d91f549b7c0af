"""`finetune-studio estimate` prints its "error: ..." lines to stderr, as every other command does: they went to
stdout, so `estimate run.yaml > estimate.txt` hid the error from the terminal and wrote it into the file
(helper-110's item 3). Exit codes are unchanged: 2 for a model the estimate cannot read, 1 for one it cannot run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import estimate
from finetune_studio.core.cli import main
from finetune_studio.core.errors import ModelError


def test_an_estimate_that_cannot_read_the_model_says_so_on_stderr(runs_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture) -> None:
    def unreadable(*args: object, **kwargs: object) -> None:
        raise ModelError("The model's config.json cannot be read. To fix: download the model again.")

    monkeypatch.setattr(estimate, "_estimate_valid", unreadable)
    assert main(["estimate"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == "error: The model's config.json cannot be read. To fix: download the model again."


def test_an_estimate_that_cannot_run_the_model_says_so_on_stderr(runs_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(estimate, "_estimate_valid", broken)
    assert main(["estimate"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    line = err.splitlines()[-1]
    assert line.startswith("error: The memory of this model cannot be estimated: building it from its config.json")
    assert "failed with ZeroDivisionError: division by zero" in line and "To fix: " in line


def test_estimate_output_is_unchanged_on_stdout(runs_dir: Path) -> None:
    """The estimate itself still goes to stdout, in a process of its own (the demo model, offline)."""
    done = subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", "estimate"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert "error:" not in done.stdout and done.stdout.strip()
