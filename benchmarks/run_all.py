"""Run every benchmark, print which figures miss their goal, and write docs/performance.md.

    python benchmarks/run_all.py            # all benchmarks (about 30 minutes on the shared 2-core test VM)
    python benchmarks/run_all.py parity     # rerun those whose name contains "parity"; the others' last full
                                            # results (benchmarks/results/) stay in the docs, dated
    python benchmarks/run_all.py --quick    # each script's small mode: checks the wiring, not the figures
                                            # (its output goes to benchmarks/results/quick/, not kept by git)

Each benchmark prints its figures as `what: value (goal ...; baseline ...) [met|MISSED]` (benchmarks/goals.py);
those lines make the table. Each script's stdout and stderr are kept in benchmarks/results/<script>.stdout.txt
and .stderr.txt (named in the summary), so a failure's traceback is never lost. git keeps the .stdout.txt and the
.json (arguments, exit code, seconds, date) of each, not the .stderr.txt (library noise, local paths): so a rerun of
some benchmarks in a fresh clone keeps the others' last figures in docs/performance.md, dated, as in the checkout
that measured them. Exits 1 when a figure misses its
goal or a script fails or reports nothing, 0 when every goal is met. --quick does not rewrite
docs/performance.md.

A rerun that fails (crashes or is killed, or reports nothing) does not replace a complete earlier run of the same
arguments: that run's results stay in place, and the failed run's go beside them as <script>.failed.json,
.failed.stdout.txt and .failed.stderr.txt, named in the summary and in the docs' section (a GPU run cut short on a
machine lent for minutes would otherwise cost the last complete GPU figures). The next run whose results stand
removes them. Where no complete run is kept, the failed run's results are the script's results, as before.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from goals import LINE, skipped  # this folder is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "performance.md"
RESULTS = ROOT / "benchmarks" / "results"
class Benchmark(NamedTuple):
    """One benchmark run_all can run; --help lists them from BENCHMARKS, so the list there is always this one."""

    script: str
    full: list[str]  # its arguments for the full run, whose results are kept in benchmarks/results/
    quick: list[str]  # its arguments with --quick
    gpu: bool = False  # needs a CUDA GPU: without one it prints SKIPPED and its last GPU figures are kept


BENCHMARKS: list[Benchmark] = [
    # children taking turns of 5 steps, then the edge-case data
    Benchmark("parity.py", ["--steps", "100"], ["--quick"]),
    Benchmark("throughput.py", [], ["--quick"]),  # equal real tokens per step, and time to the seed's final eval loss
    Benchmark("startup.py", [], ["--runs", "1"]),
    Benchmark("first_step.py", [], ["--pairs", "1"]),  # launch -> first optimizer step with Start pressed at once
    Benchmark("ui_latency.py", [], ["--steps", "10"]),
    Benchmark("overhead.py", ["--steps", "150"], ["--steps", "30", "--rounds", "1"]),  # turns of 5 steps, two rounds
    Benchmark("chart.py", [], ["--points", "10000", "--seconds", "2"]),
    Benchmark("data_prep.py", [], ["--rows", "5000"]),
    # the same rows plain and in a .tar.gz: preview, checks, a run's read; the archive's decompression passes
    Benchmark("archive_reads.py", [], ["--rows", "20000", "--notes-mb", "2", "--rounds", "1"]),
    # whole-dataset row checks on 100k conversations, then from the cache
    Benchmark("inspector.py", [], ["--rows", "2000"]),
    # a chat and a prompt/completion run against TRL's SFTTrainer, 40 steps each
    Benchmark("chat_parity.py", [], ["--quick"]),
    Benchmark("kill_resume.py", [], ["--kills", "3", "--steps", "200"]),  # 20 SIGKILLs at random moments, 20 resumes
    Benchmark("stop_latency.py", [], ["--stops", "1", "--steps", "12"]),  # Stop at 8 random moments of demo runs
    Benchmark("compare_latency.py", [], ["--rounds", "1", "--runs", "8", "--steps", "100"]),  # Runs tab compares
    # Try tab vs plain generate (demo + Qwen3-0.6B-shaped): tokens/s, first token; stalls while two answers stream;
    # a long one-paragraph answer's GUI cost a piece (section 3)
    Benchmark("generate.py", [], ["--quick"]),
    # LoRA vs PEFT's script (parity), vs full fine-tuning (peak memory, speed)
    Benchmark("adapters.py", [], ["--quick"]),
    # estimate / peak RSS on 8 CPU configs (demo, Qwen3-0.6B-shaped 2L)
    Benchmark("memory_estimate.py", [], ["--quick"]),
    # 2 torchrun processes vs 1: eval loss, equal weights, Stop/Resume, a kill
    Benchmark("multi_process.py", [], ["--quick"]),
    Benchmark("gpu.py", ["--steps", "50"], ["--steps", "10"], gpu=True),  # app vs tutorial script: steps/s, MFU
    Benchmark("memory_estimate_gpu.py", [], ["--quick"], gpu=True),  # estimate / torch.cuda.max_memory_allocated
]


def listing() -> str:
    """--help's list of every benchmark, in the order they run, made from BENCHMARKS itself."""
    width = max(len(b.script) for b in BENCHMARKS)
    lines = ["benchmarks it runs, in this order, with their arguments:"]
    for b in BENCHMARKS:
        gpu = "  [needs a CUDA GPU]" if b.gpu else ""
        lines.append(f"  {b.script:<{width}}  {' '.join(b.full) or 'no arguments'}; with --quick: "
                     f"{' '.join(b.quick) or 'no arguments'}{gpu}")
    lines += ["[needs a CUDA GPU]: on a machine without one the script prints SKIPPED and exits 0, and run_all keeps",
              "its last figures measured on a GPU machine (benchmarks/results/), dated and naming that machine."]
    return "\n".join(lines)


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


