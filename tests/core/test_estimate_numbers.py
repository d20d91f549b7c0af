"""core.estimate's numbers on known models: parameter bytes against a loaded model, activations against the bytes a
real forward pass saves for backward (the same rule, on real tensors), and the fixes it proposes."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.estimate import (
    CPU_RUNTIME_BYTES,
    FITS,
    GIB,
    TIGHT,
    WONT_FIT,
    Budget,
    describe,
    estimate,
    fixes,
    verdict,
)

MIB = 2**20
pytestmark = pytest.mark.slow  # fake forward passes and real ones: several seconds in all


def real_saved_bytes(model, batch: int, length: int) -> int:
    """Bytes autograd saves in a real forward pass with labels, each storage once, weights left out."""
    import torch

    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in weights:
            saved[storage.data_ptr()] = max(saved.get(storage.data_ptr(), 0), storage.nbytes())
        return tensor

    ids = torch.randint(0, 100, (batch, length))
    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(input_ids=ids, labels=ids)
    return sum(saved.values())


def save_small_qwen(folder: Path, layers: int) -> Path:
    """A small Qwen3 model (hidden 128, vocab 1000, random weights) with `layers` layers, saved in folder."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=1000, hidden_size=128, intermediate_size=384, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=32, tie_word_embeddings=True,
                         dtype="float32")
    Qwen3ForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def small_qwen(tmp_path_factory) -> Path:
    """A Qwen3 model with 3 layers (so the per-layer extrapolation from 1 and 2 layers is what is tested)."""
    return save_small_qwen(tmp_path_factory.mktemp("qwen3-3l"), 3)


def config_for(name: str, **training):
    config = default_config()
    config.model.name_or_path = name
    config.dataset.max_length = 64
    config.training.update({"per_device_train_batch_size": 2, "per_device_eval_batch_size": 1,
                            "activation_checkpointing": False, **training})
    return config


def test_demo_full_weights_gradients_optimizer_are_its_tensor_sizes(demo_cache) -> None:
    from finetune_studio.core.model import load_model

    config = config_for("builtin:demo")
    model = load_model(config.model)
    params = sum(p.numel() for p in model.parameters())  # tied embeddings once
    result = estimate(config)
    # the demo: its BPE vocabulary (1457 tokens learned of core.demo's 2048 target) x 64, tied, + 2 layers of 49,312
    # + the final norm's 64
    assert result.total_params == params == 191936
    assert result.weights == params * 4
    assert result.gradients == params * 4
    assert result.optimizer == 2 * params * 4  # AdamW: exp_avg and exp_avg_sq
    # besides the tensors: the CPU's measured first-use working set (benchmarks/memory_estimate.py --runtime), or
    # the CUDA context; each labelled for its device
    assert result.runtime == CPU_RUNTIME_BYTES == int(20.6 * MIB) and estimate(config, "cuda").runtime == GIB // 2
    assert dict(result.parts())["CPU runtime"] == CPU_RUNTIME_BYTES
    assert dict(estimate(config, "cuda").parts())["CUDA runtime"] == GIB // 2
    assert result.training_peak == result.states + result.activations + CPU_RUNTIME_BYTES


def test_activations_equal_a_real_forward_pass(small_qwen: Path) -> None:
    from transformers import AutoModelForCausalLM

    config = config_for(str(small_qwen))
    result = estimate(config)
    model = AutoModelForCausalLM.from_pretrained(small_qwen, dtype="float32")
    saved = real_saved_bytes(model, batch=2, length=64)
    backward = 2 * 2 * 64 * 1000 * 4  # gradients of logits and log-softmax
    assert result.activations == saved + backward
    assert result.weights == sum(p.numel() for p in model.parameters()) * 4


def test_checkpointing_keeps_layer_inputs_only(small_qwen: Path) -> None:
    plain = estimate(config_for(str(small_qwen)))
    checkpointed = estimate(config_for(str(small_qwen), activation_checkpointing=True))
    assert checkpointed.activations < plain.activations
    assert (checkpointed.weights, checkpointed.gradients, checkpointed.optimizer) == (
        plain.weights, plain.gradients, plain.optimizer)
    # batch doubles -> activations double (every saved tensor is per row); states do not move
    double = estimate(config_for(str(small_qwen), per_device_train_batch_size=4))
    assert double.activations == pytest.approx(2 * plain.activations, rel=0.02)
    assert double.states == plain.states


