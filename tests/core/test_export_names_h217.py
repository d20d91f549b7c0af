"""core.export's names that other modules use are public (helper-217): core.hub imported its private _checkpoint_dir
and _CHECKPOINT_ONLY, and core.cli its _choices_fix. They are whole_checkpoint_dir, RESUME_ONLY_FILES and
checkpoint_choices_fix now, with no alias left under the old names."""

from __future__ import annotations

import ast
from pathlib import Path

from finetune_studio.core import export

ROOT = Path(__file__).resolve().parents[2]


def _private_imports_of_export() -> list[str]:
    """'file: name' for each private name imported from core.export in core/, gui/ and benchmarks/."""
    found = []
    for top in ("core", "gui", "benchmarks"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "finetune_studio.core.export":
                    found += [f"{path.relative_to(ROOT)}: {alias.name}" for alias in node.names
                              if alias.name.startswith("_")]
    return found


def test_no_module_imports_a_private_name_of_core_export() -> None:
    assert _private_imports_of_export() == []


def test_the_public_names_hold_what_they_say_and_the_old_ones_are_gone() -> None:
    assert export.RESUME_ONLY_FILES == ("optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state*.pth")
    assert export.checkpoint_choices_fix((1, 3, None)) == ("pick a whole one: --checkpoint 1 or 3, or leave out "
                                                           "--checkpoint for its final model.")
    assert export.checkpoint_choices_fix((2,)) == "pick a whole one: --checkpoint 2."
    assert callable(export.whole_checkpoint_dir)
    assert [name for name in ("_checkpoint_dir", "_CHECKPOINT_ONLY", "_choices_fix") if hasattr(export, name)] == []
