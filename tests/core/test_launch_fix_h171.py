"""The fix a failing rank of a run of several processes proposes (out of memory: a smaller batch), as the supervisor
(core.launch.torchrun_execute) records and raises it:

- Rank 0 failing with its own error while a peer had already failed leaves the run's status to the supervisor
  (core.training.peer_failure_left_to_supervisor), and its fix was lost: the supervisor read none from the
  heartbeats. worker_main now writes the fix in the rank's heartbeat and the supervisor records the failing rank's.
- Its message said both "Apply the fix to restart from checkpoint-2." and "Resume continues from checkpoint-2 with
  the same 2 training processes.": with a fix, only the fix is said; the resume sentence only without one.
- The fix rides on the supervisor's TrainingError (core.launch, not a CLI wrapper), so every caller gets it: the
  CLI's fix lines (their words unchanged), the window's follower (resume_and_follow).

torchrun is a stand-in here that ends as a failed torchrun does: the ranks' heartbeats, rank 0's files and torchrun's
summary in launch.log, written as it ends."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.cli import main
from finetune_studio.core.config import save_config
from finetune_studio.core.distributed import TERMINATED, heartbeat_path
from finetune_studio.core.errors import TrainingError
from finetune_studio.core.runs import RunFolder
from tests.helpers import checkpoint, read_events, small_config

FIX = {"description": "use batch size 2 with gradient accumulation 2 instead of 4 with 1 (the effective batch stays "
                      "4)",
       "overrides": {"training.per_device_train_batch_size": 2, "training.gradient_accumulation_steps": 2}}
OOM = ("CUDA ran out of memory at step 3 with batch size 4 and max_length 64 — use batch size 2 with gradient "
       "accumulation 2 instead of 4 with 1 (the effective batch stays 4). Apply the fix to restart from checkpoint-2.")
PEER = "Training failed: RuntimeError: [gloo/pair.cc:553] Connection closed by peer [127.0.0.1]:46481"
BAD = "Training failed: ValueError: bad batch."


def _summary(root: int) -> str:
    """torchrun's failure summary in launch.log, rank `root` its root cause."""
    return (f"\nFailures:\n  <NO_OTHER_FAILURES>\n------------------------------------------------------------\n"
            f"Root Cause (first observed failure):\n[0]:\n  time      : 2026-12-05_15:00:00\n  host      : vm\n"
            f"  rank      : {root} (local_rank: {root})\n  exitcode  : 1 (pid: {100 + root})\n")


class _Torchrun:
    """Ends at its first poll, leaving what a torchrun whose ranks failed leaves."""

    pid, returncode = 0, None

    def __init__(self, folder: RunFolder, beats: dict[int, dict], root: int, rank_0_end: dict | None = None):
        self.folder, self.beats, self.root, self.rank_0_end = folder, beats, root, rank_0_end

    def poll(self) -> int:
        if self.returncode is None:
            for rank, beat in self.beats.items():
                path = heartbeat_path(self.folder.path, rank)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"rank": rank, "pid": 100 + rank, "host": "vm", "step": 2, **beat}))
            if self.rank_0_end is not None:  # rank 0 wrote its own failure (status and end)
                self.folder.write_status("failed", self.rank_0_end["message"], step=2,
                                         fix=self.rank_0_end.get("fix"))
                with open(self.folder.metrics_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"event": "end", "state": "failed", "step": 2, "max_steps": 4,
                                          **self.rank_0_end}) + "\n")
            with open(self.folder.path / launch.LAUNCH_LOG, "a", encoding="utf-8") as log:
                log.write(_summary(self.root))
            self.returncode = 1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        return self.poll()


@pytest.fixture
def run(tmp_path: Path, small_dataset: Path, monkeypatch: pytest.MonkeyPatch):
    """A run of 2 processes at step 2 with checkpoint-2, and a way to have its torchrun end as `_Torchrun`."""
    monkeypatch.setattr(launch, "POLL_S", 0.01)
    config = small_config(small_dataset, tmp_path / "runs", max_steps=4, save_steps=2, eval_strategy="no",
                          load_best_model_at_end=False, per_device_train_batch_size=4)
    config.name, config.launch.processes = "oom", 2
    folder = RunFolder(tmp_path / "runs" / "oom")
    folder.path.mkdir(parents=True)
    save_config(config, folder.config_path)
    checkpoint(folder.path, 2)
    folder.write_status("running", "Training", step=2, max_steps=4)

    def torchrun_ends(beats: dict[int, dict], root: int, rank_0_end: dict | None = None) -> None:
        def popen(command, **kwargs):
            with open(folder.metrics_path, "a", encoding="utf-8") as log:  # rank 0's events of this segment
                for event in ({"event": "run_start", "run_dir": str(folder.path), "time": 1.0},
                              {"event": "train_begin", "step": 2, "max_steps": 4, "start_step": 2},
                              {"event": "step", "step": 2, "max_steps": 4}):
                    log.write(json.dumps(event) + "\n")
            return _Torchrun(folder, beats, root, rank_0_end)

        monkeypatch.setattr(launch.subprocess, "Popen", popen)

    return config, folder, torchrun_ends


def _execute(config, folder: RunFolder) -> TrainingError:
    with pytest.raises(TrainingError) as caught:
        launch.torchrun_execute(config, folder, None, threading.Event(), folder.path / "checkpoint-2", False)
    return caught.value


