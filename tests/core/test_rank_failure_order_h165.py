"""Rank 0 of a run of several processes under core.launch's supervisor, failing because another rank ended first
(its next collective: "[gloo/pair.cc:553] Connection closed by peer"), wrote that error as the run's failed status
and end line; the supervisor replaced both with the failing rank's own error a second or two later, and in between
the Runs tab stopped following the run on the wrong error, and the CLI and the window could show it. Such a rank 0
now leaves both to the supervisor (launch._record_failure writes them where rank 0 did not). Rank 0's own error (a
bad batch, out of memory) is still written by rank 0, fix included, and a run of one process is unchanged.

The fast tests run core.training._execute with a body that raises, as rank 0 under torchrun's environment, and
record every status it writes. The slow ones run the demo under real torchrun on 2 CPU processes (gloo), with a
sitecustomize on PYTHONPATH that makes one rank fail on a batch and logs every status.json write of rank 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from finetune_studio.core import training
from finetune_studio.core.config import default_config
from finetune_studio.core.distributed import SUPERVISED_ENV, TERMINATED, Heartbeat, RankInfo
from finetune_studio.core.errors import TrainingError
from finetune_studio.core.runs import RunFolder
from tests.helpers import after_import_site, failing_step, read_events, small_config

PEER = "[../third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection closed by peer [127.0.0.1]:46481"


def _rank_env(monkeypatch: pytest.MonkeyPatch, rank: int | None, world: int = 2, supervisor: int | None = None) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "GROUP_RANK", SUPERVISED_ENV):
        monkeypatch.delenv(name, raising=False)
    if rank is not None:
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", str(world))
        monkeypatch.setenv("LOCAL_RANK", str(rank))
    if supervisor is not None:
        monkeypatch.setenv(SUPERVISED_ENV, str(supervisor))


def _fail_with(exc: BaseException, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[RunFolder, list, str]:
    """_execute with a body that raises `exc`: the run folder, every (state, message) status write, what it raised."""
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    writes: list[tuple[str, str]] = []
    write = RunFolder.write_status

    def recorded(self: RunFolder, state: str, message: str = "", **fields: object) -> None:
        writes.append((state, message))
        write(self, state, message, **fields)

    monkeypatch.setattr(RunFolder, "write_status", recorded)

    def body(*args: object, **kwargs: object) -> None:
        raise exc

    config = default_config()
    config.name = "run"
    with pytest.raises(BaseException) as caught:
        training._execute(config, folder, None, threading.Event(), None, body=body)
    return folder, writes, str(caught.value)


def _ended_process() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_rank_0_failing_on_a_peers_end_leaves_status_and_end_to_the_supervisor(tmp_path: Path, monkeypatch) -> None:
    _rank_env(monkeypatch, 0, supervisor=os.getpid())
    folder, writes, message = _fail_with(RuntimeError(PEER), tmp_path, monkeypatch)
    assert message == PEER  # still raised: worker_main puts it in rank 0's heartbeat
    assert writes == [("running", "Preparing")]
    assert folder.read_status()["state"] == "running"
    assert read_events(folder.path, "end") == []
    assert [e["event"] for e in read_events(folder.path, "run_start")] == ["run_start"]


def test_rank_0s_own_error_is_still_written_by_rank_0_with_its_end(tmp_path: Path, monkeypatch) -> None:
    _rank_env(monkeypatch, 0, supervisor=os.getpid())
    folder, writes, message = _fail_with(ValueError("bad batch: token id 99999 is out of the vocabulary"), tmp_path,
                                         monkeypatch)
    assert message == "bad batch: token id 99999 is out of the vocabulary"
    written = ("Training failed: ValueError: bad batch: token id 99999 is out of the vocabulary (raised in "
               "tests.core.test_rank_failure_order_h165)")
    assert writes == [("running", "Preparing"), ("failed", written)]
    assert [(e["state"], e["message"], e["error_type"]) for e in read_events(folder.path, "end")] == [
        ("failed", written, "ValueError")]


@pytest.mark.parametrize("case", ["one process", "rank 1", "no supervisor", "supervisor gone", "one rank"])
def test_everywhere_else_the_failure_is_written_as_before(case: str, tmp_path: Path, monkeypatch) -> None:
    """One process, another rank (its own files under ranks/ in a real run), a torchrun line run by hand, a
    supervisor no longer there to write, and a torchrun job of one rank: each writes its failure itself."""
    rank, world, supervisor = {"one process": (None, 2, os.getpid()), "rank 1": (1, 2, os.getpid()),
                               "no supervisor": (0, 2, None), "supervisor gone": (0, 2, _ended_process()),
                               "one rank": (0, 1, os.getpid())}[case]
    _rank_env(monkeypatch, rank, world, supervisor)
    folder, writes, message = _fail_with(RuntimeError(PEER), tmp_path, monkeypatch)
    assert message == PEER
    written = f"Training failed: RuntimeError: {PEER} (raised in tests.core.test_rank_failure_order_h165)"
    assert writes == [("running", "Preparing"), ("failed", written)]
    assert [(e["state"], e["message"]) for e in read_events(folder.path, "end")] == [("failed", written)]


@pytest.mark.parametrize(("error", "peer_state", "left"), [
    (RuntimeError("Connection reset by peer"), None, True),
    (RuntimeError("[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=9, OpType=ALLREDUCE)"),
     None, True),
    (BrokenPipeError(32, "Broken pipe"), None, True),
    (RuntimeError("an error of its own wording"), "failed", True),  # rank 1 said it failed first
    (RuntimeError("an error of its own wording"), TERMINATED, True),
    (RuntimeError("an error of its own wording"), "running", False),
    (ValueError("bad batch"), None, False),
    (KeyboardInterrupt(), "failed", False),
])
def test_which_failures_are_a_peers(error: BaseException, peer_state: str | None, left: bool, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    if peer_state:
        Heartbeat(run_dir, RankInfo(1, 2, 1, 0)).write(peer_state)
    env = {"RANK": "0", "WORLD_SIZE": "2", SUPERVISED_ENV: str(os.getpid())}
    assert training.peer_failure_left_to_supervisor(error, run_dir, env) is left


def test_a_peer_error_wrapped_by_advice_is_found_through_its_cause(tmp_path: Path) -> None:
    try:
        try:
            raise RuntimeError(PEER)
        except RuntimeError as inner:
            raise TrainingError("The model's forward pass (DistributedDataParallel) raised RuntimeError") from inner
    except TrainingError as outer:
        error = outer
    env = {"RANK": "0", "WORLD_SIZE": "2", SUPERVISED_ENV: str(os.getpid())}
    assert training.peer_failure_left_to_supervisor(error, tmp_path, env)


# ---------------------------------------------------------------------------------------------- real torchrun
BAD_BATCH = 'ValueError("bad batch: token id 99999 is out of the vocabulary")'
# Rank 0 logs every status it writes (state, message) to the file H165_WRITES names.
LOG_WRITES = """
if os.environ.get("RANK") == "0" and os.environ.get("H165_WRITES"):
    write = module.RunFolder.write_status

    def write_status(self, state, message="", **fields):
        with open(os.environ["H165_WRITES"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps([state, message]) + "\\n")
        return write(self, state, message, **fields)

    module.RunFolder.write_status = write_status
"""


def _run_failing(rank: int, small_dataset: Path, runs_dir: Path, tmp_path: Path, monkeypatch) -> tuple:
    """The demo on 2 processes with `rank` failing at step 4: the run folder, the error, what the sink got, every
    status rank 0 wrote, and every status.json message a poller saw."""
    from finetune_studio.core import launch
    from tests.core.test_launch_processes import run_processes

    inject = after_import_site(tmp_path / "inject", transformers__trainer=failing_step(rank, 4, BAD_BATCH),
                               finetune_studio__core__runs=LOG_WRITES)
    writes = tmp_path / "writes.jsonl"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(inject), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("H165_WRITES", str(writes))
    config = small_config(small_dataset, runs_dir, max_steps=8, save_steps=2, eval_strategy="no",
                          load_best_model_at_end=False, per_device_train_batch_size=4, logging_steps=1)
    config.name, config.launch.processes = f"rank-{rank}-fails", 2
    run_dir = runs_dir / config.name
    polled: list[str] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            message = RunFolder(run_dir).read_status().get("message")
            if isinstance(message, str) and (not polled or polled[-1] != message):
                polled.append(message)
            done.wait(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    said: list[dict] = []
    try:
        with pytest.raises(TrainingError) as caught:
            launch.run(config, said.append)
    finally:
        done.set()
        poller.join()
    assert run_processes(run_dir) == []
    rank_0_writes = [tuple(json.loads(line)) for line in writes.read_text(encoding="utf-8").splitlines()]
    return run_dir, str(caught.value), said, rank_0_writes, polled


@pytest.mark.slow
def test_a_peers_failure_is_never_rank_0s_connection_error(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                                           tmp_path: Path, monkeypatch) -> None:
    run_dir, message, said, rank_0_writes, polled = _run_failing(1, small_dataset, runs_dir, tmp_path, monkeypatch)
    assert message.startswith("Rank 1 of 2 (pid ") and " failed at step 4: " in message
    assert "ValueError: bad batch: token id 99999 is out of the vocabulary" in message
    assert "Connection closed by peer" not in message
    assert [state for state, _ in rank_0_writes if state == "failed"] == []  # rank 0 left it to the supervisor
    assert not [m for m in polled if "Connection closed" in m or "Check the model" in m], polled
    ends = read_events(run_dir, "end")
    assert [(e["state"], e["message"], e["failed_rank"], e["error_type"]) for e in ends] == [
        ("failed", message, 1, "RankFailed")]
    assert "elapsed_s" not in ends[0]  # the supervisor's line, appended: rank 0 wrote none to replace
    assert [(e["state"], e["message"]) for e in said if e["event"] == "end"] == [("failed", message)]
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["message"], status["failed_rank"]) == ("failed", message, 1)


@pytest.mark.slow
def test_rank_0s_own_failure_is_still_said_with_its_own_error(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                                              tmp_path: Path, monkeypatch) -> None:
    run_dir, message, said, rank_0_writes, polled = _run_failing(0, small_dataset, runs_dir, tmp_path, monkeypatch)
    assert message.startswith("Rank 0 of 2 (pid ") and " failed at step 4: " in message
    assert "ValueError: bad batch: token id 99999 is out of the vocabulary" in message
    failed = [text for state, text in rank_0_writes if state == "failed"]
    assert len(failed) == 1 and "ValueError: bad batch: token id 99999" in failed[0]  # rank 0 wrote its own
    assert not [m for m in polled if "Connection closed" in m], polled
    ends = read_events(run_dir, "end")
    assert [(e["state"], e["message"], e.get("failed_rank")) for e in ends] == [
        ("failed", failed[0], None), ("failed", message, 0)]  # rank 0's own line, then the supervisor's, appended
    assert "elapsed_s" in ends[1]  # rank 0's fields kept: its elapsed time, its fix
    assert [(e["state"], e["message"]) for e in said if e["event"] == "end"] == [("failed", message)]
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["message"], status["failed_rank"]) == ("failed", message, 0)
