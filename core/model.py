"""Tokenizer and causal LM from a Hub id, a local folder or the built-in demo, with messages a user can act on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from core.config import DEMO_MODEL_ID, ModelConfig
from core.errors import ModelError

Notify = Callable[[str], None]


def resolve_model(name_or_path: str) -> str:
    if name_or_path == DEMO_MODEL_ID:
        from core.demo import demo_model_path

        return str(demo_model_path())
    return os.path.expanduser(name_or_path)


def looks_local(name_or_path: str) -> bool:
    resolved = os.path.expanduser(name_or_path)
    return (os.path.exists(resolved) or resolved.startswith((".", "/", "~", "\\"))
            or resolved.count("/") > 1 or (len(resolved) > 1 and resolved[1] == ":"))


def check_local_model(path: str) -> str | None:
    """None if the folder can hold a model, else what is wrong with it."""
    folder = Path(path)
    if not folder.exists():
        return f"Model folder not found: {folder}."
    if not folder.is_dir():
        return f"{folder} is a file; pick the folder that holds config.json and the weights."
    if not (folder / "config.json").is_file():
        return f"{folder} is not a model folder: it has no config.json. Pick the folder save_pretrained wrote."
    return None


def _load(loader: Callable[..., Any], config: ModelConfig, what: str, **kwargs: Any) -> Any:
    """Cache first (works offline), then the Hub after a fast reachability probe."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    name = config.name_or_path
    common = dict(trust_remote_code=config.trust_remote_code, revision=config.revision, **kwargs)
    if name == DEMO_MODEL_ID or looks_local(name):
        path = resolve_model(name)
        problem = check_local_model(path)
        if problem:
            raise ModelError(problem)
        try:
            return loader(path, **common)
        except (OSError, ValueError) as exc:
            raise ModelError(f"Could not load the {what} from {path}: {_first_line(exc)}") from None
    try:
        return loader(name, local_files_only=True, **common)
    except (OSError, ValueError):
        pass  # not cached: go to the Hub
    from core.hub_access import require_hub

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


def load_model(config: ModelConfig) -> Any:
    """AutoModelForCausalLM.from_pretrained(..., dtype=...) as the seed does; dtype "auto" keeps the saved one."""
    from transformers import AutoModelForCausalLM

    return _load(AutoModelForCausalLM.from_pretrained, config, "model", dtype=config.dtype)
