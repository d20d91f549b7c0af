"""The export dialog's merged hint said "A standalone model as large as BASE" whatever the Weights box held: a
float32 base exported in float16 is half of it, a bfloat16 one in float32 twice. It now follows the box: the size
beside the base's where core.export knows both (merged_size: a base in a folder of this computer whose config names
its dtype), and no size claim where it does not (helper-180)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import export_dialog
from finetune_studio.gui.export_dialog import ExportDialog
from tests.gui.test_export_dtype_h175 import _run_on_a_local_base

LOADS = " that loads with plain transformers, no PEFT needed."


def _dialog(qtbot: Any, run: Path) -> ExportDialog:
    dialog = ExportDialog(run, kind=export_dialog.MERGED)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _choose(dialog: ExportDialog, dtype: str) -> None:
    dialog.dtype_box.setCurrentIndex(dialog.dtype_box.findData(dtype))
    assert dialog.dtype == dtype


def test_the_hint_follows_the_dtype_over_a_float32_base(qtbot: Any, tmp_path: Path) -> None:
    run = _run_on_a_local_base(tmp_path)  # 4 MB of weights, saved in float32
    base = str(tmp_path / "base")
    dialog = _dialog(qtbot, run)
    assert dialog.merged_hint.text() == f"A standalone model as large as {base}{LOADS}"
    _choose(dialog, "float16")
    assert dialog.merged_hint.text() == f"A standalone model half the size of {base} (its weights in float16){LOADS}"
    assert dialog.dtype_note.text().startswith("About 2.0 MB of weights in float16.")  # the size itself, below
    _choose(dialog, "bfloat16")
    assert dialog.merged_hint.text() == f"A standalone model half the size of {base} (its weights in bfloat16){LOADS}"
    _choose(dialog, "float32")
    assert dialog.merged_hint.text() == f"A standalone model as large as {base}{LOADS}"


def test_a_bfloat16_base_in_float32_is_twice_its_size(qtbot: Any, tmp_path: Path) -> None:
    run = _run_on_a_local_base(tmp_path, saved="bfloat16")
    base = str(tmp_path / "base")
    dialog = _dialog(qtbot, run)
    assert dialog.merged_hint.text() == f"A standalone model as large as {base}{LOADS}"
    _choose(dialog, "float32")
    assert dialog.merged_hint.text() == f"A standalone model twice the size of {base} (its weights in float32){LOADS}"
    assert dialog.dtype_note.text() == "About 8.0 MB of weights in float32."
    _choose(dialog, "float16")
    assert dialog.merged_hint.text() == f"A standalone model as large as {base}{LOADS}"


def test_same_as_training_is_the_runs_dtype_not_the_bases(tmp_path: Path) -> None:
    from finetune_studio.core.config import load_config, save_config
    from finetune_studio.core.runs import RunFolder
    from finetune_studio.gui.export_dialog import merged_hint

    run = _run_on_a_local_base(tmp_path)  # a float32 base that the run loaded in bfloat16
    config_path = RunFolder(run).config_path
    config = load_config(config_path)[0]
    config.model.dtype = "bfloat16"
    save_config(config, config_path)
    base = str(tmp_path / "base")
    half = f"A standalone model half the size of {base} (its weights in bfloat16){LOADS}"
    assert merged_hint(run, base, "auto") == half
    assert merged_hint(run, base, "float32") == f"A standalone model as large as {base}{LOADS}"


@pytest.mark.parametrize(("dtype", "said"), [
    ("auto", f"A standalone model as large as org/base{LOADS}"),  # loaded, merged and saved in its own dtype
    ("float16", f"A standalone model, org/base with the adapter merged in and saved in float16,{LOADS}"),
])
def test_a_hub_base_makes_no_size_claim_for_another_dtype(dtype: str, said: str, qtbot: Any, tmp_path: Path) -> None:
    from tests.core.test_cli_push_export_input import _adapter_run

    dialog = _dialog(qtbot, _adapter_run(tmp_path / "runs"))
    _choose(dialog, dtype)
    assert dialog.merged_hint.text() == said
