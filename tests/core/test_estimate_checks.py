"""core.estimate's checks around the numbers: CPU processes add up in one RAM, and FSDP shards over the processes
torchrun starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import gpus
from finetune_studio.core.config import default_config
from finetune_studio.core.estimate import (
    GIB,
    WONT_FIT,
    Budget,
    describe,
    estimate,
    gib,
    preflight,
)

pytestmark = pytest.mark.slow  # fake forward passes of a small model


@pytest.fixture(scope="module")
def small_qwen(tmp_path_factory) -> Path:
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("qwen3-checks")
    config = Qwen3Config(vocab_size=1000, hidden_size=128, intermediate_size=384, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=32, tie_word_embeddings=True,
                         dtype="float32")
    Qwen3ForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture
def config_of(small_qwen: Path, tmp_path: Path):
    def make(**training):
        config = default_config()
        config.model.name_or_path = str(small_qwen)
        config.runs_dir = str(tmp_path / "runs")
        config.dataset.max_length = 64
        config.training.update({"per_device_train_batch_size": 2, "per_device_eval_batch_size": 1,
                                "activation_checkpointing": False, **training})
        return config
    return make


def ram(available: int) -> gpus.GpuTable:
    return gpus.GpuTable(cpu=gpus.CpuInfo(cores=2, ram_total_bytes=64 * GIB, ram_available_bytes=available))


# ---- 4: processes on the CPU share its RAM; no sharding there


def test_cpu_processes_add_up_in_ram_and_are_judged_together(config_of) -> None:
    one = estimate(config_of())
    config = config_of()
    config.launch.processes = 2
    two = estimate(config)
    assert two.sharing == 2 and two.per_process == one.total
    assert two.total == 2 * one.total
    assert sum(value for _, value in two.parts()) == two.total  # the bar stacks what RAM must hold
    text = describe(two, Budget(10 * GIB, "RAM"))
    assert "x 2 processes: they share this machine's RAM" in text
    assert f"  {'per process':<18} {gib(one.total):>11}" in text and f"  {'total':<18} {gib(2 * one.total):>11}" in text
    # room for one process but not for two: the verdict says so
    table = ram(int(one.total * 1.5))
    result = preflight(config, table)
    assert result.error == "" and result.estimate.total == 2 * one.total and result.verdict == WONT_FIT
    assert preflight(config_of(), table).verdict == "fits"
    assert "2 processes share this machine's RAM" in two.sharing_note


def test_fsdp_on_the_cpu_shards_nothing(config_of) -> None:
    plain = estimate(config_of())
    config = config_of(fsdp=True)
    config.launch.processes = 2
    result = estimate(config)
    assert (result.weights, result.gradients, result.optimizer) == (plain.weights, plain.gradients, plain.optimizer)
    assert any("FSDP needs GPUs" in note and "data-parallel (DDP)" in note for note in result.notes)
    assert result.total == 2 * plain.total


# ---- 5: FSDP shards over torchrun's world size (core.launch), not the chosen GPUs


def test_fsdp_divides_by_the_world_size_torchrun_starts(config_of) -> None:
    plain = estimate(config_of(), "cuda")
    config = config_of(fsdp="full_shard auto_wrap")
    config.launch.devices, config.launch.processes = [0, 1, 2], 2  # torchrun --nproc-per-node 2
    split = estimate(config, "cuda")
    assert split.devices == 2 and split.weights == plain.weights // 2 and split.optimizer == plain.optimizer // 2
    config.launch.devices, config.launch.nodes = [0, 1], 2  # 2 machines x 2 processes
    split = estimate(config, "cuda")
    assert split.devices == 4 and split.weights == plain.weights // 4 and split.gradients == plain.gradients // 4
    assert split.sharing == 1  # each GPU process has its own device


def test_fsdp_strategy_is_read_as_transformers_reads_it(config_of) -> None:
    plain = estimate(config_of(), "cuda")
    config = config_of(fsdp=True)  # transformers 5.x's form: FSDP2, reshard_after_forward true = full_shard
    config.launch.devices = [0, 1]
    assert estimate(config, "cuda").weights == plain.weights // 2
    config.training["fsdp_config"] = {"reshard_after_forward": False}  # shard_grad_op
    grad_op = estimate(config, "cuda")
    assert grad_op.weights == plain.weights and grad_op.optimizer == plain.optimizer // 2