def test_lora_trains_peft_count_only(small_qwen: Path) -> None:
    from finetune_studio.core.adapter_layout import adapter_figures

    config = config_for(str(small_qwen))
    config.adapter.method = "lora"
    result = estimate(config)
    figures = adapter_figures(config.model, config.adapter)
    assert result.trainable_params == figures.trainable > 0
    assert result.gradients == figures.trainable * 4 and result.optimizer == 2 * figures.trainable * 4
    full = estimate(config_for(str(small_qwen)))
    assert result.weights == full.weights + figures.trainable * 4
    assert result.gradients < full.gradients / 4


def test_mixed_precision_and_fsdp(small_qwen: Path, monkeypatch) -> None:
    from finetune_studio.core import hardware
    from tests.core.test_gpus_nvml import two_gpus

    two_gpus(monkeypatch)  # GPUs 0 and 1 exist (NVML), so validation accepts the sharded config's devices
    monkeypatch.setattr(hardware, "detect", lambda: hardware.Hardware("cuda", "NVIDIA H100", True, True))  # and bf16
    from finetune_studio.core import validation  # TrainingArguments itself sees this machine's torch (no GPU): the
    monkeypatch.setattr(validation, "training_arguments_error", lambda config: None)  # faked GPU machine accepts bf16
    fp32 = estimate(config_for(str(small_qwen)))
    bf16 = estimate(config_for(str(small_qwen), bf16=True))
    assert bf16.weights == fp32.weights  # autocast keeps float32 weights
    assert bf16.activations != fp32.activations
    sharded = config_for(str(small_qwen), fsdp="full_shard auto_wrap")
    sharded.launch.devices = [0, 1]
    split = estimate(sharded, "cuda")
    assert split.devices == 2 and split.weights == fp32.weights // 2 and split.optimizer == fp32.optimizer // 2


def test_verdict_thresholds() -> None:
    assert verdict(80, 100) == FITS and verdict(85, 100) == FITS
    assert verdict(86, 100) == TIGHT and verdict(100, 100) == TIGHT
    assert verdict(101, 100) == WONT_FIT and verdict(1, 0) == WONT_FIT


def test_fixes_each_lower_the_estimate_and_keep_the_maths_first(small_qwen: Path) -> None:
    config = config_for(str(small_qwen), per_device_train_batch_size=8, gradient_accumulation_steps=2)
    config.dataset.max_length = 256
    current = estimate(config)
    budget = Budget(int(current.total * 0.8), "RAM")
    assert verdict(current.total, budget) == WONT_FIT
    found = fixes(config, budget)
    labels = [fix.description for fix in found]
    assert any("activation checkpointing" in label for label in labels)
    assert any(label.startswith("Batch 4 with 4 accumulation steps") for label in labels)
    assert "Cut rows at 128 tokens instead of 256" in labels
    # LoRA saves more activations than it saves in gradients and optimizer states on a model this small: not offered
    assert not any("LoRA" in label for label in labels)
    assert all(fix.estimate.total < current.total for fix in found)
    fitting = [fix for fix in found if fix.verdict != WONT_FIT]
    assert fitting, labels
    assert found[0].verdict != WONT_FIT
    maths = [fix.keeps_maths for fix in fitting]
    assert maths == sorted(maths, reverse=True)  # fixes that keep the training maths come first
    batch = next(fix for fix in found if fix.description.startswith("Batch 4"))
    assert batch.overrides == {"training.per_device_train_batch_size": 4, "training.gradient_accumulation_steps": 4}
    text = describe(current, budget)
    assert "will not fit" in text and "activations" in text


def test_unreadable_model_says_what_to_do(tmp_path: Path) -> None:
    """A missing model folder is validation's problem (model.name_or_path), refused before anything is read."""
    from finetune_studio.core.errors import ConfigError

    config = config_for(str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError) as caught:
        estimate(config)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("model.name_or_path", f"Model folder not found: {tmp_path / 'nowhere'}. To fix: give the folder where the "
                               "model is now (it holds config.json and the weights), a Hugging Face model id "
                               "(owner/name), or the built-in demo model builtin:demo.")]


