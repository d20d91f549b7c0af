"""benchmarks/gpu.py on a machine without a CUDA GPU says so and exits 0 (run_all lists it as skipped)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT


@pytest.mark.slow
def test_the_gpu_benchmark_without_a_gpu_says_so_and_exits_0() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the benchmark measures instead")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("SKIPPED: no CUDA GPU on this machine")
    assert "[met]" not in done.stdout and "[MISSED]" not in done.stdout  # no figure pretends to be measured

