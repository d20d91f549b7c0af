"""Will this run fit? Peak training memory per device, from the model's config alone, before anything loads.

Users learned that a run does not fit when it crashed. This module answers before Start, without downloading or
allocating any weights: the model is built from its config on the meta device (shapes, no storage), and one
forward pass of a one- and a two-layer copy of it runs under torch's FakeTensorMode (tensors that know their shape,
dtype and device but hold no data), which executes the same kernels' shape rules as a real pass: the CPU picks its
fused attention the same way, autocast casts the same ops. Qt-free; torch, transformers and peft are imported
inside the functions.

The formula (docs/memory-estimate.md says the same with an example), in bytes per device:

    total = weights + gradients + optimizer + max(activations, tied transient) + runtime

- **weights**: every parameter once (tied embeddings once), in the dtype it loads in (model.dtype; 'auto' is the
  saved dtype). Adapter runs add the adapter's own parameters (peft's count, from core.adapter_layout). QLoRA:
  the linear layers of the decoder in 4 bits, 0.5 byte per weight plus one float32 scale per block of 64
  (bitsandbytes' defaults: 0.5625 byte), the rest (embeddings, norms, output head) in the compute dtype.
- **a chat template's rows**: a chat run (its local dataset's first rows read as chats: core.chat.template_chat)
  whose template has control tokens the model lacks (ChatML's <|im_start|> and <|im_end|> on a model without a
  template) adds them to the tokenizer and grows the embeddings (and an untied head) by that many rows
  (core.chat.prepare_model); an adapter run trains those rows in full (peft's trainable_token_indices). The weights,
  gradients and optimizer states count them, and the logits below are as wide as the grown vocabulary. A row is
  never longer for it: the run cuts the rendered row, template tokens included, at max_length.
- **gradients**: one per trainable parameter, in its dtype (full: every weight; adapters: the adapter's).
- **optimizer**: AdamW keeps two states per trainable parameter in the parameter's dtype (torch's AdamW, fused
  or not, the Trainer's default); 8-bit AdamW (adamw_8bit, adamw_bnb_8bit …) two 1-byte states; SGD one momentum
  buffer when optim_args sets a momentum other than 0 (torch's default is 0: none); RMSprop one state, and one
  more each for a momentum other than 0 and for centered=true; Adagrad one; Adafactor roughly rows+columns
  (counted as 1/8 of AdamW's).
- **activations**: what autograd saves for the backward pass, summed over unique storages (a view of a weight is
  not counted) during a fake forward pass with a batch of per_device_train_batch_size rows of dataset.max_length
  tokens (the longest a row can be; shorter rows use less), with the labels, so the loss and its log-softmax over
  the vocabulary are in it. Under bf16/fp16 training the pass runs under autocast. Per layer = pass(2 layers) −
  pass(1 layer); the rest (embeddings, final norm, head and loss) = pass(1 layer) − one layer; a model with L
  layers saves rest + L × layer. With activation checkpointing each layer keeps only its input hidden state
  (batch × max_length × hidden in the activation dtype). The backward pass starts at the loss while all of that is
  still held, and adds the gradients of the logits and of their log-softmax: two float32 tensors of batch ×
  max_length × vocab (for a large vocabulary the biggest tensors of the step). With checkpointing, the layer being
  recomputed holds one layer's activations, but only after the loss's backward is over and its saved log-softmax
  (one logits-sized tensor, part of the rest) is freed: rest + L × input + max(2 × logits, layer − logits).
  Without: rest + L × layer + 2 × logits.
- **tied transient**: the end of the backward pass, when the activations are freed and every gradient exists. A
  tied embedding (the output head shares the input embedding's weight, as in Qwen3-0.6B) gets two full-size
  gradients, the head's (held by autograd since the start of the backward pass) and the embedding lookup's (a
  dense vocab x hidden tensor), and autograd sums them out of place (the head's arrives as a transposed view): the
  two and their sum exist together, 2 x embedding bytes above the gradients (which count the sum). With gradient
  accumulation, micro-batches after the first add that sum into the existing gradient: 3 x. Full fine-tuning
  only (adapters freeze the embedding). Measured with torch.profiler's CPU allocation events on a Trainer run
  and a plain loop (docs/memory-estimate.md).
- **evaluation** is checked too: evaluation keeps no activations, but the head's logits and their log-softmax for
  per_device_eval_batch_size rows (two float32 tensors of batch × max_length × vocab) sit beside the weights and
  the optimizer's states; the peak is the larger of the training and the evaluation figure (a run that never
  evaluates, eval_strategy "no" or no test split, has none: `evaluates`).
- **runtime**: on a CUDA GPU, 0.5 GiB for the CUDA context and cuBLAS workspaces (typical of recent drivers; not
  measured here); on the CPU, 20.6 MiB: what a run touches besides its tensors the first time (the loader's, the
  Trainer's and the CPU kernels' working set), measured on a 1-layer model with 0.4 MiB of tensors
  (`benchmarks/memory_estimate.py --runtime`; the same with 1, 2 and 8 threads).
- **sharding**: with FSDP on GPUs, over the world size torchrun starts (core.launch.world_size: processes per node
  x nodes), full_shard divides weights, gradients and optimizer states by it; shard_grad_op divides gradients and
  optimizer states (hybrid_shard and hybrid_shard_zero2 the same, over one node's processes). The strategy is read
  as transformers reads it: `fsdp: true` with fsdp_config's reshard_after_forward (true, the default: full_shard;
  false: shard_grad_op), or the deprecated string/list forms. Data-parallel runs (DDP) keep a full copy per device,
  and so does every run on the CPU: FSDP needs GPUs, and accelerate trains CPU processes DDP.
- **processes sharing a device**: on a GPU each process has its own device, so the figure is per process. On the
  CPU every process of this machine (core.launch.processes_per_node) lives in the same RAM: the total is that many
  times one process's figure, and each part of the breakdown is too. Each such process (torchrun's ranks) is a
  Python of its own that imports torch first: its runtime adds core.launch.RANK_BASE_BYTES.

Only a valid config is estimated: `config_problems()` is core.validation's errors for the fields the estimate reads
(a batch of 0, a max_length of 'abc', an unknown adapter method, a GPU this machine lacks, QLoRA without bitsandbytes
or a device for it), and `preflight()` says "The estimate waits for a valid config: <first problem>" instead of
estimating; the CLI waits for every problem `validate` finds (a learning_rate of [1] too: the run could not start),
prints them and exits 2, as validate does; `estimate()` called directly raises ConfigError with every problem.
A fix whose config validation would refuse is not offered; the FSDP fix writes `fsdp: true` (transformers 5.x's
form; its string and list forms are deprecated), and the CLI prints each fix's --set flags shell-quoted.

Verdict against a device's free memory (the smallest free of the chosen GPUs; none chosen: the first GPU per process
of this machine, as torchrun's ranks take cuda:0, cuda:1, …; or the available RAM on the CPU):
fits up to 85 % of it, tight up to 100 % (benchmarks/memory_estimate.py: 0.87-0.97 of the CPU's measured peak
RSS for a Qwen3-0.6B-shaped model; 0.61-0.90 for the tiny demo, where the memory glibc's heap keeps besides the
tensors weighs more: fixing glibc's mmap threshold would give it back but slows the demo's training about 40 %, so
runs keep glibc's defaults, see docs/memory-estimate.md. Measured, not assumed: on the demo's configurations the
peak of live tensor bytes of the benchmark's Trainer run (torch.profiler) is this estimate's tensor figure within
0.1-1.7 %, and at the peak RSS glibc's mallinfo2 shows 33-89 MiB of freed heap chunks kept resident, nearly all of
the gap (40-95 MiB); tests/core/test_estimate_demo_peak_h133.py holds the activations to a real step's tensors),
will not fit above. `fixes()` lists config changes that lower the estimate, each with its new estimate: first those
that keep the training maths (train on the chosen GPUs that have room, activation checkpointing, a smaller batch
with more accumulation, on the CPU one process with more accumulation, a smaller evaluation batch, more GPUs, FSDP),
then those that change it (LoRA, shorter max_length, QLoRA); one that makes the run fit comes before one that does
not, and among equals the smaller estimate first. A fix on the same device(s) that saves under MIN_SAVING (1 %) of
the estimate is left out unless it makes the verdict better. A fix that changes the GPUs is judged by its own GPUs'
free memory. A run on chosen GPUs is judged against those GPUs, never against RAM (a GPU this machine lacks leaves
0 bytes to judge against).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import shlex
import sys
import threading
from dataclasses import dataclass
from typing import Any

from finetune_studio.core.config import AdapterConfig, ModelConfig, RunConfig, apply_overrides, precision_of
from finetune_studio.core.errors import ERROR, ConfigError, FinetuneError, Problem

GIB = 2**30
MIB = 2**20
CUDA_RUNTIME_BYTES = GIB // 2
# A training run's memory besides its tensors on the CPU: what the model loader, the Trainer and the CPU kernels
# touch the first time (modules' data, the Trainer's and DataLoader's objects, oneDNN's and OpenMP's buffers).
# Measured by `benchmarks/memory_estimate.py --runtime` on a 1-layer model whose tensors are 0.4 MiB: 20.5-20.8 MiB
# above them with 1, 2 and 8 threads (torch 2.13, transformers 5.24, glibc); none of the benchmark's configurations.
CPU_RUNTIME_BYTES = int(20.6 * MIB)
FITS_BELOW, TIGHT_BELOW = 0.85, 1.0
FITS, TIGHT, WONT_FIT = "fits", "tight", "will not fit"
QLORA_BYTES_PER_WEIGHT = 0.5 + 4 / 64  # 4-bit weight + a float32 absmax per block of 64 (bitsandbytes defaults)
_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
DEFAULT_TRAIN_BATCH, DEFAULT_EVAL_BATCH, DEFAULT_ACCUMULATION = 8, 8, 1  # TrainingArguments' defaults


@dataclass(frozen=True)
class Estimate:
    """Peak memory of one device of a run, by part, in bytes. `parts()` is what the bar stacks."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    runtime: int = 0
    eval_extra: int = 0  # evaluation's peak above weights + optimizer (logits and their log-softmax)
    tied_transient: int = 0  # end of the backward pass: a tied embedding's extra gradients (see the module doc)
    trainable_params: int = 0
    total_params: int = 0
    batch: int = 0
    max_length: int = 0
    checkpointing: bool = False
    method: str = "full"
    devices: int = 1
    notes: tuple[str, ...] = ()
    device: str = "cpu"
    sharing: int = 1  # processes whose peaks add up in the same memory: on the CPU this machine's processes
    added_rows: int = 0  # embedding rows a chat template's control tokens add (ChatML's on a model without one)

    @property
    def sharing_note(self) -> str:
        """'2 processes share this machine's RAM …' when they do, else ''."""
        if self.sharing <= 1:
            return ""
        return (f"{self.sharing} processes share this machine's RAM: each part is {self.sharing} x one process's "
                f"({gib(self.per_process)} each).")

    @property
    def backward_extra(self) -> int:
        """The end of the backward pass above weights + gradients + optimizer + activations: a tied embedding's
        transient gradients, when they outgrow the activations (all freed by then)."""
        return max(self.tied_transient - self.activations, 0)

    @property
    def training_peak(self) -> int:
        """The larger of the loss's backward (activations held, gradients counted in full) and the end of the
        backward pass (activations freed, a tied embedding's gradients summed): one max, two phases."""
        return (self.weights + self.gradients + self.optimizer + max(self.activations, self.tied_transient)
                + self.runtime)

    @property
    def eval_peak(self) -> int:
        return self.weights + self.optimizer + self.eval_extra + self.runtime

    @property
    def per_process(self) -> int:
        """One process's peak: training, or evaluation when that is higher."""
        return max(self.training_peak, self.eval_peak)

    @property
    def total(self) -> int:
        """What the device's memory must hold: one process's peak on a GPU; on the CPU, every process of this
        machine's (`sharing` of them)."""
        return self.per_process * max(self.sharing, 1)

    def process_parts(self) -> list[tuple[str, int]]:
        """(label, bytes) of one process, in the order the bar stacks them; evaluation's excess over training
        last, when any."""
        parts = [("weights", self.weights), ("gradients", self.gradients), ("optimizer states", self.optimizer),
                 ("activations", self.activations)]
        if self.backward_extra:
            parts.append(("tied embedding gradients", self.backward_extra))
        if self.runtime:
            parts.append(("CUDA runtime" if self.device == "cuda" else "CPU runtime", self.runtime))
        if self.eval_peak > self.training_peak:
            parts.append(("evaluation logits", self.eval_peak - self.training_peak))
        return parts

    def parts(self) -> list[tuple[str, int]]:
        """What the bar stacks against the device's free memory: process_parts(), each times the processes that
        share it (so they add up to `total`)."""
        share = max(self.sharing, 1)
        return [(label, value * share) for label, value in self.process_parts()]

    @property
    def states(self) -> int:
        """weights + gradients + optimizer: the part that equals the summed tensor sizes of a loaded model."""
        return self.weights + self.gradients + self.optimizer


