"""Tokenizer and causal LM from a Hub id, a local folder or the built-in demo, with messages a user can act on."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

from finetune_studio.core.config import DEMO_MODEL_ID, AdapterConfig, ModelConfig
from finetune_studio.core.errors import ModelError
from finetune_studio.core.sources import SourceKind, is_local, source_kind, starts_like_path

Notify = Callable[[str], None]


def resolve_model(name_or_path: str) -> str:
    if name_or_path == DEMO_MODEL_ID:
        from finetune_studio.core.demo import demo_model_path

        return str(demo_model_path())
    return os.path.expanduser(name_or_path)


def url_problem(text: str) -> str:
    """A web address is neither a folder here nor a model id; say which id it names, if it is a Hub page."""
    text = text.strip()
    parts = [p for p in text.split("://", 1)[1].split("/") if p]
    if text.lower().startswith("hf://"):
        parts = parts[1:] if parts and parts[0] == "models" else parts
    elif parts and "huggingface.co" in parts[0]:
        parts = parts[1:]
    else:
        parts = []
    if len(parts) >= 2 and parts[0] not in ("datasets", "spaces"):
        return f"'{text}' is a web address. For a Hugging Face Hub model enter its id: {parts[0]}/{parts[1]}."
    return (f"'{text}' is a web address; a model is read from a folder on this computer or by Hub id "
            "(owner/name), e.g. Qwen/Qwen3-0.6B.")


def hub_id_problem(name: str, no_folder: bool = False) -> str | None:
    """None if name is a well-formed Hub model id (huggingface_hub's own rules), else what is wrong, in words;
    `no_folder`: name could also be meant as a folder, and none exists there."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
        return None
    except HFValidationError:
        pass
    illegal = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "-_./"))}, key=name.index)
    if illegal:
        shown = ["a space" if c == " " else f"'{c}'" for c in illegal]
        why = "it contains " + (", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0])
    elif name.count("/") > 1:
        why = "it has more than one '/'"
    elif "--" in name or ".." in name:
        why = "it contains '--' or '..'"
    elif name.endswith(".git"):
        why = "it ends in '.git'"
    else:
        why = "its owner or name is empty, too long (over 96 characters) or starts or ends with '-' or '.'"
    what = "neither a folder on this computer nor a valid" if no_folder else "not a valid"
    return (f"'{name}' is {what} Hugging Face model id: {why}. A model id is owner/name with letters, digits, "
            "'-', '_' and '.' only, e.g. Qwen/Qwen3-0.6B; a folder on this computer starts with /, ./ or ~.")


def model_name_problem(name_or_path: str, weights: bool = True) -> str | None:
    """What is wrong with a model name found without loading anything or asking the Hub: a local folder that
    cannot hold a model, or text that is neither an existing folder nor a valid Hub id. None: worth loading."""
    if name_or_path == DEMO_MODEL_ID:
        return None
    kind = source_kind(name_or_path)
    if kind is SourceKind.BUILTIN:
        return f"'{name_or_path}' is the built-in dataset, not a model; the built-in model is '{DEMO_MODEL_ID}'."
    if kind is SourceKind.URL:
        return url_problem(name_or_path)
    if kind is SourceKind.HUB:
        return hub_id_problem(name_or_path)
    path = resolve_model(name_or_path)
    if not os.path.exists(path) and not starts_like_path(name_or_path):
        problem = hub_id_problem(name_or_path, no_folder=True)  # "a//b": no such folder, and no Hub id either
        if problem:
            return problem
    return check_local_model(path, weights=weights)


def _is_weights(name: str) -> bool:
    return (name.endswith((".safetensors", ".gguf", ".index.json"))
            or (name.startswith("pytorch_model") and name.endswith(".bin")))


def check_local_model(path: str, weights: bool = True) -> str | None:
    """None if the folder can hold a model (with its weights, unless `weights` is False), else what is wrong."""
    folder = Path(path)
    if not folder.exists():
        return f"Model folder not found: {folder}."
    if not folder.is_dir():
        return f"{folder} is a file; pick the folder that holds config.json and the weights."
    from finetune_studio.core.adapters import adapter_folder_problem

    adapter = adapter_folder_problem(str(folder))  # a run's model/ folder of a LoRA run, or any PEFT adapter
    if adapter:
        return adapter
    if not (folder / "config.json").is_file():
        return f"{folder} is not a model folder: it has no config.json. Pick the folder save_pretrained wrote."
    problem = _config_json_problem(folder / "config.json")
    if problem:
        return problem
    if weights and not any(_is_weights(child.name) for child in folder.iterdir()):
        return (f"{folder} has a config.json but no weights (model.safetensors or pytorch_model.bin). Pick the "
                "folder save_pretrained wrote, with its weight files, or copy them there.")
    return None


def _config_json_problem(path: Path) -> str | None:
    """What keeps transformers from reading a model's config.json (it is small: read whole), else None."""
    import json

    fix = ("To fix: copy config.json again from where the model came from (or save the model again with "
           "save_pretrained).")
    try:
        config = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}. To fix: check the file's permissions."
    except UnicodeDecodeError:
        return f"{path} is not UTF-8 text, so it is not a model's config. {fix}"
    except json.JSONDecodeError as exc:
        return f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). {fix}"
    if not isinstance(config, dict):
        return f"{path} holds {type(config).__name__} JSON, not the object of settings a model's config is. {fix}"
    return None


