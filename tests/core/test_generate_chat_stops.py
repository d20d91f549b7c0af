"""A chat run's replies end at its template's end of turn (<|im_end|> for ChatML) whatever model answers: a full
run's generation_config holds that stop (core.chat.prepare_model), but a LoRA run answers with its base's
generation_config, whose only stop is the base's EOS, so its replies ran on past <|im_end|> to max new tokens, in
the Try tab, `finetune-studio generate` and the checkpoint comparison alike (all render through core.generate.render
and answer through stream_answer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate as g
from tests.helpers import small_config

ROWS = [{"messages": [{"role": "user", "content": f"Which sign is day {i}?"},
                      {"role": "assistant", "content": "Leo, the lion."}]} for i in range(16)]


@pytest.fixture(scope="module")
def lora_chat_run(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from finetune_studio.core.training import run

    root = tmp_path_factory.mktemp("chat-stops")
    data = root / "chats.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "lora-chat"
    config.adapter.method = "lora"
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


def _emit_at(model: Any, token: int, step: int) -> Any:
    """Make the model's output head pick `token` at its `step`-th forward pass (the prompt's is the first): a
    stand-in for a model that learned to end its reply there."""
    calls = [0]

    def hook(_module: Any, _inputs: Any, logits: Any) -> Any:
        calls[0] += 1
        if calls[0] == step:
            logits = logits.clone()
            logits[..., -1, token] = logits.max() + 100
        return logits

    return model.get_output_embeddings().register_forward_hook(hook)


def reply_when_told_to_end(model: Any, tokenizer: Any, end: int, step: int = 4) -> list[int]:
    """The greedy reply to "Hello!" of a model made to pick `end` at its `step`-th token (_emit_at): a reply that
    stops there shows `end` is among the model's stop tokens."""
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": "Hello!"}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    handle = _emit_at(getattr(model, "get_base_model", lambda: model)(), end, step=step)
    try:
        output = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    finally:
        handle.remove()
    return output[0, inputs["input_ids"].shape[1]:].tolist()


@pytest.mark.slow
def test_a_lora_chat_runs_reply_stops_at_its_end_of_turn(lora_chat_run: Path) -> None:
    loaded = g.load(g.resolve(lora_chat_run))
    assert loaded.mode == "adapter" and loaded.source.chat
    end = loaded.tokenizer.convert_tokens_to_ids("<|im_end|>")
    template = g.chat_template(loaded.tokenizer, loaded.source.chat_config)
    rendered = g.render(loaded.tokenizer, "Which sign is day 3?", chat=True, template=template)
    settings = g.GenerationSettings(max_new_tokens=20)
    for side in (g.TUNED, g.BASE):  # the base (the adapter switched off) answers with the same template
        with loaded.model_for(side) as model:
            assert end not in [model.generation_config.eos_token_id]  # the base's stop only: the case at hand
            handle = _emit_at(model, end, step=4)
            try:
                answer = g.stream_answer(model, loaded.tokenizer, rendered, settings, side=side)
            finally:
                handle.remove()
        assert (answer.tokens, answer.stop_reason) == (4, g.StopReason.EOS), side  # 3 reply tokens, <|im_end|>
        assert "im_end" not in answer.text


def test_rendered_chat_prompts_carry_the_templates_stop_and_text_prompts_none(demo_cache: Path,
                                                                             lora_chat_run: Path) -> None:
    source = g.resolve(lora_chat_run)
    tokenizer = g.load_tokenizer(source)
    template = g.chat_template(tokenizer, source.chat_config)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert g.render(tokenizer, "Hi", chat=True, template=template).stops == (end,)
    assert g.render(tokenizer, "Hi", chat=False).stops == ()
    config = g.GenerationSettings().generation_config(g.load_weights(source.base, "cpu"), 8, stops=(end,))
    base_eos = tokenizer.eos_token_id
    assert config.eos_token_id == [end, base_eos]
