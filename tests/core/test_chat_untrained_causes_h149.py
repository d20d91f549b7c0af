"""A row can train nothing for two reasons: max_length cuts it before the reply, or every reply has the weight 0.
prepare_dataset's note blamed max_length for both; it now counts each cause with its own To fix."""

from __future__ import annotations

import pytest

from finetune_studio.core.chat import prepare_dataset
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import DataError

LONG = {"messages": [{"role": "user", "content": "word " * 200}, {"role": "assistant", "content": "Yes."}]}
WEIGHT_0 = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo", "weight": 0}]}
GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}


@pytest.fixture()
def tokenizer(demo_cache):
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def prepare(tokenizer, rows, drop=False):
    import datasets

    config = default_config()
    config.dataset.source, config.dataset.test_size, config.dataset.max_length = "rows.jsonl", 0, 64
    config.chat.drop_untrained_rows = drop
    said: list[str] = []
    data = prepare_dataset(datasets.Dataset.from_list(rows), tokenizer, config.chat, config.dataset, 42,
                           notify=said.append)
    return data, said


def test_kept_rows_are_counted_by_cause(tokenizer) -> None:
    data, said = prepare(tokenizer, [LONG, WEIGHT_0, WEIGHT_0, GOOD])
    assert len(data.splits["train"]) == 4
    assert [line for line in said if "train nothing" in line] == [
        "3 of 4 rows train nothing; they are kept and add no loss: 1 because max_length 64 cuts them before the "
        "reply (To fix: raise max_length, or turn on chat.drop_untrained_rows); 2 because every reply in them has "
        "the weight 0 (To fix: set the weight of the replies to train to 1, or turn on chat.drop_untrained_rows)."]


def test_dropped_rows_are_counted_by_cause(tokenizer) -> None:
    data, said = prepare(tokenizer, [WEIGHT_0, GOOD, GOOD], drop=True)
    assert len(data.splits["train"]) == 2
    assert [line for line in said if line.startswith("Dropped")] == [
        "Dropped 1 of 3 rows where nothing is trained, as chat.drop_untrained_rows is on: 1 because every reply in "
        "them has the weight 0 (To fix: set the weight of the replies to train to 1)."]
    assert not any("max_length" in line for line in said if line.startswith("Dropped"))


def test_no_row_trains_because_of_weights(tokenizer) -> None:
    with pytest.raises(DataError) as info:
        prepare(tokenizer, [WEIGHT_0, WEIGHT_0])
    assert str(info.value) == (
        "rows.jsonl: none of its 2 rows has a token to train, so the run would learn nothing (nothing was trained): "
        "2 because every reply in them has the weight 0 (To fix: set the weight of the replies to train to 1).")
