"""benchmarks/run_all.py's bookkeeping, with tiny fake benchmark scripts in a temporary checkout: its --help, which
runs count as skipped, and which results it keeps in benchmarks/results/. The real benchmarks are not run here
(all of them take about an hour); tests/core/test_launch_gpu_benchmark.py runs the real GPU scripts' skip."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import ROOT


@pytest.fixture
def run_all(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import run_all

    return run_all


KEPT = {"args": ["--steps", "50"], "code": 0, "seconds": 200.0, "finished": "2026-12-04 14:13 UTC",
        "machine": "16 cores, NVIDIA H200"}
FIGURE = "steps/s, 1 GPU: 0.963 vs 0.857 (1.12x) (goal >= 0.95x the script; baseline the script, same invocation) [met]"
KEPT_STDOUT = f"1 x NVIDIA H200\n{FIGURE}\n"


@pytest.fixture
def checkout(run_all: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout in tmp_path for run_all, whose table is one GPU benchmark, gpu.py (the fake _script writes)."""
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(run_all, "ROOT", tmp_path)
    monkeypatch.setattr(run_all, "RESULTS", tmp_path / "benchmarks" / "results")
    monkeypatch.setattr(run_all, "OUT", tmp_path / "docs" / "performance.md")
    monkeypatch.setattr(run_all, "machine", lambda: "this test machine")
    monkeypatch.setattr(run_all, "BENCHMARKS", [run_all.Benchmark("gpu.py", ["--steps", "50"], ["--steps", "10"],
                                                                  gpu=True)])
    return tmp_path


def _script(checkout: Path, stdout: str, code: int = 0, stderr: str = "") -> None:
    """The checkout's benchmarks/gpu.py: prints `stdout` and `stderr`, exits with `code`."""
    (checkout / "benchmarks" / "gpu.py").write_text(
        f"import sys\nsys.stdout.write({stdout!r})\nsys.stderr.write({stderr!r})\nsys.exit({code})\n")


def _keep(checkout: Path, meta: dict = KEPT, stdout: str = KEPT_STDOUT) -> Path:
    """A kept gpu.py run in the checkout's benchmarks/results/, as git keeps one (.json and .stdout.txt)."""
    results = checkout / "benchmarks" / "results"
    (results / "gpu.json").write_text(json.dumps(meta))
    (results / "gpu.stdout.txt").write_text(stdout, encoding="utf-8")
    return results


def _run(run_all: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
         *argv: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["run_all.py", *argv])
    code = run_all.main()
    return code, capsys.readouterr().out


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


NOTICE_THEN_SKIPPED = ("a library's notice on stdout\n"
                       "SKIPPED: no CUDA GPU on this machine, nothing to measure. Run it on a GPU machine.\n")


