"""`train --quiet` (and `resume --quiet`) answer a Ctrl-C or SIGTERM as without it: "Stopping at the end of this
step and saving a checkpoint… (Ctrl-C again to abort)". --quiet dropped that line with the progress, so a stop that
waits for a long step (minutes on a big model) looked ignored, and a second Ctrl-C, which aborts, was the natural
next key. Progress lines stay quiet."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.training import RunResult


def stopped_by(signum: int, run_dir: Path):
    def execute(printer: cli.ProgressPrinter, stop: threading.Event) -> RunResult:
        printer({"event": "run_start", "run_dir": str(run_dir)})
        printer({"event": "phase", "message": "Loading model builtin:demo"})
        printer({"event": "train_begin", "step": 0, "max_steps": 4})
        os.kill(os.getpid(), signum)  # the handler sets `stop`
        assert stop.is_set()
        return RunResult("stopped", "Stopped at step 1 of 4, resumable.", run_dir, 1, 4)

    return execute


@pytest.mark.parametrize(("signum", "again"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "the same signal")])
def test_quiet_still_answers_the_stop(tmp_path: Path, capsys, signum: int, again: str) -> None:
    assert cli._train(stopped_by(signum, tmp_path), quiet=True) == cli.EXIT_STOPPED
    out, err = capsys.readouterr()
    assert err == f"Stopping at the end of this step and saving a checkpoint… ({again} again to abort)\n"
    assert out.splitlines() == ["stopped: Stopped at step 1 of 4, resumable.",
                                f"Resume with: finetune-studio resume {tmp_path}"]


def test_quiet_keeps_progress_lines_quiet(capsys) -> None:
    printer = cli.ProgressPrinter(quiet=True)
    printer({"event": "phase", "message": "Loading model builtin:demo"})
    printer({"event": "notice", "message": "The tokenizer has no pad token"})
    printer.write("a progress line")
    assert capsys.readouterr().err == ""