@dataclass(frozen=True)
class Budget:
    """What one device of the run can hold: `free_bytes` of `what` ('GPU 0 (NVIDIA H100)', 'RAM')."""

    free_bytes: int
    what: str
    device: str = "cpu"  # "cuda" or "cpu"


def budget_of(devices: list[int], table: Any, processes: int = 1) -> Budget:
    """The memory one device of the run can use: the least free of the chosen GPUs (when none is chosen, the first
    `processes` GPUs: torchrun's ranks train on cuda:0, cuda:1, …) from a core.gpus.GpuTable, or the available RAM
    on a machine without GPUs. A GPU the table lacks: 0 bytes on that GPU (never the RAM)."""
    if not devices and table.gpus and processes > 1:
        devices = list(range(processes))
    missing = [index for index in devices if table.by_index(index) is None]
    if missing:  # a GPU run is judged against GPUs, never against RAM: one this machine lacks has nothing free
        return Budget(free_bytes=0, what=f"GPU {missing[0]}, which this machine does not have", device="cuda")
    gpus = [gpu for gpu in table.gpus if gpu.index in devices] if devices else list(table.gpus[:1])
    if gpus:
        least = min(gpus, key=lambda gpu: gpu.free_bytes)
        what = f"GPU {least.index} ({least.name})" + (", the fullest chosen" if len(gpus) > 1 else "")
        return Budget(free_bytes=least.free_bytes, what=what, device="cuda")
    available = table.cpu.ram_available_bytes if table.cpu is not None else 0
    return Budget(free_bytes=available, what="RAM", device="cpu")


