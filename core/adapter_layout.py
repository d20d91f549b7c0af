"""Which modules of a model can take an adapter, and what an adapter would cost, without loading any weights.

The Model tab needs the chosen model's real module names (q_proj, gate_proj, c_attn, ...) to offer them as
checkable groups, and live figures (trainable parameters, adapter size on disk) while the user edits rank and
targets. Both come from the model's config alone: transformers builds the model on the meta device (shapes, no
storage, no download of weights) and peft's own `get_peft_model` is applied to that empty model and counted, so the
figures are exactly what training will report (peft's `get_nb_trainable_parameters`), not a formula kept here.
A chat run whose template adds control tokens to the tokenizer (ChatML's on a base model) grows the embeddings and
trains the new rows beside the adapter: given the run's chat settings, the figures count them too, read from the
tokenizer on disk by core.chat's own plan (never downloaded).

Qt-free; torch, transformers and peft are imported inside the functions (the GUI imports this module at start and
calls it from a worker thread). Layouts are cached per model (name, revision, trust_remote_code, dtype), the added
tokens per (model, chat template), figures per (model, adapter settings, vocabulary size, added token ids), so
re-ticking a box does not rebuild anything.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import threading
from dataclasses import dataclass, field
from typing import Any

from finetune_studio.core.config import AdapterConfig, ChatConfig, ModelConfig
from finetune_studio.core.errors import FinetuneError, ModelError

ATTENTION, MLP, EMBEDDINGS, OUTPUT_HEAD, OTHER = "attention", "mlp", "embeddings", "output head", "other"
#: The groups in the order the form shows them. OTHER (linear layers that are neither attention nor MLP, e.g. a
#: vision tower's projector) is present in `groups` only when a model has some.
GROUPS = (ATTENTION, MLP, EMBEDDINGS, OUTPUT_HEAD, OTHER)
ALL_LINEAR = "all-linear"  # peft's shorthand: every linear layer but the output head

# Words in a module's path or its class name that say which block it belongs to. Attention is checked first: a
# "Qwen3Attention" inside a decoder layer holds q/k/v/o; everything linear in an "...MLP"/"FeedForward"/expert is MLP.
_ATTENTION_WORDS = ("attn", "attention")
_MLP_WORDS = ("mlp", "feed_forward", "feedforward", "ffn", "expert", "moe", "dense_h_to_4h", "dense_4h_to_h")
_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


@dataclass(frozen=True)
class ModuleLayout:
    """The adapter-relevant shape of one model, read from its config on the meta device."""

    groups: dict[str, list[str]]  # group -> short module names in it, in model order
    module_names: list[str]  # every short name that can take an adapter (linear, conv1d, embedding), model order
    total_params: int  # parameters of the base model (tied weights counted once, as peft and training count)
    all_linear: list[str] = field(default_factory=list)  # what peft's "all-linear" picks: linear minus output head
    model_type: str = ""  # config.model_type, e.g. "qwen3"
    dtype: str = "float32"  # dtype the weights load in (model.dtype 'auto' -> the saved dtype)


@dataclass(frozen=True)
class AdapterFigures:
    """What an adapter costs. `trainable` and `total` are peft's get_nb_trainable_parameters() of the wrapped model
    (total includes the adapter's own parameters, as peft's print_trainable_parameters does), percent is
    100 * trainable / total. size_bytes is the adapter_model.safetensors that saving the adapter writes (for full
    fine-tuning: the whole model's weights in their dtype). `added_tokens`: the chat template's control tokens whose
    embedding rows are counted (the model grown for them); `tokens_unknown`: a chat run's tokenizer is not on this
    computer yet, so tokens its template may add are not counted."""

    trainable: int
    total: int
    percent: float
    size_bytes: int
    added_tokens: tuple[str, ...] = ()
    tokens_unknown: bool = False


# ---- reading the config ---------------------------------------------------------------------------------------


def config_source(model: ModelConfig) -> tuple[str, dict[str, Any]]:
    """Where AutoConfig reads from, and how: a local folder as it is; a Hub id from the local cache when offline
    (or the Hub unreachable), else its config.json alone is fetched (a few kB; never weights)."""
    from finetune_studio.core.model import model_name_problem, resolve_model
    from finetune_studio.core.sources import is_local

    name = _one_name(model)
    problem = model_name_problem(name, weights=False)
    if problem:
        raise ModelError(problem)
    kwargs: dict[str, Any] = {"trust_remote_code": model.trust_remote_code}
    if is_local(name):
        return resolve_model(name), kwargs
    return name, {**kwargs, "revision": model.revision}


def _load_config(model: ModelConfig) -> Any:
    from transformers import AutoConfig

    from finetune_studio.core.hub_access import require_hub
    from finetune_studio.core.sources import is_local

    source, kwargs = config_source(model)
    if is_local(_one_name(model)):
        try:
            return AutoConfig.from_pretrained(source, **kwargs)
        except (OSError, ValueError) as exc:
            raise ModelError(f"Could not read the model config in {source}: {_first_line(exc)}") from None
    try:
        return AutoConfig.from_pretrained(source, local_files_only=True, **kwargs)
    except (OSError, ValueError):
        pass  # not cached
    require_hub(f"the config of '{source}'", "Pick a local model folder or the built-in demo model.",
                _one_name(model), model.revision)  # a cached model at an uncached revision: both named
    try:
        return AutoConfig.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelError(f"Could not read the config of {source}: {_first_line(exc)}. To fix: check the id "
                         "(owner/name) and the revision, or log in if the model is private or gated.") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _dtype_name(model: ModelConfig, config: Any) -> str:
    if model.dtype and model.dtype != "auto":
        return model.dtype
    saved = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    name = str(saved).removeprefix("torch.") if saved is not None else "float32"
    return name if name in ("float32", "float16", "bfloat16") else "float32"


def build_meta_model(config: Any, dtype: str | None, trust_remote_code: bool) -> Any:
    """The model with every tensor on the meta device: shapes only, built in well under a second even for 8B, with
    its parameters in `dtype` (None: torch's default). It gets a copy of the (cached) config: growing its embeddings
    sets model.config.vocab_size, which must not change the next model built.

    Never through from_config(dtype=...): that sets torch's default dtype for the whole process while it builds
    (transformers' local_torch_dtype), and a run training in another thread of this process (the window's) creates
    tensors in that default meanwhile: its losses changed, or its forward failed on mixed dtypes, when the window
    validated or estimated a bfloat16 config during a run. So the model is built in the default dtype and its
    parameters are cast after; on the meta device that costs nothing."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(config)
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config, dtype=None, trust_remote_code=trust_remote_code)
    except Exception as exc:  # noqa: BLE001 - ZeroDivisionError, TypeError, AssertionError …: a config it cannot build
        raise ModelError(_cannot_build(config, exc)) from None
    if dtype:
        target = getattr(torch, dtype)
        cast: dict[int, Any] = {}  # one cast per tensor: tied weights stay one parameter
        for module in model.modules():
            for name, param in list(module._parameters.items()):
                if param is not None and param.is_floating_point() and param.dtype != target:
                    if id(param) not in cast:
                        cast[id(param)] = torch.nn.Parameter(param.to(target), requires_grad=param.requires_grad)
                    module._parameters[name] = cast[id(param)]
        model.config.dtype = target
    return model


def _cannot_build(config: Any, exc: BaseException) -> str:
    """Why transformers could not build the model a config describes, and what to change. A config of no causal LM
    (a vision or encoder model) is refused by name; any other failure comes from the architecture's own code reading
    the config (num_attention_heads: 0 divides by zero), so the sizes it holds that cannot be right are named."""
    kind = getattr(config, "model_type", "") or "?"
    if "Unrecognized configuration class" in str(exc):
        return (f"{type(config).__name__} ({kind}) is not a causal language model transformers can build: "
                f"{_first_line(exc).rstrip('.')}. To fix: pick a causal LM (…ForCausalLM).")
    from finetune_studio.core.advice import raised_in

    text = _first_line(exc).rstrip(".:") if str(exc).strip() else ""
    where = raised_in(exc)
    said = (f"transformers cannot build the {kind} model its config.json describes: {type(exc).__name__}"
            + (f": {text}" if text else "") + (f" (raised in {where})" if where else ""))
    try:
        settings = config.to_dict()
    except Exception:  # noqa: BLE001 - a config that cannot even list itself: no sizes to name
        settings = {}
    bad = [f"{key}: {value}" for key, value in settings.items()
           if isinstance(value, int) and not isinstance(value, bool) and value <= 0 and _is_size_key(key)]
    if bad:
        return (f"{said}. config.json sets {', '.join(bad)}, a size that must be at least 1. To fix: set "
                f"{'it' if len(bad) == 1 else 'them'} to the model's real value{'' if len(bad) == 1 else 's'} "
                "(copy config.json again from where the model came from).")
    return (f"{said}. To fix: check the sizes in the model's config.json (layers, heads, hidden size) against its "
            "model card, or copy config.json again from where the model came from.")


# The sizes every causal LM's code divides by or builds layers from: 0 or less in one is a config that cannot be.
_SIZE_KEYS = ("hidden_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers", "head_dim",
              "intermediate_size", "vocab_size", "n_embd", "n_head", "n_layer", "n_heads", "n_layers", "d_model",
              "num_heads", "num_layers")


def _is_size_key(key: str) -> bool:
    return key in _SIZE_KEYS or (key.startswith("num_") and key.endswith("_heads"))


def _one_name(model: ModelConfig) -> str:
    """model.name_or_path as the one model name it must be, stripped; a value that is no text (a YAML list, a
    mapping, a number kept as written) or nothing raises ModelError in words (it raised AttributeError: 'list'
    object has no attribute 'strip')."""
    from finetune_studio.core.sources import ONE_MODEL_FIX, not_one_model

    said = not_one_model(model.name_or_path)
    if said:
        raise ModelError(f"{said}. {ONE_MODEL_FIX}.")
    return model.name_or_path.strip()


def _cache_key(model: ModelConfig) -> tuple:
    return (_one_name(model), model.revision or None, bool(model.trust_remote_code), model.dtype)


# ---- the layout -----------------------------------------------------------------------------------------------


def _adaptable(module: Any) -> str | None:
    """'linear', 'embedding' or None: the module kinds peft's LoRA can wrap (transformers' Conv1D is GPT-2's
    linear layer; convolutions of vision towers are left out: this app trains causal LMs)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    if isinstance(module, (torch.nn.Linear, Conv1D)):
        return "linear"
    if isinstance(module, torch.nn.Embedding):
        return "embedding"
    return None


def _group_of(path: str, model: Any, modules: dict[str, Any]) -> str:
    """attention or mlp by the names and classes of the module's ancestors (innermost first), else OTHER."""
    parts = path.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        parent = ".".join(parts[:depth])
        words = (parts[depth - 1].lower(), type(modules.get(parent, model)).__name__.lower())
        if any(w in word for word in words for w in _ATTENTION_WORDS):
            return ATTENTION
        if any(w in word for word in words for w in _MLP_WORDS):
            return MLP
    short = parts[-1].lower()
    if short in ("q_proj", "k_proj", "v_proj", "o_proj", "qkv_proj", "c_attn", "query_key_value"):
        return ATTENTION
    if short in ("gate_proj", "up_proj", "down_proj", "fc1", "fc2", "c_fc", "w1", "w2", "w3"):
        return MLP
    return OTHER


def layout_of(model: Any, dtype: str = "float32") -> ModuleLayout:
    """The layout of an already built model (meta or real): the one rule module_layout applies."""
    modules = dict(model.named_modules())
    output_head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    groups: dict[str, list[str]] = {name: [] for name in GROUPS}
    names: list[str] = []
    linear: list[str] = []
    head_names: set[str] = set()
    for path, module in modules.items():
        kind = _adaptable(module)
        if kind is None or not path:
            continue
        short = path.rsplit(".", 1)[-1]
        if module is output_head:
            group = OUTPUT_HEAD
            head_names.add(short)
        elif kind == "embedding":
            group = EMBEDDINGS
        else:
            group = _group_of(path, model, modules)
        if kind == "linear" and module is not output_head and short not in linear:
            linear.append(short)
        if short not in groups[group]:
            groups[group].append(short)
        if short not in names:
            names.append(short)
    if not groups[OTHER]:
        del groups[OTHER]
    total = sum(p.numel() for p in model.parameters())  # parameters() yields a tied weight once
    return ModuleLayout(groups=groups, module_names=names, total_params=int(total),
                        all_linear=[n for n in linear if n not in head_names],
                        model_type=str(getattr(getattr(model, "config", None), "model_type", "") or ""), dtype=dtype)


@functools.lru_cache(maxsize=16)
def _cached_layout(key: tuple) -> tuple[ModuleLayout, Any]:
    name, revision, trust, dtype = key
    model = ModelConfig(name_or_path=name, revision=revision, trust_remote_code=trust, dtype=dtype)
    config = _load_config(model)
    dtype_name = _dtype_name(model, config)
    return layout_of(build_meta_model(config, dtype_name, trust), dtype_name), config


_lock = threading.Lock()


def meta_model(model: ModelConfig, vocab_size: int = 0) -> Any:
    """The chosen model built on the meta device from its config (read as module_layout reads it, cached): every
    parameter's name, shape and dtype, no storage. `vocab_size`: grow the embeddings to that many rows first, as a
    chat run that added tokens did (resize_token_embeddings, on the meta device too)."""
    with _lock:
        config = _cached_layout(_cache_key(model))[1]
    dtype = _dtype_name(model, config)
    built = build_meta_model(config, dtype, model.trust_remote_code)
    if vocab_size > built.get_input_embeddings().weight.shape[0]:
        built.resize_token_embeddings(vocab_size, mean_resizing=False)
    return built


def module_layout(model: ModelConfig) -> ModuleLayout:
    """The chosen model's adapter targets in groups (attention / mlp / embeddings / output head), every short name
    that can take an adapter, and its parameter count; from its config on the meta device (no weights read or
    downloaded). builtin:demo and local folders are read from disk; a Hub id from the local cache when offline.
    Raises ModelError, or core.hub_access.HubUnreachable for a Hub id neither cached nor reachable (both
    FinetuneError: what is wrong and what to do), when the config cannot be read. Cached per model."""
    with _lock:
        return _cached_layout(_cache_key(model))[0]


def _in_out(module: Any) -> tuple[int, int] | None:
    """(inputs, outputs) of a layer LoRA can wrap: a Linear's features, GPT-2's Conv1D (weight stored in × out), an
    Embedding's rows × width (peft's lora_embedding_A is r × rows, B is width × r)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    if isinstance(module, torch.nn.Linear):
        return int(module.in_features), int(module.out_features)
    if isinstance(module, Conv1D):
        return int(module.weight.shape[0]), int(module.weight.shape[1])
    if isinstance(module, torch.nn.Embedding):
        return int(module.num_embeddings), int(module.embedding_dim)
    return None


_modules_lock = threading.Lock()
# model key -> (what all-linear picks, every layer LoRA can wrap: (path, inputs, outputs, is the output head))
_modules: dict[tuple, tuple[tuple[str, ...], tuple[tuple[str, int, int, bool], ...]]] = {}


def _adaptable_modules(model: ModelConfig, build: bool) -> tuple[tuple[str, ...], tuple] | None:
    """The model's layers LoRA can wrap, with their shapes, read once per model from the model built on the meta
    device; None when not read yet and `build` is False (a caller that must stay cheap)."""
    key = _cache_key(model)
    with _modules_lock:
        found = _modules.get(key)
    if found is not None or not build:
        return found
    layout = module_layout(model)
    built = meta_model(model)
    head = built.get_output_embeddings()
    layers = []
    for path, module in built.named_modules():
        shape = _in_out(module) if path else None
        if shape is not None:
            layers.append((path, *shape, module is head))
    found = (tuple(layout.all_linear), tuple(layers))
    with _modules_lock:
        _modules[key] = found
        while len(_modules) > 16:  # as many models as module_layout keeps
            del _modules[next(iter(_modules))]
    return found


def adapted_layers(model: ModelConfig, targets: list[str], build: bool = True) -> list[tuple[str, int, int]] | None:
    """(path, inputs, outputs) of every layer an adapter with these target_modules wraps, in model order (peft's
    rule: a name matches a module path whole or at its end; all-linear is every linear layer but the output head),
    from the model built on the meta device, no weights read. `build` False: None unless this model's layers were
    read already (by any call with `build`), so a check run on every edit never builds a model. Raises as
    module_layout does. Cached per model."""
    found = _adaptable_modules(model, build)
    if found is None:
        return None
    all_linear, layers = found
    wanted = [t for t in targets if t != ALL_LINEAR] + (list(all_linear) if ALL_LINEAR in targets else [])
    chosen = []
    for path, fan_in, fan_out, is_head in layers:
        if not any(path == t or path.endswith("." + t) for t in wanted):
            continue
        if ALL_LINEAR in targets and is_head and path.rsplit(".", 1)[-1] not in targets:
            continue  # all-linear leaves the output head out
        chosen.append((path, fan_in, fan_out))
    return chosen


def adapted_widths(model: ModelConfig, targets: list[str]) -> dict[str, tuple[int, int]]:
    """{short name: (inputs, outputs)} of the layers an adapter with these target_modules wraps (adapted_layers),
    the widest of each name. For the rank check: r at or above a layer's smaller side makes LoRA there no cheaper
    than training the layer itself. Raises as module_layout does. Cached per model."""
    widths: dict[str, tuple[int, int]] = {}
    for path, fan_in, fan_out in adapted_layers(model, targets) or []:
        short = path.rsplit(".", 1)[-1]
        if short not in widths or min(fan_in, fan_out) > min(widths[short]):
            widths[short] = (fan_in, fan_out)
    return widths


# ---- the figures ----------------------------------------------------------------------------------------------


def peft_config(adapter: AdapterConfig, model: ModelConfig | None = None) -> Any:
    """The peft LoraConfig an AdapterConfig stands for ('lora', 'qlora' and 'dora'; None for 'full'): the training
    core's own (core.adapters.lora_config), so the figures count exactly the adapter a run trains."""
    if adapter.method == "full":
        return None
    from finetune_studio.core.adapters import lora_config
    from finetune_studio.core.config import RunConfig

    return lora_config(RunConfig(model=model or ModelConfig(), adapter=adapter))


def safetensors_size(tensors: dict[str, tuple[str, list[int]]], metadata: dict[str, str]) -> int:
    """Bytes of the .safetensors file save_file writes for these (name -> (dtype, shape)): 8-byte length, the JSON
    header padded with spaces to a multiple of 8, then the data; computed, so no tensor needs storage."""
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    # safetensors lays tensors out by descending dtype size, then name
    for name, (dtype, shape) in sorted(tensors.items(), key=lambda kv: (-_BYTES[kv[1][0]], kv[0])):
        nbytes = _BYTES[dtype] * math.prod(shape)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":"))
    length = len(text.encode("utf-8"))
    return 8 + length + (-length % 8) + offset