def test_a_skipped_line_after_other_output_is_a_skip(run_all: ModuleType, checkout: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    """The SKIPPED: line need not be the first: a notice printed before it no longer turns the skip into a run that
    'printed no result line' and replaces the kept GPU figures."""
    results = _keep(checkout)
    _script(checkout, NOTICE_THEN_SKIPPED)
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert "  SKIPPED here; kept from 2026-12-04 14:13 UTC on 16 cores, NVIDIA H200" in out
    assert "printed no result line" not in out and "every figure meets its goal" in out and code == 0
    # the kept run's stderr is not in the checkout (git keeps .json and .stdout.txt): no line points at it
    assert "stderr in benchmarks/results/gpu.stderr.txt" not in out
    assert "exit 0; stderr not kept in this checkout" in out
    assert json.loads((results / "gpu.json").read_text()) == KEPT
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8") == KEPT_STDOUT


def test_a_skip_with_nothing_kept_is_not_a_failure(run_all: ModuleType, checkout: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture) -> None:
    _script(checkout, NOTICE_THEN_SKIPPED)
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert "printed no result line" not in out and "every figure meets its goal" in out and code == 0


def test_a_run_that_measured_some_figures_is_no_skip(run_all: ModuleType, checkout: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    """A SKIPPED: line beside a result line (one part measured, another not possible here) is this run's result."""
    results = _keep(checkout)
    measured = ("steps/s, 1 GPU: 1.020 vs 0.990 (1.03x) (goal >= 0.95x the script; baseline the script, same "
                "invocation) [met]\nSKIPPED: all GPUs: this machine has one\n")
    _script(checkout, measured)
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert "SKIPPED here" not in out and "  steps/s, 1 GPU: 1.020 vs 0.990 (1.03x)" in out and code == 0
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8") == measured


def test_a_skipped_line_then_a_crash_is_a_failure(run_all: ModuleType, checkout: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    _script(checkout, NOTICE_THEN_SKIPPED, code=1, stderr="Traceback (most recent call last):\nRuntimeError: boom\n")
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert "  MISSED gpu.py: failed with exit code 1 (see benchmarks/results/gpu.stderr.txt)" in out and code == 1


PARTIAL = ("1 x NVIDIA H200\nsteps/s, 1 GPU: 1.010 vs 0.990 (1.02x) (goal >= 0.95x the script; baseline the script, "
           "same invocation) [met]\n")
CRASH = "Traceback (most recent call last):\n  File \"gpu.py\", line 1\nsubprocess.CalledProcessError: torchrun\n"


def test_a_rerun_that_fails_partway_keeps_the_complete_run_and_puts_its_output_beside_it(
        run_all: ModuleType, checkout: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """gpu.py measured one figure, then crashed: the complete earlier run stays as the script's results (git keeps
    them), the failed run's output is kept as gpu.failed.*, and the summary and the docs say both."""
    results = _keep(checkout)
    _script(checkout, PARTIAL, code=1, stderr=CRASH)
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert code == 1
    assert ("  FAILED here (exit 1); its output in benchmarks/results/gpu.failed.stdout.txt and "
            "benchmarks/results/gpu.failed.stderr.txt; kept the complete run of 2026-12-04 14:13 UTC on 16 cores, "
            "NVIDIA H200") in out
    assert ("  MISSED gpu.py: this run failed (exit 1; see benchmarks/results/gpu.failed.stdout.txt and "
            "benchmarks/results/gpu.failed.stderr.txt); shown: the complete run of 2026-12-04 14:13 UTC on 16 cores, "
            "NVIDIA H200") in out
    assert "failed with exit code" not in out  # said once, as the failure of this run
    assert json.loads((results / "gpu.json").read_text()) == KEPT
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8") == KEPT_STDOUT
    assert not (results / "gpu.stderr.txt").exists()  # the failed run's stderr is not the kept run's
    assert (results / "gpu.failed.stdout.txt").read_text(encoding="utf-8") == PARTIAL
    assert (results / "gpu.failed.stderr.txt").read_text(encoding="utf-8") == CRASH
    assert json.loads((results / "gpu.failed.json").read_text())["code"] == 1
    docs = (checkout / "docs" / "performance.md").read_text(encoding="utf-8")
    assert ("### gpu.py --steps 50 (200 s, exit 0; stderr not kept in this checkout: git keeps only the results' "
            ".json and .stdout.txt; this run failed (exit 1; its output in `benchmarks/results/gpu.failed.stdout.txt`"
            "), so these are from the complete run of 2026-12-04 14:13 UTC on 16 cores, NVIDIA H200)") in docs
    assert "| gpu.py | steps/s, 1 GPU | 0.963 vs 0.857 (1.12x) |" in docs and "1.010 vs 0.990" not in docs
    assert "**Goals missed: 1.**\n- gpu.py: this run failed (exit 1;" in docs
    assert "Written " in docs and " from kept results" in docs  # nothing was measured by this invocation


def test_a_rerun_with_no_result_line_keeps_the_complete_run(run_all: ModuleType, checkout: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    results = _keep(checkout)
    _script(checkout, "1 x NVIDIA H200\n")
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert code == 1 and "  FAILED here (no result line); its output in benchmarks/results/gpu.failed.stdout.txt" in out
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8") == KEPT_STDOUT
    assert (results / "gpu.failed.stdout.txt").read_text(encoding="utf-8") == "1 x NVIDIA H200\n"


def test_the_next_run_that_stands_removes_the_failed_runs_output(run_all: ModuleType, checkout: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture) -> None:
    results = _keep(checkout)
    _script(checkout, PARTIAL, code=1, stderr=CRASH)
    _run(run_all, monkeypatch, capsys, "gpu")
    _script(checkout, PARTIAL)
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert code == 0 and "FAILED here" not in out
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8") == PARTIAL
    assert sorted(p.name for p in results.glob("gpu.failed.*")) == []


@pytest.mark.parametrize("meta, stdout", [
    ({**KEPT, "code": 1}, KEPT_STDOUT),  # the kept run crashed itself: nothing complete to keep
    ({**KEPT, "args": ["--steps", "10"]}, KEPT_STDOUT),  # a run of other arguments is not the full run
    (KEPT, "1 x NVIDIA H200\n"),  # the kept run measured nothing
])
def test_a_failed_rerun_replaces_a_kept_run_that_is_not_complete(run_all: ModuleType, checkout: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture, meta: dict,
                                                                 stdout: str) -> None:
    results = _keep(checkout, meta, stdout)
    _script(checkout, PARTIAL, code=1, stderr=CRASH)
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert code == 1 and "  MISSED gpu.py: failed with exit code 1 (see benchmarks/results/gpu.stderr.txt)" in out
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8") == PARTIAL
    assert not list(results.glob("gpu.failed.*"))


def test_a_rerun_that_misses_a_goal_is_complete_and_replaces_the_kept_run(run_all: ModuleType, checkout: Path,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          capsys: pytest.CaptureFixture) -> None:
    results = _keep(checkout)
    missed = PARTIAL.replace("1.010 vs 0.990 (1.02x)", "0.500 vs 0.990 (0.51x)").replace("[met]", "[MISSED]")
    _script(checkout, missed, code=1)
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert code == 1 and "FAILED here" not in out and "  MISSED gpu.py: steps/s, 1 GPU: 0.500 vs 0.990 (0.51x)" in out
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8") == missed


def test_a_crash_after_a_missed_figure_is_a_failure_not_a_miss(run_all: ModuleType, checkout: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture) -> None:
    """A GPU script (run through goals.exit_with) that printed a MISSED figure and then crashed exits CRASHED, not 1:
    it does not replace the complete run (memory_estimate_gpu's first configurations miss, so this is its case)."""
    from goals import CRASHED

    results = _keep(checkout)
    missed = PARTIAL.replace("[met]", "[MISSED]")
    _script(checkout, missed, code=CRASHED, stderr=CRASH)
    code, out = _run(run_all, monkeypatch, capsys, "gpu")
    assert code == 1 and f"  FAILED here (exit {CRASHED}); its output in benchmarks/results/gpu.failed" in out
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8") == KEPT_STDOUT
    assert (results / "gpu.failed.stdout.txt").read_text(encoding="utf-8") == missed


@pytest.mark.parametrize("script", ["gpu.py", "memory_estimate_gpu.py"])
def test_a_gpu_script_that_raises_exits_crashed_after_its_traceback(script: str, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture) -> None:
    """Python's own exit code for an uncaught exception is 1, a missed goal's; the GPU scripts exit goals.CRASHED."""
    import runpy

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import goals
    import memory_estimate

    def boom(*_args: object) -> int:
        raise RuntimeError("the GPU fell off the bus")

    monkeypatch.setattr(memory_estimate, "main", boom)
    monkeypatch.setattr(sys, "argv", [script])
    monkeypatch.setattr(sys, "path", list(sys.path))  # gpu.py puts the checkout first
    if script == "gpu.py":  # its main: argparse, then torch; fail at the first step instead
        monkeypatch.setattr("argparse.ArgumentParser.parse_args", boom)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "benchmarks" / script), run_name="__main__")
    assert done.value.code == goals.CRASHED == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "RuntimeError: the GPU fell off the bus" in err
