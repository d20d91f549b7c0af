"""benchmarks/run_all.py's bookkeeping, with tiny fake benchmark scripts in a temporary checkout: its --help, which
runs count as skipped, and which results it keeps in benchmarks/results/. The real benchmarks are not run here
(all of them take about an hour); tests/core/test_launch_gpu_benchmark.py runs the real GPU scripts' skip."""

from __future__ import annotations

import sys
from types import ModuleType

import pytest

from tests.helpers import ROOT


@pytest.fixture
def run_all(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import run_all

    return run_all


def _help(run_all: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> str:
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--help"])
    with pytest.raises(SystemExit) as done:
        run_all.main()
    assert done.value.code == 0
    return capsys.readouterr().out


def test_help_lists_every_benchmark_and_marks_the_gpu_ones(run_all: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture) -> None:
    out = _help(run_all, monkeypatch, capsys)
    assert "benchmarks it runs, in this order, with their arguments:\n" in out
    listed = out.split("benchmarks it runs, in this order, with their arguments:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed[:len(run_all.BENCHMARKS)]] == [b.script for b in run_all.BENCHMARKS]
    assert "  gpu.py                  --steps 50; with --quick: --steps 10  [needs a CUDA GPU]" in listed
    assert "  memory_estimate_gpu.py  no arguments; with --quick: --quick  [needs a CUDA GPU]" in listed
    assert "  parity.py               --steps 100; with --quick: --quick" in listed
    assert ("[needs a CUDA GPU]: on a machine without one the script prints SKIPPED and exits 0, and run_all keeps\n"
            "its last figures measured on a GPU machine (benchmarks/results/), dated and naming that machine.") in out
    assert sum("[needs a CUDA GPU]" in line for line in listed) == 3  # the two GPU scripts and the note


def test_help_is_made_from_the_table_run_all_runs(run_all: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(run_all, "BENCHMARKS", [run_all.Benchmark("a.py", ["--n", "3"], []),
                                                run_all.Benchmark("cuda_thing.py", [], ["--quick"], gpu=True)])
    listed = _help(run_all, monkeypatch, capsys).split("with their arguments:\n", 1)[1].splitlines()
    assert listed[:2] == ["  a.py           --n 3; with --quick: no arguments",
                          "  cuda_thing.py  no arguments; with --quick: --quick  [needs a CUDA GPU]"]
