"""An adapter export whose tokenizer has more tokens than its base model has embedding rows (a chat run that added
its template's tokens) says how to load it with PeftModel.from_pretrained (helper-201): on a base loaded with
AutoModelForCausalLM that failed with 'IndexError: index 1457 is out of bounds for dimension 0 with size 1457';
the message named only AutoPeftModelForCausalLM, which resizes the base itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from finetune_studio.core.export import export_adapter
from finetune_studio.core.hub import size_text
from tests.core.test_export_modes_h201 import lora_run  # noqa: F401 - a fixture
from tests.core.test_generate_chat_stops import lora_chat_run  # noqa: F401 - a fixture


@pytest.mark.slow
def test_following_the_note_peft_loads_the_chat_adapter_with_the_runs_logits(lora_chat_run: Path,
                                                                            tmp_path: Path) -> None:
    import torch
    from peft import AutoPeftModelForCausalLM, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import finetune_studio.core.generate as g

    result = export_adapter(lora_chat_run, tmp_path / "chat adapter")
    tokenizer = AutoTokenizer.from_pretrained(str(result.out_dir))
    base_path = json.loads((result.out_dir / "adapter_config.json").read_text())["base_model_name_or_path"]
    rows = AutoModelForCausalLM.from_pretrained(base_path).get_input_embeddings().weight.shape[0]
    assert (len(tokenizer), rows) == (1459, 1457)
    assert result.message.startswith(
        f"Exported the adapter ({size_text(result.size_bytes)}) to {result.out_dir}. Its tokenizer has 1459 tokens, "
        "2 more than its base model's 1457 embedding rows (tokens the run added), so a base you load yourself for "
        "PeftModel.from_pretrained must be resized first, base.resize_token_embeddings(1459), or loading fails with "
        "IndexError; AutoPeftModelForCausalLM resizes it itself. It loads on top of its base model "
        f"{base_path} with peft: AutoPeftModelForCausalLM.from_pretrained('{result.out_dir}').")
    with pytest.raises(IndexError):  # what the note says happens without it
        PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_path), str(result.out_dir))
    base = AutoModelForCausalLM.from_pretrained(base_path)
    exec(re.search(r"(base\.resize_token_embeddings\(\d+\))", result.message).group(1), {"base": base})
    model = PeftModel.from_pretrained(base, str(result.out_dir))
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "Which sign is day 3?"}],
                                        add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    loaded = g.load(g.resolve(lora_chat_run))
    with torch.no_grad(), loaded.model_for(g.TUNED) as run_model:
        expected = run_model(ids).logits
        assert torch.equal(model(ids).logits, expected)
        assert torch.equal(AutoPeftModelForCausalLM.from_pretrained(str(result.out_dir))(ids).logits, expected)


@pytest.mark.slow
def test_a_text_adapter_export_adds_no_note(lora_run: Path, tmp_path: Path) -> None:
    message = export_adapter(lora_run, tmp_path / "text adapter").message
    assert "resize_token_embeddings" not in message
    assert message.endswith("with peft: AutoPeftModelForCausalLM.from_pretrained("
                            f"'{tmp_path / 'text adapter'}').")
