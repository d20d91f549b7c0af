"""A run of several processes where one rank fails: rank 0 then fails in its next collective ("Connection closed by
peer") and wrote that error as the run's end in metrics.jsonl, with advice about the model and its data, while the
status named the failing rank's own error. The window's log and the Runs tab showed the wrong error beside the right
one. The supervisor now appends the failing rank's error as the segment's last end, which every reader takes, and
its followers say only that end.
The slow test crashes rank 1 on a batch (a sitecustomize on PYTHONPATH, rank 1 alone) under real torchrun."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.errors import TrainingError
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.session import can_resume
from tests.helpers import after_import_site, failing_step, read_events, small_config

PEER = ("The model's forward pass (DistributedDataParallel) raised RuntimeError at step 5: [gloo/pair.cc:553] "
        "Connection closed by peer [127.0.0.1]:46481. Check the model (and its own code, if it needs "
        "trust_remote_code) and the data it was fed; checkpoints saved before are kept (latest: checkpoint-4), so "
        "Resume continues from there once it is fixed.")
REAL = "Rank 1 of 2 (pid 7 on vm) failed at step 4: Training failed: ValueError: bad batch."


class _Process:
    """A torchrun (or supervisor) stand-in: ends after `polls` polls, running `on_end` as it ends."""

    def __init__(self, polls: int, on_end=None, code: int = 1):
        self.polls, self.on_end, self.returncode = polls, on_end, None
        self.code = code

    def poll(self):
        self.polls -= 1
        if self.polls <= 0 and self.returncode is None:
            if self.on_end:
                self.on_end()
            self.returncode = self.code
        return self.returncode


def _write(path: Path, *events: dict) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")


def test_the_failing_ranks_error_replaces_rank_0s_end_and_is_said_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(launch, "POLL_S", 0.01)
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    _write(folder.metrics_path, {"event": "run_start", "time": 1.0}, {"event": "step", "step": 4, "max_steps": 8})
    offset = folder.metrics_path.stat().st_size
    _write(folder.metrics_path, {"event": "step", "step": 5, "max_steps": 8},
           {"event": "end", "state": "failed", "message": PEER, "step": 4, "max_steps": 8,
            "error_type": "RuntimeError", "fix": {"kind": "batch"}, "time": 2.0, "elapsed_s": 9.5})
    folder.write_status("failed", PEER, step=4, fix={"kind": "batch"})
    said: list[dict] = []
    seen = launch._Seen(said.append)
    assert launch.follow(folder.path, offset, _Process(3), seen) == 1
    assert [e["event"] for e in said] == ["step"]  # rank 0's end is held until the cause is known
    end = launch._record_failure(folder, REAL, seen.step, seen.max_steps, failed_rank=1, end_written=seen.ended,
                                 offset=offset)
    seen.release(end)
    ends = [e for e in said if e["event"] == "end"]
    assert [(e["message"], e["failed_rank"], e["error_type"], e["step"], e["elapsed_s"]) for e in ends] == [
        (REAL, 1, "RankFailed", 4, 9.5)]
    assert "fix" not in ends[0]  # rank 0's advice was for its own, consequential error
    logged = read_events(folder.path, "end")
    assert [e["message"] for e in logged] == [PEER, REAL] and logged[-1] == ends[0]  # appended: the last end counts
    assert [e["event"] for e in map(json.loads, folder.metrics_path.read_text().splitlines())] == [
        "run_start", "step", "step", "end", "end"]
    from finetune_studio.core.metrics import MetricsTally

    tally = MetricsTally()
    for event in read_events(folder.path, "end"):
        tally.add(event)
    assert (tally.end_state, tally.end_message) == ("failed", REAL)  # what the Runs tab and the CLI read
    status = folder.read_status()
    assert (status["state"], status["message"], status["failed_rank"], status["fix"]) == ("failed", REAL, 1, None)


def test_a_window_following_the_supervisor_says_the_replaced_end_only(tmp_path: Path, monkeypatch) -> None:
    """The window follows the supervisor, not torchrun: it may read rank 0's end before the supervisor replaces it."""
    monkeypatch.setattr(launch, "POLL_S", 0.01)
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    _write(folder.metrics_path, {"event": "run_start", "time": 1.0})
    offset = 0
    _write(folder.metrics_path, {"event": "end", "state": "failed", "message": PEER, "step": 4, "time": 2.0})

    def supervisor_ends() -> None:
        launch._record_failure(folder, REAL, 4, 8, failed_rank=1, end_written=True, offset=offset)

    said: list[dict] = []
    assert launch.follow(folder.path, offset, _Process(5, supervisor_ends), said.append) == 1
    assert [(e["event"], e.get("message")) for e in said] == [("run_start", None), ("end", REAL)]