_ST_DTYPE = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int64": "I64",
             "int32": "I32", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def st_dtype(tensor: Any) -> str:
    return _ST_DTYPE[str(tensor.dtype).removeprefix("torch.")]


def _adapter_file_size(peft_model: Any, token_ids: tuple[int, ...]) -> int:
    """Size of the adapter_model.safetensors peft's save_pretrained writes: get_peft_model_state_dict's tensors under
    the keys save_pretrained gives them (the adapter name taken out), with the embeddings a run saves
    (core.adapters.saves_embeddings)."""
    from peft import get_peft_model_state_dict

    from finetune_studio.core.adapters import saves_embeddings

    state = get_peft_model_state_dict(peft_model, save_embedding_layers=saves_embeddings(token_ids))
    return safetensors_size({k: (st_dtype(v), list(v.shape)) for k, v in state.items()}, {"format": "pt"})


def _full_figures(layout: ModuleLayout, total: int) -> AdapterFigures:
    per = {"float32": 4, "float16": 2, "bfloat16": 2}.get(layout.dtype, 4)
    return AdapterFigures(trainable=total, total=total, percent=100.0, size_bytes=total * per)


def _adapter_key(adapter: AdapterConfig) -> tuple:
    values = dataclasses.asdict(adapter)
    values.pop("compute_dtype", None)  # 4-bit compute dtype changes neither the count nor the saved adapter
    if values["method"] == "qlora":
        values["method"] = "lora"  # the same adapter on quantized weights; peft counts a 4-bit weight as 2 params
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(values.items()))