def verdict(estimate_bytes: int, budget: Budget | int) -> str:
    free = budget.free_bytes if isinstance(budget, Budget) else int(budget)
    if free <= 0:
        return WONT_FIT
    share = estimate_bytes / free
    return FITS if share <= FITS_BELOW else TIGHT if share <= TIGHT_BELOW else WONT_FIT


@dataclass(frozen=True)
class EstimateFix:
    """A change that lowers the estimate: `overrides` are dotted config paths (as core.advice.Fix), `keeps_maths`
    is False when it changes what is trained (LoRA, QLoRA, a shorter max_length)."""

    description: str
    overrides: dict[str, Any]
    estimate: Estimate
    verdict: str
    keeps_maths: bool = True


# ---------------------------------------------------------------------------------------------- reading a config


def gib(value: float) -> str:
    """Bytes in one rule for every figure an estimate shows, in the CLI (`finetune-studio estimate`) and in the window
    (gui.estimate_bar.size_text is this function): MiB below 1 GiB, GiB from there, one decimal below 10 of the unit
    and none from 10 on ("0.7 MiB", "1.0 MiB", "68 MiB", "2.2 GiB", "22 GiB"); from 1,000 GiB on, whole GiB with
    separators (an absurd batch read '2855062.63 GiB'). The CLI said "3.97 GiB" where the window said "4.0 GiB" for
    the same estimate, and "0.7 MiB" beside "1 MiB"."""
    value = max(float(value), 0.0)
    if value >= 1000 * GIB:
        return f"{value / GIB:,.0f} GiB"
    if value == 0:
        return "0 MiB"
    unit, size = ("GiB", value / GIB) if value >= GIB or round(value / MIB) >= 1024 else ("MiB", value / MIB)
    return f"{size:.1f} {unit}" if round(size, 1) < 10 else f"{size:,.0f} {unit}"


def _int(value: Any, default: int) -> int:
    try:
        result = int(value)
    except (TypeError, ValueError):
        return default
    return result if result > 0 else default


def mixed_precision(config: RunConfig, device: str) -> str | None:
    """'bf16'/'fp16' when the run trains under autocast, None for fp32: 'auto' means bf16 on a GPU (the estimate
    assumes a GPU recent enough for it), fp32 on the CPU, as core.hardware decides for a run."""
    precision = precision_of(config.training)
    if precision == "auto":
        return "bf16" if device == "cuda" else None
    return None if precision == "fp32" else precision


def _checkpointing(training: dict[str, Any]) -> bool:
    return bool(training.get("activation_checkpointing", training.get("gradient_checkpointing", False)))


_STRATEGIES = ("full_shard", "shard_grad_op", "hybrid_shard", "hybrid_shard_zero2", "no_shard")


def _sharding(training: dict[str, Any]) -> str:
    """The FSDP strategy a run's TrainingArguments would use ('' without FSDP), read as transformers 5.x reads it:
    `fsdp: true` with fsdp_config's reshard_after_forward (FSDP2, the default: true = full_shard, false =
    shard_grad_op; FSDP1: the strategy's name), or a legacy string/list whose strategy item fills it in."""
    value = training.get("fsdp")
    if not value:
        return ""
    options = training.get("fsdp_config") if isinstance(training.get("fsdp_config"), dict) else {}
    options = {key[5:] if key.startswith("fsdp_") else key: item for key, item in options.items()}
    items = value.split() if isinstance(value, str) else [str(v) for v in value] if isinstance(value, (list, tuple)) \
        else []
    named = next((item for item in items if item in _STRATEGIES), None)
    try:
        version = int(options.get("version", 2))
    except (TypeError, ValueError):
        version = 2
    default = named if named is not None else True if version == 2 else "full_shard"
    reshard = options.get("reshard_after_forward", default)
    text = str(reshard).strip().lower()
    if text in ("true", "1", "yes", "full_shard"):
        return "full_shard"
    if text in ("false", "0", "no", "shard_grad_op"):
        return "shard_grad_op"
    return text if text in _STRATEGIES and text != "no_shard" else ""


# ---------------------------------------------------------------------------------------------- the fake passes


def _model_config(model: ModelConfig) -> Any:
    """The model's transformers config (a local folder, builtin:demo, or a cached or reachable Hub id)."""
    return _cached_model_config(model.name_or_path.strip(), model.revision or None, bool(model.trust_remote_code),
                                model.dtype)


@functools.lru_cache(maxsize=16)
def _cached_model_config(name: str, revision: str | None, trust: bool, dtype: str) -> Any:
    # core.adapter_layout's reader, so both read a model's config by one rule (local, cached, then the Hub)
    from finetune_studio.core.adapter_layout import _load_config

    return _load_config(ModelConfig(name_or_path=name, revision=revision, trust_remote_code=trust, dtype=dtype))


def _layers_config(config: Any, layers: int) -> Any:
    """A copy of `config` with `layers` decoder layers (per-layer lists such as layer_types cut to match, or
    repeated when the model has fewer layers than the copy: a one-layer model's two-layer copy)."""
    import copy

    small = copy.deepcopy(config)
    small.num_hidden_layers = layers
    for name in ("layer_types", "mlp_only_layers"):
        value = getattr(small, name, None)
        if isinstance(value, list) and len(value) > layers:
            setattr(small, name, value[:layers])
        elif name == "layer_types" and isinstance(value, list) and 0 < len(value) < layers:
            setattr(small, name, [value[i % len(value)] for i in range(layers)])
    return small


@dataclass(frozen=True)
class _PassFigures:
    rest: int  # embeddings, final norm, head and loss
    layer: int  # one decoder layer (no checkpointing)
    layer_input: int  # one layer's input hidden state (what checkpointing keeps per layer)


def _to_fake_cpu(model: Any) -> None:
    """Swap every parameter and buffer of a meta model for a fake CPU tensor of the same shape and dtype (call
    inside FakeTensorMode): ops then take the CPU's paths (its fused attention) instead of the meta device's
    reference ones. Shared tensors (tied embeddings) stay shared. Done in place, with no Module.to(), which fake
    tensors do not support."""
    import torch

    made: dict[int, Any] = {}
    for module in model.modules():
        for name, tensor in list(module._parameters.items()):
            if tensor is not None:
                if id(tensor) not in made:
                    made[id(tensor)] = torch.nn.Parameter(torch.empty(tensor.shape, dtype=tensor.dtype),
                                                          requires_grad=tensor.requires_grad)
                module._parameters[name] = made[id(tensor)]
        for name, tensor in list(module._buffers.items()):
            if tensor is not None:
                if id(tensor) not in made:
                    made[id(tensor)] = torch.empty(tensor.shape, dtype=tensor.dtype)
                module._buffers[name] = made[id(tensor)]


