"""core.launch without training: the launch: section's checks, torchrun command lines, and naming a failed rank."""

from __future__ import annotations

import json
import shlex
import socket
import sys
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.config import RunConfig
from finetune_studio.core.distributed import RankInfo, heartbeat_path, trainer_callbacks, worker_main
from tests.helpers import free_port


def _config(**launch_fields) -> RunConfig:
    config = RunConfig()
    for key, value in launch_fields.items():
        setattr(config.launch, key, value)
    return config


def _fields(problems) -> dict[str, str]:
    return {p.field: p.message for p in problems}


def test_the_default_launch_is_one_process_with_no_problem() -> None:
    config = RunConfig()
    assert not launch.uses_torchrun(config)
    assert launch.launch_problems(config, gpu_count=0) == []
    assert launch.launch_problems(config, gpu_count=2) == []


def test_processes_or_several_gpus_make_a_torchrun_run() -> None:
    assert launch.uses_torchrun(_config(processes=2))
    assert launch.processes_per_node(_config(devices=[0, 2])) == 2  # one process per chosen GPU
    assert launch.world_size(_config(processes=2, nodes=3)) == 6


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"processes": 0}, "launch.processes", "1 or more"),
    ({"nodes": 0}, "launch.nodes", "1 or more"),
    ({"nodes": 2, "node_rank": 2, "rdzv_endpoint": "10.0.0.1:29500"}, "launch.node_rank", "0 to 1"),
    ({"nodes": 2}, "launch.rdzv_endpoint", "needs a rendezvous endpoint"),
    ({"nodes": 2, "rdzv_endpoint": "10.0.0.1:29500"}, "name", "needs a name"),
    ({"rdzv_endpoint": "no-port-here"}, "launch.rdzv_endpoint", "not host:port"),
    ({"rdzv_endpoint": "host:70000"}, "launch.rdzv_endpoint", "outside 1-65535"),
    ({"join_timeout": 0}, "launch.join_timeout", "join_timeout is 0; it must be 1 or more (how many seconds"),
    ({"join_timeout": "5 min"}, "launch.join_timeout", "must be a whole number (got '5 min')"),
    ({"join_timeout": 90.5}, "launch.join_timeout", "must be a whole number (got 90.5)"),
])
def test_bad_launch_settings_are_named(fields, field, words) -> None:
    problems = _fields(launch.launch_problems(_config(**fields), gpu_count=0))
    assert field in problems and words in problems[field]


def test_more_processes_than_gpus_is_refused_on_a_gpu_machine_only() -> None:
    problems = _fields(launch.launch_problems(_config(processes=3), gpu_count=2))
    assert "only this machine's 2 GPU(s)" in problems["launch.processes"]
    problems = _fields(launch.launch_problems(_config(processes=3, devices=[1]), gpu_count=4))
    assert "the 1 chosen GPU(s) [1]" in problems["launch.processes"]
    assert launch.launch_problems(_config(processes=2), gpu_count=2) == []
    assert launch.launch_problems(_config(processes=4), gpu_count=0) == []  # CPU: gloo, any number


def test_a_port_in_use_is_refused_before_anything_starts() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problems = _fields(launch.launch_problems(_config(processes=2, rdzv_endpoint=f"127.0.0.1:{port}"),
                                                  gpu_count=0))
        assert f"Port {port} is in use" in problems["launch.rdzv_endpoint"]
    assert launch.launch_problems(_config(processes=2, rdzv_endpoint=f"127.0.0.1:{port}"), gpu_count=0) == []


@pytest.mark.slow  # imports the training stack
def test_validate_reports_launch_problems_with_the_others(demo_cache: Path) -> None:
    from finetune_studio.core.validation import validate

    config = _config(processes=0)
    config.training["learning_rate"] = -1.0
    fields = {p.field for p in validate(config)}
    assert {"launch.processes", "training.learning_rate"} <= fields


def test_the_local_command_is_torchrun_on_the_worker_entry_with_its_endpoint(tmp_path: Path) -> None:
    config = _config(processes=2)
    port = free_port()
    command = launch.local_command(config, tmp_path / "run", f"127.0.0.1:{port}", None)
    assert command[1:3] == ["-m", "torch.distributed.run"]
    text = shlex.join(command)
    assert "--nproc-per-node 2" in text and "--nnodes 1" in text and f"--rdzv-endpoint 127.0.0.1:{port}" in text
    assert command[command.index("--max-restarts") + 1] == "0"
    assert command[-3:] == ["finetune_studio.core.cli", "worker", str(tmp_path / "run")]
    resumed = launch.local_command(config, tmp_path / "run", "127.0.0.1:1", tmp_path / "run" / "checkpoint-4")
    assert resumed[-2:] == ["--resume-from", str(tmp_path / "run" / "checkpoint-4")]


