"""The `finetune-studio` command (gui.launcher): the window with no command, core.cli without Qt otherwise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import save_config
from finetune_studio.gui import launcher
from tests.helpers import small_config

ROOT = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")

# Qt made unimportable, as on a headless server without PySide6.
BLOCK_QT = r"""
import sys

class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"PySide6", "shiboken6", "pyqtgraph"}:
            raise ImportError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, BlockQt())
"""


def test_the_console_script_is_the_launcher() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    scripts = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    assert re.search(r'^finetune-studio = "finetune_studio\.gui\.launcher:main"', scripts, re.MULTILINE), scripts


def test_no_command_or_gui_opens_the_window_and_a_command_runs_headless(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    opened: list[bool] = []
    monkeypatch.setattr(launcher, "open_window", lambda: opened.append(True) or 7)
    assert launcher.main([]) == 7 and launcher.main(["gui"]) == 7
    assert opened == [True, True]
    path = tmp_path / "run.yaml"
    assert launcher.main(["init", str(path)]) == 0  # core.cli ran it
    assert path.is_file() and opened == [True, True]
    monkeypatch.setattr(sys, "argv", ["finetune-studio", "init", str(path)])
    assert launcher.main() == 2  # the console script reads sys.argv; core.cli refuses to overwrite (bad input)
    assert opened == [True, True]


def test_core_cli_alone_does_not_open_the_window(capsys: pytest.CaptureFixture) -> None:
    from finetune_studio.core.cli import main

    assert main([]) == 1
    assert "To fix: open the desktop app with 'finetune-studio'" in capsys.readouterr().err


def test_without_pyside6_the_window_says_what_to_install_and_commands_still_run(tmp_path: Path) -> None:
    code = BLOCK_QT + f"""
from finetune_studio.gui.launcher import main
assert main(["init", {str(tmp_path / 'run.yaml')!r}]) == 0
sys.exit(main([]))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 1, result.stderr
    assert (tmp_path / "run.yaml").is_file()
    assert result.stderr.startswith("error: the desktop app cannot start (No module named 'PySide6")
    assert result.stderr.rstrip().endswith("To fix: pip install pyside6-essentials pyqtgraph, or use "
                                           "'finetune-studio train' headless.")


def test_a_pyside6_build_that_crashes_this_python_is_refused_with_the_fix() -> None:
    assert launcher.binding_problem("6.11.3", (3, 11)) is None
    assert launcher.binding_problem("6.12.0", (3, 12)) is None  # None is immortal there: harmless
    problem = launcher.binding_problem("6.12.0", (3, 11))
    assert problem is not None and problem.startswith("PySide6 6.12.0 crashes the app on Python 3.11")
    assert problem.endswith("To fix: pip install 'pyside6-essentials!=6.12.0' (or use Python 3.12+).")


def test_the_window_does_not_open_on_a_bad_binding(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture) -> None:
    import PySide6

    from finetune_studio.gui import app as gui_app
    opened: list[Any] = []
    monkeypatch.setattr(gui_app, "main", lambda argv: opened.append(argv) or 0)
    monkeypatch.setattr(launcher, "BAD_BINDINGS", {PySide6.__version__: (99, 0)})
    assert launcher.open_window() == 1 and opened == []
    assert f"PySide6 {PySide6.__version__} crashes the app" in capsys.readouterr().err
    monkeypatch.setattr(launcher, "BAD_BINDINGS", {})
    assert launcher.open_window() == 0 and opened == [[]]


@pytest.mark.slow
def test_finetune_studio_train_never_imports_qt(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                                tmp_path: Path) -> None:
    """`python -m finetune_studio.gui train …` is `finetune-studio train …`; -X importtime lists each import."""
    path = tmp_path / "small.yaml"
    save_config(small_config(small_dataset, runs_dir, max_steps=2, eval_steps=2, save_steps=2), path)
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "finetune_studio.gui", "train", str(path),
                             "--name", "no-qt", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("finished: Finished 2 steps.")
    imported = [line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:") and "|" in line]
    assert "torch" in imported and "finetune_studio.gui.launcher" in imported  # the list is complete
    assert [name for name in imported if name.split(".")[0] in QT_MODULES] == []
