"""Every batching mode keeps the trained-token mask of chat rows: the loss per trained token of a padded batch, a
group_by_length batch, a padding-free batch and packed blocks of the same rows agree to 1e-5."""

from __future__ import annotations

import pytest

from finetune_studio.core.batching import collator, pack
from finetune_studio.core.chat import render_and_label
from finetune_studio.core.config import ChatConfig

pytestmark = pytest.mark.slow  # forward passes of the demo model

ROWS = [
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Which element is Leo?"},
                  {"role": "assistant", "content": "Leo is a fire sign."}]},
    {"messages": [{"role": "user", "content": "Who rules Aries?"}, {"role": "assistant", "content": "Mars."},
                  {"role": "user", "content": "And Taurus?"}, {"role": "assistant", "content": "Venus rules it."}]},
    {"messages": [{"role": "user", "content": "Lucky color?"}, {"role": "assistant", "content": "Gold, today."}]},
    {"messages": [{"role": "user", "content": "Any love advice for a Gemini this weekend, please?"},
                  {"role": "assistant", "content": "Say what you feel, and plan a quiet evening."}]},
]


@pytest.fixture(scope="module")
def setup(demo_cache):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    tokenizer = AutoTokenizer.from_pretrained(demo_model_path())
    tokenizer.pad_token = tokenizer.eos_token
    features = []
    for row in ROWS:
        roles = render_and_label(tokenizer, row, ChatConfig(), 512)
        features.append({"input_ids": roles.input_ids[:roles.kept], "labels": roles.labels[:roles.kept]})
    model = AutoModelForCausalLM.from_pretrained(demo_model_path(), attn_implementation="sdpa")
    model.resize_token_embeddings(len(tokenizer))
    model.config.use_cache = False
    model.eval()
    torch.manual_seed(0)
    return tokenizer, model, features


def loss_per_trained_token(model, batch) -> tuple[float, int]:
    import torch

    with torch.no_grad():
        loss = model(**batch).loss
    targets = int((batch["labels"][:, 1:] != -100).sum())
    return float(loss), targets


def test_every_mode_keeps_the_mask_and_the_loss(setup):
    import datasets

    tokenizer, model, features = setup
    trained = sum(1 for f in features for label in f["labels"][1:] if label != -100)
    padded = collator("padded", tokenizer, labelled=True)([dict(f) for f in features])
    assert padded["input_ids"].shape[0] == len(features) and (padded["attention_mask"] == 0).any()  # real padding
    reference, count = loss_per_trained_token(model, padded)
    assert count == trained

    by_length = sorted(features, key=lambda f: len(f["input_ids"]))  # what group_by_length batches together
    grouped = collator("group_by_length", tokenizer, labelled=True)([dict(f) for f in by_length])
    flat = collator("padding_free", tokenizer, labelled=True)([dict(f) for f in features])
    blocks = pack(datasets.Dataset.from_list(features), max_length=128)
    assert len(blocks) < len(features) and "labels" in blocks.column_names
    packed = collator("packed", tokenizer, labelled=True)([blocks[i] for i in range(len(blocks))])
    for name, batch in (("group_by_length", grouped), ("padding_free", flat), ("packed", packed)):
        loss, count = loss_per_trained_token(model, batch)
        assert count == trained, name
        assert abs(loss - reference) <= 1e-5 * abs(reference), (name, loss, reference)


def test_labels_survive_each_collator(setup):
    """Not just the loss: the trained positions themselves are the rows' own (no token of a prompt trains)."""
    tokenizer, _, features = setup
    expected = [t for f in features for t in f["labels"][1:] if t != -100]
    padded = collator("padded", tokenizer, labelled=True)([dict(f) for f in features])
    assert [t for row in padded["labels"].tolist() for t in row[1:] if t != -100] == expected
    flat = collator("padding_free", tokenizer, labelled=True)([dict(f) for f in features])
    assert [t for t in flat["labels"][0].tolist() if t != -100] == expected
    # the language-modeling collator of plain text would have trained every token instead
    text = collator("padded", tokenizer)([{"input_ids": f["input_ids"]} for f in features])
    assert sum(1 for row in text["labels"].tolist() for t in row if t != -100) > len(expected) + 40
