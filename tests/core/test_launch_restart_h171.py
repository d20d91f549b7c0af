"""`restart` through the detached supervisor: the window's Apply fix and restart of a run of several processes that
failed before its first checkpoint starts `supervise RUN --resume --restart`, which resumes with
core.training.resume's restart (from step 0 when no complete checkpoint was saved). Without it the supervisor's
resume refused with "has no complete checkpoint to resume from"."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from finetune_studio.core import cli, launch
from finetune_studio.core import training as core_training
from finetune_studio.core.config import save_config
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import RunResult
from tests.helpers import small_config


@pytest.fixture
def run_dir(tmp_path: Path, small_dataset: Path) -> Path:
    config = small_config(small_dataset, tmp_path / "runs", max_steps=4)
    config.name, config.launch.processes = "oom", 2
    folder = RunFolder(tmp_path / "runs" / "oom")
    folder.path.mkdir(parents=True)
    save_config(config, folder.config_path)
    folder.write_status("failed", "CUDA ran out of memory at step 1.", step=0)
    return folder.path


def test_the_supervisor_command_carries_restart_with_resume(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "finetune_studio.core.cli", "supervise", str(tmp_path)]
    assert launch.supervisor_command(tmp_path, True, None, restart=True) == [*base, "--resume", "--restart"]
    assert launch.supervisor_command(tmp_path, True, 2.0) == [*base, "--resume", "--epochs", "2"]
    assert launch.supervisor_command(tmp_path, True, extra_steps=5) == [*base, "--resume", "--steps", "5"]
    assert launch.supervisor_command(tmp_path) == base


def test_supervise_resume_restart_reaches_core_training_resume(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple] = []

    def resume(run_dir, sink=None, stop=None, extra_epochs=None, restart=False, execute=None, extra_steps=None):
        seen.append((Path(run_dir).name, extra_epochs, restart, execute is not None))
        return RunResult("finished", "Finished 4 steps.", Path(run_dir), 4, 4)

    monkeypatch.setattr(core_training, "resume", resume)
    monkeypatch.delenv(launch.STOP_CLEARED_ENV, raising=False)
    previous = signal.getsignal(signal.SIGTERM)  # the supervise command installs its own
    try:
        assert cli.main(["supervise", str(run_dir), "--resume", "--restart"]) == 0
        assert cli.main(["supervise", str(run_dir), "--resume"]) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [("oom", None, True, True), ("oom", None, False, True)]


def test_restart_without_resume_is_refused(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert cli.main(["supervise", str(run_dir), "--restart"]) == 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert capsys.readouterr().err == (
        "error: --restart starts a resumed run again from step 0 when it has no complete checkpoint, and --resume was "
        "not given; nothing was started. To fix: add --resume, or apply the run's fix and restart it with "
        f"finetune-studio resume {run_dir} --apply-fix.\n")
