"""A chat run's base model, grown for the control tokens its template added, answers the same at every load: the
new embedding rows are the ones the run itself started from (core.chat.prepare_model's), not a fresh random draw.
Unseeded, `generate RUN --base --greedy` gave different answers call after call (helper-50)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow  # two demo model loads


def _fresh_demo() -> object:
    from transformers import AutoModelForCausalLM

    from finetune_studio.core.demo import demo_model_path

    return AutoModelForCausalLM.from_pretrained(str(demo_model_path()), dtype="float32")


def test_grown_rows_are_the_same_at_every_load_and_are_the_runs_starting_rows(demo_cache: Path) -> None:
    from finetune_studio.core import chat
    from finetune_studio.core.adapters import grow_embeddings

    grown = []
    for draw in range(2):
        model = _fresh_demo()
        size = model.get_input_embeddings().weight.shape[0]
        torch.manual_seed(1000 + draw)  # whatever state the process is in
        before = torch.random.get_rng_state()
        grow_embeddings(model, size + 2)
        assert torch.equal(torch.random.get_rng_state(), before)  # a training run's random state is not moved
        grown.append(model.get_input_embeddings().weight[size:].detach().clone())
    assert torch.equal(grown[0], grown[1])

    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    tokenizer = AutoTokenizer.from_pretrained(str(demo_model_path()))  # as ChatML's template grows it: two tokens
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    assert len(tokenizer) == size + 2
    run_model = _fresh_demo()
    chat.prepare_model(run_model, tokenizer, None)
    assert torch.equal(run_model.get_input_embeddings().weight[size:], grown[0])
