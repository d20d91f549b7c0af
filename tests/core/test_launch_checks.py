"""The launch: section's checks that stop a run before anything starts (or warn), the torchrun lines Copy launch
command gives, and starting again a run that never trained a step. No training here."""

from __future__ import annotations

import json
import shlex
import socket
import sys
from pathlib import Path

import pytest

from finetune_studio.core import gpus, launch
from finetune_studio.core.config import RunConfig, apply_overrides, load_config, save_config
from finetune_studio.core.errors import ERROR, WARNING, ConfigError
from finetune_studio.core.runs import RunFolder


def _config(**launch_fields) -> RunConfig:
    config = RunConfig()
    for key, value in launch_fields.items():
        setattr(config.launch, key, value)
    return config


def _messages(problems, field: str) -> list[str]:
    return [p.message for p in problems if p.field == field]


# ---------------------------------------------------------------------------------------------- FSDP (item 3)
def test_fsdp_with_one_process_is_a_blocking_problem_at_its_field() -> None:
    config = _config()
    config.training["fsdp"] = "full_shard"
    problems = launch.launch_problems(config, gpu_count=0)
    assert [(p.field, p.level) for p in problems] == [("training.fsdp", ERROR)]
    assert problems[0].message == ("FSDP shards the model over several processes; this run has one. To fix: set "
                                   "Processes (Launch tab, launch.processes) to 2 or more, or clear fsdp.")
    assert all(p.field != "training.fsdp" for p in launch.launch_warnings(config))  # said once, as an error
    config.launch.processes = 2
    assert launch.launch_problems(config, gpu_count=0) == []
    config.launch.processes = 1
    config.training["fsdp"] = ""
    assert launch.launch_problems(config, gpu_count=0) == []


# ---------------------------------------------------------------------------------------------- devices (item 9)
@pytest.mark.parametrize("devices, written", [("0,1", "'0,1'"), ("0", "'0'"), ("gpu0", "'gpu0'"), (["a"], "[a]"),
                                              ([True], "[true]"), ([0, -1], "[0, -1]"), ([0.5], "[0.5]"), (1, "1")])
def test_devices_must_be_a_list_of_gpu_numbers(devices, written) -> None:
    messages = _messages(launch.launch_problems(_config(devices=devices), gpu_count=0), "launch.devices")
    assert len(messages) == 1
    assert messages[0].startswith(f"launch.devices must be a list of GPU numbers (like [0, 1]); got {written}.")
    assert "To fix:" in messages[0]


def test_devices_written_as_text_in_yaml_or_set_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_config(RunConfig(), path)
    path.write_text(path.read_text().replace("devices: []", 'devices: "0,1"'))
    config, _ = load_config(path)
    assert config.launch.devices == "0,1"
    assert _messages(launch.launch_problems(config, gpu_count=0), "launch.devices")
    config, _ = apply_overrides(RunConfig(), ["launch.devices=0,1"])
    assert any("got '0,1'" in m for m in _messages(launch.launch_problems(config, gpu_count=0), "launch.devices"))


def test_a_gpu_listed_twice_is_refused_by_the_launch_checks_and_the_hardware_table() -> None:
    problems = launch.launch_problems(_config(devices=[1, 1]), gpu_count=0)
    assert _messages(problems, "launch.devices") == [
        "GPU 1 is listed twice in launch.devices [1, 1]: each process trains on a GPU of its own. To fix: list each "
        "GPU once."]
    table = gpus.GpuTable(gpus=tuple(gpus.Gpu(index=i, name="RTX 4090", total_bytes=24 << 30, used_bytes=0,
                                              free_bytes=24 << 30, utilization=0) for i in (0, 1)))
    found = gpus.device_problems([1, 1, 0], table)
    assert [(p.level, p.message) for p in found] == [
        (ERROR, "GPU 1 is listed twice: each process trains on a GPU of its own. To fix: list each GPU once.")]
    assert gpus.device_problems([0, 1], table) == []


def test_list_fields_refuse_text_and_items_of_the_wrong_type() -> None:
    from finetune_studio.core.validation import _accepts, _declared_field_problems

    assert not _accepts(list[int], "0,1") and not _accepts(list[int], [True]) and not _accepts(list[int], ["a"])
    assert _accepts(list[int], [0, 1]) and _accepts(list[int], [])
    assert not _accepts(list[str], "q_proj") and _accepts(list[str] | None, None)
    assert _accepts(str | list[str], "wandb")  # a union with text still takes text (report_to)
    config = RunConfig()
    config.adapter.modules_to_save = [1]
    assert _messages(_declared_field_problems(config, set()), "adapter.modules_to_save") == [
        "modules_to_save must be a list of texts (got [1]). To fix: write a list of texts."]


