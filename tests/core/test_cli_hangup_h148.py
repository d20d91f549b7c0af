"""Closing the terminal of `finetune-studio train` (SIGHUP) stops the run at the end of its step with a checkpoint,
as SIGTERM does, and the run can be resumed. It was killed at once: no checkpoint, status.json left 'running'.
Writes to the closed terminal fail (EIO, not EPIPE), so on SIGHUP the terminal's outputs are pointed at devnull
before anything more is written. Tested for real: the CLI runs in a pseudo-terminal whose master end is closed."""

from __future__ import annotations

import errno
import json
import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest

from finetune_studio.core.runs import RunFolder


def read_until(master: int, wanted: bytes, seconds: float) -> bytes:
    seen = b""
    end = time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < end:
        if not select.select([master], [], [], max(0.0, end - time.monotonic()))[0]:
            break  # nothing more said in time (the bar has no width in a pty of no size)
        try:
            chunk = os.read(master, 4096)
        except OSError as exc:  # EIO: the child ended
            assert exc.errno == errno.EIO
            break
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.slow
def test_closing_the_terminal_stops_with_a_checkpoint_and_the_run_resumes(demo_cache: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    argv = [sys.executable, "-m", "finetune_studio.core.cli", "train", "--runs-dir", str(runs), "--name", "hup",
            "--set", "max_steps=2000", "--set", "save_steps=1000", "--set", "eval_strategy=no", "--set",
            "load_best_model_at_end=false", "--set", "logging_steps=1"]
    env = {**os.environ, "FINETUNE_STUDIO_CACHE": str(demo_cache), "PYTHONUNBUFFERED": "1"}
    pid, master = pty.fork()  # the child leads a session whose controlling terminal is the pty
    if pid == 0:
        try:
            signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as in a terminal (a runner started under nohup ignores it)
            os.execve(sys.executable, argv, env)
        finally:
            os._exit(127)
    try:
        seen = read_until(master, b"Training", 240)
        assert b"Training" in seen, seen.decode(errors="replace")[-2000:]
        read_until(master, b"never said", 3)  # some steps train
    finally:
        os.close(master)  # the terminal closes: the kernel sends SIGHUP to the session's leader
    end = time.monotonic() + 240
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        assert time.monotonic() < end, "the run did not end after its terminal closed"
        time.sleep(0.2)
    assert os.WIFEXITED(status), f"killed by signal {os.WTERMSIG(status) if os.WIFSIGNALED(status) else '?'}"
    run = runs / "hup"
    state = json.loads((run / "status.json").read_text(encoding="utf-8"))
    assert os.WEXITSTATUS(status) == 3, (state["state"], state["step"], state["message"])
    assert state["state"] == "stopped", state
    assert 0 < state["step"] < 2000
    point = RunFolder(run).resume_point(run)
    assert point.checkpoint is not None and point.checkpoint.name == f"checkpoint-{state['step']}", point.why_not()
    assert "SIGHUP" in state["message"] or "terminal" in state["message"] or "Stopped" in state["message"], state