def test_rank_0s_own_failure_keeps_its_fix_and_ends_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(launch, "POLL_S", 0.01)
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    _write(folder.metrics_path, {"event": "end", "state": "failed", "message": "CUDA ran out of memory",
                                 "fix": {"kind": "batch"}, "step": 3, "error_type": "OutOfMemory", "time": 2.0})
    message = "Rank 0 of 2 (pid 6 on vm) failed at step 3: CUDA ran out of memory."
    end = launch._record_failure(folder, message, 3, 8, failed_rank=0, end_written=True, offset=0)
    assert (end["message"], end["fix"], end["error_type"], end["failed_rank"]) == (
        message, {"kind": "batch"}, "OutOfMemory", 0)
    assert read_events(folder.path, "end")[-1] == end  # after rank 0's own line: the log is only appended to


def test_a_finished_or_stopped_end_is_said_at_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(launch, "POLL_S", 0.01)
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    _write(folder.metrics_path, {"event": "end", "state": "stopped", "message": "Stopped at step 2.", "step": 2})
    said: list[dict] = []
    seen = launch._Seen(said.append)
    assert launch.follow(folder.path, 0, _Process(2, code=0), seen) == 0
    assert [(e["event"], e["state"]) for e in said] == [("end", "stopped")] and seen.held is None


BAD_BATCH = 'ValueError("bad batch: token id 99999 is out of the vocabulary")'


@pytest.mark.slow
def test_a_rank_that_fails_on_a_batch_is_named_once_and_the_run_resumes_on_one_process(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from tests.core.test_launch_processes import run_processes

    inject = after_import_site(tmp_path / "inject", transformers__trainer=failing_step(1, 4, BAD_BATCH))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(inject), os.environ.get("PYTHONPATH", "")]))
    config = small_config(small_dataset, runs_dir, max_steps=8, save_steps=2, eval_strategy="no",
                          load_best_model_at_end=False, per_device_train_batch_size=4, logging_steps=1)
    config.name, config.launch.processes = "bad-batch", 2
    run_dir = runs_dir / "bad-batch"
    said: list[dict] = []
    with pytest.raises(TrainingError) as caught:
        launch.run(config, said.append)
    message = str(caught.value)
    assert message.startswith("Rank 1 of 2 (pid ") and " failed at step 4: " in message
    assert "ValueError: bad batch: token id 99999 is out of the vocabulary" in message
    assert message.endswith("Resume continues from checkpoint-4 with the same 2 training processes.")
    assert "Connection closed by peer" not in message
    ends = [e for e in said if e["event"] == "end"]
    assert [(e["state"], e["message"], e["failed_rank"]) for e in ends] == [("failed", message, 1)]
    assert [(e["state"], e["message"]) for e in read_events(run_dir, "end")] == [("failed", message)]
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3, 4]  # rank 0's lines alone, each once
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["message"], status["failed_rank"]) == ("failed", message, 1)
    assert can_resume("failed", run_dir)
    assert run_processes(run_dir) == []

    # Resumed on one process (the config in the run folder edited): it trains on from checkpoint-4 to the end.
    monkeypatch.delenv("PYTHONPATH")
    config_path = RunFolder(run_dir).config_path
    config_path.write_text(config_path.read_text(encoding="utf-8").replace("processes: 2", "processes: 1"),
                           encoding="utf-8")
    from finetune_studio.core.training import resume

    result = resume(run_dir)
    assert (result.state, result.step) == ("finished", 8), result.message
    assert [e["start_step"] for e in read_events(run_dir, "train_begin")] == [0, 4]
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, 9))
    assert run_processes(run_dir) == []