def _saved_bytes(config: Any, dtype: str, adapter: AdapterConfig, batch: int, length: int, autocast: str | None,
                 trust_remote_code: bool) -> int:
    """Bytes autograd saves in one forward pass of `config`'s model with labels, on fake tensors."""
    import warnings

    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    from finetune_studio.core.adapter_layout import build_meta_model, peft_config

    saved: dict[int, int] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # peft's and transformers' notes about a meta model are not the user's
        # Shapes only, and peft wraps it as core.adapter_layout does: on the meta device, so no layer's random
        # initialization draws from torch's global generator, which a run training in this process shares.
        model = build_meta_model(config, dtype, trust_remote_code)  # torch's default dtype left alone
        with torch.device("meta"):
            if adapter.method != "full":
                from peft import get_peft_model

                lora = dataclasses.replace(adapter, method="lora" if adapter.method == "qlora" else adapter.method)
                model = get_peft_model(model, peft_config(lora))
    with FakeTensorMode(allow_non_fake_inputs=True):
        _to_fake_cpu(model)
        model.train()
        weights = {id(p) for p in model.parameters()}

        def pack(tensor: Any) -> Any:
            root = tensor._base if tensor._base is not None else tensor
            if id(root) not in weights:
                storage = tensor.untyped_storage()
                saved[storage._cdata] = max(saved.get(storage._cdata, 0), storage.nbytes())
            return tensor

        ids = torch.zeros(batch, length, dtype=torch.long)
        half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(autocast or "")
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor), \
                torch.autocast("cpu", dtype=half or torch.bfloat16, enabled=half is not None):
            model(input_ids=ids, labels=ids)
    return sum(saved.values())


@functools.lru_cache(maxsize=64)
def _pass_figures(model_key: tuple, dtype: str, adapter_key: tuple, batch: int, length: int,
                  autocast: str | None, vocab: int = 0) -> _PassFigures:
    """`vocab`: the embeddings' rows when a chat template's tokens grew them past the model's config (0: as it
    says), so the head's logits and the loss in the pass are as wide as the run's."""
    import copy

    name, revision, trust, model_dtype = model_key
    config = _model_config(ModelConfig(name_or_path=name, revision=revision, trust_remote_code=trust,
                                       dtype=model_dtype))
    if vocab > int(getattr(config, "vocab_size", 0) or 0):
        config = copy.deepcopy(config)  # the cached config stays the model's own
        config.vocab_size = vocab
    adapter = AdapterConfig(**{k: list(v) if isinstance(v, tuple) else v for k, v in adapter_key})
    key = _pass_key(config, dtype, adapter_key, batch, length, autocast)
    kept = _kept_passes().get(key)
    if kept is not None:
        return _PassFigures(**kept)
    one = _saved_bytes(_layers_config(config, 1), dtype, adapter, batch, length, autocast, trust)
    two = _saved_bytes(_layers_config(config, 2), dtype, adapter, batch, length, autocast, trust)
    layer = max(two - one, 0)
    act_bytes = 2 if autocast else _DTYPE_BYTES.get(dtype, 4)
    figures = _PassFigures(rest=max(one - layer, 0), layer=layer,
                           layer_input=batch * length * int(config.hidden_size) * act_bytes)
    _keep_pass(key, figures)
    return figures


PASSES_FILE = "estimate-passes.json"  # in core.demo.cache_dir(): traced passes kept across launches
PASSES_KEPT = 256


