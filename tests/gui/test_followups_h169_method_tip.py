"""The Runs tab's Method cell reads an adapter run's method from its adapter_config.json when status.json and
config.yaml do not record it (fcfacec); the cell's tooltip was still built from config.yaml alone, so it described
the config's default method ('full fine-tuning') beside a 'LoRA' cell. It now describes the saved adapter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core.runs import summarize
from finetune_studio.gui.history import COLUMNS, RunTableModel

METHOD = [key for key, _, _ in COLUMNS].index("method")


def _run(tmp_path: Path, adapter: dict, where: str = "model", config: str = "") -> Path:
    """fcfacec's folder (tests/core/test_followups_h167_adapter_method.py): a config and a status that record no
    method, and a saved LoRA adapter."""
    run = tmp_path / "old-run"
    run.mkdir()
    (run / "config.yaml").write_text("model:\n  name_or_path: org/base\ndataset:\n  source: data.jsonl\n" + config)
    (run / "status.json").write_text(json.dumps({"state": "finished", "message": "Finished.",
                                                 "model": "org/base", "dataset": "data.jsonl"}))
    (run / where).mkdir()
    (run / where / "adapter_config.json").write_text(json.dumps(adapter))
    if where.startswith("checkpoint-"):
        (run / where / "trainer_state.json").write_text('{"global_step": 3}')
    return run


def _cell(run: Path) -> tuple[str, str]:
    model = RunTableModel()
    model.upsert([summarize(run)])
    index = model.index(0, METHOD)
    return index.data(), index.data(Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize(("adapter", "where", "cell", "tip"), [
    ({"peft_type": "LORA", "r": 8, "lora_alpha": 16, "lora_dropout": 0.1, "target_modules": ["v_proj", "q_proj"]},
     "model", "LoRA", "LoRA r 8, alpha 16 (scale 2), dropout 0.1 on q_proj, v_proj"),
    ({"peft_type": "LORA", "use_dora": True, "r": 4, "lora_alpha": 4, "lora_dropout": 0.0,
      "target_modules": "all-linear", "modules_to_save": ["lm_head"]},
     "model", "DoRA", "DoRA r 4, alpha 4 (scale 1), dropout 0 on all-linear; trains lm_head in full"),
    ({"peft_type": "LORA", "r": 32, "lora_alpha": 32, "use_rslora": True, "target_modules": ["q_proj"]},
     "checkpoint-3", "LoRA", "LoRA r 32, alpha 32 (scale 5.65685, rslora), dropout 0.05 on q_proj"),
])
def test_the_tip_describes_the_saved_adapter_the_cell_names(qtbot: Any, tmp_path: Path, adapter: dict,
                                                            where: str, cell: str, tip: str) -> None:
    shown, said = _cell(_run(tmp_path, adapter, where))
    assert shown == cell
    assert said == tip
    assert "full fine-tuning" not in said


def test_a_recorded_method_still_describes_the_config(qtbot: Any, tmp_path: Path) -> None:
    run = _run(tmp_path, {"peft_type": "LORA", "r": 8}, config="adapter:\n  method: lora\n  r: 64\n  alpha: 16\n")
    assert _cell(run) == ("LoRA", "LoRA r 64, alpha 16 (scale 0.25), dropout 0.05 on all-linear")
