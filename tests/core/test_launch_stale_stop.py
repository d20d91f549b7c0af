"""A stop request (the stop file) is only ever for the segment that trains. A supervisor that failed before
torchrun started (a config that no longer validates, a resume with nothing to resume from) left the window's Stop
behind in the run folder, and so did a Stop written as the supervisor ended: the next segment that does not
clear it first (`supervise --resume` run by hand, or Copy launch command's torchrun lines, whose rank 0 reads the
file) stopped at its first step. No training here."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig, save_config
from finetune_studio.core.distributed import request_stop, stop_path
from finetune_studio.core.errors import ConfigError, FinetuneError
from finetune_studio.core.runs import RunBusy, RunFolder, RunLock


@pytest.fixture
def claimed(tmp_path: Path, monkeypatch) -> RunFolder:
    """A two-process run folder the window claimed, whose config.yaml no longer validates (edited since)."""
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    config = RunConfig()
    config.runs_dir = str(tmp_path / "runs")
    config.name = "claimed"
    config.launch.processes = 2
    folder = launch.claim(config)
    config.training["learning_rate"] = "fast"
    save_config(config, folder.config_path)
    return folder


def test_a_supervisor_that_fails_before_torchrun_removes_the_stop_request(claimed: RunFolder) -> None:
    request_stop(claimed.path)  # the window's Stop, pressed while the supervisor started
    with pytest.raises(ConfigError):
        launch.supervise(claimed.path)
    assert claimed.read_status()["state"] == "failed"
    assert not stop_path(claimed.path).exists()

    request_stop(claimed.path)  # a Resume with nothing to resume from fails before torchrun too
    with pytest.raises(FinetuneError, match="no complete checkpoint"):
        launch.supervise(claimed.path, resume_run=True)
    assert not stop_path(claimed.path).exists()


def test_the_supervisor_process_leaves_no_stop_request_when_it_fails(claimed: RunFolder) -> None:
    request_stop(claimed.path)
    ended = subprocess.run(launch.supervisor_command(claimed.path), capture_output=True, text=True, timeout=120)
    assert ended.returncode != 0
    assert "learning_rate" in ended.stderr + ended.stdout
    assert not stop_path(claimed.path).exists()


def test_a_stop_request_for_a_run_another_process_trains_is_left_to_it(claimed: RunFolder) -> None:
    lock = RunLock.acquire(claimed.path)  # another supervisor trains the folder now
    try:
        request_stop(claimed.path)  # its Stop
        with pytest.raises(RunBusy):
            launch.supervise(claimed.path, resume_run=True)
        assert stop_path(claimed.path).exists()
    finally:
        lock.release()


def test_a_stop_written_as_the_supervisor_ends_is_removed_by_the_window(claimed: RunFolder) -> None:
    """follow writes the file when Stop is pressed and the supervisor has not yet exited: pressed as it ends,
    the file lands after the supervisor's own clean-up."""
    claimed.write_status("stopped", "Stopped at step 3 of 9, resumable.", step=3, max_steps=9)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    stop = threading.Event()
    stop.set()
    result = launch._follow_to_result(claimed, 0, process, lambda event: None, stop, None)
    assert (result.state, result.step) == ("stopped", 3)
    assert not stop_path(claimed.path).exists()
