"""The label rule is TRL's: the same rows through TRL's SFTTrainer (assistant_only_loss / completion_only_loss) and
through core.chat.render_and_label give the same input_ids and labels, token for token."""

from __future__ import annotations

import pytest

from finetune_studio.core.chat import detect_format, render_and_label, template_plan, to_example
from finetune_studio.core.config import ChatConfig

pytestmark = pytest.mark.slow  # builds TRL's trainer on the demo model

MESSAGES = [
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Which element is Leo?"},
                  {"role": "assistant", "content": "Leo is a fire sign."}]},
    {"messages": [{"role": "user", "content": "Who rules Aries?"}, {"role": "assistant", "content": "Mars."},
                  {"role": "user", "content": "And Taurus?"}, {"role": "assistant", "content": "Venus rules it."}]},
    {"messages": [{"role": "user", "content": "Lucky color?"}, {"role": "assistant", "content": "Gold, today."}]},
]
PROMPT_COMPLETION = [
    {"prompt": "Which element is Leo?", "completion": " Fire."},
    {"prompt": "Q: Who rules Aries?\nA:", "completion": " Mars rules Aries."},
    {"prompt": "Lucky color for Pisces:", "completion": " teal"},
]
ALPACA = [
    {"instruction": "Name the element of a sign.", "input": "Leo", "output": "Fire."},
    {"instruction": "Say which planet rules Aries.", "input": "", "output": "Mars rules Aries."},
]


def trl_rows(rows: list[dict], tmp_path, **options) -> list[dict]:
    """TRL's prepared dataset (input_ids, labels) for rows, with the run's tokenizer and template."""
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from finetune_studio.core.demo import demo_model_path

    tokenizer = AutoTokenizer.from_pretrained(demo_model_path())
    plan = template_plan(tokenizer, ChatConfig())
    tokenizer.chat_template = plan.text
    tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(demo_model_path())
    model.resize_token_embeddings(len(tokenizer))
    args = SFTConfig(output_dir=str(tmp_path / "trl"), max_length=512, report_to="none", use_cpu=True,
                     shuffle_dataset=False, **options)
    trainer = SFTTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_list(rows),
                         processing_class=tokenizer)
    return [{"input_ids": r["input_ids"], "labels": r["labels"]} for r in trainer.train_dataset]


def ours(rows: list[dict], chat: ChatConfig) -> list[dict]:
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    tokenizer = AutoTokenizer.from_pretrained(demo_model_path())
    tokenizer.pad_token = tokenizer.eos_token
    detection = detect_format(rows, list(rows[0]))
    out = []
    for row in rows:
        roles = render_and_label(tokenizer, row, chat, 512, detection=detection)
        assert roles.problems == []
        out.append({"input_ids": roles.input_ids[:roles.kept], "labels": roles.labels[:roles.kept]})
    return out


def test_assistant_only_labels_equal_trls(demo_cache, tmp_path):
    expected = trl_rows(MESSAGES, tmp_path, assistant_only_loss=True)
    got = ours(MESSAGES, ChatConfig())
    assert got == expected
    assert all(any(label != -100 for label in row["labels"]) and -100 in row["labels"] for row in got)


def test_completion_only_labels_equal_trls(demo_cache, tmp_path):
    expected = trl_rows(PROMPT_COMPLETION, tmp_path, completion_only_loss=True)
    assert ours(PROMPT_COMPLETION, ChatConfig()) == expected


def test_alpaca_labels_equal_trls_on_the_same_conversation(demo_cache, tmp_path):
    detection = detect_format(ALPACA, list(ALPACA[0]))
    converted = [to_example(row, detection) for row in ALPACA]  # prompt/completion turns, as TRL takes them
    expected = trl_rows(converted, tmp_path, completion_only_loss=True)
    assert ours(ALPACA, ChatConfig()) == expected


def test_train_on_all_equals_trl_without_masks(demo_cache, tmp_path):
    expected = trl_rows(MESSAGES, tmp_path, assistant_only_loss=False)
    assert ours(MESSAGES, ChatConfig(train_on="all")) == expected