def test_gpu_fixes_are_judged_by_their_own_gpus(small_qwen: Path, monkeypatch, tmp_path: Path) -> None:
    from finetune_studio.core.estimate import candidate_fixes, config_problems, with_overrides
    from tests.core.test_gpus_nvml import two_gpus

    two_gpus(monkeypatch)  # GPUs 0 and 1 exist (NVML), so validation accepts the fixes' devices
    config = config_for(str(small_qwen))
    config.runs_dir = str(tmp_path)
    config.launch.devices = [0, 1]
    current = estimate(config, "cuda")
    free = {0: 4 * current.total, 1: current.total // 2}  # GPU 1 is nearly full
    budget = Budget(free[1], "GPU 1", "cuda")
    found = fixes(config, budget, list(free), current=current, free_by_gpu=free)
    first = found[0]
    assert first.description == "Train on GPU 0 only (room for this run)"
    assert first.overrides == {"launch.devices": [0], "launch.processes": 1} and first.verdict == FITS
    shard = next((fix for fix in found if "FSDP" in fix.description), None)
    overrides = next(o for description, o, _ in candidate_fixes(config, "cuda", list(free)) if "FSDP" in description)
    assert overrides["training.fsdp"] is True
    assert config_problems(with_overrides(config, overrides)) == []  # validation takes `fsdp: true` (a flag)
    assert shard.overrides["launch.devices"] == [0, 1] and shard.verdict == WONT_FIT  # still bound by GPU 1


def test_a_one_layer_model_is_estimated(tmp_path: Path) -> None:
    """The two-layer copy of a one-layer model repeats its layer_types (it raised IndexError before)."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True,
                         dtype="float32")
    Qwen3ForCausalLM(config).save_pretrained(tmp_path)
    result = estimate(config_for(str(tmp_path)))
    model = AutoModelForCausalLM.from_pretrained(tmp_path, dtype="float32")
    saved = real_saved_bytes(model, batch=2, length=64)
    assert result.activations == saved + 2 * 2 * 64 * 256 * 4


def allocation_peak(prof) -> int:
    """The peak of live bytes over a torch.profiler run's CPU allocation events (frees are negative sizes)."""
    events: list[tuple[int, int]] = []

    def walk(node) -> None:
        if type(node.extra_fields).__name__ == "_ExtraFields_Allocation":
            events.append((node.start_time_ns, node.extra_fields.alloc_size))
        for child in node.children:
            walk(child)

    for root in prof.profiler.kineto_results.experimental_event_tree():
        walk(root)
    live = peak = 0
    for _, size in sorted(events):
        live += size
        peak = max(peak, live)
    return peak


def backward_peak_above_gradients(model, batch: int, length: int, micro_batches: int = 1) -> int:
    """Bytes above the gradients at the peak of the last micro-batch's backward pass (torch.profiler's CPU
    allocation events), gradients accumulated as the Trainer does (no zero_grad between micro-batches)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    ids = torch.randint(0, 100, (batch, length))
    model.train()
    model.zero_grad(set_to_none=True)
    for _ in range(micro_batches - 1):
        model(input_ids=ids, labels=ids).loss.backward()
    before = sum(p.grad.nbytes for p in model.parameters() if p.grad is not None)
    loss = model(input_ids=ids, labels=ids).loss
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        loss.backward()
    peak = allocation_peak(prof)
    after = sum(p.grad.nbytes for p in model.parameters() if p.grad is not None)
    return peak - (after - before)


@pytest.mark.parametrize("tied", [True, False])
def test_tied_embedding_transient_is_what_a_real_backward_holds(tmp_path: Path, tied: bool) -> None:
    """A tied embedding's two gradients and their sum exist together at the end of the backward pass: 2 x its
    bytes above the gradients, 3 x with accumulation (the sum is then added into the existing gradient); an untied
    model has none. The model's embedding is most of it, so the real peak above the gradients is that term."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=8192, hidden_size=128, intermediate_size=256, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=64, tie_word_embeddings=tied,
                         dtype="float32")
    Qwen3ForCausalLM(config).save_pretrained(tmp_path)
    embedding = 8192 * 128 * 4
    def small(accumulation: int):  # batch 1 x 8 tokens: activations and logits small next to the 4 MiB embedding
        config = config_for(str(tmp_path), per_device_train_batch_size=1, gradient_accumulation_steps=accumulation)
        config.dataset.max_length = 8
        return config

    one, two = estimate(small(1)), estimate(small(2))
    assert one.tied_transient == (2 * embedding if tied else 0)
    assert two.tied_transient == (3 * embedding if tied else 0)
    lora = small(1)
    lora.adapter.method = "lora"
    assert estimate(lora).tied_transient == 0  # the embedding is frozen
    model = AutoModelForCausalLM.from_pretrained(tmp_path, dtype="float32")
    for micro_batches, result in ((1, one), (2, two)):
        real = backward_peak_above_gradients(model, batch=1, length=8, micro_batches=micro_batches)
        if tied and micro_batches == 2:
            # Accumulating into the existing gradient is out of place (3 x: the sum is new) or in place (2 x) as
            # torch's AccumulateGrad finds the gradient referenced elsewhere or not, which varied between runs (a
            # fresh-clone CI saw 2 x once, 8,290,308 bytes, where runs here see 3 x): the estimate takes the larger.
            assert any(real == pytest.approx(times * embedding, rel=0.1) for times in (2, 3)), real
            assert real <= result.tied_transient * 1.1
        elif tied:
            assert real == pytest.approx(result.tied_transient, rel=0.1)
        else:
            assert real < embedding * (1.1 if micro_batches == 2 else 0.1)  # accumulation: one incoming gradient
    assert one.training_peak == one.states + max(one.activations, one.tied_transient) + one.runtime
    assert ("tied embedding gradients" in dict(one.parts())) == tied


