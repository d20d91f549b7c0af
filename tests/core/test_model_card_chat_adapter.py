"""A chat adapter's model card shows how to chat with it, and its snippet stops a reply at the template's end of
turn: peft's AutoPeftModelForCausalLM answers with its base's generation_config, whose only stop is the base's EOS,
so a reply ran on past <|im_end|> to max_new_tokens (the pushed generation_config.json holds the stop; the snippet
did not load it). The snippet is run as written, on the exported adapter in place of the repository id."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.model_card import render_model_card
from tests.core.test_generate_chat_stops import _emit_at, lora_chat_run  # noqa: F401 - a fixture


def snippet(card: str) -> str:
    """The card's "Use it" code."""
    found = re.search(r"## Use it\n\n```python\n(.*?)```", card, re.S)
    assert found, card
    return found.group(1)


def snippet_reply(code: str) -> tuple[list[int], int, Any]:
    """The card's snippet run as written (on a local folder put in place of the repository id), its answer given
    with the model's head made to pick <|im_end|> at its 4th forward pass: (the reply's token ids, <|im_end|>'s id,
    the model the snippet loaded)."""
    setup, _, answer = code.partition("output = ")  # load as written, then answer with the head forced
    scope: dict[str, Any] = {}
    exec(setup, scope)  # the card's own code, on a local folder
    model, tokenizer = scope["model"], scope["tokenizer"]
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    handle = _emit_at(model.get_base_model(), end, step=4)
    try:
        exec("output = " + answer.split("\n")[0], scope)
    finally:
        handle.remove()
    return scope["output"][0, scope["inputs"]["input_ids"].shape[1]:].tolist(), end, model


@pytest.mark.slow
def test_a_chat_adapters_card_snippet_chats_and_stops_at_the_end_of_turn(lora_chat_run: Path,
                                                                        tmp_path: Path) -> None:
    from peft import PeftModel

    from finetune_studio.core.export import export_adapter

    out = export_adapter(lora_chat_run, tmp_path / "adapter").out_dir
    card = render_model_card(lora_chat_run, repo_id=str(out), form="adapter")
    code = snippet(card)
    assert 'messages = [{"role": "user", "content": "Hello!"}]' in code and "apply_chat_template" in code
    reply, end, model = snippet_reply(code)
    assert isinstance(model, PeftModel)
    assert (len(reply), reply[-1]) == (4, end)  # 3 reply tokens, then <|im_end|>: it stopped there


def test_a_text_adapters_card_snippet_is_as_before(tmp_path: Path) -> None:
    from tests.core.test_adapters_card import adapter_run

    run_dir, _ = adapter_run(tmp_path)
    code = snippet(render_model_card(run_dir, repo_id="alice/lora"))
    assert code == ('from peft import AutoPeftModelForCausalLM\nfrom transformers import AutoTokenizer\n\n'
                    'model = AutoPeftModelForCausalLM.from_pretrained("alice/lora")  # loads the base model too\n'
                    'tokenizer = AutoTokenizer.from_pretrained("alice/lora")\n')