def test_copy_launch_command_gives_one_line_per_machine() -> None:
    config = _config(processes=4, nodes=2, rdzv_endpoint="10.0.0.5:29400")
    config.name = "big"
    lines = launch.node_commands(config, "/shared/big.yaml", "/shared/runs/big")
    assert len(lines) == 2
    for rank, line in enumerate(lines):
        argv = shlex.split(line)
        assert argv[:3] == [sys.executable, "-m", "torch.distributed.run"]  # torchrun is on PATH only in a venv
        assert argv[argv.index("--node-rank") + 1] == str(rank)
        assert argv[argv.index("--nnodes") + 1] == "2" and argv[argv.index("--nproc-per-node") + 1] == "4"
        assert argv[argv.index("--rdzv-endpoint") + 1] == "10.0.0.5:29400"
        assert argv[argv.index("--rdzv-id") + 1] == launch.RDZV_ID
        assert argv[-4:] == ["worker", "/shared/runs/big", "--config", "/shared/big.yaml"]
    resumed = launch.node_commands(config, "/shared/big.yaml", "/shared/runs/big", resume=True)
    assert all(line.endswith("--resume-from latest") for line in resumed)


def test_the_cli_prints_each_machines_line(tmp_path: Path, capsys) -> None:
    from finetune_studio.core.cli import main
    from finetune_studio.core.config import save_config

    config = _config(processes=2, nodes=2, rdzv_endpoint="node0:29500")
    config.name = "shared"
    save_config(config, tmp_path / "c.yaml")
    assert main(["launch-command", str(tmp_path / "c.yaml"), "--run-dir", "/r"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [shlex.split(line)[shlex.split(line).index("--node-rank") + 1] for line in lines] == ["0", "1"]


# ---------------------------------------------------------------------------------------------- naming a rank
TORCHRUN_SUMMARY = """
============================================================
finetune_studio.core.cli FAILED
------------------------------------------------------------
Failures:
[1]:
  time      : 2026-12-02_14:20:01
  host      : vm
  rank      : 0 (local_rank: 0)
  exitcode  : 1 (pid: 111)
  error_file: <N/A>
  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-12-02_14:20:01
  host      : vm
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 222)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 222
============================================================
"""


def _beat(run_dir: Path, rank: int, **fields) -> None:
    path = heartbeat_path(run_dir, rank)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rank": rank, "pid": 100 + rank, "host": "vm", **fields}))


def test_a_killed_rank_is_named_from_torchruns_summary_not_the_rank_it_broke(tmp_path: Path) -> None:
    _beat(tmp_path, 0, state="failed", step=3, error="Training failed: RuntimeError: Connection closed by peer")
    _beat(tmp_path, 1, state="running", step=3)
    failure = launch.diagnose(tmp_path, TORCHRUN_SUMMARY, 2, 1)
    assert failure.rank == 1
    assert failure.message.startswith("Rank 1 of 2 (pid 101 on vm) failed at step 3: its process was killed "
                                      "(SIGKILL)")


def test_a_rank_that_raised_is_named_with_its_error(tmp_path: Path) -> None:
    _beat(tmp_path, 0, state=launch.TERMINATED, step=5)
    _beat(tmp_path, 1, state="failed", step=5, error="Ran out of memory at batch size 8.")
    failure = launch.diagnose(tmp_path, "no summary here", 2, 1)
    assert (failure.rank, failure.message) == (1, "Rank 1 of 2 (pid 101 on vm) failed at step 5: Ran out of "
                                                  "memory at batch size 8.")


DDP_WARNING = ("[rank0]:[W1203 17:40:02.000 reducer.cpp:1400] Warning: find_unused_parameters=True was specified in "
               "DDP constructor, but did not find any unused parameters in the forward pass.")


def test_torchrun_killed_is_said_as_such_not_as_processes_that_could_not_start(tmp_path: Path) -> None:
    """kill -9 of torchrun mid-run: its ranks end with it (SIGTERM, 'terminated'), none failed, and the run said
    'The training processes could not start (torchrun: <a DDP warning>)' (helper-45's hostile test)."""
    _beat(tmp_path, 0, state=launch.TERMINATED, step=5)
    _beat(tmp_path, 1, state=launch.TERMINATED, step=5)
    failure = launch.diagnose(tmp_path, f"some output\n{DDP_WARNING}\n", 2, -9)
    assert (failure.rank, failure.message) == (None, "torchrun, which ran the training processes, was killed "
                                                     "(SIGKILL) at step 5 — by the out-of-memory killer, or a kill "
                                                     "command; its processes ended with it. See launch.log in the run "
                                                     "folder.")
    ended = launch.diagnose(tmp_path, f"{DDP_WARNING}\n", 2, 1)  # it exited by itself, its ranks having started
    assert ended.message == ("The training processes ended at step 5 without an error of their own (torchrun exit "
                             "code 1). See launch.log in the run folder.")
    assert "could not start" in launch.diagnose(tmp_path / "none", "torchrun: error: bad flag\n", 2, 2).message


def test_a_rendezvous_that_never_completes_says_what_to_do(tmp_path: Path) -> None:
    log = "torch.distributed.elastic.rendezvous.api.RendezvousTimeoutError: The node 'x' has timed out"
    failure = launch.diagnose(tmp_path, log, 4, 1, "node0:29500", 30)
    assert failure.rank is None
    assert "waited 30 s at node0:29500" in failure.message and "Copy launch command" in failure.message


# ---------------------------------------------------------------------------------------------- the rank side
def test_rank_info_comes_from_torchruns_environment() -> None:
    assert RankInfo.from_env({}) is None
    info = RankInfo.from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "GROUP_RANK": "1"})
    assert info == RankInfo(3, 4, 1, 1) and not info.is_main