def _pass_key(config: Any, dtype: str, adapter_key: tuple, batch: int, length: int, autocast: str | None) -> str:
    """What a traced pass depends on: the model's whole config (not its folder), the settings, and the versions of
    the libraries that build and run it (another transformers may save other tensors)."""
    import hashlib
    import json

    import torch
    import transformers

    try:
        import peft

        peft_version = peft.__version__
    except ImportError:
        peft_version = ""
    described = config.to_dict()
    described.pop("_name_or_path", None)
    text = json.dumps([described, dtype, adapter_key, batch, length, autocast, torch.__version__,
                       transformers.__version__, peft_version], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _kept_passes() -> dict[str, dict[str, int]]:
    """The traced passes of earlier launches: the trace takes 0.2-0.5 s a config on a CPU, and Start waits for the
    estimate of a config it has none of (gui.main_window), so reopening the app and pressing Start on the same
    config would pay it every time. Unreadable or foreign content counts as none."""
    from finetune_studio.core.demo import cache_dir
    from finetune_studio.core.fileio import read_json

    try:
        data = read_json(cache_dir() / PASSES_FILE)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    fields = {field.name for field in dataclasses.fields(_PassFigures)}
    return {key: value for key, value in data.items()
            if isinstance(value, dict) and set(value) == fields and all(isinstance(v, int) for v in value.values())}


def _keep_pass(key: str, figures: _PassFigures) -> None:
    """Add one traced pass to the file (the newest PASSES_KEPT stay); a cache that cannot be written is no loss."""
    from finetune_studio.core.demo import cache_dir
    from finetune_studio.core.fileio import atomic_write_json

    kept = _kept_passes()
    kept.pop(key, None)
    kept[key] = dataclasses.asdict(figures)
    with contextlib.suppress(OSError):
        cache_dir().mkdir(parents=True, exist_ok=True)
        atomic_write_json(cache_dir() / PASSES_FILE, dict(list(kept.items())[-PASSES_KEPT:]))


_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------- the estimate


def _optim_args(text: Any) -> dict[str, str]:
    """training.optim_args as transformers reads it (trainer_optimizer._parse_optim_args): "key=value" pairs joined
    by commas, spaces ignored. A pair without "=" (which transformers refuses when the run starts) is skipped."""
    pairs = (mapping.split("=", 1) for mapping in str(text or "").replace(" ", "").split(","))
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def _nonzero(args: dict[str, str], key: str) -> bool:
    """Whether optim_args sets `key` (momentum) to a number other than 0, as torch keeps a buffer for it only then.
    A value that is no number (the run refuses it) counts as set: the estimate errs high, not low."""
    try:
        return float(args.get(key, "0")) != 0
    except ValueError:
        return True


def _on(args: dict[str, str], key: str) -> bool:
    """A flag in optim_args as transformers reads it (centered=true)."""
    return args.get(key, "").lower() in ("true", "1", "yes")


def _optimizer_bytes(training: dict[str, Any], trainable: int, param_bytes: int) -> int:
    """The optimizer's states: how many tensors the size of the trainable parameters each keeps, from training.optim
    and the optim_args transformers passes to it (torch's defaults otherwise: SGD and RMSprop without momentum)."""
    name = str(training.get("optim") or "adamw_torch_fused").lower()
    args = _optim_args(training.get("optim_args"))
    if "8bit" in name:
        return 2 * trainable
    if name == "sgd":  # torch.optim.SGD: a momentum buffer only where momentum is not 0
        return trainable * param_bytes if _nonzero(args, "momentum") else 0
    if name == "rmsprop":  # square_avg, plus a momentum buffer and, centered, grad_avg
        return (1 + _nonzero(args, "momentum") + _on(args, "centered")) * trainable * param_bytes
    if name == "adagrad":  # the running sum of squared gradients
        return trainable * param_bytes
    if "adafactor" in name:
        return 2 * trainable * param_bytes // 8
    return 2 * trainable * param_bytes


def estimate(config: RunConfig, device: str = "cpu") -> Estimate:
    """Peak memory per device of `config` on `device` ('cuda' or 'cpu'), from the model's config alone.

    Only a config validation accepts is estimated: one with problems in the fields the estimate reads (a batch of
    'abc' or 0, a max_length of -5: config_problems) raises ConfigError with every one of them, as preflight() and
    the CLI refuse it; a bad value read as its default gave a figure for a run that cannot start. Raises ModelError
    when the model's config cannot be read (an id not cached offline), with what to do. Cached per model and
    settings, so a form that re-estimates on each edit stays quick."""
    problems = config_problems(config)
    if problems:
        raise ConfigError(problems)
    return _estimate_valid(config, device)


def evaluates(config: RunConfig) -> bool:
    """Whether the run evaluates at all: an eval_strategy other than "no" and a held-out split to evaluate on. A run
    that never evaluates has no evaluation peak; counting one said "will not fit" (and offered "Evaluate N rows at a
    time") for a config whose training fits (helper-55)."""
    strategy = config.training.get("eval_strategy", "no")
    strategy = getattr(strategy, "value", strategy)
    if strategy is None or strategy is False or str(strategy).strip().lower() in ("no", "false", "none", ""):
        return False
    try:
        return float(config.dataset.test_size or 0) > 0
    except (TypeError, ValueError):
        return True  # validation says what is wrong with it; the estimate keeps the larger figure


def _estimate_valid(config: RunConfig, device: str) -> Estimate:
    """estimate() of a config already checked (config_problems gave none): callers that checked it themselves
    (preflight, fixes, the CLI) do not validate it twice. The defaults below are for settings left unset."""
    from finetune_studio.core.adapter_layout import adapter_figures, added_tokens, module_layout

    training = config.training
    batch = _int(training.get("per_device_train_batch_size"), DEFAULT_TRAIN_BATCH)
    eval_batch = _int(training.get("per_device_eval_batch_size"), DEFAULT_EVAL_BATCH)
    length = _int(config.dataset.max_length, 512)
    checkpointing = _checkpointing(training)
    adapter = config.adapter
    method = adapter.method if adapter.method in ("full", "lora", "qlora", "dora") else "full"
    half = mixed_precision(config, device)
    model = config.model
    model_key = (model.name_or_path.strip(), model.revision or None, bool(model.trust_remote_code), model.dtype)
    layout = module_layout(model)
    from finetune_studio.core.chat import run_template_chat

    chat = run_template_chat(config)  # a chat run's template may add control tokens: the embeddings grow rows
    figures = adapter_figures(model, dataclasses.replace(adapter, method=method), chat)
    dtype = layout.dtype
    per = _DTYPE_BYTES.get(dtype, 4)
    notes: list[str] = []
    model_vocab = int(getattr(_model_config(model), "vocab_size", 0) or 0)
    added = added_tokens(model, chat) if chat is not None else None
    vocab = max(model_vocab, added.vocab_size if added is not None else 0)
    grown = 0  # the parameters those rows add (input embedding, and an untied head)
    if vocab > model_vocab:
        grown = adapter_figures(model, AdapterConfig(method="full"), chat).total - layout.total_params
        tokens = ", ".join(added.tokens) if added is not None and added.tokens else "tokens"
        notes.append(f"The chat template adds {tokens} to the tokenizer: the embeddings grow by "
                     f"{vocab - model_vocab} row{'s' if vocab - model_vocab != 1 else ''}, counted here.")
    if method == "full":
        trainable, total = layout.total_params + grown, layout.total_params + grown
        weights = total * per
    else:
        trainable, total = figures.trainable, figures.total
        base = layout.total_params + grown
        if method == "qlora":
            compute = 2  # bf16 / fp16 compute dtype
            quantized = _quantized_params(model_key)
            weights = int(quantized * QLORA_BYTES_PER_WEIGHT) + (base - quantized) * compute + trainable * 4
            notes.append("QLoRA: decoder linear layers in 4 bits (0.5625 byte per weight), the rest in 16 bits.")
        else:
            weights = base * per + trainable * per
    param_bytes = 4 if method == "qlora" else per
    gradients = trainable * param_bytes
    optimizer = _optimizer_bytes(training, trainable, param_bytes)
    adapter_key = _adapter_key(dataclasses.replace(adapter, method=method))
    pass_dtype = "bfloat16" if method == "qlora" else dtype
    with _lock:
        passes = _pass_figures(model_key, pass_dtype, adapter_key, batch, length, half,
                               vocab if vocab > model_vocab else 0)
    layers = int(getattr(_model_config(model), "num_hidden_layers", 1) or 1)
    logits = batch * length * vocab * 4  # float32 logits: the loss's log-softmax is saved at this size
    if checkpointing:
        # The loss's backward (two more logits-sized gradients) comes first and is over before the last layer is
        # recomputed; by then the saved log-softmax is freed too. The two never coexist: the larger one counts.
        activations = passes.rest + layers * passes.layer_input + max(2 * logits, passes.layer - logits)
    else:
        activations = passes.rest + layers * passes.layer + 2 * logits  # the loss's backward at the start
    eval_extra = 2 * eval_batch * length * vocab * 4 if evaluates(config) else 0  # a run that never evaluates
    tied_transient = 0
    if method == "full":  # adapters leave the embedding frozen: no gradient
        accumulation = _int(training.get("gradient_accumulation_steps"), DEFAULT_ACCUMULATION)
        embedding = _tied_embedding_params(model_key)
        if model_vocab:
            embedding = embedding * vocab // model_vocab  # with the rows a chat template's tokens add
        tied_transient = (2 if accumulation == 1 else 3) * embedding * per
    from finetune_studio.core.launch import processes_per_node, world_size  # the processes torchrun starts

    devices, per_node = world_size(config), processes_per_node(config)
    shard = _sharding(training)
    over = per_node if shard.startswith("hybrid") else devices
    if shard and devices > 1 and device != "cuda":
        notes.append(f"FSDP needs GPUs: on the CPU the {devices} processes train data-parallel (DDP), each holding "
                     "the whole model.")
    elif over > 1 and shard in ("full_shard", "hybrid_shard"):
        weights, gradients, optimizer = weights // over, gradients // over, optimizer // over
        notes.append(f"FSDP {shard}: weights, gradients and optimizer states split over {over} processes.")
    elif over > 1 and shard in ("shard_grad_op", "hybrid_shard_zero2"):
        gradients, optimizer = gradients // over, optimizer // over
        notes.append(f"FSDP {shard}: gradients and optimizer states split over {over} processes.")
    sharing = 1 if device == "cuda" else per_node  # CPU processes of one machine live in the same RAM
    runtime = CUDA_RUNTIME_BYTES if device == "cuda" else CPU_RUNTIME_BYTES
    from finetune_studio.core.launch import RANK_BASE_BYTES, uses_torchrun

    if device != "cuda" and uses_torchrun(config):
        # A run in the app's process starts from what the app already holds (torch imported); torchrun's ranks are
        # each a fresh Python that imports torch and the Trainer first. Left out, two demo ranks were estimated at
        # 137 MiB and peaked at 1.2 GiB (helper-55). launch.py's least-a-rank-takes figure, not a fitted one.
        runtime += RANK_BASE_BYTES
        notes.append(f"Each process is a Python of its own that imports torch and transformers: "
                     f"{RANK_BASE_BYTES >> 20} MiB each, in the CPU runtime.")
    return Estimate(weights=int(weights), gradients=int(gradients), optimizer=int(optimizer),
                    activations=int(activations), runtime=runtime,
                    eval_extra=int(eval_extra), tied_transient=int(tied_transient),
                    trainable_params=int(trainable), total_params=int(total),
                    batch=batch, max_length=length, checkpointing=checkpointing, method=method, devices=devices,
                    notes=tuple(notes), device="cuda" if device == "cuda" else "cpu", sharing=sharing,
                    added_rows=vocab - model_vocab)




def _adapter_key(adapter: AdapterConfig) -> tuple:
    values = dataclasses.asdict(adapter)
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(values.items()))