def test_rank_0s_own_fix_survives_a_peer_that_failed_first(run) -> None:
    """Rank 0 ran out of memory after rank 1 had failed: it left the status and end to the supervisor (wrote
    neither), and its heartbeat holds its error and fix; torchrun names rank 0 the root cause."""
    config, folder, torchrun_ends = run
    torchrun_ends({0: {"state": "failed", "error": OOM, "error_type": "OutOfMemoryFailure", "fix": FIX},
                   1: {"state": "failed", "error": "Training failed: RuntimeError: CUDA error: an illegal memory "
                                                   "access was encountered"}}, root=0)
    error = _execute(config, folder)
    message = f"Rank 0 of 2 (pid 100 on vm) failed at step 2: {OOM}"
    assert str(error) == message  # was: "... Apply the fix to restart from checkpoint-2. Resume continues from ..."
    assert (error.fix.to_dict(), error.run_dir) == (FIX, folder.path)
    status = folder.read_status()
    assert (status["state"], status["message"], status["failed_rank"], status["fix"]) == ("failed", message, 0, FIX)
    end = read_events(folder.path, "end")[-1]
    assert (end["message"], end["failed_rank"], end["fix"]) == (message, 0, FIX)


def test_the_failing_ranks_own_fix_is_recorded_over_rank_0s_peer_error(run) -> None:
    """Rank 1 ran out of memory; rank 0 failed in its next collective and wrote that (no fix) as its end."""
    config, folder, torchrun_ends = run
    torchrun_ends({0: {"state": "failed", "error": PEER},
                   1: {"state": "failed", "error": OOM, "error_type": "OutOfMemoryFailure", "fix": FIX}}, root=1,
                  rank_0_end={"message": PEER, "error_type": "RuntimeError"})
    error = _execute(config, folder)
    message = f"Rank 1 of 2 (pid 101 on vm) failed at step 2: {OOM}"
    assert str(error) == message
    assert error.fix.to_dict() == FIX
    status = folder.read_status()
    assert (status["message"], status["failed_rank"], status["fix"]) == (message, 1, FIX)
    ends = read_events(folder.path, "end")
    assert [(e["message"], e.get("fix")) for e in ends] == [(PEER, None), (message, FIX)]  # appended, last counts


def test_without_a_fix_the_failure_says_where_resume_continues(run) -> None:
    config, folder, torchrun_ends = run
    torchrun_ends({0: {"state": TERMINATED}, 1: {"state": "failed", "error": BAD}}, root=1)
    error = _execute(config, folder)
    assert str(error) == ("Rank 1 of 2 (pid 101 on vm) failed at step 2: Training failed: ValueError: bad batch. "
                          "Resume continues from checkpoint-2 with the same 2 training processes.")
    assert error.fix is None
    assert folder.read_status()["fix"] is None
    assert "fix" not in read_events(folder.path, "end")[-1]


def test_a_fix_rank_0_wrote_in_an_earlier_segment_is_not_taken_for_this_ones(run) -> None:
    """The status's fix is rank 0's of this segment only: the supervisor clears it as torchrun starts."""
    config, folder, torchrun_ends = run
    folder.write_status("failed", "an earlier failure", step=2, fix=FIX)
    torchrun_ends({0: {"state": "failed", "error": BAD}, 1: {"state": TERMINATED}}, root=0)
    error = _execute(config, folder)
    assert error.fix is None and folder.read_status()["fix"] is None
    assert str(error).endswith("Resume continues from checkpoint-2 with the same 2 training processes.")


def test_the_cli_prints_the_fix_the_supervisor_raised(run, demo_cache: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`finetune-studio resume RUN` of the run: the fix and the --apply-fix command, in the words a run of one process
    prints them (no CLI wrapper reads status.json for them any more)."""
    config, folder, torchrun_ends = run
    torchrun_ends({0: {"state": "failed", "error": OOM, "error_type": "OutOfMemoryFailure", "fix": FIX},
                   1: {"state": TERMINATED}}, root=0)
    folder.write_status("failed", "Stopped.", step=2, max_steps=4)
    assert main(["resume", str(folder.path), "--quiet"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-3:] == [
        f"error: Rank 0 of 2 (pid 100 on vm) failed at step 2: {OOM}",
        "fix: --set training.per_device_train_batch_size=2 --set training.gradient_accumulation_steps=2",
        f"Apply it and restart from the latest checkpoint with: finetune-studio resume {folder.path} --apply-fix"]


def test_the_windows_follower_raises_the_recorded_fix(run, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window follows a detached supervisor: its failure, read from status.json, carries the fix too."""
    config, folder, torchrun_ends = run
    message = f"Rank 0 of 2 (pid 100 on vm) failed at step 2: {OOM}"

    class Supervisor:  # records the failure as the supervisor does, then ends
        pid, returncode = 0, None

        def poll(self) -> int:
            if self.returncode is None:
                launch._record_failure(folder, message, 2, 4, failed_rank=0, fix=FIX)
                self.returncode = 1
            return self.returncode

    monkeypatch.setattr(launch, "start_detached", lambda *args, **kwargs: Supervisor())
    with pytest.raises(TrainingError) as caught:
        launch.resume_and_follow(folder.path, lambda event: None, threading.Event())
    assert (str(caught.value), caught.value.fix.to_dict(), caught.value.run_dir) == (message, FIX, folder.path)
