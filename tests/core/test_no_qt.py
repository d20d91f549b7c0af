"""core/ must import and work with PySide6 (and every Qt binding) unimportable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib, pkgutil, sys

class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2", "pyqtgraph", "qtpy", "superqt"}:
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, BlockQt())
import finetune_studio.core as core
names = sorted(m.name for m in pkgutil.iter_modules(core.__path__))
for name in names:
    importlib.import_module(f"finetune_studio.core.{name}")
from finetune_studio.core.config import default_config
from finetune_studio.core.validation import validate
assert validate(default_config()) == [], validate(default_config())
loaded = [m for m in sys.modules if m.split(".")[0] in {"PySide6", "shiboken6", "pyqtgraph"}]
assert not loaded, loaded
print("imported", len(names), "modules:", " ".join(names))
"""


def test_every_core_module_imports_without_qt(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "", "HOME": str(tmp_path), "FINETUNE_STUDIO_RUNS": str(tmp_path / "runs")},
                            timeout=120)
    assert result.returncode == 0, result.stderr
    modules = result.stdout.split(":", 1)[1].split()
    for expected in ("cli", "config", "data", "demo", "model", "runs", "training", "validation"):
        assert expected in modules