@functools.lru_cache(maxsize=16)
def _quantized_params_cached(model_key: tuple) -> int:
    import torch

    name, revision, trust, model_dtype = model_key
    config = _model_config(ModelConfig(name_or_path=name, revision=revision, trust_remote_code=trust,
                                       dtype=model_dtype))
    from finetune_studio.core.adapter_layout import build_meta_model

    meta = build_meta_model(config, None, trust)  # never from_config(dtype=…): see build_meta_model
    head = meta.get_output_embeddings()
    return sum(module.weight.numel() for module in meta.modules()
               if isinstance(module, torch.nn.Linear) and module is not head)


@functools.lru_cache(maxsize=16)
def _tied_embedding_params(model_key: tuple) -> int:
    """Parameters of the input embedding when the output head shares it (tied embeddings), else 0; on the meta
    device."""
    name, revision, trust, model_dtype = model_key
    config = _model_config(ModelConfig(name_or_path=name, revision=revision, trust_remote_code=trust,
                                       dtype=model_dtype))
    from finetune_studio.core.adapter_layout import build_meta_model

    meta = build_meta_model(config, None, trust)  # never from_config(dtype=…): see build_meta_model
    embedding, head = meta.get_input_embeddings(), meta.get_output_embeddings()
    if embedding is None or head is None or getattr(head, "weight", None) is not embedding.weight:
        return 0
    return embedding.weight.numel()


def _quantized_params(model_key: tuple) -> int:
    """Weights bitsandbytes stores in 4 bits: every nn.Linear but the output head."""
    return _quantized_params_cached(model_key)


# ---------------------------------------------------------------------------------------------- validity

# The config fields the estimate reads. Validation's errors on them (its rules, not a second set) stop the estimate:
# a batch of 0 or a max_length of 'abc' has no estimate, where it used to be estimated with the defaults.
READS = ("model.", "adapter.", "dataset.max_length", "launch.devices", "launch.processes", "launch.nodes",
         "training.per_device_train_batch_size", "training.per_device_eval_batch_size",
         "training.gradient_accumulation_steps", "training.activation_checkpointing",
         "training.gradient_checkpointing", "training.fsdp", "training.fsdp_config", "training.optim",
         "training.optim_args", "training.bf16", "training.fp16")
WAITS = "The estimate waits for a valid config"


def _reads(field: str) -> bool:
    """A field the estimate reads, or "training" as a whole: TrainingArguments refusing the settings (an unknown
    optim, …) is said on that field, and such a run has no estimate either (it was estimated as if valid)."""
    return field == "training" or any(field == name or (name.endswith(".") and field.startswith(name))
                                      for name in READS)


def config_problems(config: RunConfig) -> list[Problem]:
    """core.validation's errors for the fields the estimate reads (READS), in validation's words: a config with any
    is not estimated. Includes a chosen GPU this machine does not have (NVML) and QLoRA where it cannot run."""
    from finetune_studio.core.validation import validate

    return [problem for problem in validate(config) if problem.level == ERROR and _reads(problem.field)]


@contextlib.contextmanager
def _quiet_training_arguments() -> Any:
    """transformers' TrainingArguments warnings (a deprecated fsdp form, …) held back while validation builds them
    again for each fix: validating the config itself said them already. Only this thread's: a level set on the
    logger would hold back, for that moment, the same warnings of a run starting in another thread of the process,
    which its log must keep."""
    import logging

    logger = logging.getLogger("transformers.training_args")
    this_thread = threading.get_ident()

    def quiet(record: logging.LogRecord) -> bool:  # a callable is a filter (logging takes either)
        return record.thread != this_thread

    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _processes_per_node(config: RunConfig) -> int:
    from finetune_studio.core.launch import processes_per_node

    return processes_per_node(config)


def waits_message(problems: list[Problem]) -> str:
    """'The estimate waits for a valid config: <first problem, in validation's words>.' and how many more."""
    first = problems[0].message.strip()
    first += "" if first.endswith(".") else "."
    more = len(problems) - 1
    return f"{WAITS}: {first}" + (f" ({more} more problem{'s' if more > 1 else ''}.)" if more else "")


# ---------------------------------------------------------------------------------------------- fixes


def with_overrides(config: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    return apply_overrides(config, [f"{key}={_yaml(value)}" for key, value in overrides.items()])[0]


def _yaml(value: Any) -> str:
    import json

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)  # YAML flow style reads JSON
    return str(value)