# ------------------------------------------------------------------------------------ node_commands (item 12)
@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"nodes": 2}, "launch.rdzv_endpoint", "needs a rendezvous endpoint"),
    ({"nodes": 2, "rdzv_endpoint": "localhost"}, "launch.rdzv_endpoint", "'localhost' is not host:port"),
    ({"nodes": "two", "rdzv_endpoint": "10.0.0.5:29500"}, "launch.nodes", "nodes must be a whole number (got 'two')"),
])
def test_copy_launch_command_refuses_what_validation_refuses(fields, field, words) -> None:
    config = _config(**fields)
    config.name = "shared"
    with pytest.raises(ConfigError) as caught:
        launch.node_commands(config, "/shared/c.yaml")
    assert caught.value.problems == launch.launch_problems(config, gpu_count=0)
    assert any(p.field == field and words in p.message for p in caught.value.problems), caught.value.problems


def test_copy_launch_command_runs_torchrun_with_the_apps_interpreter_even_while_node_0_listens() -> None:
    with socket.socket() as busy:  # this machine's own part started already: its rendezvous port is in use
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = _config(processes=2, nodes=2, rdzv_endpoint=f"127.0.0.1:{port}")
        config.name = "shared"
        lines = launch.node_commands(config, "/shared/c.yaml", "/shared/runs/shared")
    assert len(lines) == 2
    for rank, line in enumerate(lines):
        argv = shlex.split(line)
        assert argv[:3] == [sys.executable, "-m", "torch.distributed.run"]
        assert argv[argv.index("--node-rank") + 1] == str(rank)


def test_one_machine_without_an_endpoint_gets_a_local_port_torchrun_binds_not_the_hostname() -> None:
    line = launch.node_commands(_config(processes=2), "/c.yaml", "/runs/x")[0]
    argv = shlex.split(line)
    assert argv[argv.index("--rdzv-endpoint") + 1] == "127.0.0.1:0"  # port 0: torchrun's store binds a free one


# ---------------------------------------------------------------------------------------------- loopback (item 13)
@pytest.mark.parametrize("endpoint", ["127.0.0.1:29500", "localhost:29500", "[::1]:29500", "127.0.1.1:29500"])
def test_a_loopback_endpoint_for_several_machines_is_a_warning(endpoint) -> None:
    config = _config(nodes=2, rdzv_endpoint=endpoint)
    config.name = "shared"
    assert launch.launch_problems(config, gpu_count=0) == []  # several nodes on this machine stay possible
    said = [p for p in launch.launch_warnings(config) if p.field == "launch.rdzv_endpoint"]
    assert [p.level for p in said] == [WARNING]
    assert said[0].message.startswith("With 2 machines the rendezvous endpoint must be machine 0's network "
                                      "address, not ")
    assert "To fix: give machine 0's address" in said[0].message
    assert launch.launch_warnings(_config(nodes=1, rdzv_endpoint=endpoint)) == []
    config.launch.rdzv_endpoint = "10.0.0.5:29500"
    assert launch.launch_warnings(config) == []


def test_a_rendezvous_timeout_at_a_loopback_address_says_why(tmp_path: Path) -> None:
    log = "torch.distributed.elastic.rendezvous.api.RendezvousTimeoutError"
    said = launch.diagnose(tmp_path, log, 2, 1, "127.0.0.1:29500", 300).message
    assert "127.0.0.1:29500 is this machine's own address, which other machines cannot reach" in said
    assert "own address" not in launch.diagnose(tmp_path, log, 2, 1, "10.0.0.5:29500", 300).message


