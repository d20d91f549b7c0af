"""The GPU benchmarks (benchmarks/gpu.py, memory_estimate_gpu.py) on a machine without a CUDA GPU say so and exit 0,
and run_all keeps their last figures measured on a GPU machine instead of replacing them with the skip."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

FIGURE = ("steps/s, app vs plain tutorial script, 1 GPU: 0.963 vs 0.857 (1.12x) (goal >= 0.95x the script; baseline "
          "the plain tutorial script, same invocation) [met]")


def _skip_if_gpu() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the benchmark measures instead")


@pytest.mark.slow
@pytest.mark.parametrize("script", ["gpu.py", "memory_estimate_gpu.py"])
def test_a_gpu_benchmark_without_a_gpu_says_so_and_exits_0(script: str) -> None:
    _skip_if_gpu()
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)], cwd=ROOT / "benchmarks",
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("SKIPPED: no CUDA GPU on this machine")
    assert "[met]" not in done.stdout and "[MISSED]" not in done.stdout  # no figure pretends to be measured


def _copy_with_kept_gpu_run(tmp_path: Path, args: list[str]) -> tuple[Path, dict]:
    """benchmarks/ copied with a kept gpu.py run measured elsewhere (`args`: its arguments)."""
    shutil.copytree(ROOT / "benchmarks", tmp_path / "benchmarks", ignore=shutil.ignore_patterns("results"))
    (tmp_path / "docs").mkdir()
    results = tmp_path / "benchmarks" / "results"
    results.mkdir()
    kept = {"args": args, "code": 0, "seconds": 200.0, "finished": "2026-12-04 14:13 UTC",
            "machine": "16 cores, NVIDIA H200"}
    (results / "gpu.json").write_text(json.dumps(kept))
    (results / "gpu.stdout.txt").write_text(f"1 x NVIDIA H200\n{FIGURE}\n", encoding="utf-8")
    return results, kept


def _run_all(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(tmp_path / "benchmarks" / "run_all.py"), *argv], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_run_all_keeps_the_last_gpu_figures_on_a_machine_without_a_gpu(tmp_path: Path) -> None:
    _skip_if_gpu()
    results, kept = _copy_with_kept_gpu_run(tmp_path, ["--steps", "50"])
    done = _run_all(tmp_path, "gpu.py")
    assert "steps/s, app vs plain tutorial script, 1 GPU: 0.963 vs 0.857 (1.12x)" in done.stdout, done.stderr
    assert "SKIPPED here; kept from 2026-12-04 14:13 UTC on 16 cores, NVIDIA H200" in done.stdout
    assert json.loads((results / "gpu.json").read_text()) == kept
    assert FIGURE in (results / "gpu.stdout.txt").read_text(encoding="utf-8")
    assert not (results / "gpu.stderr.txt").exists()  # the skipped run's stderr is not the measured run's
    docs = (tmp_path / "docs" / "performance.md").read_text(encoding="utf-8")
    assert ("### gpu.py --steps 50 (200 s, exit 0; stderr not kept in this checkout: git keeps only the results' "
            ".json and .stdout.txt; this machine cannot measure it, so these are from the run of 2026-12-04 14:13 UTC "
            "on 16 cores, NVIDIA H200)") in docs
    assert "| gpu.py | steps/s, app vs plain tutorial script, 1 GPU | 0.963 vs 0.857 (1.12x) |" in docs


@pytest.mark.slow
def test_a_quick_run_leaves_the_kept_figures_alone(tmp_path: Path) -> None:
    """--quick checks the wiring: its results go to results/quick/, so it cannot replace a GPU machine's figures
    (before, `run_all.py --quick gpu` overwrote them with a SKIPPED line and the next run had nothing to keep)."""
    _skip_if_gpu()
    results, kept = _copy_with_kept_gpu_run(tmp_path, ["--steps", "50"])
    done = _run_all(tmp_path, "--quick", "gpu.py")
    assert done.returncode == 0, done.stderr
    assert json.loads((results / "gpu.json").read_text()) == kept
    assert FIGURE in (results / "gpu.stdout.txt").read_text(encoding="utf-8")
    assert (results / "quick" / "gpu.stdout.txt").read_text(encoding="utf-8").startswith("SKIPPED:")


@pytest.mark.slow
def test_a_kept_run_of_other_arguments_is_not_shown_as_the_full_run(tmp_path: Path) -> None:
    """Only a kept run of the full run's own arguments stands in for it, as a script not rerun is kept."""
    _skip_if_gpu()
    results, _ = _copy_with_kept_gpu_run(tmp_path, ["--steps", "10"])
    _run_all(tmp_path, "gpu.py")
    assert (results / "gpu.stdout.txt").read_text(encoding="utf-8").startswith("SKIPPED:")
    docs = (tmp_path / "docs" / "performance.md").read_text(encoding="utf-8")
    assert FIGURE.split(":")[0] not in docs and "from the run of 2026-12-04 14:13 UTC" not in docs


def test_memory_estimate_gpu_measures_its_six_without_rewriting_memory_estimates_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """memory_estimate_gpu.py passes its own list to memory_estimate.main: memory_estimate.CONFIGS (all eight, which
    memory_estimate.py --gpu-only measures) stays as that module wrote it (before, it was rewritten in place)."""
    import runpy

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import memory_estimate

    eight, as_written = memory_estimate.CONFIGS, list(memory_estimate.CONFIGS)
    given: dict[str, object] = {}

    def fake_main(configs: list[tuple] | None = None) -> int:
        given.update(configs=configs, argv=sys.argv[1:])
        return 0

    monkeypatch.setattr(memory_estimate, "main", fake_main)
    monkeypatch.setattr(sys, "argv", ["memory_estimate_gpu.py", "--quick"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "benchmarks" / "memory_estimate_gpu.py"), run_name="__main__")
    assert done.value.code == 0
    assert memory_estimate.CONFIGS is eight and memory_estimate.CONFIGS == as_written and len(eight) == 8
    assert [c[0] for c in given["configs"]] == ["qwen-2L full b1", "qwen-2L full+ckpt b2", "qwen-2L lora b2",
                                               "qwen-2L lora+ckpt b2", "demo full b16", "demo lora b16"]
    assert given["argv"] == ["--gpu-only", "--quick"]
