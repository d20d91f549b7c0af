"""The pre-flight memory estimate against torch.cuda.max_memory_allocated on a GPU: memory_estimate.py --gpu-only.

A script of its own so run_all keeps its figures apart from the CPU ones (which take a CPU machine's measure, peak
RSS) and keeps the last GPU figures when it runs on a machine without a GPU. Six of memory_estimate's eight
configurations, the four Qwen3-0.6B-shaped ones first (the sizes a user's estimate is about), then the demo's two at
batch 16; the demo at batch 4 is left out: its few MiB of tensors are dwarfed by CUDA's fixed workspaces, which a
first GPU run measured at estimate / max_memory_allocated 0.46 and 0.38 (docs/memory-estimate.md).

    python benchmarks/memory_estimate_gpu.py [--quick]
"""

from __future__ import annotations

import sys

import memory_estimate  # this folder is on sys.path when run as a script
from goals import exit_with


def gpu_configs(configs: list[tuple]) -> list[tuple]:
    """The six of `configs` measured here, Qwen-shaped first: a new list, so memory_estimate.CONFIGS (which
    memory_estimate.py --gpu-only measures, all eight) stays as that module wrote it."""
    return [c for c in configs if c[1] == "qwen"] + [c for c in configs if c[1] == "demo" and c[4] == 16]


if __name__ == "__main__":
    sys.argv[1:1] = ["--gpu-only"]
    exit_with(lambda: memory_estimate.main(gpu_configs(memory_estimate.CONFIGS)))  # a crash exits goals.CRASHED
