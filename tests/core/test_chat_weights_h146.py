"""A reply a conversation marks with "weight": 0 (axolotl's ShareGPT and chat_template datasets write 0 or 1 on each
turn) is not trained: it trained like every other reply, so a run learned the turns its data said to leave out. A
weight of 1 on a user turn (train_on 'assistant' cannot train it) and a weight that is not 0 or 1 are refused."""

from __future__ import annotations

import pytest

from finetune_studio.core.chat import prepare_dataset, render_and_label
from finetune_studio.core.config import ChatConfig, default_config
from finetune_studio.core.inspector import Inspector

WEIGHTED = {"conversations": [{"from": "human", "value": "Hi", "weight": 0},
                              {"from": "gpt", "value": "Yo, what?", "weight": 0},
                              {"from": "human", "value": "Sign?", "weight": 0},
                              {"from": "gpt", "value": "Leo.", "weight": 1}]}
PLAIN = {"conversations": [{k: v for k, v in turn.items() if k != "weight"} for turn in WEIGHTED["conversations"]]}


@pytest.fixture()
def tokenizer(demo_cache):
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def trained(tokenizer, labels) -> str:
    return tokenizer.decode([t for t in labels if t != -100])


def test_a_reply_of_weight_0_is_not_trained(tokenizer) -> None:
    weighted = render_and_label(tokenizer, WEIGHTED, ChatConfig(), 512)
    plain = render_and_label(tokenizer, PLAIN, ChatConfig(), 512)
    assert weighted.problems == [] and weighted.input_ids == plain.input_ids
    assert trained(tokenizer, plain.labels) == "Yo, what?<|im_end|>\nLeo.<|im_end|>\n"
    assert trained(tokenizer, weighted.labels) == "Leo.<|im_end|>\n"
    differ = [i for i, (a, b) in enumerate(zip(weighted.labels, plain.labels)) if a != b]
    assert tokenizer.decode([plain.input_ids[i] for i in differ]) == "Yo, what?<|im_end|>\n"
    assert all(weighted.labels[i] == -100 for i in differ)


def test_the_run_and_the_inspector_train_the_same_tokens(tokenizer, tmp_path) -> None:
    import datasets

    config = default_config()
    config.dataset.source, config.dataset.test_size = "weighted.jsonl", 0
    rows = [WEIGHTED, PLAIN]
    data = prepare_dataset(datasets.Dataset.from_list(rows), tokenizer, config.chat, config.dataset, 42)
    got = [trained(tokenizer, row["labels"]) for row in data.splits["train"]]
    assert got == ["Leo.<|im_end|>\n", "Yo, what?<|im_end|>\nLeo.<|im_end|>\n"]
    checks = Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer, ds=rows).check()
    assert checks.counts["trained"].tolist() == [sum(1 for t in row["labels"] if t != -100)
                                                 for row in data.splits["train"]]


def test_every_reply_of_weight_0(tokenizer) -> None:
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo", "weight": 0}]}
    roles = render_and_label(tokenizer, row, ChatConfig(), 512)
    assert roles.trained == 0 and len(roles.input_ids) > 0
    assert roles.problems == ["every reply of this row has the weight 0, so nothing in it is trained. To fix: set a "
                              "reply's weight to 1, or drop such rows (chat.drop_untrained_rows)"]


def test_weights_that_cannot_be_honoured_are_refused(tokenizer) -> None:
    user = {"messages": [{"role": "user", "content": "Hi", "weight": 1}, {"role": "assistant", "content": "Yo"}]}
    roles = render_and_label(tokenizer, user, ChatConfig(), 512)
    assert (roles.problems, roles.labels) == (
        ["message 1 (user) of column 'messages' has the weight 1, but train_on 'assistant' trains only the "
         "assistant's replies. To fix: set its weight to 0 or remove it, or set train_on to 'all'"], [])
    every = render_and_label(tokenizer, user, ChatConfig(train_on="all"), 512)
    assert every.problems == [] and every.labels == every.input_ids
    half = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo", "weight": 0.5}]}
    assert render_and_label(tokenizer, half, ChatConfig(), 512).problems == [
        "message 2 (assistant) of column 'messages' has the weight 0.5; a turn's weight is 0 (not trained) or 1 "
        "(trained). To fix: set it to 0 or 1, or remove it"]