@dataclass(frozen=True)
class AddedTokens:
    """What a chat run's template adds to the tokenizer: the tokenizer's length after it (the size training grows
    the embeddings to), the added tokens and their ids (the rows that train in full)."""

    vocab_size: int
    tokens: tuple[str, ...]
    ids: tuple[int, ...]


def _run_tokenizer(model: ModelConfig) -> Any:
    """The model's tokenizer from disk: a local folder or builtin:demo as training loads it, a Hub id from the
    local cache only (the figures never download); None when a Hub id's tokenizer is not cached."""
    from finetune_studio.core.sources import is_local

    name = _one_name(model)
    if is_local(name):
        from finetune_studio.core.model import load_tokenizer

        return load_tokenizer(model)
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=True,
                                             revision=model.revision, trust_remote_code=model.trust_remote_code)
    except (OSError, ValueError):
        return None


@functools.lru_cache(maxsize=16)
def _cached_added_tokens(model_key: tuple, template: str) -> AddedTokens | None:
    from finetune_studio.core.chat import ChatDataError, added_token_ids, template_plan

    name, revision, trust, dtype = model_key
    try:
        tokenizer = _run_tokenizer(ModelConfig(name_or_path=name, revision=revision, trust_remote_code=trust,
                                               dtype=dtype))
    except FinetuneError:
        return None  # a folder without a tokenizer: the run itself says so, the figures count what they can
    if tokenizer is None:
        return None
    try:
        plan = template_plan(tokenizer, ChatConfig(template=template))  # adds the tokens, as the run's plan does
    except ChatDataError:
        return AddedTokens(len(tokenizer), (), ())  # an unknown template: the Dataset tab and the run say so
    return AddedTokens(len(tokenizer), tuple(plan.added_tokens), tuple(added_token_ids(tokenizer, plan)))