def remote_code_problem(path: str) -> str | None:
    """A local model whose architecture exists only as Python code shipped in its folder (config.json auto_map)
    runs that code when loaded: say so, unless the architecture is one transformers knows itself."""
    import json

    try:
        config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    auto_map = config.get("auto_map") if isinstance(config, dict) else None
    if not isinstance(auto_map, dict) or not auto_map:
        return None
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    if config.get("model_type") in CONFIG_MAPPING_NAMES:
        return None  # transformers has its own implementation and uses it without running the folder's code
    modules = sorted({str(ref).split("--")[-1].split(".")[0] + ".py"
                      for ref in auto_map.values() if isinstance(ref, str)})
    return (f"{path} ships its own Python code ({', '.join(modules)}) that runs when the model loads. Turn on "
            "model.trust_remote_code only if you trust the model's authors.")


def _load(loader: Callable[..., Any], config: ModelConfig, what: str, **kwargs: Any) -> Any:
    """Cache first (works offline), then the Hub after a fast reachability probe."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    name = config.name_or_path
    common = dict(trust_remote_code=config.trust_remote_code, revision=config.revision, **kwargs)
    problem = model_name_problem(name, weights=what == "model")  # before the cache: "not cached" would mislead
    if problem:
        raise ModelError(problem)
    if is_local(name):
        path = resolve_model(name)
        problem = check_local_model(path, weights=what == "model") if name == DEMO_MODEL_ID else None
        if problem:
            raise ModelError(problem)
        try:
            return loader(path, **common)
        except (OSError, ValueError) as exc:
            if "trust_remote_code" in str(exc) and not config.trust_remote_code:
                raise ModelError(remote_code_problem(path) or f"{path} ships its own Python code. Turn on "
                                 "model.trust_remote_code only if you trust the model's authors.") from None
            raise ModelError(f"Could not load the {what} from {path}: {_first_line(exc)}") from None
    try:
        return loader(name, local_files_only=True, **common)
    except (OSError, ValueError):
        pass  # not cached: go to the Hub
    from finetune_studio.core.hub_access import require_hub

    require_hub(f"the model '{name}'", "Pick a local model folder or the built-in demo model.")
    try:
        return loader(name, **common)
    except (OSError, ValueError) as exc:
        cause = _hub_cause(exc, (GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError))
        if isinstance(cause, GatedRepoError):
            raise ModelError(f"{name} is a gated model: accept its license on its Hub page, log in with a token "
                             "that may read it, then try again.") from None
        if isinstance(cause, RepositoryNotFoundError):
            raise ModelError(f"The model {name} was not found on the Hub. Check the id (owner/name); if it is "
                             "private, log in first.") from None
        if isinstance(cause, RevisionNotFoundError):
            raise ModelError(f"The model {name} has no revision '{config.revision}'.") from None
        raise ModelError(f"Could not load the {what} of {name}: {_first_line(exc)}") from None


def _hub_cause(exc: BaseException, types: tuple[type, ...]) -> BaseException | None:
    """transformers re-raises Hub errors as OSError; the original is in the cause chain."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, types):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


@contextlib.contextmanager
def quiet_transformers(warnings: bool = True) -> Iterator[None]:
    """transformers' own progress bars ("Loading weights", "Writing model shards") and, with `warnings`, its warnings
    (a long prompt's "Token indices sequence length is longer than the specified maximum") kept off stderr while a
    command says in its own words what it does (`generate`, `export --merged`); errors still show. Restored
    afterwards, for callers in the same process (the window, tests)."""
    from transformers.utils import logging as hf_logging

    verbosity, bar = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    if warnings:
        hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bar:
            hf_logging.enable_progress_bar()


def load_tokenizer(config: ModelConfig, notify: Notify | None = None) -> Any:
    from transformers import AutoTokenizer

    tokenizer = _load(AutoTokenizer.from_pretrained, config, "tokenizer")
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelError(f"The tokenizer of {config.name_or_path} has neither a pad nor an eos token, so batches "
                             "cannot be padded. Use a tokenizer that defines an eos token.")
        tokenizer.pad_token = tokenizer.eos_token
        if notify:
            notify(f"The tokenizer has no pad token; using its eos token '{tokenizer.eos_token}' for padding.")
    return tokenizer


def load_model(config: ModelConfig, adapter: AdapterConfig | None = None) -> Any:
    """AutoModelForCausalLM.from_pretrained(..., dtype=...) as the seed does; dtype "auto" keeps the saved one.
    With a QLoRA `adapter`, the weights load quantized to 4 bits (core.adapters.quantization_config), in the
    compute dtype for the layers that stay unquantized."""
    from transformers import AutoModelForCausalLM

    if adapter is not None and adapter.method == "qlora":
        from finetune_studio.core.adapters import compute_dtype, quantization_config

        dtype = config.dtype if config.dtype != "auto" else compute_dtype(adapter)
        return _load(AutoModelForCausalLM.from_pretrained, config, "model", dtype=dtype,
                     quantization_config=quantization_config(adapter))
    return _load(AutoModelForCausalLM.from_pretrained, config, "model", dtype=config.dtype)
