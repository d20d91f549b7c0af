"""Faster batching modes keep the loss per token the seed's, and refuse models they would train wrongly."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from finetune_studio.core.batching import PackedCollator, collator, pack, padding_free_problem, prepare_model
from tests.helpers import SAMPLE, small_config


def test_packed_batch_has_the_padded_batch_loss(demo_cache: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer, resolve_model

    tokenizer = load_tokenizer(ModelConfig())
    model = AutoModelForCausalLM.from_pretrained(resolve_model("builtin:demo"))
    model.train()  # the training path, where a KV cache would hide the row boundaries
    prepare_model("padding_free", model)
    texts = [json.loads(line)["horoscope"] for line in SAMPLE.read_text().splitlines()[:6]]
    features = [tokenizer(text) for text in texts]
    padded = collator("padded", tokenizer)(features)
    packed = collator("padding_free", tokenizer)([{"input_ids": f["input_ids"]} for f in features])
    assert "attention_mask" not in packed and packed["input_ids"].shape[0] == 1
    assert packed["input_ids"].shape[1] == sum(len(f["input_ids"]) for f in features)  # no padding at all
    assert padded["input_ids"].numel() > packed["input_ids"].numel()
    torch.manual_seed(0)
    with torch.no_grad():
        loss_padded = model(**padded).loss.item()
        loss_packed = model(**packed).loss.item()
    assert loss_packed == pytest.approx(loss_padded, rel=1e-5)


def test_pack_fills_blocks_without_splitting_rows() -> None:
    import datasets

    rows = [[1] * 5, [2] * 3, [3] * 4, [4] * 8, [5] * 2, [6] * 1]
    blocks = pack(datasets.Dataset.from_dict({"input_ids": rows, "attention_mask": [[1] * len(r) for r in rows]}),
                  max_length=8)
    assert blocks.column_names == ["input_ids", "position_ids"]
    assert blocks["input_ids"] == [[1] * 5 + [2] * 3, [3] * 4, [4] * 8, [5] * 2 + [6]]
    assert blocks["position_ids"] == [[0, 1, 2, 3, 4, 0, 1, 2], [0, 1, 2, 3], list(range(8)), [0, 1, 0]]


def test_packed_collator_masks_each_row_start() -> None:
    batch = PackedCollator()([{"input_ids": [7, 8, 9, 5, 6], "position_ids": [0, 1, 2, 0, 1]},
                              {"input_ids": [4, 3]}])  # an eval row: no position_ids, one row
    assert batch["input_ids"].tolist() == [[7, 8, 9, 5, 6, 4, 3]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 1]]
    assert batch["labels"].tolist() == [[-100, 8, 9, -100, 6, -100, 3]]


def test_packed_blocks_have_the_padded_batch_loss(demo_cache: Path) -> None:
    import datasets
    import torch
    from transformers import AutoModelForCausalLM

    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer, resolve_model

    tokenizer = load_tokenizer(ModelConfig())
    model = AutoModelForCausalLM.from_pretrained(resolve_model("builtin:demo"))
    model.train()
    prepare_model("packed", model)
    texts = [json.loads(line)["horoscope"] for line in SAMPLE.read_text().splitlines()[:6]]
    features = [tokenizer(text) for text in texts]
    longest = max(len(f["input_ids"]) for f in features)
    blocks = pack(datasets.Dataset.from_dict({"input_ids": [f["input_ids"] for f in features]}), 2 * longest)
    assert 1 < len(blocks) < len(features)  # several rows per block
    packed = collator("packed", tokenizer)(list(blocks))
    padded = collator("padded", tokenizer)(features)
    assert packed["input_ids"].shape[1] == sum(len(f["input_ids"]) for f in features)
    with torch.no_grad():
        assert model(**packed).loss.item() == pytest.approx(model(**padded).loss.item(), rel=1e-5)


def test_refuses_attention_that_ignores_row_boundaries() -> None:
    model = SimpleNamespace(config=SimpleNamespace(_attn_implementation="paged|custom_kernel"))
    assert padding_free_problem(model).startswith(
        "padding-free batches need an attention implementation that respects row boundaries")


def test_refuses_remote_code_models() -> None:
    class RemoteModel:
        config = SimpleNamespace(_attn_implementation="sdpa")

    RemoteModel.__module__ = "transformers_modules.someone.model.modeling"
    assert "runs its own code (trust_remote_code)" in padding_free_problem(RemoteModel())


@pytest.mark.parametrize("mode", ["group_by_length", "padding_free", "packed"])
def test_modes_train(demo_cache: Path, small_dataset: Path, runs_dir: Path, mode: str) -> None:
    from finetune_studio.core.runs import RunFolder
    from finetune_studio.core.training import run, training_arguments

    config = small_config(small_dataset, runs_dir, max_steps=4, eval_steps=2, save_steps=2)
    config.dataset.batching = mode
    if mode == "group_by_length":
        assert training_arguments(config, runs_dir).train_sampling_strategy == "group_by_length"
    result = run(config)
    assert result.state == "finished"
    losses = [e["loss"] for e in RunFolder(result.run_dir).read_metrics() if e["event"] == "log"]
    assert len(losses) == 2 and all(0 < loss < 10 for loss in losses)


def test_unknown_mode_is_a_validation_problem(runs_dir: Path) -> None:
    from finetune_studio.core.config import default_config
    from finetune_studio.core.validation import validate

    config = default_config()
    config.dataset.batching = "squeeze"
    assert [str(p) for p in validate(config)] == [
        "dataset.batching: batching 'squeeze' is not a way to batch rows. To fix: write one of padded, "
        "group_by_length, padding_free, packed."]