def forward_backward_peak(model, batch: int, length: int, checkpointing: bool) -> int:
    """Peak bytes of live tensors allocated during one forward and backward pass (weights excluded: they exist
    before), from torch.profiler's CPU allocation events."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    ids = torch.randint(0, 100, (batch, length))
    model.train()
    model.zero_grad(set_to_none=True)
    if checkpointing:
        model.activation_checkpointing_enable()
    else:
        model.activation_checkpointing_disable()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model(input_ids=ids, labels=ids).loss.backward()
    return allocation_peak(prof)


def test_checkpointed_peak_equals_a_real_checkpointed_pass(small_qwen: Path) -> None:
    """With checkpointing, the loss's backward and the recomputed layer do not coexist: the real peak of a
    checkpointed forward + backward (gradients included) is the estimate's activations + gradients."""
    from transformers import AutoModelForCausalLM

    config = config_for(str(small_qwen), per_device_train_batch_size=4, gradient_accumulation_steps=1,
                        activation_checkpointing=True)
    config.dataset.max_length = 256
    result = estimate(config)
    model = AutoModelForCausalLM.from_pretrained(small_qwen, dtype="float32")
    real = forward_backward_peak(model, batch=4, length=256, checkpointing=True)
    assert result.activations + result.gradients == pytest.approx(real, rel=0.03)


def test_a_traced_pass_is_kept_across_launches(small_qwen: Path, tmp_path: Path, monkeypatch) -> None:
    """The fake-tensor trace (0.2-0.5 s a config) is kept in the cache folder: a new process (here: the in-process
    cache cleared) estimating the same config reads it instead of tracing again, and gives the same figures; a
    different torch (or model config, or setting) is traced anew. Start waits for this estimate at each launch."""
    from finetune_studio.core import estimate as module

    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path))
    module._pass_figures.cache_clear()
    config = config_for(str(small_qwen), per_device_train_batch_size=3)
    first = estimate(config)
    assert (tmp_path / module.PASSES_FILE).is_file()
    module._pass_figures.cache_clear()

    def no_trace(*args, **kwargs):
        raise AssertionError("traced again")

    monkeypatch.setattr(module, "_saved_bytes", no_trace)
    assert estimate(config) == first  # read from the file, no trace
    module._pass_figures.cache_clear()
    import torch

    monkeypatch.setattr(torch, "__version__", "0.0.0-other")
    with pytest.raises(AssertionError, match="traced again"):
        estimate(config)
    module._pass_figures.cache_clear()


