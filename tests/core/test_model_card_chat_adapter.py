"""A chat adapter's model card shows how to chat with it, and its snippet stops a reply at the template's end of
turn: peft's AutoPeftModelForCausalLM answers with its base's generation_config, whose only stop is the base's EOS,
so a reply ran on past <|im_end|> to max_new_tokens (the pushed generation_config.json holds the stop; the snippet
did not load it). The snippet is run as written, on the exported adapter in place of the repository id."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.model_card import render_model_card
from tests.helpers import small_config

ROWS = [{"messages": [{"role": "user", "content": f"Which sign is day {i}?"},
                      {"role": "assistant", "content": "Leo, the lion."}]} for i in range(16)]


@pytest.fixture(scope="module")
def lora_chat_run(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from finetune_studio.core.training import run

    root = tmp_path_factory.mktemp("chat-card")
    data = root / "chats.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=1, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "lora-chat"
    config.adapter.method = "lora"
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


def _snippet(card: str) -> str:
    found = re.search(r"## Use it\n\n```python\n(.*?)```", card, re.S)
    assert found, card
    return found.group(1)


def _end_at_fourth_token(model: Any, token: int) -> Any:
    """Make the output head pick `token` at its 4th forward pass (the prompt's is the first): a model that learned
    to end its reply there."""
    calls = [0]

    def hook(_module: Any, _inputs: Any, logits: Any) -> Any:
        calls[0] += 1
        if calls[0] == 4:
            logits = logits.clone()
            logits[..., -1, token] = logits.max() + 100
        return logits

    return model.get_output_embeddings().register_forward_hook(hook)


@pytest.mark.slow
def test_a_chat_adapters_card_snippet_chats_and_stops_at_the_end_of_turn(lora_chat_run: Path,
                                                                        tmp_path: Path) -> None:
    from peft import PeftModel

    from finetune_studio.core.export import export_adapter

    out = export_adapter(lora_chat_run, tmp_path / "adapter").out_dir
    card = render_model_card(lora_chat_run, repo_id=str(out), form="adapter")
    code = _snippet(card)
    assert 'messages = [{"role": "user", "content": "Hello!"}]' in code and "apply_chat_template" in code
    setup, _, answer = code.partition("output = ")  # load as written, then answer with the head forced
    scope: dict[str, Any] = {}
    exec(setup, scope)  # the card's own code, on a local folder
    model, tokenizer = scope["model"], scope["tokenizer"]
    assert isinstance(model, PeftModel)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    handle = _end_at_fourth_token(model.get_base_model(), end)
    try:
        exec("output = " + answer.split("\n")[0], scope)
    finally:
        handle.remove()
    reply = scope["output"][0, scope["inputs"]["input_ids"].shape[1]:].tolist()
    assert (len(reply), reply[-1]) == (4, end)  # 3 reply tokens, then <|im_end|>: it stopped there


def test_a_text_adapters_card_snippet_is_as_before(tmp_path: Path) -> None:
    from tests.core.test_adapters_card import adapter_run

    run_dir, _ = adapter_run(tmp_path)
    code = _snippet(render_model_card(run_dir, repo_id="alice/lora"))
    assert code == ('from peft import AutoPeftModelForCausalLM\nfrom transformers import AutoTokenizer\n\n'
                    'model = AutoPeftModelForCausalLM.from_pretrained("alice/lora")  # loads the base model too\n'
                    'tokenizer = AutoTokenizer.from_pretrained("alice/lora")\n')
