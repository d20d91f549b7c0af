"""A chat run end to end: it trains, the saved model carries the chat template and stops at the end of a reply,
and transformers' text-generation pipeline renders a messages list exactly as render_and_label did."""

from __future__ import annotations

import json

import pytest

from finetune_studio.core.chat import render_and_label
from finetune_studio.core.config import ChatConfig
from tests.helpers import read_events, small_config

# One short reply to varied questions: the tiny demo model learns it (and to end it) in 60 steps on a CPU.
PAIRS = [("Which element is Leo?", "Fire."), ("Who rules Aries?", "Fire."), ("Lucky color today?", "Fire."),
         ("Is Cancer a water sign?", "Fire.")]


@pytest.mark.slow
def test_chat_run_saves_a_model_that_renders_and_stops_like_the_inspector(demo_cache, runs_dir, tmp_path):
    import torch
    from transformers import pipeline
    from transformers.utils.chat_template_utils import Chat

    path = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            for q, a in PAIRS] * 16
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = small_config(path, runs_dir, max_steps=60, learning_rate=4e-3, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False, logging_steps=5)
    config.dataset.test_size = 0.0
    from finetune_studio.core.training import run

    result = run(config)
    assert result.state == "finished"
    notices = [e["message"] for e in read_events(result.run_dir, "notice")]
    assert any("ChatML: the tokenizer has no template" in n for n in notices)
    assert any("the loss is on the assistant replies" in n for n in notices)
    losses = [e["loss"] for e in read_events(result.run_dir, "log")]
    assert losses[-1] < losses[0] / 3

    model_dir = result.model_dir
    assert "<|im_end|>" in (model_dir / "chat_template.jinja").read_text(encoding="utf-8")
    pipe = pipeline("text-generation", model=str(model_dir), device="cpu")
    end = pipe.tokenizer.convert_tokens_to_ids("<|im_end|>")
    stops = pipe.model.generation_config.eos_token_id
    assert end in (stops if isinstance(stops, list) else [stops])

    for question, answer in PAIRS:
        messages = [{"role": "user", "content": question}]
        # The prompt the pipeline renders is the Inspector's row up to the first trained token.
        roles = render_and_label(pipe.tokenizer, {"messages": messages + [{"role": "assistant", "content": answer}]},
                                 ChatConfig(), 512)
        prompt_ids = roles.input_ids[:roles.roles.index("trained")]
        assert pipe.preprocess(Chat(messages))["input_ids"][0].tolist() == prompt_ids  # what pipe(messages) feeds
        reply = pipe(messages, max_new_tokens=20, do_sample=False)[0]["generated_text"][-1]
        assert reply == {"role": "assistant", "content": answer}
        generated = pipe.model.generate(input_ids=torch.tensor([prompt_ids]), max_new_tokens=20, do_sample=False)
        new = generated[0, len(prompt_ids):].tolist()
        assert new[-1] == end and len(new) < 20  # it stopped at the end-of-turn token, not at the length limit


@pytest.mark.slow
def test_an_adapter_chat_run_saves_the_template_and_the_stop_tokens(demo_cache, runs_dir, tmp_path):
    path = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in PAIRS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows * 4), encoding="utf-8")
    config = small_config(path, runs_dir, max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False, logging_steps=1)
    config.dataset.test_size = 0.0
    config.adapter.method = "lora"
    from transformers import AutoTokenizer, GenerationConfig

    from finetune_studio.core.training import run

    result = run(config)
    assert (result.model_dir / "adapter_config.json").is_file()
    tokenizer = AutoTokenizer.from_pretrained(result.model_dir)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert tokenizer.chat_template is not None and "<|im_end|>" in tokenizer.chat_template
    assert end in GenerationConfig.from_pretrained(result.model_dir).eos_token_id


def _rendered_rows_unchecked():
    """validate()'s rendered-rows check finding nothing, as for rows past what it reads: the training's own
    check is then what refuses the run."""
    from unittest import mock

    from finetune_studio.core.chat import TokenCheck

    return mock.patch("finetune_studio.core.chat.token_check", lambda config: TokenCheck())


def _long_question_chats(path, trained_rows: int, rows: int = 20):
    """`rows` conversations; all but `trained_rows` of them ask a question too long for max_length 64."""
    long = "x " * 400
    items = [{"messages": [{"role": "user", "content": "Short?" if i < trained_rows else long},
                           {"role": "assistant", "content": "Fire."}]} for i in range(rows)]
    path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    return path


def test_chat_data_where_no_row_trains_a_token_is_refused_before_training(demo_cache, runs_dir, tmp_path):
    """It 'finished' with a train loss of 0 at every step (or, with evaluation, ended as diverged with a NaN eval
    loss blamed on the learning rate). run() refuses it in validation (rendered rows, core.chat.token_check) before
    a folder exists; the training's own check still refuses what that check could not see (patched away here)."""
    from finetune_studio.core.errors import ConfigError, DataError
    from finetune_studio.core.training import run

    config = small_config(_long_question_chats(tmp_path / "long.jsonl", 0), runs_dir, max_steps=3,
                          eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
    config.name = "nothing"
    said = (r"none of its 20 rows has a token to train: max_length 64 cuts every one before its reply .* "
            r"Raise max_length")
    with pytest.raises(ConfigError, match=said) as refused:
        run(config)
    assert [p.field for p in refused.value.problems] == ["dataset.max_length"]
    assert not (runs_dir / "nothing").exists()
    with _rendered_rows_unchecked(), pytest.raises(DataError, match=said + r" or check train_on"):
        run(config)
    assert read_events(runs_dir / "nothing", "step") == []  # refused before its first step


def test_a_test_split_that_trains_no_token_is_refused_not_blamed_on_the_learning_rate(demo_cache, runs_dir,
                                                                                      tmp_path):
    from finetune_studio.core.errors import ConfigError, DataError
    from finetune_studio.core.training import run

    config = small_config(_long_question_chats(tmp_path / "mostly-long.jsonl", 1), runs_dir, max_steps=3,
                          eval_steps=3, save_strategy="no", load_best_model_at_end=False)
    with pytest.raises(ConfigError, match=r"dataset.test_size: .* none of the 2 rows of the test split has a token"):
        run(config)  # in validation, before a folder (core.chat.token_check)
    with _rendered_rows_unchecked(), pytest.raises(DataError, match=r"none of the 2 rows of the test split has a "
                                                                    r"token to train"):
        run(config)