def test_sizes_read_as_a_person_writes_them_from_mib_to_absurd() -> None:
    """An absurd batch size read 'about 2855062.63 GiB' (helper-44); from 1,000 GiB on, whole GiB with separators."""
    from finetune_studio.core.estimate import GIB, MIB, gib

    assert [gib(v) for v in (0.5 * MIB, 300 * MIB, 1.5 * GIB, 182.75 * GIB, 999.994 * GIB, 2855062.63 * GIB)] == [
        "0.5 MiB", "300 MiB", "1.5 GiB", "183 GiB", "1,000 GiB", "2,855,063 GiB"]  # the window's rounding (5eeb749)


def _chat_run_model(config):
    """The model a chat run of `config` trains: its tokenizer given the run's template plan (which adds the control
    tokens the model lacks) and its embeddings grown to match, as core.training does (core.chat.prepare_model)."""
    from finetune_studio.core.chat import prepare_model, template_plan
    from finetune_studio.core.model import load_model, load_tokenizer

    tokenizer = load_tokenizer(config.model)
    plan = template_plan(tokenizer, config.chat)
    model = load_model(config.model)
    prepare_model(model, tokenizer, plan)
    return model, plan


def test_a_chat_templates_added_rows_are_counted_as_the_run_grows_them(demo_cache) -> None:
    """The demo model has no chat template, so a chat run renders ChatML and adds <|im_start|> and <|im_end|>: its
    embeddings grow by two rows and the logits by two columns. Before: the estimate counted the model's own 191,936
    parameters and 1,457-wide logits, below what the run holds."""
    config = config_for("builtin:demo")
    config.dataset.source = "builtin:chat"
    model, plan = _chat_run_model(config)
    vocab = model.get_input_embeddings().weight.shape[0]
    params = sum(p.numel() for p in model.parameters())  # tied embeddings once
    assert plan.added_tokens == ["<|im_start|>", "<|im_end|>"] and vocab == 1459 and params == 191936 + 2 * 64
    result = estimate(config)
    assert result.total_params == params
    assert (result.weights, result.gradients, result.optimizer) == (params * 4, params * 4, 2 * params * 4)
    assert result.added_rows == 2
    assert result.activations == real_saved_bytes(model, batch=2, length=64) + 2 * 2 * 64 * vocab * 4
    assert result.eval_extra == 2 * 1 * 64 * vocab * 4
    times = 2 if config.training.get("gradient_accumulation_steps", 1) == 1 else 3  # the module doc's rule
    assert result.tied_transient == times * vocab * 64 * 4  # the tied embedding's gradients, grown rows included
    assert "the embeddings grow by 2 rows" in describe(result)
    lora = config_for("builtin:demo")
    lora.dataset.source, lora.adapter.method = "builtin:chat", "lora"
    from finetune_studio.core.adapter_layout import adapter_figures
    from finetune_studio.core.chat import ChatConfig

    figures = adapter_figures(lora.model, lora.adapter, ChatConfig())  # the Model tab's figures for a chat run
    adapted = estimate(lora)
    assert (adapted.trainable_params, adapted.total_params) == (figures.trainable, figures.total)
    assert adapted.weights == (params + figures.trainable) * 4  # the grown base, and the adapter with its rows


def test_a_chat_row_is_never_longer_than_max_length_so_the_activation_length_stands(demo_cache) -> None:
    """The template's tokens (ChatML's turn markers, the system turn) are inside max_length: a run cuts the
    rendered row, not the text before rendering, so max_length stays the longest row a chat run trains on, and
    the estimate's batch x max_length is right for chat runs as it is for plain text."""
    from finetune_studio.core import data
    from finetune_studio.core.chat import prepare_dataset, render_and_label
    from finetune_studio.core.model import load_tokenizer

    config = config_for("builtin:demo")
    config.dataset.source, config.dataset.max_length = "builtin:chat", 24
    tokenizer = load_tokenizer(config.model)
    raw = data.load_split(config.dataset)
    rendered = [len(render_and_label(tokenizer, row, config.chat, 24, truncation=False).input_ids) for row in raw]
    assert max(rendered) > 24  # the template makes rows longer than max_length …
    splits = prepare_dataset(raw, tokenizer, config.chat, config.dataset, 42, lambda _text: None).splits
    lengths = [len(ids) for split in splits.values() for ids in split["input_ids"]]
    assert max(lengths) == 24  # … and the run cuts them there
    assert estimate(config).max_length == 24
