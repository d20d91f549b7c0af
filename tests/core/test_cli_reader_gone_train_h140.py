"""`finetune-studio train 2>&1 | head -1`: the reader of the run's progress leaves after its first line. The next
write to stderr raised BrokenPipeError inside the run's progress sink, which failed the run ("Training failed:
BrokenPipeError … (raised in finetune_studio.core.cli)", step 0, nothing trained), and main then exited 0, as for
any reader gone, over a failed run. A reader leaving is not the run's end: the run trains on with nothing more
shown, and the command exits with the run's own code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import cli


class GoneBar:
    """A tqdm bar whose stream's reader has left."""

    n = 0

    def write(self, *args, **kwargs) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def update(self, *args) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def set_postfix(self, *args, **kwargs) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def close(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_the_progress_sink_outlives_its_reader(monkeypatch) -> None:
    dropped = []
    monkeypatch.setattr(cli, "reader_gone", lambda: True)
    monkeypatch.setattr(cli, "drop_closed_outputs", lambda: dropped.append(True))
    printer = cli.ProgressPrinter()
    printer.bar = GoneBar()
    for event in ({"event": "step", "step": 1}, {"event": "log", "step": 2, "loss": 1.5},
                  {"event": "phase", "message": "Saving the final model"}, {"event": "end"}):
        printer(event)  # raised BrokenPipeError into the Trainer's callback
    printer.write("Stopping at the end of this step and saving a checkpoint…")
    assert len(dropped) == 5


def test_a_broken_pipe_of_another_kind_still_raises(monkeypatch) -> None:
    monkeypatch.setattr(cli, "reader_gone", lambda: False)
    printer = cli.ProgressPrinter()
    printer.bar = GoneBar()
    with pytest.raises(BrokenPipeError):
        printer({"event": "step", "step": 1})


@pytest.mark.slow
def test_train_with_its_stderr_reader_gone_finishes_the_run(demo_cache: Path, tmp_path: Path) -> None:
    reading, writing = os.pipe()
    os.close(reading)  # `| head -1` after its line: every write to stderr meets a reader that has left
    env = {**os.environ, "FINETUNE_STUDIO_CACHE": str(demo_cache)}
    try:
        done = subprocess.run([sys.executable, "-m", "finetune_studio.core.cli", "train", "--runs-dir",
                               str(tmp_path / "runs"), "--name", "piped", "--set", "max_steps=2", "--set",
                               "eval_strategy=no", "--set", "load_best_model_at_end=false"],
                              stdout=subprocess.PIPE, stderr=writing, env=env, text=True, timeout=300)
    finally:
        os.close(writing)
    run = tmp_path / "runs" / "piped"
    status = json.loads((run / "status.json").read_text(encoding="utf-8"))
    assert (status["state"], status["step"]) == ("finished", 2), status["message"]
    assert done.returncode == 0
    assert done.stdout == f"finished: Finished 2 steps. Model saved to {run / 'model'}.\n"
    assert (run / "model" / "config.json").is_file()
