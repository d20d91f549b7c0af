"""An adapter export of a chat run says how to make peft stop a reply at the template's end of turn: the export
carries the run's generation_config.json (<|im_end|> among its stops), but AutoPeftModelForCausalLM answers with
its base's, whose only stop is the base's EOS, so a reply ran on past <|im_end|> to max_new_tokens. A text run's
export (no generation_config.json) says what it said."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from finetune_studio.core.export import export_adapter
from tests.core.test_adapters_card import adapter_run
from tests.core.test_generate_chat_stops import lora_chat_run, reply_when_told_to_end  # noqa: F401 - a fixture


def test_a_text_adapter_export_says_what_it_said(tmp_path: Path) -> None:
    run_dir, base = adapter_run(tmp_path)
    message = re.sub(r"\(\d[^)]*\)", "(SIZE)", export_adapter(run_dir, tmp_path / "out").message, count=1)
    assert message == (f"Exported the adapter (SIZE) to {tmp_path / 'out'}. It loads on top of its base "
                       f"model {base} with peft: AutoPeftModelForCausalLM.from_pretrained('{tmp_path / 'out'}').")


def test_a_chat_adapter_export_says_to_load_its_generation_config(tmp_path: Path) -> None:
    run_dir, _ = adapter_run(tmp_path)
    (run_dir / "model" / "generation_config.json").write_text(json.dumps({"eos_token_id": [1458, 0]}))
    out = tmp_path / "out"
    message = export_adapter(run_dir, out).message
    assert message.endswith(" peft answers with the base model's generation_config, which does not stop at the end "
                            "of a chat reply: load this one too, model.generation_config = "
                            f"GenerationConfig.from_pretrained('{out}'), or replies run on past the end of turn.")


@pytest.mark.slow
def test_following_the_message_a_chat_adapters_reply_stops_at_its_end_of_turn(lora_chat_run: Path,
                                                                            tmp_path: Path) -> None:
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer, GenerationConfig

    result = export_adapter(lora_chat_run, tmp_path / "adapter")
    model = AutoPeftModelForCausalLM.from_pretrained(str(result.out_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(result.out_dir))
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert end not in [model.generation_config.eos_token_id]  # peft's own: the base's stop only
    line = re.search(r"load this one too, (model\.generation_config = GenerationConfig\.from_pretrained\('[^']+'\))",
                     result.message)
    assert line, result.message
    exec(line.group(1), {"model": model, "GenerationConfig": GenerationConfig})  # as the message says
    reply = reply_when_told_to_end(model, tokenizer, end)  # a model that ends its reply at its 4th token
    assert (len(reply), reply[-1]) == (4, end)