def test_a_one_process_run_gets_no_extra_callback(monkeypatch, tmp_path: Path) -> None:
    import threading

    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert trainer_callbacks(tmp_path, threading.Event()) == []
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert len(trainer_callbacks(tmp_path, threading.Event())) == 1
    monkeypatch.setenv("WORLD_SIZE", "1")  # one process under the launcher (a chosen GPU): Stop is its stop file
    assert len(trainer_callbacks(tmp_path, threading.Event())) == 1


def test_one_chosen_gpu_other_than_0_trains_in_a_fresh_process_that_sees_only_it(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    config = _config(devices=[1])
    assert launch.uses_torchrun(config) and launch.world_size(config) == 1
    command = launch.local_command(config, tmp_path / "run", "127.0.0.1:1", None)
    assert command[command.index("--nproc-per-node") + 1] == "1"
    env = launch.launch_environment(config)
    assert env["CUDA_VISIBLE_DEVICES"] == "1"  # set before the rank's CUDA starts: its cuda:0 is GPU 1
    assert env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"  # numbered as nvidia-smi and the Hardware tab number them
    assert not launch.uses_torchrun(_config())  # the default run trains in the app's process, as before
    assert not launch.uses_torchrun(_config(devices=[0]))  # GPU 0 is the in-process run's cuda:0
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")  # ... unless this process's cuda:0 is another GPU
    assert launch.uses_torchrun(_config(devices=[0]))
    assert launch.launch_environment(_config(devices=[0]))["CUDA_VISIBLE_DEVICES"] == "0"


def test_the_cli_trains_a_run_on_one_chosen_gpu_through_the_launcher(monkeypatch, tmp_path: Path, capsys) -> None:
    from types import SimpleNamespace

    from finetune_studio.core import cli, training
    from finetune_studio.core.config import save_config
    from tests.core.test_gpus_nvml import two_gpus

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    two_gpus(monkeypatch)  # `train` validates the chosen GPU before it launches (NVML faked: GPUs 0 and 1)
    launched: list = []

    def fake_launch(config, sink=None, stop=None):
        launched.append(list(config.launch.devices))
        return SimpleNamespace(state="finished", message="done", run_dir=tmp_path)

    def in_process(*args, **kwargs):
        raise AssertionError("a run on GPU 1 trained in the CLI's own process (on its cuda:0)")

    monkeypatch.setattr(launch, "run", fake_launch)
    monkeypatch.setattr(training, "run", in_process)
    path = tmp_path / "gpu1.yaml"
    save_config(_config(devices=[1]), path)
    assert cli.main(["train", str(path), "--quiet"]) == 0
    assert launched == [[1]]


def test_the_worker_outside_torchrun_says_how_to_start_it(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.delenv("RANK", raising=False)
    assert worker_main(tmp_path) == 2
    assert "torchrun" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- FSDP
@pytest.mark.slow  # imports the training stack
def test_fsdp_with_one_process_or_on_the_cpu_is_said_at_the_field() -> None:
    import torch  # launch_warnings asks torch about GPUs only once it is imported

    from finetune_studio.core.validation import validate, warnings_for

    config = RunConfig()
    config.training["fsdp"] = "full_shard"
    assert "training.fsdp" not in _fields(warnings_for(config))
    assert "this run has one" in _fields(validate(config, check_files=False))["training.fsdp"]  # blocks Start
    config.launch.processes = 2
    said = _fields(launch.launch_warnings(config)).get("training.fsdp", "")
    assert ("data-parallel (DDP) instead" in said) == (not torch.cuda.is_available())
    del config.training["fsdp"]
    assert launch.launch_warnings(config) == []


@pytest.mark.slow  # imports the training stack
def test_fsdp_settings_reach_every_rank_as_training_arguments(tmp_path: Path) -> None:
    """The launch and config path of FSDP: the fsdp / fsdp_config fields of TrainingArguments go unchanged into
    the config each rank trains (the installed accelerate runs FSDP on GPUs only; on this CPU it would be DDP)."""
    from finetune_studio.core.config import load_config, save_config
    from finetune_studio.core.distributed import _training_settings_for_ranks

    config = _config(processes=2)
    config.training.update({"fsdp": True, "fsdp_config": {"transformer_layer_cls_to_wrap": ["Qwen3DecoderLayer"]}})
    save_config(config, tmp_path / "config.yaml")
    loaded, _ = load_config(tmp_path / "config.yaml")
    _training_settings_for_ranks(loaded)
    from finetune_studio.core.training import training_arguments

    args = training_arguments(loaded, tmp_path)
    assert args.fsdp_config["transformer_layer_cls_to_wrap"] == ["Qwen3DecoderLayer"]
    import torch

    assert args.fsdp is True
    assert args.use_cpu is (not torch.cuda.is_available())  # on the CPU: the ranks form one gloo group
    assert launch.uses_torchrun(loaded)


def test_the_cli_lines_name_the_config_by_its_absolute_path(tmp_path: Path, capsys, monkeypatch) -> None:
    """`launch-command c.yaml` printed '--config c.yaml' as typed, which machine 1 (or a shell in another folder)
    cannot find; the window's lines already named the file absolutely (741dfd1)."""
    from finetune_studio.core.cli import main
    from finetune_studio.core.config import save_config

    config = _config(processes=2, nodes=2, rdzv_endpoint="node0:29500")
    config.name = "shared"
    save_config(config, tmp_path / "c.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["launch-command", "c.yaml", "--run-dir", "/r"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [shlex.split(line)[-2:] for line in lines] == [["--config", str(tmp_path / "c.yaml")]] * 2


_SIGTERM_DURING_A_WRITE = """
import os, signal, sys, time
from pathlib import Path
from finetune_studio.core import distributed
real = distributed.atomic_write_json
def write(path, record):
    if record.get("state") == "failed":  # the rank's own write, its heartbeat lock held: torchrun's SIGTERM lands
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(200):
            time.sleep(0.01)  # bytecode boundaries: the handler runs here, inside the write
    real(path, record)
distributed.atomic_write_json = write
os.environ.update(RANK="0", WORLD_SIZE="1")
sys.exit(distributed.worker_main(Path(sys.argv[1])))
"""


def test_sigterm_in_the_middle_of_a_heartbeat_write_still_ends_the_rank_as_terminated(tmp_path: Path) -> None:
    """torchrun's SIGTERM can land while the rank's main thread is inside its own heartbeat write (every 2 s while
    it trains). The handler then runs in that thread with the heartbeat's lock held: it must not wait on that
    lock (it waited forever, torchrun SIGKILLed the rank 30 s later and its heartbeat said 'running' for good,
    the CI failure of test_a_sigkilled_supervisor_leaves_no_rank_running)."""
    import subprocess

    run_dir = tmp_path / "run"  # no config.yaml: the rank fails at once and writes 'failed', the write hit here
    try:
        done = subprocess.run([sys.executable, "-c", _SIGTERM_DURING_A_WRITE, str(run_dir)], capture_output=True,
                              text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the rank hung in its SIGTERM handler")
    assert done.returncode == 128 + 15, done.stderr
    beat = json.loads(heartbeat_path(run_dir, 0).read_text())
    assert beat["state"] == "terminated"
    assert [p.name for p in heartbeat_path(run_dir, 0).parent.iterdir()] == ["rank-0.json"]  # no temp file left


_A_RANK_THAT_FINISHES = """
import sys, types
from pathlib import Path
import torch.distributed as dist
from finetune_studio.core import distributed, training
from finetune_studio.core.config import RunConfig, save_config

def train_in_folder(config, folder, sink, stop, checkpoint):
    # what the Trainer's accelerate state does on a rank: it forms the group, and leaves it formed
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    return types.SimpleNamespace(state="finished", step=3, max_steps=3)

training.train_in_folder = train_in_folder
run_dir = Path(sys.argv[1])
save_config(RunConfig(), run_dir / "config.yaml")
import os
os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")
code = distributed.worker_main(run_dir)
print("code", code, "group left", dist.is_initialized())
"""


def test_a_rank_that_finished_destroys_its_process_group_before_it_exits(tmp_path: Path) -> None:
    """The app never calls Trainer.end() (accelerate's end_training destroys the group there), so worker_main must:
    a gloo group left to the interpreter's exit aborted a rank after a finished run (SIGABRT, 'terminate called
    without an active exception'), which torchrun reports as a failed run."""
    import subprocess

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    done = subprocess.run([sys.executable, "-c", _A_RANK_THAT_FINISHES, str(run_dir)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-5:] == ["code", "0", "group", "left", "False"]
    assert json.loads(heartbeat_path(run_dir, 0).read_text())["state"] == "finished"


def test_the_window_says_what_a_run_of_several_machines_waits_for(demo_cache: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The window starts a run of several machines as a detached supervisor and follows its folder; torchrun's
    wait for the other machines (up to 300 s) is said there first, not only in the supervisor's own log."""
    import threading

    from finetune_studio.core.errors import TrainingError

    config = RunConfig()
    config.name, config.runs_dir = "two-machines", str(tmp_path / "runs")
    config.launch.nodes, config.launch.rdzv_endpoint = 2, "10.0.0.5:29500"

    class Ended:  # the supervisor, gone at once: the follow ends and says so
        pid, returncode = 0, 1

        def poll(self) -> int:
            return 1

    monkeypatch.setattr(launch, "start_detached", lambda *args, **kwargs: Ended())
    events: list[dict] = []
    with pytest.raises(TrainingError, match="supervisor ended"):
        launch.start_and_follow(config, events.append, threading.Event())
    assert [(e["event"], e["phase"], e["message"]) for e in events] == [
        ("phase", "rendezvous", "Waiting for all 2 machines to join at 10.0.0.5:29500 (up to 300 s): start this run "
                                "on the other machines with their lines (Copy launch command, or finetune-studio "
                                "launch-command)")]
    config.launch.nodes = 1
    assert launch.rendezvous_phase(config) is None


def test_a_stop_asked_while_the_detached_supervisor_starts_is_kept_and_a_stale_one_is_not(
        demo_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's Stop right after Start or Resume is written as the stop file before the detached supervisor
    gets to torchrun: the supervisor keeps it (rank 0 reads it as training begins). A stale one (a crashed
    supervisor's) is cleared by whoever starts the next segment: start_detached, or the CLI's run and resume (their
    executor)."""
    import subprocess
    import threading
    import types

    from finetune_studio.core.distributed import request_stop, stop_path
    from finetune_studio.core.errors import TrainingError

    config = _config(processes=2)
    config.name, config.runs_dir = "stop-at-start", str(tmp_path / "runs")
    folder = launch.claim(config)
    started: list[tuple[str, bool]] = []  # (what started, whether a Stop was there for it)

    class Started:  # the supervisor or torchrun, ended at once
        pid, returncode = -1, 0

        def __init__(self, command: list[str], **kwargs) -> None:
            started.append(("supervisor" if "supervise" in command else "torchrun", stop_path(folder.path).exists()))

        def poll(self) -> int:
            return 0

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(launch, "subprocess", types.SimpleNamespace(
        Popen=Started, DEVNULL=subprocess.DEVNULL, STDOUT=subprocess.STDOUT, TimeoutExpired=subprocess.TimeoutExpired))
    request_stop(folder.path)  # left by an earlier segment's supervisor that crashed
    launch.start_detached(folder.path)
    request_stop(folder.path)  # the window's Stop, written while the supervisor starts
    with pytest.raises(TrainingError):  # torchrun "ended" without training: a failure, said as one
        launch.supervise(folder.path)
    assert not stop_path(folder.path).exists()  # done with once the segment is over
    request_stop(folder.path)  # stale again, before the CLI's own run or resume
    with pytest.raises(TrainingError):
        launch._executor(None)(config, folder, None, threading.Event(), None, False)
    assert started == [("supervisor", False), ("torchrun", True), ("torchrun", False)]