def candidate_fixes(config: RunConfig, device: str, gpus_available: list[int] | None = None) -> list[
        tuple[str, dict[str, Any], bool]]:
    """(description, overrides, keeps_maths) of every change worth estimating for `config`."""
    training = config.training
    batch = _int(training.get("per_device_train_batch_size"), DEFAULT_TRAIN_BATCH)
    accumulation = _int(training.get("gradient_accumulation_steps"), DEFAULT_ACCUMULATION)
    length = _int(config.dataset.max_length, 512)
    out: list[tuple[str, dict[str, Any], bool]] = []
    if not _checkpointing(training):
        out.append(("Turn on activation checkpointing (recomputes each layer in the backward pass, ~30 % slower)",
                    {"training.activation_checkpointing": True}, True))
    if batch > 1:
        # The largest batch that divides this one, so the rows per optimizer step stay exactly the same (7 as 3 x 2
        # lost a row a step while it said "the same effective batch"); counted over every process of the run.
        # Accumulation stops at validation's limit (advice.smaller_batch): fixes() drops a fix validation refuses,
        # so batch 7 with 2,000 steps had none, where batch 1 with 10,000 is one, with fewer rows per step.
        from finetune_studio.core.advice import capped_steps_text, smaller_batch
        from finetune_studio.core.launch import world_size

        lower = smaller_batch(batch, accumulation)
        processes = max(1, world_size(config))
        same = (f"same effective batch of {lower.rows_before * processes}" if lower.kept else
                capped_steps_text(lower.rows_before * processes, lower.rows * processes))
        out.append((f"Batch {lower.batch} with {lower.steps} accumulation steps ({same})",
                    {"training.per_device_train_batch_size": lower.batch,
                     "training.gradient_accumulation_steps": lower.steps}, True))
    per_node = _processes_per_node(config)
    if device != "cuda" and per_node > 1:  # CPU processes share one RAM: one process, the same rows per step
        from finetune_studio.core.advice import capped_steps_text
        from finetune_studio.core.validation import MAX_ACCUMULATION_STEPS

        steps = min(accumulation * per_node, MAX_ACCUMULATION_STEPS)
        fewer: dict[str, Any] = {"launch.processes": 1, "training.gradient_accumulation_steps": steps}
        if training.get("fsdp"):
            fewer["training.fsdp"] = None  # one process has nothing to shard over (validation refuses it)
        nodes = max(1, _int(config.launch.nodes, 1))
        before, after = batch * accumulation * per_node * nodes, batch * steps * nodes
        same = f"same effective batch of {after}" if after == before else capped_steps_text(before, after)
        out.append((f"One process instead of {per_node}, with {steps} accumulation steps ({same}): the processes "
                    "share this machine's RAM", fewer, True))
    chosen = list(config.launch.devices) if isinstance(config.launch.devices, list) else []
    available = sorted(set(gpus_available or []))
    if device == "cuda" and available:
        devices = sorted(set(chosen) | set(available))
        count, before = len(devices), max(len(chosen), 1)
        if count > before:  # more GPUs, the same global batch: each holds a share of the rows
            per_device = max(1, batch * before // count)
            if per_device < batch:
                out.append((f"Train on {count} GPUs ({', '.join(map(str, devices))}), batch {per_device} on each",
                            {"launch.devices": devices, "launch.processes": count,
                             "training.per_device_train_batch_size": per_device}, True))
        shard_over = chosen if len(chosen) > 1 else devices
        if len(shard_over) > 1 and _sharding(training) != "full_shard":
            # transformers 5.x's own form (its string and list forms are deprecated): fsdp on, and FSDP2's
            # reshard_after_forward true (full_shard; its default auto-wrap policy wraps each decoder layer)
            shard = {"launch.devices": shard_over, "launch.processes": len(shard_over), "training.fsdp": True}
            options = training.get("fsdp_config")
            if isinstance(options, dict) and options.get("reshard_after_forward", True) is not True:
                shard["training.fsdp_config"] = {**options, "reshard_after_forward": True}
            out.append((f"Shard the model over GPUs {', '.join(map(str, shard_over))} with FSDP (full_shard)", shard,
                        True))
    method = config.adapter.method
    if method in ("full", "dora"):
        out.append(("Train a LoRA adapter instead of every weight", {"adapter.method": "lora"}, False))
    if length > 64:
        shorter = max(64, length // 2)
        out.append((f"Cut rows at {shorter} tokens instead of {length}", {"dataset.max_length": shorter}, False))
    if device == "cuda" and method != "qlora":
        out.append(("QLoRA: LoRA on 4-bit weights (needs bitsandbytes)", {"adapter.method": "qlora"}, False))
    return out


# A fix that saves less than this share of the estimate is not offered unless it makes the verdict better: on the
# demo model with rows of 16,384 tokens, LoRA saved 0.07 % (1 MiB of 1.45 GiB: the weights are nothing beside the
# activations) and was listed as a fix for a run that will not fit, one that changes what is trained at that.
MIN_SAVING = 0.01
_VERDICT_ORDER = {FITS: 0, TIGHT: 1, WONT_FIT: 2}


def _worth_offering(total: int, changed: int, now: str, then: str) -> bool:
    """A fix on the same device(s) is worth listing when it makes the verdict better, or saves at least MIN_SAVING
    of the estimate."""
    return _VERDICT_ORDER[then] < _VERDICT_ORDER[now] or total - changed >= MIN_SAVING * total


def fixes(config: RunConfig, budget: Budget, gpus_available: list[int] | None = None,
          current: Estimate | None = None, free_by_gpu: dict[int, int] | None = None) -> list[EstimateFix]:
    """Changes that lower the estimate, each with its new estimate and verdict, ranked (see the module doc); none
    that validation would refuse (config_problems of the changed config), so Apply never leads to a blocked Start.
    `free_by_gpu` (GPU index -> free bytes): a fix that changes the chosen GPUs is judged against its own GPUs'
    free memory, and choosing only the GPUs that have room is offered too."""
    current = current or estimate(config, budget.device)
    found: list[EstimateFix] = []
    candidates = candidate_fixes(config, budget.device, gpus_available)
    chosen = list(config.launch.devices) if isinstance(config.launch.devices, list) else []
    if budget.device == "cuda" and free_by_gpu:
        roomy = sorted(index for index, free in free_by_gpu.items() if current.total <= free * FITS_BELOW)
        keep = [index for index in chosen if index in roomy] or roomy[:1]
        if keep and keep != chosen and verdict(current.total, budget) != FITS:
            names = ", ".join(map(str, keep))
            only = {"launch.devices": keep, "launch.processes": len(keep)}
            if len(keep) == 1 and config.training.get("fsdp"):
                only["training.fsdp"] = None  # one process has nothing to shard over (validation refuses it)
            candidates.insert(0, (f"Train on GPU{'s' if len(keep) > 1 else ''} {names} only (room for this run)",
                                  only, True))
    eval_batch = _int(config.training.get("per_device_eval_batch_size"), DEFAULT_EVAL_BATCH)
    if current.eval_peak > current.training_peak and eval_batch > 1:
        candidates.insert(0, (f"Evaluate {eval_batch // 2} rows at a time instead of {eval_batch}",
                              {"training.per_device_eval_batch_size": eval_batch // 2}, True))
    now = verdict(current.total, budget)
    for description, overrides, keeps in candidates:
        try:
            config_changed = with_overrides(config, overrides)
            with _quiet_training_arguments():  # validate() once per fix: its deprecation notes were said once
                refused = config_problems(config_changed)
            if refused:
                continue  # validation would refuse it here (QLoRA without bitsandbytes or a device for it, …)
            changed = _estimate_valid(config_changed, budget.device)
        except Exception:  # noqa: BLE001 - a fix that cannot be estimated (e.g. peft refuses the targets) is left out
            continue
        devices = overrides.get("launch.devices")
        judged = budget
        if devices and free_by_gpu and all(index in free_by_gpu for index in devices):
            least = min(devices, key=lambda index: free_by_gpu[index])
            judged = Budget(free_by_gpu[least], f"GPU {least}", "cuda")
        new_verdict = verdict(changed.total, judged)
        if judged.free_bytes <= budget.free_bytes and not _worth_offering(current.total, changed.total,
                                                                           now, new_verdict):
            continue
        found.append(EstimateFix(description, overrides, changed, new_verdict, keeps))
    order = _VERDICT_ORDER
    found.sort(key=lambda fix: (order[fix.verdict] > 1, not fix.keeps_maths, order[fix.verdict], fix.estimate.total))
    return found


def free_place(budget: Budget) -> str:
    """Where the free memory is, after its figure: 'free RAM', 'free on GPU 0 (NVIDIA H100)' ('free on RAM' read
    wrong); the CLI's verdict and the window's estimate say it alike."""
    return "free RAM" if budget.what == "RAM" else f"free on {budget.what}"


def describe(result: Estimate, budget: Budget | None = None) -> str:
    """A few lines for the CLI: each part, the total and, with a budget, the verdict."""
    each = "process" if result.sharing > 1 else "device"
    lines = [f"Memory estimate per {each} ({result.method}, batch {result.batch} x {result.max_length} tokens, "
             f"activation checkpointing {'on' if result.checkpointing else 'off'}):"]
    for label, value in result.process_parts():
        lines.append(f"  {label:<18} {gib(value):>11}")
    if result.sharing > 1:
        lines.append(f"  {'per process':<18} {gib(result.per_process):>11}")
        lines.append(f"  x {result.sharing} processes: they share this machine's RAM")
    lines.append(f"  {'total':<18} {gib(result.total):>11}")
    if result.method != "full":
        lines.append(f"  trainable parameters: {result.trainable_params:,} of {result.total_params:,}")
    lines.extend(f"  note: {note}" for note in result.notes)
    if budget is not None:
        lines.append(f"Verdict: {verdict(result.total, budget)} ({gib(result.total)} of {gib(budget.free_bytes)} "
                     f"{free_place(budget)}).")
    return "\n".join(lines)




# ---------------------------------------------------------------------------------------------- the CLI


def add_cli_arguments(sub: Any, config_args: Any) -> None:
    """`finetune-studio estimate CONFIG.yaml`: the same config arguments as train and validate."""
    parser = sub.add_parser("estimate", help="estimate the run's peak memory per device before training: weights, "
                                             "gradients, optimizer, activations; the verdict and fixes")
    config_args(parser)


def run_cli(config: RunConfig, problems: list[Problem] | None = None) -> int:
    """Print the estimate against this machine (the chosen GPUs' free memory, or the available RAM) and the
    fixes; exit 1 when it will not fit or the Hub its model is read from cannot be reached (README's "it failed":
    the config is right, the machine is offline), 2 when the config has problems (nothing is estimated) or the
    model cannot be read, else 0. `problems`: the `estimate` command passes every problem `validate` finds (core.cli's
    command_problems), printed and exited on as `validate` does; without them, config_problems' (the fields the
    estimate reads)."""
    from finetune_studio.core.gpus import device_problems, read_gpus
    from finetune_studio.core.hub_access import HubUnreachable

    problems = config_problems(config) if problems is None else problems
    if problems:
        for problem in problems:
            print(f"problem: {problem}")
        print(f"{WAITS}: fix the problem{'s' if len(problems) > 1 else ''} above (the same as validate says).")
        return 2
    table = read_gpus()
    budget = budget_of(list(config.launch.devices), table, _processes_per_node(config))
    for problem in device_problems(list(config.launch.devices), table):  # an error goes where every command's go
        print(f"{problem.level}: {problem.message}", file=sys.stderr if problem.level == ERROR else sys.stdout)
    try:
        result = _estimate_valid(config, budget.device)
    except HubUnreachable as exc:  # not bad input: the same config estimates once the Hub answers (exit 1)
        print(f"error: {exc} A model in the local Hugging Face cache, or in a local folder, is estimated without "
              "the Hub.", file=sys.stderr)
        return 1
    except FinetuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - as preflight: a model the estimator cannot build or run, in words
        print(f"error: {cannot_estimate(exc)}", file=sys.stderr)
        return 1
    print(describe(result, budget))
    free = {gpu.index: gpu.free_bytes for gpu in table.gpus}
    found = fixes(config, budget, list(free), current=result, free_by_gpu=free) if verdict(
        result.total, budget) != FITS else []
    if found:
        print("Fixes, best first (each with its new estimate):")
        for fix in found:
            print(f"  - {fix.description}: {gib(fix.estimate.total)}, {fix.verdict}  [{fix_flags(fix.overrides)}]")
    return 1 if verdict(result.total, budget) == WONT_FIT else 0


def fix_flags(overrides: dict[str, Any]) -> str:
    """The --set flags of a fix, each shell-quoted so the line pastes into a shell as it stands."""
    return " ".join(f"--set {shlex.quote(f'{key}={_yaml(value)}')}" for key, value in overrides.items())


@dataclass(frozen=True)
class Preflight:
    """What the estimate bar shows before Start: the estimate against the chosen devices, or why there is none."""

    budget: Budget
    estimate: Estimate | None = None
    verdict: str = ""
    fixes: tuple[EstimateFix, ...] = ()
    error: str = ""  # why there is no estimate, a sentence to show as it stands
    problems: tuple[Problem, ...] = ()  # validation's errors that stop the estimate (error says the first)


def preflight(config: RunConfig, table: Any, problems: list[Problem] | None = None) -> Preflight:
    """The estimate of `config` against a core.gpus.GpuTable's chosen devices (or RAM), with fixes unless it fits.
    Never raises: a config the estimator cannot read comes back with `error` saying why and what to do, and one
    with problems in the fields the estimate reads (config_problems) with `problems` and error "The estimate waits
    for a valid config: <first problem>". `problems`: validate()'s result when the caller has it (the window), so
    it is not computed twice; only its errors on the fields the estimate reads count."""
    devices = list(config.launch.devices) if isinstance(config.launch.devices, list) else []
    try:
        blocking = config_problems(config) if problems is None else [
            problem for problem in problems if problem.level == ERROR and _reads(problem.field)]
    except Exception as exc:  # noqa: BLE001 - validation itself failed: say so rather than estimate blind
        blocking = [Problem("", f"validation failed ({type(exc).__name__}: {exc})")]
    if blocking:
        devices = [d for d in devices if isinstance(d, int) and not isinstance(d, bool)]
        return Preflight(budget=budget_of(devices, table), error=waits_message(blocking),
                         problems=tuple(blocking))
    budget = budget_of(devices, table, _processes_per_node(config))
    try:
        result = _estimate_valid(config, budget.device)
        said = verdict(result.total, budget)
        free = {gpu.index: gpu.free_bytes for gpu in table.gpus}
        found = fixes(config, budget, list(free), current=result, free_by_gpu=free) if said != FITS else []
    except FinetuneError as exc:
        return Preflight(budget=budget, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - an architecture the fake pass cannot run: say so, never crash the form
        return Preflight(budget=budget, error=cannot_estimate(exc))
    return Preflight(budget=budget, estimate=result, verdict=said, fixes=tuple(found))


def cannot_estimate(exc: BaseException) -> str:
    """Why there is no estimate when building or tracing the model raised (a config.json transformers accepts but
    cannot build a model from, such as num_attention_heads: 0; an architecture the fake pass cannot run), for the
    estimate bar and `finetune-studio estimate`, which said "Training failed: ZeroDivisionError: …" of an estimate
    (core.cli's catch-all) though nothing trained."""
    from finetune_studio.core.advice import raised_in

    text = str(exc).strip().splitlines()[0].rstrip(".:") if str(exc).strip() else ""
    where = raised_in(exc)
    return (f"The memory of this model cannot be estimated: building it from its config.json and tracing a step "
            f"(shapes only, no weights) failed with {type(exc).__name__}" + (f": {text}" if text else "")
            + (f" (raised in {where})" if where else "")
            + ". To fix: check the model's config.json (its sizes: layers, heads, hidden size); if the model loads "
            "elsewhere, start the run with max_steps: 2 to see its memory.")
