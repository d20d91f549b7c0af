"""The CLI's answer to a Ctrl-C says what the Stop will do. A run of several processes reaches the printer through
core.launch.follow, which reads rank 0's metrics.jsonl every POLL_S: the printer said "Stopping before training
begins (nothing will be trained or saved)…" while the run was a few steps in, and the run then stopped at step 4 with
a checkpoint. With late events and no train_begin seen, the answer now promises neither."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.training import RunResult

BEFORE = "Stopping before training begins (nothing will be trained or saved)… (Ctrl-C again to abort)"
DURING = "Stopping at the end of this step and saving a checkpoint… (Ctrl-C again to abort)"
EITHER = ("Stopping: at the end of the current step, with a checkpoint, if training has begun; before that nothing "
          "is trained or saved… (Ctrl-C again to abort)")


def interrupted_after(run_dir: Path, events: list[dict]):
    def execute(printer: cli.ProgressPrinter, stop: threading.Event) -> RunResult:
        printer({"event": "run_start", "run_dir": str(run_dir)})
        for event in events:
            printer(event)
        os.kill(os.getpid(), signal.SIGINT)  # the handler sets `stop` and answers
        assert stop.is_set()
        return RunResult("stopped", "said by the run", run_dir, 0, 0)

    return execute


SET_UP = [{"event": "phase", "phase": "model", "message": "Loading model builtin:demo"}]
TRAIN_PHASE = [*SET_UP, {"event": "phase", "phase": "train", "message": "Training"}]
BEGUN = [*TRAIN_PHASE, {"event": "train_begin", "step": 0, "max_steps": 4}]


@pytest.mark.parametrize(("events", "lagged", "said"), [
    (SET_UP, False, BEFORE), (TRAIN_PHASE, False, BEFORE), (BEGUN, False, DURING),
    ([], True, EITHER), (SET_UP, True, EITHER), (TRAIN_PHASE, True, EITHER), (BEGUN, True, DURING),
])
def test_the_answer_to_ctrl_c(tmp_path: Path, capsys, events: list[dict], lagged: bool, said: str) -> None:
    assert cli._train(interrupted_after(tmp_path, events), quiet=True, lagged=lagged) == cli.EXIT_STOPPED
    assert capsys.readouterr().err == said + "\n"


def test_a_run_of_several_processes_is_followed_lagged(monkeypatch, tmp_path: Path) -> None:
    """`train` and `resume` of a torchrun run pass lagged=True; one process does not."""
    from finetune_studio.core import launch

    seen: list[bool] = []

    def fake_train(execute, quiet, term_stops=True, said=(), lagged=False):
        seen.append(lagged)
        return 0

    monkeypatch.setattr(cli, "_train", fake_train)
    monkeypatch.setattr(cli, "_load", lambda args: object())
    monkeypatch.setattr(cli, "command_problems", lambda config: [])
    monkeypatch.setattr(cli, "config_warnings", lambda config, problems: [])
    for several in (True, False):
        monkeypatch.setattr(launch, "uses_torchrun", lambda config, several=several: several)
        assert cli._command(cli.parse_args(["train", "config.yaml"])) == 0
    monkeypatch.setattr(cli, "require_run_folder", lambda path: path)
    for several in (True, False):
        monkeypatch.setattr(launch, "run_uses_torchrun", lambda run_dir, several=several: several)
        assert cli._command(cli.parse_args(["resume", str(tmp_path)])) == 0
    assert seen == [True, False, True, False]
