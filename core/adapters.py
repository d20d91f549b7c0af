"""Adapters (LoRA, QLoRA, DoRA) through PEFT: the rules for the config's `adapter:` section, the peft config built
from it, the model wrapped in it, and how a run's method is recorded.

Full fine-tuning (method 'full', the default) never reaches this module's training code: a default run stays the
seed recipe exactly. For the adapter methods the library does the work: `peft.LoraConfig` + `get_peft_model` (with
`prepare_model_for_kbit_training` and a `BitsAndBytesConfig` for 4-bit), and the Trainer saves, checkpoints and
resumes a PeftModel itself (adapter weights only, never a copy of the base model).

Nothing here imports torch, transformers or peft at import time: the GUI's forms call the rules on every edit.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from finetune_studio.core.config import ADAPTER_METHODS, DEMO_MODEL_ID, AdapterConfig, ModelConfig, RunConfig
from finetune_studio.core.errors import WARNING, Problem

ADAPTER_CONFIG_FILE = "adapter_config.json"
ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors"
ALL_LINEAR = "all-linear"  # peft's own name for "every linear layer but the output head"

METHOD_NAMES = {"full": "Full fine-tuning", "lora": "LoRA", "qlora": "QLoRA", "dora": "DoRA"}
# One line on what each method costs, for the form and the CLI.
METHOD_COSTS = {
    "full": "Trains every weight: the most memory (weights, gradients and optimizer state for all of them).",
    "lora": "Trains small low-rank adapters beside frozen weights: a fraction of the memory, a file of a few MB.",
    "qlora": "LoRA on weights stored in 4 bits: the least memory; needs a CUDA GPU and bitsandbytes.",
    "dora": "LoRA that also learns each weight's magnitude: a little more memory and time than LoRA.",
}

# Settings whose usual value depends on the method. Adapters train few weights from a zero update, so they need a
# learning rate about ten times full fine-tuning's (PEFT's and TRL's examples use 1e-4 to 2e-4).
METHOD_DEFAULTS: dict[str, dict[str, Any]] = {
    "full": {"learning_rate": 2e-5},  # the seed's (core.config.SEED_TRAINING)
    "lora": {"learning_rate": 2e-4},
    "qlora": {"learning_rate": 2e-4},
    "dora": {"learning_rate": 2e-4},
}


def is_adapter_method(method: Any) -> bool:
    return isinstance(method, str) and method in ADAPTER_METHODS and method != "full"


def method_defaults(method: str) -> dict[str, Any]:
    """The training settings a method brings when the user has not set them ({} for an unknown method)."""
    return dict(METHOD_DEFAULTS.get(method, {}))


def follow_method(previous_method: str, config: RunConfig, explicit: Iterable[str] = ()) -> list[str]:
    """The method-aware defaults rule, in one place for the form, YAML and `--set`.

    When the method changed from `previous_method` to `config.adapter.method`, every setting in METHOD_DEFAULTS
    that still holds the previous method's default, and is not in `explicit` (training keys the user set
    himself), gets the new method's default. Changes `config.training` in place and returns one notice per
    setting changed, for the form to show beside the field (or the CLI to print). A value the user chose is
    never touched."""
    method = config.adapter.method
    if not isinstance(method, str) or method == previous_method or method not in METHOD_DEFAULTS:
        return []  # an invalid method is validate()'s to report
    old, new = method_defaults(previous_method), method_defaults(method)
    notices = []
    explicit = set(explicit)
    for key, value in new.items():
        if key in explicit:
            continue
        current = config.training.get(key, old.get(key))
        if key in old and current == old[key] and current != value:
            config.training[key] = value
            before = METHOD_NAMES.get(previous_method, previous_method).replace("Full", "full")
            notices.append(f"training.{key} is {value:g}, the usual for {METHOD_NAMES[method].replace('Full', 'full')} "
                           f"({before} uses {old[key]:g}); set it to choose another.")
    return notices


def alpha_scale(adapter: AdapterConfig) -> float | None:
    """The factor an adapter's update is multiplied by: alpha / r, or alpha / sqrt(r) with rslora (peft's rule)."""
    try:
        r, alpha = float(adapter.r), float(adapter.alpha)
    except (TypeError, ValueError):
        return None
    if r <= 0:
        return None
    return alpha / math.sqrt(r) if adapter.rslora else alpha / r


# ---- which model an adapter belongs to --------------------------------------------------------------------------


def base_reference(model: ModelConfig) -> str:
    """What an adapter's adapter_config.json names as its base model (base_model_name_or_path): the Hub id as the
    user chose it, a local folder as an absolute path, and the built-in demo as the folder it is built in (the
    demo exists on no Hub; that folder loads on this machine, and core.export's merged model loads anywhere)."""
    name = model.name_or_path
    if name == DEMO_MODEL_ID:
        from finetune_studio.core.demo import demo_model_path

        return str(demo_model_path(build=False))
    from finetune_studio.core.sources import is_local

    return os.path.abspath(os.path.expanduser(name)) if is_local(name) else name


def read_adapter_config(folder: Path) -> dict[str, Any] | None:
    """A folder's adapter_config.json as a dict, or None when it has none (or an unreadable one)."""
    try:
        data = json.loads((Path(folder) / ADAPTER_CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_adapter_folder(folder: Path) -> bool:
    """An adapter run's model folder (and any PEFT adapter folder) holds adapter_config.json: the one mark the
    Try tab, the Hub push and the Runs tab recognise an adapter by."""
    return read_adapter_config(Path(folder)) is not None


def _named_base(base: str) -> str:
    """The base model an adapter names, as the user picks it: the built-in demo's folder (what base_reference
    records for it, a cache path such as ~/.cache/finetune-studio/demo-model-v1) is builtin:demo; any other as
    written."""
    from finetune_studio.core.demo import demo_model_path

    try:
        if os.path.isdir(base) and os.path.samefile(base, demo_model_path(build=False)):
            return DEMO_MODEL_ID
    except OSError:
        pass
    return base


def adapter_folder_problem(path: str) -> str | None:
    """A folder that holds an adapter, picked where a base model is asked for: say which base it belongs to."""
    data = read_adapter_config(Path(path))
    if data is None:
        return None
    base = data.get("base_model_name_or_path")
    kind = str(data.get("peft_type") or "PEFT").upper()
    if isinstance(base, str) and base:
        base = _named_base(base)
        shown = f"{base} (the built-in demo model)" if base == DEMO_MODEL_ID else base
        return (f"{path} holds a {kind} adapter, not a whole model. It was trained on {shown}. To fix: pick {base} "
                "as the model (and start a new adapter run on it), or export this run's merged model and pick "
                "that folder.")
    return (f"{path} holds a {kind} adapter, not a whole model, and does not say which base model it belongs to. "
            "To fix: pick the base model it was trained on.")


def base_model_of_adapter(path: str) -> str | None:
    """The base model an adapter folder names, for a form that offers to use it instead."""
    data = read_adapter_config(Path(path)) or {}
    base = data.get("base_model_name_or_path")
    return _named_base(base) if isinstance(base, str) and base else None


# ---- the run's method, for the Runs tab ---------------------------------------------------------------------------


def method_of_run(run_dir: Path) -> str:
    """How a run trained: 'full', 'lora', 'qlora' or 'dora'.

    Training records it as `method` in the run's status.json (written when the run starts, next to its model and
    dataset; read it with RunFolder.read_status()). Runs from before that field existed fall back to config.yaml's
    `adapter.method`, then to the adapter the run saved (its adapter_config.json: LoRA, or DoRA when use_dora;
    core.runs.saved_adapter_method, which the Runs tab's Method column, core.runs.summarize, reads too), then to
    'full' (every run before adapters was full fine-tuning). Cheap: reads a few small files, imports nothing heavy."""
    from finetune_studio.core.runs import RunFolder, saved_adapter_method

    folder = RunFolder(Path(run_dir))
    method = folder.read_status().get("method")
    if isinstance(method, str) and method in ADAPTER_METHODS:
        return method
    try:
        from finetune_studio.core.config import yaml_load

        data = yaml_load(folder.config_path.read_text(encoding="utf-8"))
        method = ((data or {}).get("adapter") or {}).get("method")
    except Exception:  # noqa: BLE001 - a broken config.yaml is the Runs tab's to report, not this column's
        method = None
    if isinstance(method, str) and method in ADAPTER_METHODS:
        return method
    return saved_adapter_method(run_dir) or "full"


# ---- validation (before any model loads) ----------------------------------------------------------------------


def qlora_problem() -> str | None:
    """Why 4-bit QLoRA cannot run on this machine, or None when it can: bitsandbytes must be installed, and there
    must be a device it runs 4-bit on (a CUDA GPU; its CPU backend from bitsandbytes 0.48 on)."""
    alternative = " To fix: choose LoRA (adapter.method: lora), which trains the same adapters on unquantized weights."
    if importlib.util.find_spec("bitsandbytes") is None:
        return ("QLoRA needs the bitsandbytes package for its 4-bit weights, and it is not installed."
                + alternative + " Or install it (pip install 'finetune-studio[qlora]') on a machine with a CUDA GPU.")
    from finetune_studio.core.hardware import detect

    if detect().device == "cuda":
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("bitsandbytes")
    except PackageNotFoundError:
        installed = "0"
    if _version_tuple(installed) >= (0, 48):
        return None  # its CPU backend quantizes and computes 4-bit (slowly)
    return (f"QLoRA's 4-bit weights need a CUDA GPU with the installed bitsandbytes {installed}, and this machine "
            "has none." + alternative + " Or upgrade bitsandbytes to 0.48 or newer (pip install -U "
            "'bitsandbytes>=0.48'), whose CPU backend runs 4-bit here, slowly.")


def _model_config_json(model: ModelConfig) -> dict[str, Any] | None:
    """The chosen model's config.json as a dict, read from its folder or the local Hub cache (never downloaded);
    None for the built-in demo (built here, unquantized) or when it cannot be read."""
    name = model.name_or_path
    if not isinstance(name, str) or not name.strip() or name == DEMO_MODEL_ID:
        return None
    from finetune_studio.core.model import cached_hub_file
    from finetune_studio.core.sources import is_local

    revision = model.revision if isinstance(model.revision, str) and model.revision else None
    path = Path(os.path.expanduser(name)) / "config.json" if is_local(name) \
        else cached_hub_file(name, "config.json", revision)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _quantization_name(quant: dict[str, Any]) -> str:
    """'bitsandbytes 4-bit', 'gptq 4-bit': how a model's quantization_config says it is stored."""
    method = str(quant.get("quant_method") or "an unknown method")
    if method == "bitsandbytes":
        bits = "4-bit" if quant.get("load_in_4bit") else "8-bit" if quant.get("load_in_8bit") else ""
    else:
        bits = f"{quant['bits']}-bit" if isinstance(quant.get("bits"), int) else ""
    return f"{method} {bits}".strip()


def _quantizer_problem(quant: dict[str, Any]) -> str | None:
    """What loading weights quantized this way needs and this machine lacks (transformers' quantizer says it: a
    package to install, a GPU), in its own words; None when it can load here."""
    try:
        from transformers.quantizers.auto import AutoHfQuantizer

        AutoHfQuantizer.from_config(quant).validate_environment(device_map=None, dtype=None)
    except (ImportError, ValueError, RuntimeError, TypeError) as exc:
        lines = str(exc).strip().splitlines()
        return lines[0].rstrip(".") if lines else type(exc).__name__
    return None


def prequantized_problem(config: RunConfig) -> tuple[str, str] | None:
    """A model whose weights are stored quantized already (config.json's quantization_config: a GPTQ, AWQ or
    bitsandbytes checkpoint), as (field, message), or None. Such a model loaded with a raw ImportError after the
    dataset was tokenized when the package of its quantization was missing, and full fine-tuning of it fails in the
    Trainer ('cannot perform fine-tuning on purely quantized models'); QLoRA cannot quantize it a second time."""
    data = _model_config_json(config.model)
    quant = data.get("quantization_config") if data else None
    if not isinstance(quant, dict) or not quant:
        return None
    kind = _quantization_name(quant)
    shown = (f"{config.model.name_or_path} is a model quantized already ({kind}, as config.json's "
             "quantization_config says)")
    method = config.adapter.method
    if method == "full":
        return ("adapter.method", f"{shown}: its weights are stored quantized, and full fine-tuning cannot train "
                                  "quantized weights. To fix: choose LoRA (method lora), which trains adapters on "
                                  "top of them, or pick the model's unquantized version to train it in full.")
    if method == "qlora" and quant.get("quant_method") != "bitsandbytes":
        return ("adapter.method", f"{shown}: QLoRA quantizes an unquantized model to 4 bits as it loads, and cannot "
                                  f"quantize this one again. To fix: choose LoRA (method lora), which trains "
                                  "adapters on top of its quantized weights, or pick the model's unquantized "
                                  "version for QLoRA.")
    missing = _quantizer_problem(quant)
    if missing:
        return ("model.name_or_path", f"{shown}, and loading it needs what this machine lacks: {missing}. To fix: "
                                      "install what that names (and use a GPU if it asks for one), or pick the "
                                      "model's unquantized version.")
    return None


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


ModuleNames = Callable[[ModelConfig], "list[str] | None"]


def _module_names(model: ModelConfig) -> list[str] | None:
    """Short names of the modules of the chosen model that can take an adapter, read from its config on the meta
    device (core.adapter_layout); None when they cannot be known without loading (no config reachable)."""
    try:
        from finetune_studio.core.adapter_layout import module_layout
    except ImportError:  # the layout module is not there yet
        return None
    try:
        return list(module_layout(model).module_names)
    except Exception:  # noqa: BLE001 - an unreadable model is model.name_or_path's problem, reported there
        return None


def rank_problem(model: ModelConfig, targets: list[str], r: int) -> str | None:
    """An adapter rank at or above the width of every layer it adapts, named with the widest of them; None when r
    is below it somewhere, or the layers cannot be known without loading (core.adapter_layout).

    A LoRA update of a layer with `fan_in` inputs and `fan_out` outputs is B·A, (fan_out × r)·(r × fan_in): it
    trains r·(fan_in + fan_out) weights, which at r = min(fan_in, fan_out) is already more than the layer's own
    fan_in·fan_out, and its rank can never exceed that smaller side, so a larger r adds weights and changes the
    alpha / r scale but nothing the update can express. r 4096 on the 64-wide demo was accepted (helper-56). Below
    that width, from the adapted layers' break-even on, rank_warning says so without refusing."""
    try:
        from finetune_studio.core.adapter_layout import adapted_widths

        widths = adapted_widths(model, [t for t in targets if isinstance(t, str)])
    except Exception:  # noqa: BLE001 - an unreadable model is model.name_or_path's problem, reported there
        return None
    if not widths:
        return None
    name, (fan_in, fan_out) = max(widths.items(), key=lambda item: min(item[1]))
    width = min(fan_in, fan_out)
    if r < width:
        return None
    above = "above" if r > width else "equal to"
    return (f"r {r:,} is {above} the width of the widest layer the adapter goes on, {name} ({fan_in:,} inputs, "
            f"{fan_out:,} outputs): a LoRA update's rank cannot exceed the smaller of the two ({width:,}), and at r "
            f"{width:,} or more every adapted layer trains at least as many weights as training it in full would, "
            f"with nothing gained. To fix: choose r well below {width:,} (8 to 64 is usual on models thousands wide, "
            "a few on one this narrow), or full fine-tuning (method full).")


def rank_warning(model: ModelConfig, targets: list[str], r: int, build: bool = True) -> str | None:
    """An adapter rank below rank_problem's refusal at which the adapter still saves no weights, in words; None
    when it saves some, when rank_problem refuses r, or when the layers cannot be known (core.adapter_layout;
    `build` False: unless read already, see adapted_layers).

    A LoRA update of a layer with `fan_in` inputs and `fan_out` outputs trains r·(fan_in + fan_out) weights, as
    many as training the layer in full (fan_in·fan_out) from r = fan_in·fan_out / (fan_in + fan_out), its
    break-even, which is below the layer's width (the smaller side, where rank_problem refuses r). The rule is for
    the adapted layers as a whole, each counted as often as the model has it: the adapter's weights against theirs,
    so r is said from ceil(Σ fan_in·fan_out / Σ (fan_in + fan_out)) on, a weighted mean of the layers' break-evens.
    Per layer it would be said where only a narrow layer (k_proj beside a wide MLP) is past its own break-even,
    which the adapter as a whole is not; the layers past theirs are named. DoRA's magnitude vector (fan_out more
    per layer) and modules_to_save are left out of the count. A warning, not a refusal: the run trains as asked."""
    try:
        from finetune_studio.core.adapter_layout import adapted_layers

        layers = adapted_layers(model, [t for t in targets if isinstance(t, str)], build=build)
    except Exception:  # noqa: BLE001 - an unreadable model is model.name_or_path's problem, reported there
        return None
    if not layers or r >= max(min(fan_in, fan_out) for _, fan_in, fan_out in layers):
        return None  # nothing adapted, or rank_problem's refusal
    own = sum(fan_in * fan_out for _, fan_in, fan_out in layers)
    per_rank = sum(fan_in + fan_out for _, fan_in, fan_out in layers)
    stop = -(-own // per_rank)  # the least r at which r·per_rank >= own
    if r < stop:
        return None
    shapes: dict[tuple[str, int, int], int] = {}  # each (name, inputs, outputs): the r from which it saves nothing
    for path, fan_in, fan_out in layers:
        shapes.setdefault((path.rsplit(".", 1)[-1], fan_in, fan_out), -(-(fan_in * fan_out) // (fan_in + fan_out)))
    if len(shapes) == 1:
        [(name, fan_in, fan_out)] = shapes
        which, past = f"{name} ({fan_in:,} inputs, {fan_out:,} outputs)", ""
    else:
        which = "those layers"
        past = " Each past its own break-even: " + ", ".join(
            f"{name} ({fan_in:,} inputs, {fan_out:,} outputs: from r {at:,})"
            for (name, fan_in, fan_out), at in sorted(shapes.items(), key=lambda item: item[1]) if r >= at) + "."
    trained = r * per_rank
    than = "more weights than" if trained > own else "as many weights as"
    usual = "8 to 64 is usual on models thousands wide" + (", a few on one this narrow" if stop < 512 else "")
    fix = f"lower r to at most {stop - 1:,} ({usual}), or train the full model (method full)" if stop > 1 else \
        "train the full model (method full): no rank saves weights on layers this narrow"
    return (f"r {r:,} makes the adapter train {than} the layers it adapts have ({trained:,} against {own:,}): a "
            "LoRA update of a layer with fan_in inputs and fan_out outputs trains r × (fan_in + fan_out) weights, "
            f"so from r {stop:,} on this adapter saves no weights over training {which} in full.{past} To fix: "
            f"{fix}.")


def warnings_for(config: RunConfig, build: bool = False) -> list[Problem]:
    """What the `adapter:` section asks that runs but is probably not meant (level WARNING, never blocking): a rank
    at which the adapter saves no weights (rank_warning). Cheap unless `build`: the model's layers as validation
    (problems(), through rank_problem) read them already, else nothing is said; core.validation.warnings_for."""
    adapter = config.adapter
    if adapter.method not in ADAPTER_METHODS or adapter.method == "full":
        return []
    if any(p.field in ("adapter.r", "adapter.target_modules") for p in problems(config, check_files=False)):
        return []  # not a usable rank or list of targets: problems() says so
    message = rank_warning(config.model, adapter.target_modules, adapter.r, build=build)
    return [Problem("adapter.r", message, WARNING)] if message else []


def problems(config: RunConfig, check_files: bool = True, module_names: ModuleNames | None = None) -> list[Problem]:
    """Every problem with the `adapter:` section, in words, before any model loads. `check_files`: also the
    checks that read the model's config (target modules) and the machine (QLoRA)."""
    from finetune_studio.core.validation import _comma_fix as comma_fix
    from finetune_studio.core.validation import _unquote_fix as unquote_fix
    from finetune_studio.core.validation import bool_problem, choice_message, written_value

    found: list[Problem] = []
    add = lambda field, message: found.append(Problem(f"adapter.{field}", message))  # noqa: E731
    adapter = config.adapter
    read: list[list[str] | None] = []

    def model_names() -> list[str] | None:  # the model's adaptable modules, read once and only when asked
        if not read:
            read.append((module_names or _module_names)(config.model) if check_files else None)
        return read[0]
    method = adapter.method
    if method not in ADAPTER_METHODS:
        hint = _method_hint(method) or " To fix: write lora for an adapter, or full to train every weight."
        add("method", f"method must be one of {', '.join(ADAPTER_METHODS)} (got {written_value(method)}).{hint}")
        return found
    quantized = prequantized_problem(config) if check_files else None
    if quantized:
        found.append(Problem(*quantized))
    if method == "full":
        return found  # the other fields are not used: a half-edited adapter form never blocks full fine-tuning
    r = adapter.r
    if isinstance(r, bool) or not isinstance(r, int) or r <= 0:
        # As written: '16' in quotes, 1,024 with a comma, 16.0 with a decimal point (the numbers a user sees as fine)
        fix = comma_fix(r, integer=True) or unquote_fix(r, lambda n: isinstance(n, int) and n > 0)
        if not fix and isinstance(r, float) and math.isfinite(r) and r.is_integer() and r > 0:
            fix = f" To fix: write {int(r)}, without the decimal point."
        add("r", f"r (the adapter rank) must be a whole number above 0 (got {written_value(r)}); 8 to 64 is usual."
                 f"{fix or ' To fix: set r to a whole number such as 16.'}")
    alpha = _number(adapter.alpha)
    if alpha is None or alpha <= 0:
        twice = 2 * r if isinstance(r, int) and not isinstance(r, bool) and r > 0 else 32
        fix = comma_fix(adapter.alpha) or unquote_fix(adapter.alpha, lambda n: n > 0)
        add("alpha", f"alpha must be a number above 0 (got {written_value(adapter.alpha)}); twice r is usual."
                     f"{fix or f' To fix: set alpha to {twice}.'}")
    dropout = _number(adapter.dropout)
    if dropout is None or not 0 <= dropout < 1:
        fix = comma_fix(adapter.dropout) or unquote_fix(adapter.dropout, lambda n: 0 <= n < 1)
        add("dropout", f"dropout must be from 0 up to (not including) 1 (got {written_value(adapter.dropout)}); "
                       f"0.05 is usual.{fix or ' To fix: set dropout to 0.05, or 0 for none.'}")
    targets = adapter.target_modules
    if not isinstance(targets, list) or not all(isinstance(t, str) and t.strip() for t in targets):
        add("target_modules", "target_modules must be a list of module names, e.g. [q_proj, v_proj], or "
                              f"[all-linear] (got {written_value(targets)})."
                              f"{_list_fix(targets, '[q_proj, v_proj]', model_names)}")
        targets = None
    elif not targets:
        add("target_modules", "target_modules is empty: an adapter needs at least one module to go on. To fix: "
                              "list the modules, e.g. [q_proj, v_proj], or write [all-linear].")
        targets = None
    elif _spaced_problem("target_modules", targets):
        add("target_modules", _spaced_problem("target_modules", targets))
        targets = None
    elif ALL_LINEAR in targets and len(targets) > 1:
        add("target_modules", f"all-linear already covers every linear layer (got {written_value(targets)}). To fix: "
                              "use all-linear alone, or list the modules without it.")
        targets = None
    saved = adapter.modules_to_save
    if not isinstance(saved, list) or not all(isinstance(t, str) and t.strip() for t in saved):
        add("modules_to_save", "modules_to_save must be a list of module names, e.g. [lm_head], or empty "
                               f"(got {written_value(saved)}).{_list_fix(saved, '[lm_head], or []', model_names)}")
        saved = None
    elif _spaced_problem("modules_to_save", saved):
        add("modules_to_save", _spaced_problem("modules_to_save", saved))
        saved = None
    problem = both_lists_problem(targets or [], saved or [])
    if problem:
        add("modules_to_save", problem)
    if not isinstance(adapter.rslora, bool):
        found.append(bool_problem("adapter.rslora", adapter.rslora))
    if adapter.compute_dtype not in ("auto", "bf16", "fp16"):
        add("compute_dtype", choice_message("compute_dtype", adapter.compute_dtype, ("auto", "bf16", "fp16"),
                                            "a compute precision", name="a precision name"))
    if method == "qlora" and check_files and not quantized:  # its own quantization's needs are said above
        problem = qlora_problem()
        if problem:
            add("method", problem)
    if check_files and targets and isinstance(r, int) and not isinstance(r, bool) and r > 0:
        problem = rank_problem(config.model, targets, r)
        if problem:
            add("r", problem)
    if check_files and (targets or saved):
        names = model_names()
        if names:
            known = set(names)
            for key, wanted in (("target_modules", [t for t in targets or [] if t != ALL_LINEAR]),
                                ("modules_to_save", saved or [])):
                missing = [t for t in wanted if t not in known]
                patterns = [t for t in missing if _is_pattern(t)]
                if patterns:
                    one = len(patterns) == 1
                    add(key, f"{key} takes module names written out, not patterns: {', '.join(patterns)} "
                             f"{'is a regular expression' if one else 'are regular expressions'}, and no module "
                             f"has {'that name' if one else 'those names'}.{_pattern_fix(key, wanted, names)}")
                    missing = [t for t in missing if t not in patterns]
                joined = [t for t in missing if len(t.split()) > 1 and all(n in known for n in t.split())]
                for name in joined:  # 'lm_head embed_tokens' typed in the form's field: names apart by a space
                    parts = name.split()
                    add(key, f"{key} has '{name}': {len(parts)} module names with spaces between them, read as one "
                             f"name, which no module has. To fix: separate them with commas: {', '.join(parts)} (in "
                             f"a config file, as list items: [{', '.join(parts)}]).")
                missing = [t for t in missing if t not in joined]
                if missing:
                    shown = ", ".join(missing)
                    other = " (or all-linear)" if key == "target_modules" else ""
                    add(key, f"The model has no module named {shown}. Its modules that can take an adapter: "
                             f"{', '.join(names)}. To fix: use names from that list{other} in {key}.")
    return found


def _method_hint(method: Any) -> str:
    """' To fix: write lora.' for a method written in other case or with spaces ('LoRA', ' dora'), or a near miss
    ('lroa'); '' otherwise. The form's names (LoRA, QLoRA, DoRA) are not the YAML's."""
    from finetune_studio.core.config import nearest

    if not isinstance(method, str):
        return ""
    meant = method.strip().lower()
    meant = meant if meant in ADAPTER_METHODS else nearest(meant, ADAPTER_METHODS)
    return f" To fix: write {meant} (method names are lower case)." if meant else ""


def _spaced_problem(key: str, names: list[str]) -> str | None:
    """A module name with spaces around it (`[" q_proj"]`, "all-linear "): peft matches names as written, so it
    adapts nothing by that name, and the unknown-name message showed ' q_proj' beside the q_proj the model has."""
    spaced = [name for name in names if name != name.strip()]
    if not spaced:
        return None
    shown = ", ".join(repr(name) for name in spaced)
    fixed = ", ".join(name.strip() for name in spaced)
    return (f"{key} has {shown} with spaces around {'it' if len(spaced) == 1 else 'them'}; module names have none. "
            f"To fix: write {fixed}.")


def both_lists_problem(targets: list[str], saved: list[str]) -> str | None:
    """A module named in target_modules and in modules_to_save: peft trains it in full and puts no adapter on it, so
    an adapter the user asked for was silently dropped, and with no other target peft found nothing to adapt and the
    run failed after its folder was made (NoMatchingPeftModuleError). all-linear names no module itself: a module
    saved beside it is left out of it, as lm_head is."""
    both = [name for name in dict.fromkeys(targets) if name in saved]
    if not both:
        return None
    shown = ", ".join(both)
    return (f"{shown} {'is' if len(both) == 1 else 'are'} in both target_modules and modules_to_save: a module "
            "either gets an adapter (target_modules) or trains in full and is saved with it (modules_to_save), not "
            f"both. To fix: remove {shown} from one of the two lists.")


def _list_fix(value: Any, example: str, names: Callable[[], list[str] | None] = lambda: None) -> str:
    """' To fix: …' for a list of module names written otherwise: as text, the list to write (_written_as_text);
    text that is a pattern (peft's regular expression), the names it matches among the model's (`names`, asked only
    then); else a list such as `example`."""
    if isinstance(value, str) and _is_pattern(value.strip()):
        return " It is text, and a pattern (a regular expression); module names are written out here." \
            + _pattern_fix("", [value.strip()], names())
    return _written_as_text(value) or f" To fix: write a list of names, such as {example}."


PATTERN_CHARACTERS = set("*+?[]()|^$\\{}")


def _is_pattern(name: str) -> bool:
    """A module name written as a regular expression ('.*_proj', 'q_proj|v_proj'): peft reads a target_modules
    given as one text that way, matched against each module's full path, but names in a list only as names, and
    no module's name holds these characters."""
    return any(c in PATTERN_CHARACTERS for c in name)


def _pattern_fix(key: str, wanted: list[str], names: list[str] | None) -> str:
    """' To fix: write [q_proj, k_proj].' with the model's modules that `wanted`'s patterns match (whole names, as
    re.fullmatch reads them; its plain names kept), or what to write when none match or the names are unknown."""
    import re

    where = f" in {key}" if key else ""
    if not names:
        return f" To fix: write the module names as a list{where}, e.g. [q_proj, v_proj]."
    chosen: list[str] = []
    for name in wanted:
        if not _is_pattern(name):
            chosen.append(name)
            continue
        try:
            chosen.extend(n for n in names if re.fullmatch(name, n))
        except re.error:
            pass
    chosen = list(dict.fromkeys(chosen))
    if not any(n in names for n in chosen):
        return (f" It matches none of the model's modules that can take an adapter: {', '.join(names)}. To fix: "
                f"write names from that list{where}.")
    return f" To fix: write the names it matches as a list{where}: [{', '.join(chosen)}]."


def _written_as_text(value: Any) -> str:
    """For a list of module names given as text (`target_modules: q_proj` in YAML, or `q_proj, v_proj`): what was
    given and the list to write, so the refusal says why a name the model has is refused. Not read as a one-item
    list here: the other readers of the field (the model card, the layout, peft) take a list, and peft would read
    text as a regular expression over the full module path ('model.layers.0.self_attn.q_proj'), which 'q_proj'
    does not match. "" for any other value."""
    names = [name.strip() for name in value.split(",") if name.strip()] if isinstance(value, str) else []
    if not names:
        return ""
    return f" It is text. To fix: write it as a list, even for one module: [{', '.join(names)}]."


def resume_problem(config: RunConfig, checkpoint: Path | None) -> str | None:
    """A run resumed on a base model other than the one its adapter checkpoint was trained on (config.yaml edited
    since): the adapter would load onto weights it was never trained with. None when they agree."""
    if checkpoint is None or not is_adapter_method(config.adapter.method):
        return None
    data = read_adapter_config(checkpoint)
    if data is None:
        return None
    trained_on = data.get("base_model_name_or_path")
    now = base_reference(config.model)
    if isinstance(trained_on, str) and trained_on and trained_on != now:
        return (f"This run's adapter was trained on {trained_on}, but its config.yaml now names {now} as the model. "
                f"An adapter only fits the base model it was trained on. To fix: set model.name_or_path back to "
                f"{trained_on} in {checkpoint.parent / 'config.yaml'}, or start a new run on the new model.")
    return None


# ---- building it (imports torch/peft) ---------------------------------------------------------------------------


def lora_config(config: RunConfig, token_rows: dict[str, list[int]] | None = None) -> Any:
    """The peft.LoraConfig of the config's adapter section (LoRA, QLoRA: LoRA on 4-bit, DoRA: use_dora).
    `token_rows`: embedding rows that train in full beside the adapters (peft's trainable_token_indices, from
    `new_token_rows`), {module name: token ids}."""
    from peft import LoraConfig

    adapter = config.adapter
    targets: Any = adapter.target_modules
    if targets == [ALL_LINEAR]:
        targets = ALL_LINEAR  # peft takes the preset as a string, not as a module name in a list
    return LoraConfig(
        task_type="CAUSAL_LM",
        r=adapter.r,
        lora_alpha=adapter.alpha,
        lora_dropout=adapter.dropout,
        target_modules=targets,
        use_rslora=adapter.rslora,
        use_dora=adapter.method == "dora",
        modules_to_save=list(adapter.modules_to_save) or None,
        base_model_name_or_path=base_reference(config.model),
        revision=config.model.revision,
        trainable_token_indices=token_rows or None,
    )


def _module_name(model: Any, module: Any) -> str | None:
    return next((name for name, child in model.named_modules() if child is module), None)


def _named_in(name: str, names: Iterable[str]) -> bool:
    """peft's rule for a module named in a list: the whole name, or its last parts after a dot."""
    return any(name == wanted or name.endswith("." + wanted) for wanted in names)


def new_token_rows(model: Any, config: RunConfig, token_ids: Iterable[int]) -> dict[str, list[int]]:
    """The embedding rows of tokens a run added to the tokenizer (a chat template's control tokens, e.g. ChatML's
    <|im_start|> and <|im_end|>), by module name, for peft's trainable_token_indices: the input embeddings' rows,
    and the output head's too when it is not tied to them (a tied head follows the input rows).

    Without them the new rows stay as resize_token_embeddings drew them, frozen under an adapter, and the model
    could never learn to emit <|im_end|> (so never to stop). A layer that trains whole already (modules_to_save)
    or carries a LoRA adapter of its own (named in target_modules) is left to that, and so is everything when the
    head is tied to the input embeddings and trained that way (peft cannot tie token rows to such a head; the head
    then learns to emit the new tokens); {} when no token was added."""
    ids = sorted({int(i) for i in token_ids})
    if not ids:
        return {}
    adapter = config.adapter
    already = list(adapter.modules_to_save or [])
    if isinstance(adapter.target_modules, list):
        already += [t for t in adapter.target_modules if t != ALL_LINEAR]
    embeddings, head = model.get_input_embeddings(), model.get_output_embeddings()
    tied = head is not None and head.weight is embeddings.weight
    if tied and _named_in(_module_name(model, head) or "", already):
        return {}
    layers = [embeddings] if tied or head is None else [embeddings, head]
    rows = {}
    for layer in layers:
        name = _module_name(model, layer)
        if name is not None and not _named_in(name, already):
            rows[name] = list(ids)
    return rows


def compute_dtype(adapter: AdapterConfig) -> Any:
    import torch

    if adapter.compute_dtype == "fp16":
        return torch.float16
    if adapter.compute_dtype == "bf16":
        return torch.bfloat16
    if torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def quantization_config(adapter: AdapterConfig) -> Any:
    """QLoRA's 4-bit weights: NF4 with double quantization, computing in bf16 (fp16 on GPUs without bf16)."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=compute_dtype(adapter))


def wrap_model(model: Any, config: RunConfig, seed: int, new_tokens: Iterable[int] = ()) -> Any:
    """The base model with the config's adapters (a PeftModel); only the adapters (and modules_to_save) train,
    and the embedding rows of `new_tokens` (ids the run added to the tokenizer: `new_token_rows`).

    The adapters' initial weights come from torch's random generator, so it is seeded first (`seed`, the run's
    training seed): a run, its resume and a plain get_peft_model script with the same seed start from the same
    adapter."""
    import warnings

    from peft import get_peft_model, prepare_model_for_kbit_training
    from transformers import set_seed

    if config.adapter.method == "qlora":
        checkpointing = bool(config.training.get("activation_checkpointing", False))
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing)
    set_seed(seed)
    with warnings.catch_warnings():
        # peft 0.21 reads the model's is_gradient_checkpointing, which transformers 5 deprecates: a warning about
        # the libraries' own code that the user can do nothing about, in every adapter run's log otherwise.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        _ignore_tied_note(warnings)
        new_tokens = list(new_tokens)
        wrapped = get_peft_model(model, lora_config(config, new_token_rows(model, config, new_tokens)))
    # The Trainer saves checkpoints and the final adapter through this object's save_pretrained.
    wrapped.save_pretrained = functools.partial(wrapped.save_pretrained,
                                                save_embedding_layers=saves_embeddings(new_tokens))
    return wrapped


def saves_embeddings(new_tokens: Iterable[int]) -> bool:
    """Whether a run's adapter files carry the model's whole embedding matrices (peft's save_embedding_layers):
    only when the run grew the vocabulary, so that a plain peft loader finds the added rows. peft's "auto" saved
    them whenever embed_tokens carried a LoRA (the base's own frozen matrix: 93k of the demo adapter's 100k
    parameters, ~311 MB per checkpoint for Qwen3-0.6B in bf16), with a raw UserWarning in the run's log, and
    otherwise asked the Hub for the base's config.json at every save."""
    return bool(list(new_tokens))


def _ignore_tied_note(warnings: Any) -> None:
    """peft warns, for an adapter on a layer the model ties to another (lm_head and embed_tokens), that merging it
    'can lead to complications': the adapter itself trains and answers right, and core.export's merge unties the
    pair first (untie_adapted_head), so the note would only alarm a run's log and the Try tab."""
    warnings.filterwarnings("ignore", message=".*tie_word_embeddings=True.*tied layer is part of the adapter.*")


def grow_embeddings(model: Any, size: int) -> None:
    """Grow a base model's embeddings to a run's tokenizer `size` (a chat run added tokens), so it takes those ids:
    the adapter's saved rows replace the new ones; a base answering alone has the rows the run itself started from,
    drawn as core.chat.prepare_model draws them (mean resizing from RESIZE_SEED). Unseeded, the base's greedy
    answers changed from one load to the next, and the Try tab's base and Compare's disagreed (helper-50). Drawn on
    a forked generator: loading a model for the Try tab or an export must not move a training run's random state."""
    if size <= model.get_input_embeddings().weight.shape[0]:
        return
    import logging

    import torch

    from finetune_studio.core.chat import RESIZE_SEED

    resizing = logging.getLogger("transformers.modeling_utils")  # its note on mean resizing is not the user's
    level = resizing.level
    resizing.setLevel(logging.ERROR)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RESIZE_SEED)
            model.resize_token_embeddings(size)
    finally:
        resizing.setLevel(level)


def load_adapter(base: Any, folder: Path, **kwargs: Any) -> Any:
    """A saved adapter (a run's model folder or checkpoint, an export) on its base model: a PeftModel.

    A chat run that added tokens to the tokenizer saved its embeddings at the grown size, so the base grows to the
    saved tokenizer's length first, as peft's AutoPeftModelForCausalLM does (the added rows then load from the
    adapter); otherwise peft refuses the sizes."""
    from peft import PeftModel

    folder = Path(folder)
    if any((folder / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json")):
        from transformers import AutoTokenizer

        grow_embeddings(base, len(AutoTokenizer.from_pretrained(str(folder))))  # the adapter's saved rows replace them
    import warnings

    with warnings.catch_warnings():  # as in wrap_model: the libraries' own deprecation, nothing a user can change
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        _ignore_tied_note(warnings)
        return PeftModel.from_pretrained(base, str(folder), **kwargs)


def load_failure_reason(exc: BaseException) -> str:
    """Why peft (or torch under it) refused to load an adapter folder, in one line. torch's "Error(s) in loading
    state_dict for PeftModel:" says nothing by itself: the first line under it ("size mismatch for …lora_A…:
    copying a param with shape torch.Size([4, 64]) from checkpoint, the shape in current model is
    torch.Size([8, 64])") says what does not fit, and how many more do is counted."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0].rstrip(":. ")
    if not lines[0].endswith(":") or len(lines) == 1:
        return first
    more = f" (and {len(lines) - 2} more like it)" if len(lines) > 2 else ""
    return f"{first}: {lines[1].rstrip('.')}{more}"


@dataclass(frozen=True)
class TrainableCount:
    trainable: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0


def trainable_count(model: Any) -> TrainableCount:
    """Trainable and total parameters of a (wrapped) model, as peft's print_trainable_parameters counts them."""
    if hasattr(model, "get_nb_trainable_parameters"):
        trainable, total = model.get_nb_trainable_parameters()
        return TrainableCount(int(trainable), int(total))
    params = list(model.parameters())
    return TrainableCount(sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params))


def describe(config: RunConfig) -> str:
    """The method and its settings in one line: 'LoRA r 16, alpha 32 (scale 2), dropout 0.05 on all-linear'."""
    adapter = config.adapter
    if not is_adapter_method(adapter.method):
        return METHOD_NAMES.get(adapter.method, str(adapter.method))
    scale = alpha_scale(adapter)
    text = (f"{METHOD_NAMES[adapter.method]} r {adapter.r}, alpha {adapter.alpha:g}"
            + (f" (scale {scale:g}{', rslora' if adapter.rslora else ''})" if scale is not None else "")
            + f", dropout {adapter.dropout:g} on {', '.join(adapter.target_modules)}")
    if adapter.modules_to_save:
        text += f"; trains {', '.join(adapter.modules_to_save)} in full"
    return text
