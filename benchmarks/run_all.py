"""Run every benchmark and write docs/performance.md: one table of the goal lines, the machine, full outputs.

    python benchmarks/run_all.py            # all benchmarks (several minutes)
    python benchmarks/run_all.py parity     # only those whose name contains "parity"

Each benchmark prints its results as lines `what: value (goal ...)`; those lines make the table.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "performance.md"
BENCHMARKS: list[tuple[str, list[str]]] = [
    ("parity.py", ["--full"]),  # the demo recipe itself: 40-step runs are mostly eval/save noise here
    ("throughput.py", []),
    ("startup.py", []),
    ("first_step.py", []),  # launch -> first optimizer step with Start pressed at once, vs the script
    ("ui_latency.py", []),
    ("overhead.py", []),  # 300 steps each in turns of 5, two rounds (~6 min)
    ("chart.py", []),
    ("data_prep.py", []),
]
GOAL_LINE = re.compile(r"^(?P<what>[^:\n]+): (?P<value>.+?) \(goal (?P<goal>[^)]+)\)\s*$", re.M)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
        versions = f"torch {torch.__version__}"
    except ImportError:
        gpu, versions = "unknown", ""
    import transformers

    return (f"{cpu}, {os.cpu_count()} cores, {gpu}; Python {platform.python_version()}, {versions}, "
            f"transformers {transformers.__version__}, {platform.system()} {platform.release()}")


def main() -> None:
    wanted = sys.argv[1:]
    sections, rows = [], []
    for script, args in BENCHMARKS:
        if wanted and not any(w in script for w in wanted):
            continue
        path = ROOT / "benchmarks" / script
        if not path.exists():
            rows.append((script, "not present", "", ""))
            continue
        print(f"running {script}…", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(path), *args], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")})
        seconds = time.perf_counter() - started
        output = result.stdout.strip() or result.stderr.strip()[-3000:]
        found = list(GOAL_LINE.finditer(result.stdout))
        for match in found:
            rows.append((script, match["what"].strip(), match["value"].strip(), match["goal"].strip()))
        if result.returncode != 0:
            rows.append((script, f"failed (exit {result.returncode})", "", ""))
        sections.append(f"### {script} ({seconds:.0f} s)\n\n```\n{output}\n```\n")
    lines = [
        "# Performance",
        "",
        f"Regenerate with `python benchmarks/run_all.py` (this file is its output). Measured "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on: {machine()}.",
        "Ratios compare runs made in the same invocation, so they hold across machines better than the raw numbers.",
        "",
        "| benchmark | measure | value | goal |",
        "|---|---|---|---|",
        *[f"| {s} | {w} | {v} | {g} |" for s, w, v, g in rows],
        "",
        "## Full output",
        "",
        *sections,
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
