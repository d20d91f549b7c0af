"""The export dialog on a real (tiny) LoRA run: what it proposes, a refusal shown in the dialog with nothing
written, and an export into a folder the user chose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.export_dialog import ExportDialog, is_adapter_run
from tests.helpers import SAMPLE, small_config

WAIT = 120_000


@pytest.fixture(scope="module")
def lora_run(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from finetune_studio.core.training import run

    folder = tmp_path_factory.mktemp("lora")
    dataset = folder / "rows.jsonl"
    dataset.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:80]) + "\n", encoding="utf-8")
    config = small_config(dataset, folder / "runs", max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name, config.adapter.method, config.adapter.r = "tiny-lora", "lora", 4
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


@pytest.mark.slow
def test_export_refuses_a_full_folder_then_exports_where_the_user_chose(qtbot: Any, lora_run: Path,
                                                                          tmp_path: Path) -> None:
    assert is_adapter_run(lora_run) and not is_adapter_run(tmp_path)
    dialog = ExportDialog(lora_run)
    qtbot.addWidget(dialog)
    assert dialog.adapter_radio.isChecked() and dialog.out_edit.text() == str(lora_run / "export-adapter")
    assert "LoRA" in dialog.run_label.text()
    dialog.merged_radio.click()  # the proposal follows the choice
    assert dialog.out_edit.text() == str(lora_run / "export-merged")
    dialog.adapter_radio.click()

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    (taken / "adapter_config.json").write_text('{"peft_type": "LORA"}')  # an earlier export: only such is replaced
    dialog.out_edit.setText(str(taken))
    dialog.out_edit.textEdited.emit(str(taken))
    dialog.merged_radio.click()  # a folder the user typed stays
    assert dialog.out_edit.text() == str(taken)
    dialog.adapter_radio.click()
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    assert dialog.message.property("kind") == "error"
    assert str(taken) in dialog.message.text()
    assert sorted(p.name for p in taken.iterdir()) == ["adapter_config.json", "notes.txt"]  # nothing written
    assert not dialog.open_button.isVisible()

    dialog.overwrite_check.setChecked(True)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    assert dialog.message.property("kind") == "success", dialog.message.text()
    assert (taken / "adapter_model.safetensors").read_bytes() == \
        (lora_run / "model" / "adapter_model.safetensors").read_bytes()
    assert not (taken / "notes.txt").exists()
    assert dialog.result.out_dir == taken