def run_one(script: str, args: list[str],
            folder: Path | None = None) -> tuple[list[dict[str, str]], str, int, float, Path]:
    """Runs one benchmark; returns its result lines, stdout, exit code, seconds and the stderr file. --quick runs
    write to results/quick/ (not kept by git), so a wiring check never replaces a full run's figures."""
    folder = RESULTS if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    stem = script.removesuffix(".py")
    stdout_path, stderr_path = folder / f"{stem}.stdout.txt", folder / f"{stem}.stderr.txt"
    started = time.perf_counter()
    with stdout_path.open("w", encoding="utf-8") as out, stderr_path.open("w", encoding="utf-8") as err:
        code = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], cwd=ROOT, stdout=out,
                              stderr=err, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1",
                                   "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}).returncode
    seconds = time.perf_counter() - started
    (folder / f"{stem}.json").write_text(json.dumps({"args": args, "code": code, "seconds": seconds,
                                                     "finished": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
                                                     "machine": machine()}))
    return read_result(script, folder)


def read_result(script: str, folder: Path | None = None) -> tuple[list[dict[str, str]], str, int, float, Path]:
    """A script's last results as kept in benchmarks/results/: result lines, stdout, exit code, seconds, stderr.
    `folder` defaults to RESULTS when called, not when defined, so a test can point RESULTS at a copy."""
    folder = RESULTS if folder is None else folder
    stem = script.removesuffix(".py")
    meta = json.loads((folder / f"{stem}.json").read_text())
    stdout = (folder / f"{stem}.stdout.txt").read_text(encoding="utf-8", errors="replace")
    return rows_in(stdout), stdout, meta["code"], meta["seconds"], folder / f"{stem}.stderr.txt"


def rows_in(stdout: str) -> list[dict[str, str]]:
    """The result lines a script printed (goals.LINE), each as its parts."""
    return [{k: v.strip() for k, v in match.groupdict().items()} for match in LINE.finditer(stdout)]


def crashed(code: int, rows: list[dict[str, str]]) -> bool:
    """Whether a run crashed or was killed: it exited 1 with no missed goal to explain it (a script exits 1 after a
    MISSED figure), or with any other code but 0 (goals.CRASHED from a script run through goals.exit_with, even
    after a MISSED figure; 2 for refused arguments; negative when a signal killed it)."""
    return code not in (0, 1) or (code == 1 and not any(r["verdict"] == "MISSED" for r in rows))


