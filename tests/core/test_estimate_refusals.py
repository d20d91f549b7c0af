"""`finetune-studio estimate CONFIG` refuses what `finetune-studio validate CONFIG` refuses, in the same words and
with the same exit code (2), before estimating: a learning_rate of [1] or num_train_epochs of 'x' was estimated
('Verdict: fits', exit 0) though validate refuses the config and the run could not start."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import gpus
from finetune_studio.core.cli import main

GIB = 2**30


def problem_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("problem: ")]


@pytest.fixture
def plenty_of_ram(monkeypatch: pytest.MonkeyPatch) -> None:
    table = gpus.GpuTable(cpu=gpus.CpuInfo(cores=2, ram_total_bytes=16 * GIB, ram_available_bytes=8 * GIB))
    monkeypatch.setattr(gpus, "read_gpus", lambda with_cpu=True: table)


@pytest.mark.parametrize(("setting", "said"), [
    ("per_device_train_batch_size: abc",
     "problem: training.per_device_train_batch_size: per_device_train_batch_size must be a whole number (got 'abc'). "
     "To fix: write a whole number, or remove per_device_train_batch_size to use the default."),
    ("learning_rate: [1]", "problem: training.learning_rate: learning_rate must be a number (got [1]). To fix: write a "
                           "number, or remove learning_rate to use the default."),
    ('num_train_epochs: "x"', "problem: training.num_train_epochs: num_train_epochs must be a number (got 'x'). To "
                              "fix: write a number, or remove num_train_epochs to use the default."),
])
def test_estimate_refuses_what_validate_refuses(setting: str, said: str, tmp_path: Path, demo_cache: Path,
                                                plenty_of_ram: None, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(f"training:\n  {setting}\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    validated = problem_lines(capsys.readouterr().out)
    assert validated == [said]
    assert main(["estimate", str(path)]) == 2
    out = capsys.readouterr().out
    assert problem_lines(out) == validated  # the same problems, in the same words
    assert "The estimate waits for a valid config: fix the problem above (the same as validate says)." in out
    assert "Verdict" not in out and "Memory estimate" not in out  # nothing was estimated


def test_every_problem_validate_finds_is_listed(tmp_path: Path, demo_cache: Path, plenty_of_ram: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("training:\n  learning_rate: [1]\n  per_device_train_batch_size: 0\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    validated = problem_lines(capsys.readouterr().out)
    assert len(validated) == 2
    assert main(["estimate", str(path)]) == 2
    out = capsys.readouterr().out
    assert problem_lines(out) == validated
    assert "fix the problems above (the same as validate says)." in out


def test_a_valid_config_is_still_estimated(tmp_path: Path, demo_cache: Path, plenty_of_ram: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("training:\n  learning_rate: 0.0001\n", encoding="utf-8")
    assert main(["estimate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "problem:" not in out and "Verdict: fits (" in out and "of 8.0 GiB free RAM)." in out
