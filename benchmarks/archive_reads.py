"""A dataset inside a .tar.gz against the same rows as a plain .jsonl: what a user feels (the preview, the checks and
a run's read of the data, in seconds) and how often the archive is decompressed. Like for like: the same rows, the
same reads, each in a fresh process with empty caches (the app's and datasets'), the plain file first in each round
and the archive second, rounds alternating that order. The archive has a notes file before the data file (a README,
as archives often do), so listing it decompresses more than the data: the worst case for a tar, read from its start.

Goals: a compressed tar is decompressed once for the preview (the listing takes the data file's start on its way)
and at most twice for a run (one pass lists it and copies the data file out; datasets then reads the copy); a run
reads it in at most 1.5 times the plain file's time (the extra pass, over a few tens of megabytes). A pass is a
tarfile.TarFile opened on the archive (datasets' probes of a plain file, which tarfile refuses, are not counted).
Under the old method (1f3a6cb: the checks, the preview and datasets' chained tar:// URL each read the archive from
its start) the same invocation read 7 passes for the preview, 8 for a run, and a run took 4.26 times the plain file's
time (2.94 s against 0.69 s).

    python benchmarks/archive_reads.py [--rows 250000] [--notes-mb 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goals import report

CHILD = r"""
import json, os, sys, tarfile, time
passes = []
real = tarfile.TarFile.__init__
def counted(self, name=None, mode="r", fileobj=None, *args, **kwargs):
    real(self, name, mode, fileobj, *args, **kwargs)  # a file that is no tar raises here (datasets probes files)
    if sys.argv[1] in (str(name), str(getattr(fileobj, "name", ""))):  # a pass over this archive, not another tar
        passes.append(1)
tarfile.TarFile.__init__ = counted
from finetune_studio.core import data
from finetune_studio.core.config import default_config
import datasets, torch  # noqa: F401 - imported before the clock starts, as the window's warm-up has
config = default_config().dataset
config.source, config.text_column = sys.argv[1], "text"
times = {}
for step, call in (("preview", lambda: data.preview(config)), ("check", lambda: data.check_source(config)),
                   ("run", lambda: data.load_split(config))):
    before, start = len(passes), time.perf_counter()
    call()
    times[step] = (time.perf_counter() - start, len(passes) - before)
print(json.dumps(times))
"""


def make_data(folder: Path, rows: int, notes_mb: int) -> tuple[Path, Path]:
    body = "".join(json.dumps({"text": f"Row {i}: {os.urandom(40).hex()}"}) + "\n" for i in range(rows)).encode()
    plain = folder / "train.jsonl"
    plain.write_bytes(body)
    archive = folder / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as packed:
        notes = os.urandom(notes_mb << 19).hex().encode()  # hex: compresses about 2:1, as text does
        for name, blob in (("README.md", notes), ("train.jsonl", body)):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            packed.addfile(info, io.BytesIO(blob))
    return plain, archive


def measure(source: Path, caches: Path) -> dict[str, tuple[float, int]]:
    """One fresh process reading `source` with empty caches: {step: (seconds, tar passes)}."""
    env = {**os.environ, "FINETUNE_STUDIO_CACHE": str(caches / "app"), "HF_DATASETS_CACHE": str(caches / "hf")}
    done = subprocess.run([sys.executable, "-c", CHILD, str(source)], capture_output=True, text=True, env=env,
                          check=True)
    return {step: tuple(value) for step, value in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--notes-mb", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archive-reads-") as tmp:
        root = Path(tmp)
        plain, archive = make_data(root, args.rows, args.notes_mb)
        print(f"# {args.rows:,} rows: {plain.stat().st_size / 1e6:.1f} MB plain; {archive.stat().st_size / 1e6:.1f} "
              f"MB as .tar.gz with {args.notes_mb * 2} MB of notes before the data file", flush=True)
        results: dict[str, list[dict]] = {"plain": [], "archive": []}
        for round_ in range(args.rounds):
            order = ["plain", "archive"] if round_ % 2 == 0 else ["archive", "plain"]
            for which in order:
                got = measure(plain if which == "plain" else archive, root / f"caches-{round_}-{which}")
                results[which].append(got)
                print(f"round {round_ + 1} {which}: " + ", ".join(f"{step} {s:.2f} s ({n} tar passes)"
                                                                 for step, (s, n) in got.items()), flush=True)
    met = True
    for step in ("preview", "check", "run"):
        plain_s = statistics.median(r[step][0] for r in results["plain"])
        archive_s = statistics.median(r[step][0] for r in results["archive"])
        print(f"{step}: plain median {plain_s:.2f} s, archive median {archive_s:.2f} s")
    preview_passes = max(r["preview"][1] for r in results["archive"])
    run_passes = max(r["run"][1] for r in results["archive"])
    met &= report("tar passes for the archive's preview (most of the rounds)", str(preview_passes), "<= 1",
                  preview_passes <= 1, "the same preview of the plain file: 0")
    met &= report("tar passes for a run's read of the archive (most of the rounds)", str(run_passes), "<= 2",
                  run_passes <= 2, "the same read of the plain file: 0")
    ratio = (statistics.median(r["run"][0] for r in results["archive"])
             / statistics.median(r["run"][0] for r in results["plain"]))
    met &= report("a run's read of the archive / of the plain file, medians", f"{ratio:.2f}", "<= 1.5", ratio <= 1.5,
                  f"the plain file, {statistics.median(r['run'][0] for r in results['plain']):.2f} s, same "
                  "invocation")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
