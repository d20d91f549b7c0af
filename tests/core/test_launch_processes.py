"""Two real training processes under torchrun on the CPU (gloo), a few steps of the demo model each: training to
the end, Stop and Resume across both ranks, a killed rank, two "nodes" meeting on localhost, and a rendezvous
that never completes. Every test ends by listing the processes: none of the run's may be left."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import save_config
from finetune_studio.core.distributed import read_heartbeats, stop_path
from finetune_studio.core.errors import TrainingError
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.session import can_resume
from tests.helpers import ROOT, free_port, read_events, small_config

pytestmark = pytest.mark.slow


def _config(small_dataset: Path, runs_dir: Path, name: str, **training):
    config = small_config(small_dataset, runs_dir, per_device_train_batch_size=4, **training)
    config.launch.processes = 2
    config.name = name
    return config


def run_processes(run_dir: Path) -> list[str]:
    """Every process on this machine whose command line names the run folder (torchrun, its ranks, a supervisor)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if str(run_dir) in cmdline and proc.pid != os.getpid():
            found.append(f"{proc.pid}: {cmdline}")
    return found


def test_two_processes_stop_at_the_same_step_and_resume_to_the_end(demo_cache: Path, small_dataset: Path,
                                                                   runs_dir: Path) -> None:
    config = _config(small_dataset, runs_dir, "stop-resume", max_steps=30, eval_steps=15, save_steps=150,
                     logging_steps=1)  # enough steps that Stop lands mid-run on an idle machine too
    run_dir = runs_dir / "stop-resume"
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event.get("event") == "step" and event["step"] >= 2:
            stop.set()  # the window's Stop: the follower turns it into the stop file

    result = launch.run(config, sink, stop)
    assert result.state == "stopped", result.message
    step = result.step
    assert 2 <= step < 30
    beats = read_heartbeats(run_dir)
    assert sorted(beats) == [0, 1]
    assert [(b["state"], b["step"]) for b in beats.values()] == [("stopped", step)] * 2  # one step for both
    checkpoint = run_dir / f"checkpoint-{step}"
    assert (checkpoint / "trainer_state.json").is_file()
    assert (checkpoint / "rng_state_0.pth").is_file() and (checkpoint / "rng_state_1.pth").is_file()
    assert not stop_path(run_dir).exists()
    assert RunFolder(run_dir).read_status()["state"] == "stopped"
    assert can_resume("stopped", run_dir)

    result = launch.resume(run_dir)
    assert result.state == "finished" and result.step == 30
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, 31))  # each step recorded once
    assert [e["start_step"] for e in read_events(run_dir, "train_begin")] == [0, step]
    beats = read_heartbeats(run_dir)
    assert beats[0]["weights"] == beats[1]["weights"]  # the ranks' weights stayed in sync
    assert (run_dir / "model" / "config.json").is_file()
    assert not (run_dir / "ranks" / "rank-1.model").exists()
    assert run_processes(run_dir) == []


def test_a_killed_rank_fails_the_run_with_its_name_and_leaves_it_resumable(demo_cache: Path, small_dataset: Path,
                                                                           runs_dir: Path) -> None:
    config = _config(small_dataset, runs_dir, "killed", max_steps=400, eval_strategy="no",
                     load_best_model_at_end=False, save_steps=2)
    run_dir = runs_dir / "killed"
    outcome: dict = {}

    def train() -> None:
        try:
            outcome["result"] = launch.run(config)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            outcome["error"] = exc

    thread = threading.Thread(target=train, daemon=True)
    thread.start()
    deadline = time.monotonic() + 240
    victim = None
    while time.monotonic() < deadline and thread.is_alive():
        beat = read_heartbeats(run_dir).get(1, {})
        if RunFolder(run_dir).latest_checkpoint() is not None and beat.get("step", 0) >= 3:
            victim = beat["pid"]
            break
        time.sleep(0.2)
    assert victim is not None, f"rank 1 never reached step 3: {outcome}"
    os.kill(victim, signal.SIGKILL)
    thread.join(120)
    assert not thread.is_alive()
    error = outcome.get("error")
    assert isinstance(error, TrainingError), outcome
    assert str(error).startswith(f"Rank 1 of 2 (pid {victim} on ")
    assert "killed (SIGKILL)" in str(error) and "Resume continues from checkpoint-" in str(error)
    status = RunFolder(run_dir).read_status()
    assert status["state"] == "failed" and status["failed_rank"] == 1 and status["message"] == str(error)
    assert read_events(run_dir, "end")[-1]["state"] == "failed"
    assert can_resume(status["state"], run_dir)
    assert run_processes(run_dir) == []


