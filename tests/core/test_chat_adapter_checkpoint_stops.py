"""A chat adapter run's checkpoints carry its generation_config (the template's end of turn among its stops), as
its final model folder does. peft's save_pretrained writes none, so a run cut off during its final save and
finished on resume from its last checkpoint (training._finish_final_save copies the checkpoint) ended with a model
folder without it, and its merged export answered with the base's stops: replies ran on past <|im_end|>."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import small_config

ROWS = [{"messages": [{"role": "user", "content": f"Which sign is day {i}?"},
                      {"role": "assistant", "content": "Leo, the lion."}]} for i in range(16)]


def _stops(folder: Path) -> list[int]:
    found = json.loads((folder / "generation_config.json").read_text(encoding="utf-8"))["eos_token_id"]
    return found if isinstance(found, list) else [found]


@pytest.mark.slow
def test_a_chat_adapter_run_finished_from_its_checkpoint_keeps_its_stops(demo_cache: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from finetune_studio.core.export import export_merged
    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import resume, run

    data = tmp_path / "chats.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    config = small_config(data, tmp_path / "runs", max_steps=2, eval_strategy="no", save_strategy="steps",
                          save_steps=2, load_best_model_at_end=False)
    config.name = "lora-chat"
    config.adapter.method = "lora"
    result = run(config)
    assert result.state == "finished", result.message
    folder = RunFolder(result.run_dir)
    end = AutoTokenizer.from_pretrained(str(folder.model_dir)).convert_tokens_to_ids("<|im_end|>")
    checkpoint = folder.path / "checkpoint-2"
    assert _stops(checkpoint) == _stops(folder.model_dir) and end in _stops(checkpoint)

    shutil.rmtree(folder.model_dir)  # cut off during its final save, at its last step
    folder.write_status("stopped", "Stopped at step 2 of 2.", step=2, max_steps=2)
    finished = resume(folder.path)
    assert finished.message.startswith("Finished 2 steps: training had reached its last step")
    assert end in _stops(folder.model_dir)
    merged = export_merged(folder.path, tmp_path / "merged").out_dir
    assert end in _stops(merged)
