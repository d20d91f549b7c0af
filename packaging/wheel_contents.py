"""Check a built wheel: only the app's own top-level names, and every module and data file of the checkout in it.

    .venv/bin/python packaging/wheel_contents.py dist/finetune_studio-0.1.0-py3-none-any.whl

The wheel may put `finetune_studio/` and its `.dist-info` folder into site-packages, nothing else (no generic
`core`, `gui`, `resources`, `tests`). Every file git tracks under core/, gui/ and resources/ that the app needs at
run time (Python modules, sample data, icons, desktop files) must be in it as finetune_studio/<folder>/...: a new
subpackage missing from pyproject's package list, or a data file its package-data globs miss, fails here rather
than on a user's machine. Exits 1 with each finding and its fix.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("core", "gui", "resources")  # shipped as finetune_studio.<folder>
NOT_SHIPPED = (".gitignore",)  # tracked files the app does not read


def tracked_files() -> list[str]:
    """The checkout's files under FOLDERS: git's list when this is a clone, else a walk (an unpacked sdist)."""
    try:
        out = subprocess.run(["git", "ls-files", "--", *FOLDERS], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
        return [line for line in out.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):
        return [str(p.relative_to(ROOT)) for folder in FOLDERS for p in (ROOT / folder).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts]


def problems(wheel: Path) -> list[str]:
    names = zipfile.ZipFile(wheel).namelist()
    found: list[str] = []
    dist_info = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
    top = {n.split("/", 1)[0] for n in names} - dist_info
    if top != {"finetune_studio"} or len(dist_info) != 1:
        found.append(f"top-level names {sorted(top | dist_info)}; only 'finetune_studio' and one .dist-info may be "
                     "there. To fix: [tool.setuptools] packages / package-dir in pyproject.toml.")
    with zipfile.ZipFile(wheel) as archive:
        declared = archive.read(next(iter(dist_info)) + "/top_level.txt").decode().split() if dist_info else []
    if declared and declared != ["finetune_studio"]:
        found.append(f"top_level.txt declares {declared}, not only finetune_studio.")
    shipped = set(names)
    for path in tracked_files():
        if Path(path).name in NOT_SHIPPED or "__pycache__" in path:
            continue
        if f"finetune_studio/{path}" not in shipped:
            found.append(f"{path} is not in the wheel as finetune_studio/{path}. To fix: add its package to "
                         "[tool.setuptools] packages, or its pattern to [tool.setuptools.package-data], in "
                         "pyproject.toml.")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    wheel = Path(argv[0])
    found = problems(wheel)
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    if found:
        return 1
    count = len(zipfile.ZipFile(wheel).namelist())
    print(f"ok: {wheel.name}: {count} files, top-level names finetune_studio and its .dist-info only; every "
          f"tracked file of {', '.join(f + '/' for f in FOLDERS)} is in it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