def failed(code: int, rows: list[dict[str, str]]) -> bool:
    """Whether a run failed rather than measured: it crashed, or it printed no result line at all."""
    return not rows or crashed(code, rows)


def complete(kept: tuple[str, str] | None, full: list[str]) -> bool:
    """Whether a kept run (saved's .json and .stdout.txt) is a full run that measured, worth keeping over a rerun
    that failed: run with the full run's arguments, and not failed itself."""
    if kept is None:
        return False
    meta = json.loads(kept[0])
    return meta.get("args") == full and not failed(meta["code"], rows_in(kept[1]))


def saved(script: str) -> tuple[str, str] | None:
    """A script's kept .json and .stdout.txt, as text, before a rerun replaces them."""
    stem = script.removesuffix(".py")
    try:
        return (RESULTS / f"{stem}.json").read_text(), (RESULTS / f"{stem}.stdout.txt").read_text(encoding="utf-8")
    except OSError:
        return None


def restore(script: str, kept: tuple[str, str]) -> None:
    stem = script.removesuffix(".py")
    (RESULTS / f"{stem}.json").write_text(kept[0])
    (RESULTS / f"{stem}.stdout.txt").write_text(kept[1], encoding="utf-8")
    (RESULTS / f"{stem}.stderr.txt").unlink(missing_ok=True)  # the skipped run's, not the measured run's


def set_aside(script: str, kept: tuple[str, str]) -> tuple[Path, Path]:
    """Moves a failed run's .json, .stdout.txt and .stderr.txt to <script>.failed.* and puts the kept complete run
    back in their place; returns the failed run's stdout and stderr files, for the summary to name."""
    stem = script.removesuffix(".py")
    for kind in ("json", "stdout.txt", "stderr.txt"):
        if (RESULTS / f"{stem}.{kind}").exists():
            (RESULTS / f"{stem}.{kind}").replace(RESULTS / f"{stem}.failed.{kind}")
    restore(script, kept)
    return RESULTS / f"{stem}.failed.stdout.txt", RESULTS / f"{stem}.failed.stderr.txt"


def forget_failed(script: str) -> None:
    """Removes an earlier failed run's <script>.failed.* once a newer run's results stand: they no longer explain
    anything shown."""
    stem = script.removesuffix(".py")
    for kind in ("json", "stdout.txt", "stderr.txt"):
        (RESULTS / f"{stem}.failed.{kind}").unlink(missing_ok=True)


def measured_on(meta: dict) -> str:
    """The machine a kept result was measured on, as its .json records it (results before 2026-12-04 name none)."""
    return meta.get("machine", "a machine not recorded")