def added_tokens(model: ModelConfig, chat: ChatConfig) -> AddedTokens | None:
    """The control tokens a chat run with these settings adds to the model's tokenizer (core.chat's template_plan,
    on a fresh copy of the tokenizer read from disk), their ids and the tokenizer's length after; None when the
    tokenizer is not on this computer (a Hub id not cached). Cached per (model, chat template)."""
    template = chat.template if isinstance(chat.template, str) else "auto"  # template_plan's own key
    return _cached_added_tokens(_cache_key(model), template)


@functools.lru_cache(maxsize=64)
def _cached_figures(model_key: tuple, adapter_key: tuple, vocab_size: int = 0,
                    token_ids: tuple[int, ...] = ()) -> AdapterFigures:
    import warnings

    from peft import get_peft_model

    layout, config = _cached_layout(model_key)
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in adapter_key}
    adapter = AdapterConfig(**values)
    if adapter.method == "full" and not vocab_size:
        return _full_figures(layout, layout.total_params)
    meta = build_meta_model(config, layout.dtype, model_key[2])
    if vocab_size > meta.get_input_embeddings().weight.shape[0]:  # as core.chat.prepare_model grows the model
        meta.resize_token_embeddings(vocab_size, mean_resizing=False)
    if adapter.method == "full":
        return _full_figures(layout, sum(p.numel() for p in meta.parameters()))
    from finetune_studio.core.adapters import lora_config, new_token_rows
    from finetune_studio.core.config import RunConfig

    run = RunConfig(model=ModelConfig(name_or_path=model_key[0], revision=model_key[1]), adapter=adapter)
    lora = lora_config(run, new_token_rows(meta, run, token_ids))  # what core.adapters.wrap_model builds
    import torch

    # On the meta device peft creates (and initializes) the adapter's layers without data. Created on the CPU, their
    # random initialization would draw from torch's global generator, which a run training in this process (the
    # window's) shares: its dropout would then differ from an untouched run's.
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")  # peft's notes about the meta model and tied weights are not the user's
        try:
            wrapped = get_peft_model(meta, lora)
        except ValueError as exc:
            message = _first_line(exc)
            if "target" in message.lower():
                raise ModelError(f"{message} To fix: pick target modules the model has: "
                                 f"{', '.join(layout.module_names)}.") from None
            raise ModelError(f"peft cannot put this adapter on the model: {message}") from None
        size = _adapter_file_size(wrapped, token_ids)
    trainable, total = wrapped.get_nb_trainable_parameters()
    percent = 100.0 * trainable / total if total else 0.0
    return AdapterFigures(trainable=int(trainable), total=int(total), percent=percent, size_bytes=size)


