"""The wheel built from the checkout's tracked files: one top-level import name, every module and data file in it
(packaging/wheel_contents.py, also run by packaging/check_wheel in CI), and the checker catches what it should."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def wheel_contents() -> Any:
    spec = importlib.util.spec_from_file_location("wheel_contents", ROOT / "packaging" / "wheel_contents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout (its list of tracked files)")
def test_wheel_of_the_tracked_files_holds_everything_under_one_name(tmp_path: Path) -> None:
    source = tmp_path / "src"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                          str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    wheel = next((tmp_path / "dist").glob("finetune_studio-*.whl"))
    assert wheel_contents().problems(wheel) == []
    names = zipfile.ZipFile(wheel).namelist()
    for packaged in ("finetune_studio/resources/sample_horoscopes.jsonl",
                     "finetune_studio/resources/icons/finetune-studio.svg",
                     "finetune_studio/resources/desktop/io.github.finetune_studio.FinetuneStudio.desktop",
                     "finetune_studio/gui/forms/__init__.py"):
        assert packaged in names


def test_the_checker_reports_generic_names_and_missing_files(tmp_path: Path) -> None:
    checker = wheel_contents()
    wheel = tmp_path / "bad-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("core/cli.py", "")
        archive.writestr("finetune_studio/core/cli.py", "")
        archive.writestr("bad-0.1.dist-info/top_level.txt", "core\nfinetune_studio\n")
    found = checker.problems(wheel)
    assert found[0].startswith("top-level names ['bad-0.1.dist-info', 'core', 'finetune_studio']")
    assert found[1] == "top_level.txt declares ['core', 'finetune_studio'], not only finetune_studio."
    assert any(line.startswith("gui/launcher.py is not in the wheel") for line in found)
    assert not any(line.startswith("core/cli.py ") for line in found)