def test_two_nodes_meet_at_a_c10d_rendezvous_on_localhost(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                                          tmp_path: Path) -> None:
    config = _config(small_dataset, runs_dir, "two-nodes", max_steps=4, eval_steps=4, save_steps=4)
    config.launch.processes, config.launch.nodes = 1, 2
    config.launch.rdzv_endpoint = f"localhost:{free_port()}"
    save_config(config, tmp_path / "two-nodes.yaml")
    run_dir = runs_dir / "two-nodes"
    lines = launch.node_commands(config, tmp_path / "two-nodes.yaml", run_dir)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    nodes = []
    for line in lines:  # each machine's line from Copy launch command, run as it is
        argv = shlex.split(line)
        nodes.append(subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True))
    try:
        outputs = [node.communicate(timeout=400)[0] for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    assert [node.returncode for node in nodes] == [0, 0], "\n".join(o[-3000:] for o in outputs)
    status = RunFolder(run_dir).read_status()
    assert status["state"] == "finished" and status["step"] == 4
    beats = read_heartbeats(run_dir)
    assert sorted(beats) == [0, 1] and sorted(b["node_rank"] for b in beats.values()) == [0, 1]
    assert all(b["world_size"] == 2 and b["state"] == "finished" for b in beats.values())
    assert beats[0]["weights"] == beats[1]["weights"]
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3, 4]
    assert run_processes(run_dir) == []


def test_a_rendezvous_that_never_completes_times_out_with_a_message(demo_cache: Path, small_dataset: Path,
                                                                    runs_dir: Path) -> None:
    config = _config(small_dataset, runs_dir, "alone", max_steps=4)
    config.launch.processes, config.launch.nodes = 1, 2  # node 1 is never started
    config.launch.rdzv_endpoint = f"127.0.0.1:{free_port()}"
    config.launch.join_timeout = 5  # the run's own setting reaches torchrun and every message
    started = time.monotonic()
    said: list[tuple[dict, str]] = []  # what the window and the CLI show while it waits, and the run's status

    def sink(event: dict) -> None:
        said.append((event, RunFolder(runs_dir / "alone").read_status().get("message", "")))

    with pytest.raises(TrainingError, match="never all met") as caught:
        launch.run(config, sink)
    waiting = (f"Waiting for all 2 machines to join at {config.launch.rdzv_endpoint} (up to 5 s): start this run on "
               "the other machines with their lines (Copy launch command, or finetune-studio launch-command)")
    assert [(e["event"], e["phase"], e["message"], status) for e, status in said if e["event"] == "phase"] == [
        ("phase", "rendezvous", waiting, waiting)]
    assert time.monotonic() - started < 120
    assert f"waited 5 s at {config.launch.rdzv_endpoint}" in str(caught.value)
    run_dir = runs_dir / "alone"
    status = RunFolder(run_dir).read_status()
    assert status["state"] == "failed" and "never all met" in status["message"]
    assert read_heartbeats(run_dir) == {}  # no rank ever started
    assert run_processes(run_dir) == []
    assert "start the run again as it is (the same name takes this folder over)" in str(caught.value)
    from finetune_studio.core.training import new_run_folder

    assert new_run_folder(config)[1].path == run_dir  # and so it does: nothing had trained


def test_one_process_under_the_launcher_stops_and_resumes(demo_cache: Path, small_dataset: Path,
                                                          runs_dir: Path) -> None:
    """The path of a run on one chosen GPU other than 0 (core.launch.needs_own_process), on the CPU: torchrun with
    one rank trains the run, and the window's Stop (the stop file) still stops it with a checkpoint."""
    config = _config(small_dataset, runs_dir, "one-rank", max_steps=30, eval_steps=15, save_steps=150,
                     logging_steps=1)
    config.launch.processes = 1
    run_dir = runs_dir / "one-rank"
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event.get("event") == "step" and event["step"] >= 2:
            stop.set()

    result = launch.run(config, sink, stop)
    assert result.state == "stopped", result.message
    assert 2 <= result.step < 30
    beats = read_heartbeats(run_dir)
    assert sorted(beats) == [0] and beats[0]["world_size"] == 1
    assert (beats[0]["state"], beats[0]["step"]) == ("stopped", result.step)
    result = launch.resume(run_dir)
    assert result.state == "finished" and result.step == 30
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, 31))
    assert run_processes(run_dir) == []


