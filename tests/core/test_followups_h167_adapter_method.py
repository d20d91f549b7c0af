"""A run folder that holds an adapter but records no method (status.json without "method", config.yaml without
adapter.method: a run from before the field, or a config written by hand) showed "full" in the Runs tab's Method
column and in core.adapters.method_of_run. Both now read the saved adapter's adapter_config.json: LoRA, or DoRA
when use_dora, from the model folder or else the latest checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.adapters import method_of_run
from finetune_studio.core.runs import summarize


def _run(tmp_path: Path, adapter: dict | None, where: str = "model") -> Path:
    run = tmp_path / "old-run"
    run.mkdir()
    (run / "config.yaml").write_text("model:\n  name_or_path: org/base\ndataset:\n  source: data.jsonl\n")
    (run / "status.json").write_text(json.dumps({"state": "finished", "message": "Finished.",
                                                 "model": "org/base", "dataset": "data.jsonl"}))
    if adapter is not None:
        (run / where).mkdir()
        (run / where / "adapter_config.json").write_text(json.dumps(adapter))
        if where.startswith("checkpoint-"):
            (run / where / "trainer_state.json").write_text('{"global_step": 3}')
    return run


@pytest.mark.parametrize(("adapter", "where", "method", "column"), [
    ({"peft_type": "LORA", "r": 8}, "model", "lora", "LoRA"),
    ({"peft_type": "LORA", "use_dora": True}, "model", "dora", "DoRA"),
    ({"peft_type": "LORA", "use_dora": False}, "checkpoint-3", "lora", "LoRA"),
    ({"peft_type": "IA3"}, "model", "full", "full"),
    (None, "model", "full", "full"),
])
def test_the_saved_adapter_says_the_method(tmp_path: Path, adapter: dict | None, where: str, method: str,
                                           column: str) -> None:
    pytest.importorskip("PySide6")  # the Runs tab's column text (gui.history), where Qt is installed
    from finetune_studio.gui.history import RunTableModel

    run = _run(tmp_path, adapter, where)
    assert method_of_run(run) == method
    summary = summarize(run)
    assert summary.method == method
    assert RunTableModel._display(summary, "method") == column


def test_a_recorded_method_still_wins(tmp_path: Path) -> None:
    run = _run(tmp_path, {"peft_type": "LORA", "use_dora": True})
    (run / "config.yaml").write_text("model:\n  name_or_path: org/base\nadapter:\n  method: qlora\n")
    assert method_of_run(run) == "qlora" and summarize(run).method == "qlora"


def test_the_one_reading_of_an_adapter_config() -> None:
    from finetune_studio.core.runs import adapter_config_method

    assert adapter_config_method({"peft_type": "lora"}) == "lora"
    assert adapter_config_method({"peft_type": "LORA", "use_dora": True}) == "dora"
    assert adapter_config_method({"peft_type": "LORA", "use_dora": "yes"}) == "lora"  # only a real true
    assert adapter_config_method({"peft_type": "PREFIX_TUNING"}) is None
    assert adapter_config_method(None) is None and adapter_config_method([]) is None