# ------------------------------------------------------------------------------------------ CPU processes (16)
def test_more_cpu_processes_than_cores_is_a_warning_and_more_than_memory_an_error(monkeypatch) -> None:
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    monkeypatch.setattr(launch, "_cores", lambda: 2)
    monkeypatch.setattr(launch, "_memory_bytes", lambda: 8 << 30)
    monkeypatch.setitem(sys.modules, "torch", sys.modules.get("torch", object()))  # asked only once imported
    said = [p for p in launch.launch_warnings(_config(processes=3)) if p.field == "launch.processes"]
    assert [p.level for p in said] == [WARNING]
    assert said[0].message.startswith("3 processes on a machine without a GPU, which has 2 CPU cores:")
    assert said[0].message.endswith("To fix: set Processes to 2 or fewer.")
    assert launch.launch_warnings(_config(processes=2)) == []
    assert launch.launch_problems(_config(processes=3), gpu_count=0) == []
    problems = launch.launch_problems(_config(processes=1000), gpu_count=0)
    assert _messages(problems, "launch.processes") == [
        "1000 processes cannot start on this machine: each one loads torch and the model (at least 512 MiB each), "
        "and it has 8 GiB of memory. To fix: use at most 16 processes; on the CPU, 2 (its cores) or fewer is "
        "fastest."]


# ---------------------------------------------------------------------------------------------- port (item 21)
def test_a_port_in_use_matters_only_to_a_run_that_uses_torchrun() -> None:
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert launch.launch_problems(_config(rdzv_endpoint=f"localhost:{port}"), gpu_count=0) == []
        problems = launch.launch_problems(_config(processes=2, rdzv_endpoint=f"localhost:{port}"), gpu_count=0)
        assert any(f"Port {port} is in use" in m for m in _messages(problems, "launch.rdzv_endpoint"))


# ---------------------------------------------------------------------------------------------- wording (22, 15)
@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"processes": 2.5}, "launch.processes", "processes must be a whole number (got 2.5). To fix: set processes to "
                                             "a whole number, 1 or more (1: one process, the usual run)."),
    ({"nodes": 2.0}, "launch.nodes", "nodes must be a whole number written without a decimal point: 2, not 2.0. To "
                                     "fix: write 2."),
    ({"processes": True}, "launch.processes", "processes must be a whole number (got true). To fix: set processes to "
                                              "a whole number, 1 or more (1: one process, the usual run)."),
    ({"processes": 0}, "launch.processes", "processes is 0; it must be 1 or more (1: one process, the usual run). To "
                                           "fix: set processes to 1 or more."),
    ({"node_rank": 1}, "launch.node_rank", "This machine is number 1, but the run has 1 machine: it must be 0. "
                                           "Each machine gets its own number, the first one 0. To fix: set This "
                                           "machine (launch.node_rank) to 0."),
    ({"nodes": 3, "node_rank": 3, "rdzv_endpoint": "10.0.0.5:1"}, "launch.node_rank",
     "This machine is number 3, but the run has 3 machines: it must be a number from 0 to 2. Each machine gets "
     "its own number, the first one 0. To fix: set This machine (launch.node_rank) to a number from 0 to 2."),
    ({"node_rank": -1}, "launch.node_rank", "node_rank is -1; it must be 0 or more (0: the first machine). To fix: "
                                            "set node_rank to 0 or more."),
])
def test_launch_numbers_are_worded_by_what_is_wrong(fields, field, message) -> None:
    config = _config(**fields)
    config.name = "shared"
    assert _messages(launch.launch_problems(config, gpu_count=0), field) == [message]


@pytest.mark.slow  # validate imports the training stack
@pytest.mark.parametrize(("value", "message"), [
    (1e9, "max_length 1,000,000,000 tokens is far beyond any model's context (the longest take about 10,000,000, "
          "most 4,096 to 131,072). To fix: use the model's context length or less; the seed uses 512."),
    (512.0, "max_length must be a whole number written without a decimal point: 512, not 512.0. To fix: write 512."),
    (0, "max_length must be a whole number above 0 (got 0); the seed uses 512. To fix: set max_length to the model's "
        "context length or less, such as 512."),
])
def test_max_length_is_worded_by_what_is_wrong(value, message) -> None:
    from finetune_studio.core.validation import validate

    config = RunConfig()
    config.dataset.max_length = value
    assert _messages(validate(config, check_files=False), "dataset.max_length") == [message]


# ------------------------------------------------------------------------------------- a run that never trained (2)
def _failed_run(runs: Path, name: str, step_events: int = 0, extra: str | None = None) -> RunFolder:
    config = RunConfig()
    config.name, config.runs_dir = name, str(runs)
    folder = RunFolder(runs / name)
    folder.path.mkdir(parents=True)
    save_config(config, folder.config_path)
    events = [{"event": "run_start"}] + [{"event": "step", "step": i + 1} for i in range(step_events)]
    events.append({"event": "end", "state": "failed"})
    folder.metrics_path.write_text("".join(json.dumps(e) + "\n" for e in events))
    (folder.path / launch.LAUNCH_LOG).write_text("RendezvousTimeoutError\n")
    folder.write_status("failed", "The machines never all met", step=step_events)
    if extra:
        (folder.path / extra).write_text("mine")
    return folder


