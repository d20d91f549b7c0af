"""The export dialog offers the merged model's dtype (Weights in: Same as training, float16, bfloat16, float32),
says what the weights come to in it where core.export knows (a base model in a folder of this computer), and
passes the choice to core.export; an adapter export has none to choose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import export_dialog
from finetune_studio.gui.export_dialog import ExportDialog
from tests.hub_fixtures import make_finished_run, safetensors_bytes


def _run_on_a_local_base(tmp_path: Path, saved: str = "float32") -> Path:
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"model_type": "qwen3", "dtype": saved}))
    (base / "model.safetensors").write_bytes(safetensors_bytes(b"w" * 4_000_000))
    run = make_finished_run(tmp_path / "runs", "lora-run", model=str(base))
    for path in (run / "model").iterdir():
        if path.is_file():
            path.unlink()
    (run / "model" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4,
                                                                   "base_model_name_or_path": str(base)}))
    (run / "model" / "adapter_model.safetensors").write_bytes(safetensors_bytes(b"lora" * 64))
    (run / "model" / "tokenizer_config.json").write_text("{}")
    return run


def _dialog(qtbot: Any, run: Path, kind: str = export_dialog.ADAPTER) -> ExportDialog:
    dialog = ExportDialog(run, kind=kind)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_dtype_is_offered_for_a_merged_export_with_its_size(qtbot: Any, tmp_path: Path) -> None:
    run = _run_on_a_local_base(tmp_path)
    dialog = _dialog(qtbot, run)
    box = dialog.dtype_box
    assert [box.itemText(i) for i in range(box.count())] == ["Same as training (float32)", "float16", "bfloat16",
                                                              "float32"]
    assert [box.itemData(i) for i in range(box.count())] == ["auto", "float16", "bfloat16", "float32"]
    assert not box.isEnabled() and not dialog.dtype_note.isEnabled()  # adapter only: copied as saved
    dialog.merged_radio.setChecked(True)
    assert box.isEnabled() and dialog.dtype == "auto"
    assert dialog.dtype_note.text() == "About 4.0 MB of weights in float32."
    box.setCurrentIndex(1)
    assert dialog.dtype == "float16"
    assert dialog.dtype_note.text() == ("About 2.0 MB of weights in float16. float16 holds values up to 65,504: a "
                                        "model with larger weights is refused (bfloat16 is as small, with float32's "
                                        "range).")
    assert "saved in float16 (chosen below): an ordinary model folder" in dialog.merged_hint.toolTip()
    box.setCurrentIndex(3)
    assert dialog.dtype_note.text() == "About 4.0 MB of weights in float32 (as the run trained)."
    box.setCurrentIndex(2)
    assert dialog.dtype_note.text() == "About 2.0 MB of weights in bfloat16."
    dialog.grab().save(str(tmp_path / "dtype.png"))


def test_a_hub_base_says_the_size_comes_once_it_loads(qtbot: Any, tmp_path: Path) -> None:
    from tests.core.test_cli_push_export_input import _adapter_run

    dialog = _dialog(qtbot, _adapter_run(tmp_path / "runs"), export_dialog.MERGED)
    assert dialog.dtype_box.itemText(0) == "Same as training"  # model.dtype auto, over a base not here
    assert dialog.dtype_note.text() == ("Weights in the base model's own dtype; their size is known once the base "
                                        "model is loaded.")
    dialog.dtype_box.setCurrentIndex(2)
    assert dialog.dtype_note.text() == "Weights in bfloat16; their size is known once the base model is loaded."


@pytest.mark.parametrize(("kind", "index", "passed"), [("merged", 1, "float16"), ("merged", 0, "auto"),
                                                       ("adapter", 1, "auto")])
def test_the_choice_reaches_core_export(kind: str, index: int, passed: str, qtbot: Any, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.export import ExportError

    seen: list[tuple[str, str]] = []

    def export(run_dir: Path, kind: str, out_dir: Path, overwrite: bool, progress: Any, cancel: Any = None,
               dtype: str = "auto") -> Any:
        seen.append((kind, dtype))
        raise ExportError("Stopped here by the test.")

    monkeypatch.setattr(export_dialog, "_export", export)
    dialog = _dialog(qtbot, _run_on_a_local_base(tmp_path), kind)
    if kind == "adapter":
        dialog.merged_radio.setChecked(True)
        dialog.dtype_box.setCurrentIndex(index)
        dialog.adapter_radio.setChecked(True)
    else:
        dialog.dtype_box.setCurrentIndex(index)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=10_000)
    assert seen == [(kind, passed)]
    assert dialog.message.text() == "Stopped here by the test."
    assert dialog.dtype_box.isEnabled() is (kind == "merged")