def earlier(script: str) -> dict | None:
    try:
        return json.loads((RESULTS / f"{script.removesuffix('.py')}.json").read_text())
    except (OSError, ValueError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, epilog=listing(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="run only the scripts whose name contains one of these")
    parser.add_argument("--quick", action="store_true",
                        help="each script's small mode; results go to results/quick/, docs are not rewritten")
    args = parser.parse_args()
    sections, table, missed = [], [], []
    kept_only = True  # no benchmark rerun: the header must not claim a measurement now
    for script, full, quick, _needs_gpu in BENCHMARKS:
        arguments = quick if args.quick else full
        when = ""
        if args.only and not any(w in script for w in args.only):
            # Not rerun: the docs keep this script's last full results from benchmarks/results/, said as such.
            meta = earlier(script)
            if args.quick or meta is None or meta["args"] != full:
                continue
            when = f"; from the run of {meta['finished']} on {measured_on(meta)}"
            rows, stdout, code, seconds, stderr_path = read_result(script)
            print(f"{script}: kept from {meta['finished']}", flush=True)
        else:
            print(f"running {script} {' '.join(arguments)}…", flush=True)
            before = saved(script) if not args.quick else None
            rows, stdout, code, seconds, stderr_path = run_one(script, arguments,
                                                               RESULTS / "quick" if args.quick else RESULTS)
            kept = before is not None and json.loads(before[0]).get("args") == full and LINE.search(before[1])
            if skipped(stdout, code) and kept:
                # A GPU script on a machine without one: its last full run's figures stay, dated, with their machine.
                restore(script, before)
                meta = earlier(script)
                when = (f"; this machine cannot measure it, so these are from the run of {meta['finished']} on "
                        f"{measured_on(meta)}")
                rows, stdout, code, seconds, stderr_path = read_result(script)
                print(f"  SKIPPED here; kept from {meta['finished']} on "
                      f"{measured_on(meta)}", flush=True)
            elif not skipped(stdout, code) and failed(code, rows) and complete(before, full):
                # A rerun cut short: the complete run stays, this one's output goes beside it and is named.
                failed_out, failed_err = set_aside(script, before)
                meta = earlier(script)
                said = "no result line" if not rows else f"exit {code}"
                when = (f"; this run failed ({said}; its output in `{failed_out.relative_to(ROOT)}`), so these "
                        f"are from the complete run of {meta['finished']} on {measured_on(meta)}")
                missed.append(f"{script}: this run failed ({said}; see {failed_out.relative_to(ROOT)} and "
                              f"{failed_err.relative_to(ROOT)}); shown: the complete run of {meta['finished']} on "
                              f"{measured_on(meta)}")
                rows, stdout, code, seconds, stderr_path = read_result(script)
                print(f"  FAILED here ({said}); its output in {failed_out.relative_to(ROOT)} and "
                      f"{failed_err.relative_to(ROOT)}; kept the complete run of {meta['finished']} on "
                      f"{measured_on(meta)}", flush=True)
            else:
                kept_only = False
                if not args.quick:
                    forget_failed(script)
        stderr_name = stderr_path.relative_to(ROOT)
        stderr_said = (f"stderr kept in `{stderr_name}`" if stderr_path.exists() else
                       "stderr not kept in this checkout: git keeps only the results' .json and .stdout.txt")
        for row in rows:
            table.append((script, row))
            print(f"  {row['what']}: {row['value']} (goal {row['goal']}) [{row['verdict']}]", flush=True)
            if row["verdict"] != "met":
                missed.append(f"{script}: {row['what']}: {row['value']} (goal {row['goal']})")
        if crashed(code, rows):
            missed.append(f"{script}: failed with exit code {code} (see {stderr_name})")
        if not rows and not skipped(stdout, code):  # a script that cannot measure here says so, exit 0
            missed.append(f"{script}: printed no result line (see {stderr_name})")
        print(f"  {seconds:.0f} s, exit {code}; {stderr_said}", flush=True)
        body = stdout.strip() or "(no output)"
        sections.append(f"### {script} {' '.join(arguments)} ({seconds:.0f} s, exit {code}; {stderr_said}{when})"
                        f"\n\n```\n{body}\n```\n")
    print()
    if missed:
        print(f"{len(missed)} figure(s) miss their goal or failed:")
        for line in missed:
            print(f"  MISSED {line}")
    else:
        print("every figure meets its goal")
    if not args.quick:
        lines = [
            "# Performance",
            "",
            "Regenerated by `python benchmarks/run_all.py` (this file is its output). "
            + ("Written " if kept_only else "Measured ") + f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
            + (" from kept results, each dated in its section," if kept_only else "") + f" on: {machine()}."
            + ("" if kept_only or not args.only else " Results kept from earlier runs name their date and machine "
               "in their section."),
            "Every figure is compared with a baseline measured in the same invocation, in alternating order where "
            "the two take turns, so the ratios hold across machines better than the raw numbers. The 2-core test VM "
            "is shared with other work: read its single timings with that in mind.",
            "",
            f"**Goals missed: {len(missed)}.**" if missed else "**Every goal met.**",
            *[f"- {line}" for line in missed],
            "",
            "| benchmark | measure | value | goal | baseline (same invocation) | verdict |",
            "|---|---|---|---|---|---|",
            *[f"| {s} | {r['what']} | {r['value']} | {r['goal']} | {r['baseline']} | {r['verdict']} |"
              for s, r in table],
            "",
            "## Full output",
            "",
            *sections,
        ]
        OUT.write_text("\n".join(lines), encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