def test_a_run_that_never_trained_a_step_can_be_started_again_under_its_name(tmp_path: Path) -> None:
    from finetune_studio.core.training import new_run_folder

    old = _failed_run(tmp_path, "rdzvtest")
    config = RunConfig()
    config.name, config.runs_dir = "rdzvtest", str(tmp_path)
    _, folder = new_run_folder(config)
    assert folder.path == old.path and list(folder.path.iterdir()) == []  # the old failure's files are gone


@pytest.mark.parametrize(("steps", "extra"), [(2, None), (0, "notes.txt")])
def test_a_run_that_trained_or_holds_other_files_keeps_its_name(tmp_path: Path, steps, extra) -> None:
    from finetune_studio.core.training import new_run_folder

    old = _failed_run(tmp_path, "kept", steps, extra)
    config = RunConfig()
    config.name, config.runs_dir = "kept", str(tmp_path)
    with pytest.raises(ConfigError, match="A run named 'kept' already exists"):
        new_run_folder(config)
    assert old.metrics_path.exists()


def test_the_failure_message_says_how_to_go_on(tmp_path: Path) -> None:
    untrained = _failed_run(tmp_path, "a")
    untrained.write_status("running", "Starting")  # as the launcher sees it while it records the failure
    assert launch._resume_hint(untrained, RunConfig()) == (
        " Nothing was trained, so nothing is lost: start the run again as it is (the same name takes this folder "
        "over).")
    trained = _failed_run(tmp_path, "b", step_events=3)
    assert "start it again under another name" in launch._resume_hint(trained, RunConfig())


def test_fsdp_true_is_taken_as_the_flag_transformers_documents() -> None:
    """TrainingArguments types fsdp as text but takes a bare `--fsdp` (fsdp=True), the form transformers 5 no longer
    calls deprecated and the estimate's FSDP fix writes: validation refused it ("fsdp must be text (got True)"),
    so the fix was never offered. Other non-text values are still refused."""
    from finetune_studio.core.config import default_config
    from finetune_studio.core.validation import validate

    config = default_config()
    config.launch.processes = 2
    config.training["fsdp"] = True
    assert [p.message for p in validate(config) if p.field == "training.fsdp"] == []
    config.training["fsdp"] = 5
    assert any(p.field == "training.fsdp" and "must be" in p.message for p in validate(config))


@pytest.mark.parametrize(("steps", "said"), [
    (0, "start it again as it is; nothing was trained, so the same name takes this folder over: 'finetune-studio "
        "train {runs}/no-checkpoint/config.yaml --runs-dir {runs} --name no-checkpoint'."),
    (3, "start it again under another name, with its settings: 'finetune-studio train {runs}/no-checkpoint/config.yaml "
        "--runs-dir {runs} --name no-checkpoint-2' (this folder, which holds the steps it trained, keeps the name "
        "no-checkpoint)."),
])
def test_resume_without_a_checkpoint_says_how_to_go_on(tmp_path: Path, steps: int, said: str) -> None:
    """Resume of a run with no checkpoint said "Start it again.", which for a run that trained steps led straight
    to "A run named … already exists"; now it says which way works (helper-33's note), as a command (07b0703), whose
    name new_run_folder takes: the run's own folder when nothing was trained, a new one beside it when steps were."""
    import threading

    from finetune_studio.core.errors import FinetuneError
    from finetune_studio.core.training import new_run_folder, resume

    folder = _failed_run(tmp_path, "no-checkpoint", step_events=steps)
    with pytest.raises(FinetuneError) as caught:
        resume(folder.path, lambda _event: None, threading.Event())
    assert str(caught.value) == ("The run no-checkpoint has no complete checkpoint to resume from, so it cannot "
                                 f"resume. To fix: {said.format(runs=tmp_path)}")
    config, _ = load_config(folder.config_path)  # the command's config and --runs-dir, under the name it gives
    config.name, config.runs_dir = str(caught.value).split("--name ")[1].split("'")[0], str(tmp_path)
    _, started = new_run_folder(config)
    assert started.path == tmp_path / config.name and list(started.path.iterdir()) == []