def test_a_sigkilled_supervisor_leaves_no_rank_running(demo_cache: Path, small_dataset: Path,
                                                       runs_dir: Path) -> None:
    """The window's way to start a run (a detached supervisor), then SIGKILL of that supervisor, which runs no
    clean-up of its own: torchrun and both ranks must end too (the parent-death signal), checked by listing."""
    import psutil

    config = _config(small_dataset, runs_dir, "orphans", max_steps=100_000, eval_strategy="no",
                     load_best_model_at_end=False, save_steps=100_000)  # hours: it cannot end by itself here
    folder = launch.claim(config)
    supervisor = launch.start_detached(folder.path)
    try:
        deadline = time.monotonic() + 240
        beats: dict = {}
        while time.monotonic() < deadline and supervisor.poll() is None:
            beats = read_heartbeats(folder.path)
            if sorted(beats) == [0, 1] and all(b.get("step", 0) >= 1 for b in beats.values()):
                break
            time.sleep(0.2)
        assert sorted(beats) == [0, 1], f"the ranks never trained: {beats}"
        tree = [child.pid for child in psutil.Process(supervisor.pid).children(recursive=True)]
        ranks = [beats[0]["pid"], beats[1]["pid"]]
        assert set(ranks) <= set(tree) and len(tree) >= 3  # torchrun and its two ranks
        os.kill(supervisor.pid, signal.SIGKILL)
        supervisor.wait(10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (run_processes(folder.path) or any(map(psutil.pid_exists, tree))):
            time.sleep(0.5)
        left = [pid for pid in tree if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
        assert run_processes(folder.path) == [] and left == [], (run_processes(folder.path), left)
        assert {b["state"] for b in read_heartbeats(folder.path).values()} == {"terminated"}
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        for proc in psutil.process_iter(["cmdline"]):  # a failed check must not leave the run training
            if str(folder.path) in " ".join(proc.info.get("cmdline") or []) and proc.pid != os.getpid():
                proc.kill()


def test_a_stop_pressed_as_the_window_starts_or_resumes_ends_the_run_before_its_first_step(demo_cache: Path,
                                                                                          small_dataset: Path,
                                                                                          runs_dir: Path) -> None:
    """The window's Start and Resume (a detached supervisor it follows) with Stop pressed at once, while the
    supervisor is still starting (then the window closed, for the Resume): the stop file written then must not be
    cleared by the supervisor, and every rank ends as training begins, before its first step: nothing trained or
    saved (it used to train step 1 and save checkpoint-1). A stale stop file (a crashed supervisor's) must not stop
    the next segment."""
    from finetune_studio.core.distributed import request_stop

    config = _config(small_dataset, runs_dir, "stop-at-start", max_steps=40, eval_strategy="no",
                     load_best_model_at_end=False, save_steps=100, logging_steps=1)
    run_dir = runs_dir / "stop-at-start"
    stop = threading.Event()
    stop.set()  # Stop pressed right after Start ("Preparing…")
    result = launch.start_and_follow(config, lambda event: None, stop)
    assert (result.state, result.step) == ("stopped", 0), result.message
    assert result.message.startswith("Stopped before training began: nothing was trained or saved.")
    assert not list(run_dir.glob("checkpoint-*")) and read_events(run_dir, "step") == []
    assert {b["state"] for b in read_heartbeats(run_dir).values()} == {"stopped"}  # both ranks ended well
    assert not stop_path(run_dir).exists()

    stop = threading.Event()  # Start again under the same name (the folder is taken over), stopped mid-run
    result = launch.start_and_follow(config, lambda event: stop.set() if event.get("step") == 2 else None, stop)
    assert result.state == "stopped" and 2 <= result.step < 40, result.message
    at = result.step
    assert (run_dir / f"checkpoint-{at}" / "trainer_state.json").is_file()

    stop, detach = threading.Event(), threading.Event()
    stop.set()  # Stop pressed right after Resume, then the window closed: the run goes on unseen, and stops
    detach.set()
    result = launch.resume_and_follow(run_dir, lambda event: None, stop, detach=detach)
    assert result.state == "running", result.message
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and (run_processes(run_dir) or RunFolder(run_dir).read_status().get("state")
                                           == "running"):
        time.sleep(0.5)
    status = RunFolder(run_dir).read_status()
    assert (status["state"], status["step"], status["max_steps"]) == ("stopped", at, 40), status
    assert status["message"] == (f"Stopped before training resumed: the run is still at step {at} of 40; Resume "
                                 f"continues from checkpoint-{at}.")
    assert [p.name for p in run_dir.glob("checkpoint-*")] == [f"checkpoint-{at}"]

    request_stop(run_dir)  # left behind, as by a supervisor that crashed: not a Stop of the next Resume
    result = launch.resume_and_follow(run_dir, lambda event: None, threading.Event())
    assert (result.state, result.step) == ("finished", 40), result.message
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, 41))
    assert not stop_path(run_dir).exists()
    assert run_processes(run_dir) == []


def test_a_one_machine_run_binds_its_own_port_as_torchrun_starts(demo_cache: Path, small_dataset: Path,
                                                                 runs_dir: Path) -> None:
    """The port of a one-machine rendezvous is not chosen ahead of torchrun (the app has no port chooser left):
    here a port another program holds, as a port chosen ahead could be by the time torchrun binds it, and the run
    still trains to the end on a port torchrun bound itself."""
    import socket

    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    config = _config(small_dataset, runs_dir, "own-port", max_steps=2, eval_steps=2, save_steps=2)
    config.launch.join_timeout = 20
    run_dir = runs_dir / "own-port"
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("result", launch.run(config)), daemon=True)
    try:
        thread.start()
        thread.join(240)
    finally:
        taken.close()
    assert not thread.is_alive(), "the run did not end within 240 s"
    result = outcome.get("result")
    assert result is not None and (result.state, result.step) == ("finished", 2), outcome
    assert f"127.0.0.1:{port}" not in (run_dir / "launch.log").read_text()
    assert "--rdzv-endpoint 127.0.0.1:0" in (run_dir / "launch.log").read_text()
    assert run_processes(run_dir) == []