def adapter_figures(model: ModelConfig, adapter: AdapterConfig, chat: ChatConfig | None = None) -> AdapterFigures:
    """Trainable parameters (count and % of the model) and the adapter's size on disk, from peft's own
    get_peft_model applied to the model built on the meta device: what training will report, exactly. `chat`: the
    run's chat settings when it renders its rows with a chat template (core.chat.template_chat; None for plain
    text): the template's added tokens grow the embeddings and their rows train in full beside the adapter, as in
    the run. Raises ModelError for a model whose config cannot be read or targets it does not have. Cached per
    settings."""
    key = _cache_key(model)
    with _lock:
        _cached_layout(key)
    added = added_tokens(model, chat) if chat is not None else None
    if added is None:
        figures = _cached_figures(key, _adapter_key(adapter))
        return dataclasses.replace(figures, tokens_unknown=True) if chat is not None else figures
    figures = _cached_figures(key, _adapter_key(adapter), added.vocab_size, added.ids)
    return dataclasses.replace(figures, added_tokens=added.tokens)


# ---- target selection (the Model tab's check boxes <-> adapter.target_modules) ---------------------------------


def selected_names(layout: ModuleLayout, targets: list[str]) -> tuple[list[str], list[str]]:
    """Which of the layout's short names a target_modules list picks, and the targets the model does not have.
    ["all-linear"] picks layout.all_linear; a name picks itself (peft matches a short name at the end of a path)."""
    picked: list[str] = []
    unknown: list[str] = []
    for target in targets:
        names = layout.all_linear if target == ALL_LINEAR else [target] if target in layout.module_names else []
        if not names:
            unknown.append(target)
        picked.extend(n for n in names if n not in picked)
    return [n for n in layout.module_names if n in picked], unknown


def targets_for(layout: ModuleLayout, names: list[str]) -> list[str]:
    """The target_modules a set of ticked names is stored as: ["all-linear"] when it is exactly peft's all-linear
    (the default, which also reads right for another model), else the names in model order."""
    chosen = [n for n in layout.module_names if n in names]
    if chosen and chosen == layout.all_linear:
        return [ALL_LINEAR]
    return chosen
