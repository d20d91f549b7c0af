"""core.estimate's checks around the numbers: only a valid config is estimated (validation's own problems), CPU
processes add up in one RAM, FSDP shards over the processes torchrun starts, fixes are ones validation accepts, and
the CLI's fix flags paste into a shell. NVML is faked at pynvml's functions (tests/core/test_gpus_nvml.py)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from finetune_studio.core import adapters, gpus
from finetune_studio.core import estimate as estimate_module
from finetune_studio.core.cli import main
from finetune_studio.core.config import apply_overrides, default_config, save_config
from finetune_studio.core.estimate import (
    GIB,
    WONT_FIT,
    Budget,
    budget_of,
    candidate_fixes,
    describe,
    estimate,
    fixes,
    gib,
    preflight,
    with_overrides,
)
from tests.core.test_estimate_numbers import save_small_qwen
from tests.core.test_gpus_nvml import FakeNvml, two_gpus

MIB = 2**20
pytestmark = pytest.mark.slow  # fake forward passes of a small model


@pytest.fixture(scope="module")
def small_qwen(tmp_path_factory) -> Path:
    return save_small_qwen(tmp_path_factory.mktemp("qwen3-checks"), 2)


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


def gpus_here(monkeypatch, count: int) -> None:
    """`count` GPUs on this machine (NVML faked), so validation accepts launch.devices naming them: estimate()
    refuses a GPU the machine lacks, as preflight() does."""
    FakeNvml([{"name": "NVIDIA H100 80GB HBM3", "total": 80 * GIB, "used": GIB, "util": 0}
              for _ in range(count)]).install(monkeypatch)


def ram(available: int) -> gpus.GpuTable:
    return gpus.GpuTable(cpu=gpus.CpuInfo(cores=2, ram_total_bytes=64 * GIB, ram_available_bytes=available))


# ---- 4: processes on the CPU share its RAM; no sharding there


def test_cpu_processes_add_up_in_ram_and_are_judged_together(config_of) -> None:
    from finetune_studio.core.launch import RANK_BASE_BYTES

    one = estimate(config_of())
    config = config_of()
    config.launch.processes = 2
    two = estimate(config)
    rank = one.total + RANK_BASE_BYTES  # each rank also imports torch in a Python of its own
    assert two.sharing == 2 and two.per_process == rank
    assert two.total == 2 * rank
    assert sum(value for _, value in two.parts()) == two.total  # the bar stacks what RAM must hold
    text = describe(two, Budget(10 * GIB, "RAM"))
    assert "x 2 processes: they share this machine's RAM" in text
    assert f"  {'per process':<18} {gib(rank):>11}" in text and f"  {'total':<18} {gib(2 * rank):>11}" in text
    # room for one process but not for two: the verdict says so
    table = ram(int(rank * 1.5))
    result = preflight(config, table)
    assert result.error == "" and result.estimate.total == 2 * rank and result.verdict == WONT_FIT
    assert preflight(config_of(), table).verdict == "fits"
    assert "2 processes share this machine's RAM" in two.sharing_note


def test_fsdp_on_the_cpu_shards_nothing(config_of) -> None:
    plain = estimate(config_of())
    config = config_of(fsdp=True)
    config.launch.processes = 2
    result = estimate(config)
    assert (result.weights, result.gradients, result.optimizer) == (plain.weights, plain.gradients, plain.optimizer)
    assert any("FSDP needs GPUs" in note and "data-parallel (DDP)" in note for note in result.notes)
    from finetune_studio.core.launch import RANK_BASE_BYTES

    assert result.total == 2 * (plain.total + RANK_BASE_BYTES)  # a full copy per process, as one process has


# ---- 5: FSDP shards over torchrun's world size (core.launch), not the chosen GPUs


def test_fsdp_divides_by_the_world_size_torchrun_starts(config_of, monkeypatch) -> None:
    gpus_here(monkeypatch, 3)
    plain = estimate(config_of(), "cuda")
    config = config_of(fsdp="full_shard auto_wrap")
    config.launch.devices, config.launch.processes = [0, 1, 2], 2  # torchrun --nproc-per-node 2
    split = estimate(config, "cuda")
    assert split.devices == 2 and split.weights == plain.weights // 2 and split.optimizer == plain.optimizer // 2
    config.launch.devices, config.launch.nodes = [0, 1], 2  # 2 machines x 2 processes
    split = estimate(config, "cuda")
    assert split.devices == 4 and split.weights == plain.weights // 4 and split.gradients == plain.gradients // 4
    assert split.sharing == 1  # each GPU process has its own device


def test_fsdp_strategy_is_read_as_transformers_reads_it(config_of, monkeypatch) -> None:
    gpus_here(monkeypatch, 2)
    plain = estimate(config_of(), "cuda")
    config = config_of(fsdp=True)  # transformers 5.x's form: FSDP2, reshard_after_forward true = full_shard
    config.launch.devices = [0, 1]
    assert estimate(config, "cuda").weights == plain.weights // 2
    config.training["fsdp_config"] = {"reshard_after_forward": False}  # shard_grad_op
    grad_op = estimate(config, "cuda")
    assert grad_op.weights == plain.weights and grad_op.optimizer == plain.optimizer // 2


# ---- 6: an invalid config is not estimated; validation's words say why


@pytest.mark.parametrize(("override", "first"), [
    ("training.per_device_train_batch_size=0", "per_device_train_batch_size must be at least 1 (got 0). To fix: set "
     "per_device_train_batch_size to 1 or more."),
    ("dataset.max_length=-5", "max_length must be a whole number above 0 (got -5); the seed uses 512. To fix: set "
     "max_length to the model's context length or less, such as 512."),
    ("dataset.max_length=abc", "max_length must be a whole number above 0 (got 'abc'); the seed uses 512. To fix: set "
     "max_length to the model's context length or less, such as 512."),
    ("adapter.method=bogus", "method must be one of full, lora, qlora, dora (got 'bogus'). To fix: write lora for an "
     "adapter, or full to train every weight."),
])
def test_an_invalid_config_waits_for_a_valid_one(config_of, override: str, first: str) -> None:
    config = apply_overrides(config_of(), [override])[0]
    result = preflight(config, ram(8 * GIB))
    assert result.estimate is None and result.fixes == () and result.verdict == ""
    assert result.error == f"The estimate waits for a valid config: {first}"
    assert result.problems and result.problems[0].message == first


def test_a_direct_estimate_of_an_invalid_config_raises_every_problem(config_of) -> None:
    """estimate() itself refuses what preflight() and the CLI refuse: a batch of 'abc' and an eval batch of 0 were
    estimated as batch 8 and eval batch 8 (the defaults), a figure for a run that cannot start."""
    from finetune_studio.core.errors import ConfigError

    config = apply_overrides(config_of(), ["training.per_device_train_batch_size=abc",
                                           "training.per_device_eval_batch_size=0"])[0]
    with pytest.raises(ConfigError) as caught:
        estimate(config)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("training.per_device_train_batch_size", "per_device_train_batch_size must be a whole number (got 'abc'). "
         "To fix: write a whole number, or remove per_device_train_batch_size to use the default."),
        ("training.per_device_eval_batch_size", "per_device_eval_batch_size must be at least 1 (got 0). To fix: set "
         "per_device_eval_batch_size to 1 or more."),
    ]
    assert estimate(config_of()).batch == 2  # a valid config is still estimated


def test_a_missing_gpu_is_a_problem_never_judged_against_ram(config_of, tmp_path, monkeypatch, capsys) -> None:
    two_gpus(monkeypatch)
    table = gpus.read_gpus()
    budget = budget_of([5], table)
    assert (budget.device, budget.free_bytes) == ("cuda", 0) and "GPU 5" in budget.what
    config = config_of()
    config.launch.devices = [5]
    result = preflight(config, table)
    assert result.estimate is None
    assert result.error.startswith("The estimate waits for a valid config: GPU 5 does not exist: this machine has "
                                   "GPUs 0, 1.")
    path = tmp_path / "run.yaml"
    save_config(config, path)
    assert main(["estimate", str(path)]) == 2
    out = capsys.readouterr().out
    assert "problem: launch.devices: GPU 5 does not exist" in out
    assert "The estimate waits for a valid config: fix the problem above" in out
    assert "Verdict" not in out and "RAM" not in out


def test_cli_exits_2_on_an_invalid_batch(config_of, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(gpus, "read_gpus", lambda with_cpu=True: ram(8 * GIB))
    path = tmp_path / "run.yaml"
    save_config(config_of(), path)
    assert main(["estimate", str(path), "--set", "training.per_device_train_batch_size=0"]) == 2
    out = capsys.readouterr().out
    assert "problem: training.per_device_train_batch_size: per_device_train_batch_size must be at least 1 (got 0)." \
        in out and "Verdict" not in out and "batch 8" not in out


# ---- 7: QLoRA is neither estimated nor offered where validation refuses it


def test_qlora_where_it_cannot_run(config_of, monkeypatch) -> None:
    why = "QLoRA needs the bitsandbytes package for its 4-bit weights, and it is not installed."
    monkeypatch.setattr(adapters, "qlora_problem", lambda: why)  # validation's own check, answered for this test
    config = config_of()
    config.adapter.method = "qlora"
    result = preflight(config, ram(8 * GIB))
    assert result.estimate is None and result.error == f"The estimate waits for a valid config: {why}"
    # This model's weights are next to nothing beside the CUDA runtime (QLoRA saves 0.9 %, under MIN_SAVING): the test
    # is of where QLoRA may be offered, so every saving counts here.
    monkeypatch.setattr(estimate_module, "MIN_SAVING", 0.0)
    full = config_of(per_device_train_batch_size=8)
    current = estimate(full, "cuda")
    budget = Budget(int(current.total * 0.5), "GPU 0", "cuda")
    assert not any("QLoRA" in fix.description for fix in fixes(full, budget, current=current))
    monkeypatch.setattr(adapters, "qlora_problem", lambda: None)  # where it can run, it is offered
    assert any("QLoRA" in fix.description for fix in fixes(full, budget, current=current))


# ---- 8: the CLI's fix flags paste into a shell as they stand


def test_fix_flags_are_shell_quoted_and_paste_back(config_of, tmp_path, monkeypatch, capsys) -> None:
    small = {"name": "NVIDIA L4", "total": GIB, "util": 0}
    FakeNvml([{**small, "used": 0}, {**small, "used": 0}, {**small, "used": GIB - 10 * MIB}]).install(monkeypatch)
    config = config_of()
    config.launch.devices, config.launch.processes = [0, 1, 2], 3
    path = tmp_path / "run.yaml"
    save_config(config, path)
    assert main(["estimate", str(path)]) == 1  # GPU 2 has 10 MiB free
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "Train on GPUs 0, 1 only" in line)
    flags = line[line.index("[") + 1:line.rindex("]")]
    assert flags == "--set 'launch.devices=[0, 1]' --set launch.processes=2"
    assert shlex.split(flags) == ["--set", "launch.devices=[0, 1]", "--set", "launch.processes=2"]
    assert main(["estimate", str(path), *shlex.split(flags)]) == 0  # pasted: parsed, and it fits
    assert "Verdict: fits" in capsys.readouterr().out


# ---- 23: the FSDP fix writes transformers 5.x's non-deprecated form


def test_fsdp_fix_writes_fsdp_true(config_of, capfd, tmp_path, monkeypatch) -> None:
    gpus_here(monkeypatch, 2)
    config = config_of()
    config.launch.devices = [0, 1]
    shard = next(overrides for description, overrides, _ in candidate_fixes(config, "cuda", [0, 1])
                 if "FSDP" in description)
    assert shard == {"launch.devices": [0, 1], "launch.processes": 2, "training.fsdp": True}
    changed = with_overrides(config, shard)
    assert changed.training["fsdp"] is True
    assert estimate(changed, "cuda").weights == estimate(config_of(), "cuda").weights // 2
    from transformers import TrainingArguments

    capfd.readouterr()
    arguments = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, fsdp=changed.training["fsdp"])
    assert arguments.fsdp_plugin_args["reshard_after_forward"] is True  # full_shard, as "full_shard auto_wrap" was
    assert arguments.fsdp_plugin_args["auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert "deprecated" not in capfd.readouterr().err
    # a shard_grad_op config is turned into full_shard without losing its other FSDP settings
    config.training.update({"fsdp": True, "fsdp_config": {"reshard_after_forward": False, "cpu_offload": False}})
    shard = next(overrides for description, overrides, _ in candidate_fixes(config, "cuda", [0, 1])
                 if "FSDP" in description)
    assert shard["training.fsdp_config"] == {"reshard_after_forward": True, "cpu_offload": False}


# ---- GPUs none ticked: torchrun's ranks train on the first GPUs, one each


def test_processes_without_chosen_gpus_are_judged_by_the_gpus_their_ranks_use(config_of, monkeypatch) -> None:
    two_gpus(monkeypatch, busy=True)  # GPU 0: 78 GiB free; GPU 1: 10 GiB
    table = gpus.read_gpus()
    assert budget_of([], table).free_bytes == 78 * GIB  # one process: GPU 0, as before
    config = config_of()
    config.launch.processes = 2  # ranks 0 and 1 on cuda:0 and cuda:1
    result = preflight(config, table)
    assert result.budget.free_bytes == 10 * GIB and result.budget.what.startswith("GPU 1 (")


def test_cpu_processes_that_do_not_fit_are_offered_one_process(config_of) -> None:
    config = config_of(gradient_accumulation_steps=2)
    config.launch.processes = 2
    current = estimate(config)
    budget = Budget(int(current.per_process * 1.5), "RAM")  # room for one process, not two
    found = fixes(config, budget, current=current)
    one = next(fix for fix in found if fix.description.startswith("One process"))
    assert one.description == ("One process instead of 2, with 4 accumulation steps (same effective batch of 8): the "
                               "processes share this machine's RAM")
    assert one.overrides == {"launch.processes": 1, "training.gradient_accumulation_steps": 4}
    from finetune_studio.core.launch import RANK_BASE_BYTES

    # one process trains in the app's own Python: no rank of its own to start
    assert one.estimate.total == current.per_process - RANK_BASE_BYTES and one.verdict == "fits" and found[0] is one


def test_the_fixes_quiet_only_their_own_threads_training_arguments_warnings() -> None:
    """Computing fixes validates each changed config, whose TrainingArguments warnings were said once already: they
    are held back, but only in that thread. A run starting in another thread of the window's process says the same
    warnings into its own log (the level set on the shared logger hid them there too)."""
    import logging
    import threading

    from finetune_studio.core import estimate

    logger = logging.getLogger("transformers.training_args")
    heard: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            heard.append(record.getMessage())

    keep = Keep(logging.WARNING)
    logger.addHandler(keep)
    try:
        with estimate._quiet_training_arguments():
            logger.warning("said while the fixes are computed")  # this thread: held back
            other = threading.Thread(target=lambda: logger.warning("said by a run starting meanwhile"))
            other.start()
            other.join()
        logger.warning("said afterwards")
    finally:
        logger.removeHandler(keep)
    assert heard == ["said by a run starting meanwhile", "said afterwards"]
