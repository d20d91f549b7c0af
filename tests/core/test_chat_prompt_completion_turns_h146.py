"""Prompt/completion rows whose prompt and completion are lists of turns (TRL's conversational prompt/completion):
both columns make the row and only the completion's tokens train. They were read as a 'messages' conversation in
the prompt column alone, so a run refused them (no assistant turn) or, with a text prompt, trained the completion
with the prompt left out; a completion that opens with a user turn trained that turn as the assistant's words."""

from __future__ import annotations

import json

import pytest

from finetune_studio.core.chat import detect_format, prepare_dataset, render_and_label
from finetune_studio.core.config import ChatConfig, default_config
from finetune_studio.core.errors import DataError
from finetune_studio.core.validation import validate

TURNS = [{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"Sign {i}?"}],
          "completion": [{"role": "assistant", "content": f"Leo {i}."}]} for i in range(6)]


@pytest.fixture()
def tokenizer(demo_cache):
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def test_turns_in_prompt_and_completion_are_prompt_completion() -> None:
    detection = detect_format(TURNS, ["prompt", "completion"])
    assert (detection.format, detection.columns) == ("prompt_completion",
                                                     {"prompt": "prompt", "completion": "completion"})
    assert detection.reason == "columns 'prompt' and 'completion' hold lists of turns"


def test_only_the_completion_trains(tokenizer) -> None:
    roles = render_and_label(tokenizer, TURNS[0], ChatConfig(), 512)
    assert roles.problems == []
    assert (roles.format, roles.train_on) == ("prompt_completion", "completion")
    assert roles.text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nSign 0?<|im_end|>\n"
                          "<|im_start|>assistant\nLeo 0.<|im_end|>\n")
    from finetune_studio.core.chat import template_plan

    prompt = tokenizer.apply_chat_template(TURNS[0]["prompt"], tokenize=True, return_dict=True,
                                           add_generation_prompt=True,
                                           chat_template=template_plan(tokenizer, ChatConfig()).text)["input_ids"]
    assert roles.input_ids[:len(prompt)] == list(prompt)
    assert roles.labels[:len(prompt)] == [-100] * len(prompt)  # system, user and the assistant header
    assert roles.labels[len(prompt):] == roles.input_ids[len(prompt):]
    assert tokenizer.decode(roles.labels[len(prompt):]) == "Leo 0.<|im_end|>\n"


def test_the_run_trains_the_same_labels(tokenizer) -> None:
    import datasets

    config = default_config()
    config.dataset.source, config.dataset.test_size = "turns.jsonl", 0
    data = prepare_dataset(datasets.Dataset.from_list(TURNS), tokenizer, config.chat, config.dataset, 42)
    assert data.detection.format == "prompt_completion"
    for row, encoded in zip(TURNS, data.splits["train"]):
        roles = render_and_label(tokenizer, row, config.chat, config.dataset.max_length)
        assert encoded["labels"] == roles.labels[:roles.kept]
        trained = tokenizer.decode([t for t in encoded["labels"] if t != -100])
        assert trained == f"{row['completion'][0]['content']}<|im_end|>\n"


def test_a_text_prompt_with_a_list_completion_is_refused(tmp_path) -> None:
    """It trained '<|im_start|>assistant\\nLeo 0.<|im_end|>' with the prompt left out, and validate said ok."""
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"Sign {i}?", "completion": row["completion"]}) + "\n"
                            for i, row in enumerate(TURNS)))
    config = default_config()
    config.dataset.source = str(path)
    said = [p.message for p in validate(config) if p.field == "dataset.source"]
    one = ("column 'prompt' holds text while 'completion' holds a list of messages; a row is both as text or both "
           "as lists. To fix: write 'prompt' as a list such as [{\"role\": \"user\", \"content\": \"Hi\"}], or "
           "'completion' as text")
    assert said == [f"{path}: row 1: {one}; row 2: {one}; row 3: {one}. Fix or remove these rows, or map the "
                    "columns in chat.columns."]


def test_a_completion_that_opens_with_a_user_turn_is_refused(tokenizer) -> None:
    import datasets

    rows = [{"prompt": [{"role": "user", "content": "Sign?"}],
             "completion": [{"role": "user", "content": "Leo."}, {"role": "assistant", "content": "Yes."}]}] * 2
    roles = render_and_label(tokenizer, rows[0], ChatConfig(), 512)
    message = ("the completion in 'completion' starts with a user turn; a completion is the assistant's reply. To "
               "fix: move that turn to the end of 'prompt', so 'completion' starts with the assistant's turn")
    assert (roles.problems, roles.labels) == ([message], [])
    config = default_config()
    config.dataset.source = "turns.jsonl"
    with pytest.raises(DataError) as raised:
        prepare_dataset(datasets.Dataset.from_list(rows), tokenizer, config.chat, config.dataset, 42)
    assert str(raised.value) == (f"turns.jsonl: 2 of 2 rows cannot be trained as prompt/completion: row 1: {message}; "
                                 f"row 2: {message}. Fix or remove those rows (nothing was trained).")
