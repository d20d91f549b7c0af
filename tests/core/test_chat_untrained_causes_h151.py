"""Rows whose every reply has "weight": 0 train nothing (3bb150e). The Inspector listed them as having 'no trained
token at all (nothing in them is a reply or completion under the current setting)', and validate (and the run's
test-split refusal) blamed max_length for them; each now names the weights, counted by cause as the run log does
(34bafdd), with the To fix for the settings in force."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.inspector import Inspector
from tests.core.test_validate_chat_tokens import _config, _train_refuses, _validate  # max_length 64, test_size 0.1

LONG = {"messages": [{"role": "user", "content": "word " * 200}, {"role": "assistant", "content": "Yes."}]}
WEIGHT_0 = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo", "weight": 0}]}
GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


def _inspect(tokenizer: Any, rows: list[dict], tmp_path: Path, drop: bool = False) -> tuple[Any, Any]:
    config = default_config()
    config.dataset.max_length = 64
    config.chat.drop_untrained_rows = drop
    ins = Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer, ds=rows)
    return ins, ins.check()


def test_the_inspector_names_rows_of_weight_0(tokenizer: Any, tmp_path: Path) -> None:
    ins, checks = _inspect(tokenizer, [WEIGHT_0, LONG, WEIGHT_0, GOOD], tmp_path)
    assert checks.no_trained_rows() == [0, 1, 2] and checks.untrained_count() == 3
    problems = {p.kind: p for p in checks.problems(ins.chat)}
    assert set(problems) == {"cut_before_reply", "weight_0"}  # no 'no_trained': each row has its cause
    assert (checks.weight_0_rows(), checks.cut_before_reply_rows()) == ([0, 2], [1])
    weight = problems["weight_0"]
    assert (weight.message, weight.count, weight.rows, weight.severity) == (
        "2 rows train nothing: every reply in them has the weight 0 in the data, which marks a reply not to train. "
        "To fix: set the weight of the replies to train to 1 in the data, or drop such rows.", 2, [0, 2], "error")
    assert [f.overrides for f in weight.fixes] == [{"chat.drop_untrained_rows": True}]

    ins, checks = _inspect(tokenizer, [WEIGHT_0, GOOD], tmp_path, drop=True)  # the settings in force
    (weight,) = [p for p in checks.problems(ins.chat) if p.kind == "weight_0"]
    assert (weight.message, weight.fixes, weight.severity) == (
        "1 row trains nothing: every reply in it has the weight 0 in the data, which marks a reply not to train. "
        "chat.drop_untrained_rows is on, so a run leaves it out. To fix, to train it: set the weight of the replies "
        "to train to 1 in the data.", [], "warning")


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_validate_counts_rows_that_train_nothing_by_cause(demo_cache, runs_dir, tmp_path, capsys) -> None:
    data = _write(tmp_path / "rows.jsonl", [WEIGHT_0] * 3)
    config = _config(tmp_path, data, runs_dir)
    said = (f"dataset.source: {data}: none of its 3 rows has a token to train, so the run would learn nothing: 3 "
            "because every reply in them has the weight 0 (To fix: set the weight of the replies to train to 1).")
    assert _validate(config, capsys) == (2, [f"problem: {said}"])
    assert _train_refuses(config, runs_dir, capsys) == [f"error: {said}"]

    _write(data, [WEIGHT_0, LONG, WEIGHT_0])  # both causes: max_length is one of the fixes
    assert _validate(config, capsys) == (2, [
        f"problem: dataset.max_length: {data}: none of its 3 rows has a token to train, so the run would learn "
        "nothing: 1 because max_length 64 cuts them before the reply (To fix: raise max_length); 2 because every "
        "reply in them has the weight 0 (To fix: set the weight of the replies to train to 1)."])


def test_a_test_split_of_weight_0_rows_names_the_weights(demo_cache, runs_dir, tmp_path, capsys) -> None:
    import datasets

    split = datasets.Dataset.from_dict({"i": list(range(20))}).train_test_split(test_size=0.1, seed=42)
    held_out = sorted(split["test"]["i"])
    rows = [GOOD] * 20
    rows[held_out[0]], rows[held_out[1]] = WEIGHT_0, LONG
    data = _write(tmp_path / "split.jsonl", rows)
    config = _config(tmp_path, data, runs_dir)
    said = (f"dataset.test_size: {data}: none of the 2 rows of the test split has a token to train, so evaluation "
            "would have no loss: 1 because max_length 64 cuts them before the reply (To fix: raise max_length, or "
            "turn on chat.drop_untrained_rows); 1 because every reply in them has the weight 0 (To fix: set the "
            "weight of the replies to train to 1, or turn on chat.drop_untrained_rows). Or set test_size to 0 (and "
            "eval_strategy to 'no') to hold out no test split.")
    assert _validate(config, capsys) == (2, [f"problem: {said}"])
    assert _train_refuses(config, runs_dir, capsys) == [f"error: {said}"]


def test_the_runs_own_test_split_refusal_names_the_weights(demo_cache) -> None:
    import datasets

    from finetune_studio.core.chat import prepare_dataset
    from finetune_studio.core.errors import DataError
    from finetune_studio.core.model import load_tokenizer

    config = default_config()
    split = datasets.Dataset.from_dict({"i": list(range(20))}).train_test_split(test_size=0.1, seed=42)
    rows = [WEIGHT_0 if i in set(split["test"]["i"]) else GOOD for i in range(20)]
    config.dataset.source, config.dataset.test_size, config.dataset.max_length = "rows.jsonl", 0.1, 64
    with pytest.raises(DataError) as info:
        prepare_dataset(datasets.Dataset.from_list(rows), load_tokenizer(config.model), config.chat, config.dataset,
                        42)
    assert str(info.value) == (
        "rows.jsonl: none of the 2 rows of the test split has a token to train, so evaluation would have no loss: 2 "
        "because every reply in them has the weight 0 (To fix: set the weight of the replies to train to 1, or turn "
        "on chat.drop_untrained_rows). Or set test_size to 0 (and eval_strategy to 'no') to hold out no test split; "
        "nothing was trained.")
