"""`finetune-studio launch-command`: it refuses what `validate` refuses, in validate's words, and prints validate's
warnings on stderr before the lines (stdout keeps the lines alone, to copy). The checks of this machine alone (its
GPUs and memory, a port in use, its files) apply where machine 0's line runs here, and are left out, with a note,
where the lines run on other machines."""

from __future__ import annotations

import shlex
import socket
from pathlib import Path

import pytest

from finetune_studio.core import launch
from finetune_studio.core.cli import EXIT_CONFIG, main
from finetune_studio.core.config import RunConfig, save_config
from finetune_studio.core.validation import validate, warnings_for


@pytest.fixture(autouse=True)
def _a_machine_without_gpus_and_8_gib(monkeypatch) -> None:
    monkeypatch.setattr(launch, "_gpu_count", lambda: 0)
    monkeypatch.setattr(launch, "_memory_bytes", lambda: 8 << 30)  # at most 16 processes start here


def _write(tmp_path: Path, **launch_fields) -> tuple[RunConfig, Path]:
    config = RunConfig()
    config.name = "shared"
    config.runs_dir = str(tmp_path / "runs")
    for key, value in launch_fields.items():
        setattr(config.launch, key, value)
    path = tmp_path / "c.yaml"
    save_config(config, path)
    return config, path


def _run(path: Path, capsys) -> tuple[int, list[str], list[str]]:
    code = main(["launch-command", str(path), "--run-dir", "/r"])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_too_many_processes_for_this_machine_are_refused_in_validates_words(tmp_path: Path, capsys) -> None:
    config, path = _write(tmp_path, processes=1000)  # one machine: its line runs here
    code, out, err = _run(path, capsys)
    assert code == EXIT_CONFIG and out == []
    problems = validate(config)
    assert [p.field for p in problems] == ["launch.processes"]
    assert "1000 processes cannot start on this machine" in problems[0].message
    assert [line for line in err if line.startswith("error: ")] == [f"error: {p}" for p in problems]


def test_every_problem_is_listed_at_once(tmp_path: Path, capsys) -> None:
    config, path = _write(tmp_path, processes="two", nodes=0, join_timeout=-1)
    config.dataset.max_length = 0  # not the launch: section's, and `validate` refuses it all the same
    save_config(config, path)
    code, out, err = _run(path, capsys)
    assert code == EXIT_CONFIG and out == []
    problems = validate(config)
    assert {p.field for p in problems} >= {"launch.processes", "launch.nodes", "launch.join_timeout",
                                           "dataset.max_length"}
    assert [line for line in err if line.startswith("error: ")] == [f"error: {p}" for p in problems]


def test_a_local_endpoint_for_two_machines_prints_validates_warning_before_the_lines(tmp_path: Path, capsys) -> None:
    config, path = _write(tmp_path, processes=2, nodes=2, rdzv_endpoint="127.0.0.1:29531")
    code, out, err = _run(path, capsys)
    assert code == 0 and len(out) == 2 and all("torch.distributed.run" in line for line in out)
    said = [w for w in warnings_for(config) if w.field == "launch.rdzv_endpoint"]
    assert said and "would look for it on themselves and wait 300 s in vain" in said[0].message
    assert f"warning: {said[0]}" in err  # on stderr: the lines on stdout stay copyable as they are
    assert not any(line.startswith("note: ") for line in err)  # every node on this machine: nothing left out


def test_lines_for_other_machines_leave_this_machines_checks_out_and_say_so(tmp_path: Path, capsys) -> None:
    _, path = _write(tmp_path, processes=1000, nodes=2, rdzv_endpoint="10.0.0.5:29500")
    code, out, err = _run(path, capsys)
    assert code == 0
    assert [shlex.split(line)[shlex.split(line).index("--nproc-per-node") + 1] for line in out] == ["1000"] * 2
    notes = [line for line in err if line.startswith("note: ")]
    assert len(notes) == 1 and "machine 0 (10.0.0.5) is not this machine" in notes[0]
    assert "left out" in notes[0] and "1000 processes cannot start on this machine" in notes[0]


def test_lines_for_other_machines_still_refuse_what_the_config_alone_gets_wrong(tmp_path: Path, capsys) -> None:
    config, path = _write(tmp_path, processes=0, nodes=2, rdzv_endpoint="10.0.0.5:29500")
    config.training["learning_rate"] = "fast"
    save_config(config, path)
    code, out, err = _run(path, capsys)
    assert code == EXIT_CONFIG and out == []
    problems = validate(config)
    assert {p.field for p in problems} == {"launch.processes", "training.learning_rate"}
    assert any("processes is 0" in p.message for p in problems)
    assert [line for line in err if line.startswith("error: ")] == [f"error: {p}" for p in problems]


def test_machine_0_here_gets_this_machines_checks_and_a_note_on_the_others(tmp_path: Path, capsys) -> None:
    host = socket.gethostname()  # machine 0's own name: its line runs here
    config, path = _write(tmp_path, processes=1000, nodes=2, rdzv_endpoint=f"{host}:29533")
    code, out, err = _run(path, capsys)
    assert code == EXIT_CONFIG and out == []
    assert [line for line in err if line.startswith("error: ")] == [f"error: {p}" for p in validate(config)]
    config.launch.processes = 2
    save_config(config, path)
    code, out, err = _run(path, capsys)
    assert code == 0 and len(out) == 2
    notes = [line for line in err if line.startswith("note: ")]
    assert len(notes) == 1 and f"are machine 0's ({host})" in notes[0]
    assert "machine 1 runs its line elsewhere, unchecked" in notes[0]
