"""Tokenizer and causal LM from a Hub id, a local folder or the built-in demo, with messages a user can act on."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

from finetune_studio.core.config import DEMO_MODEL_ID, AdapterConfig, ModelConfig
from finetune_studio.core.errors import ModelError
from finetune_studio.core.sources import (
    ONE_MODEL_FIX,
    SourceKind,
    is_local,
    not_one_model,
    source_kind,
    starts_like_path,
)

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


def model_name_problem(name_or_path: Any, weights: bool = True) -> str | None:
    """What is wrong with a model name found without loading anything or asking the Hub: a value that is no text (a
    YAML list kept as written), a local folder that cannot hold a model, or text that is neither an existing folder
    nor a valid Hub id. None: worth loading."""
    if name_or_path == DEMO_MODEL_ID:
        return None
    if not isinstance(name_or_path, str):  # [a, b], a mapping, a number: no model to look for (not AttributeError)
        return f"{not_one_model(name_or_path)}. {ONE_MODEL_FIX}."
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
    return check_local_model(path, weights=weights, written=name_or_path)


def _is_weights(name: str) -> bool:
    return (name.endswith((".safetensors", ".gguf", ".index.json"))
            or (name.startswith("pytorch_model") and name.endswith(".bin")))


def check_local_model(path: str, weights: bool = True, written: str | None = None) -> str | None:
    """None if the folder can hold a model (with its weights, unless `weights` is False), else what is wrong and what
    to do. `written`: name_or_path as the user wrote it (~/m, ./m), named beside the folder it points at."""
    folder = Path(path)
    if not folder.exists():
        where = folder if folder.is_absolute() else Path.cwd() / folder  # a relative one: from where it was read
        written = str(folder) if written is None else written
        same = os.path.normpath(written) == os.path.normpath(str(where))
        shown = f"{where}" if same else f"{where} ('{written}' as written)"
        return (f"Model folder not found: {shown}. To fix: give the folder where the model is now (it holds "
                "config.json and the weights), a Hugging Face model id (owner/name), or the built-in demo model "
                f"{DEMO_MODEL_ID}.")
    if not folder.is_dir():
        fix = (f"pick the folder it is in, {folder.parent}, which holds the model"
               if _holds_model(folder.parent, weights) else
               "pick the folder that holds config.json and the weights (the folder save_pretrained wrote)")
        return f"{folder} is a file, not a model folder. To fix: {fix}."
    from finetune_studio.core.adapters import adapter_folder_problem

    adapter = adapter_folder_problem(str(folder))  # a run's model/ folder of a LoRA run, or any PEFT adapter
    if adapter:
        return adapter
    if not (folder / "config.json").is_file():
        # Said the same whether or not the caller needs the weights (validation does, the Model tab's layout does
        # not): the way forward is to a folder a run can train from. With `weights` passed on, the layout said "pick
        # the folder save_pretrained wrote" to a folder of weights that lacked only its config.json, where
        # validation said to copy config.json in beside them, and it offered a folder inside that had no weights.
        inside = _models_inside(folder, True)
        if inside:
            fix = (f"pick {inside[0]}, which holds the model" if len(inside) == 1 else
                   f"pick one of the model folders in it: {', '.join(str(p) for p in inside[:3])}"
                   + (f" ({len(inside) - 3} more)" if len(inside) > 3 else ""))
        elif _has_weights(folder):
            fix = (f"copy the model's config.json (from where the model came from) into {folder}, beside its "
                   "weights")
        else:
            fix = "pick the folder save_pretrained wrote: it holds config.json beside the weights"
        return f"{folder} is not a model folder: it has no config.json. To fix: {fix}."
    problem = _config_json_problem(folder / "config.json")
    if problem:
        return problem
    if weights and not _has_weights(folder):
        return (f"{folder} has a config.json but no weights (model.safetensors or pytorch_model.bin). To fix: copy "
                f"the model's weight files into {folder} (model.safetensors, or every model-…-of-….safetensors "
                "with model.safetensors.index.json), or pick the folder save_pretrained wrote with them.")
    return None


def _has_weights(folder: Path) -> bool:
    try:
        return any(_is_weights(child.name) for child in folder.iterdir())
    except OSError:
        return False


def _holds_model(folder: Path, weights: bool) -> bool:
    """A folder check_local_model passes (not looking further up or down)."""
    try:
        return ((folder / "config.json").is_file() and _config_json_problem(folder / "config.json") is None
                and (not weights or _has_weights(folder)))
    except OSError:
        return False


def _models_inside(folder: Path, weights: bool, limit: int = 200) -> list[Path]:
    """The folders just inside `folder` that hold a model (a run's model/, a download's snapshot), in name order;
    only the first `limit` entries are looked at (a home folder is not walked)."""
    found = []
    try:
        children = sorted(child for _, child in zip(range(limit), folder.iterdir()))
    except OSError:
        return []
    for child in children:
        try:
            if child.is_dir() and _holds_model(child, weights):
                found.append(child)
        except OSError:
            continue
    return found


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
    model_type = config.get("model_type")
    auto_map = config.get("auto_map")
    if (not isinstance(model_type, str) or not model_type.strip()) \
            and not (isinstance(auto_map, dict) and "AutoConfig" in auto_map):
        # transformers picks the architecture by model_type alone (5.x has no fallback on the folder's name):
        # without it the model cannot load ("Unrecognized model ... Should have a `model_type` key").
        named = _model_type_of(config.get("architectures"))
        if named:
            architecture, kind = named
            fix = (f"Its architectures entry names {architecture}, whose model_type is {kind}. To fix: add "
                   f"\"model_type\": \"{kind}\" to it, or copy config.json again from where the model came from.")
        return (f"{path} has no model_type, so transformers cannot tell which kind of model this is (llama, qwen3, "
                f"…): the folder is not a usable model as it is. {fix}")
    return None


def _model_type_of(architectures: Any) -> tuple[str, str] | None:
    """(architecture, model_type) when config.json's own architectures list names a causal LM transformers knows
    (Qwen3ForCausalLM -> qwen3), else None."""
    if not isinstance(architectures, list) or not architectures or not isinstance(architectures[0], str):
        return None
    name = architectures[0]
    try:
        from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    except ImportError:
        return None
    kinds = [key for key, value in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.items() if value == name]
    return (name, kinds[0]) if kinds else None


# Settings whose value is a size or a count of the model's layers: when config.json lacks one, transformers takes the
# architecture's default (hidden_size 4096 for qwen3), which the weights then do not fit.
def _is_size_key(key: str) -> bool:
    return key.endswith(("_size", "_dim", "_layers", "_heads")) or key.startswith(("num_", "n_")) \
        or key in ("d_model", "d_ff", "ffn_dim", "n_embd", "n_inner")


def config_weights_problem(path: str) -> str | None:
    """What keeps a local model folder's config.json from fitting its own weights, found without loading them: the
    model as config.json describes it, built on the meta device (shapes only), against the tensors the folder's
    safetensors files hold (their headers only). A key missing from config.json (hidden_size, num_hidden_layers …)
    makes transformers assume its default, and the load then fails on every mismatched weight, or leaves layers the
    files lack randomly initialized; the memory estimate meanwhile sized a model that does not exist. None when they
    fit, or when it cannot be told this way (no safetensors files, quantized weights, or an architecture that comes as
    the folder's own code, which validating never runs). Also, whatever the weights: a config.json transformers
    cannot read (an unknown model_type) or cannot build a model from (num_attention_heads: 0), or a weights index
    (model.safetensors.index.json) naming shard files the folder lacks, said before any shapes are compared (the
    shapes of a half-copied model would blame config.json). Cached per folder until config.json, an index or a
    weights file changes."""
    folder = Path(path)
    try:
        stamps = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                       for p in sorted(folder.iterdir())
                       if p.name == "config.json" or p.suffix in (".safetensors", ".bin")
                       or p.name.endswith(".index.json"))
    except OSError:
        return None
    return _config_weights_problem(str(folder), stamps)


@functools.lru_cache(maxsize=16)
def _config_weights_problem(path: str, stamps: tuple) -> str | None:
    import json

    folder = Path(path)
    missing = _missing_shards(folder)
    if missing:
        return missing
    try:
        raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # _config_json_problem's to say
    if not isinstance(raw, dict) or raw.get("quantization_config") or raw.get("auto_map"):
        return None  # packed 4/8-bit shapes, or the folder's own code (loading runs it; validating must not)
    from transformers import AutoConfig

    fix = ("To fix: copy config.json again from where the model came from (or save the model again with "
           "save_pretrained), or put the missing settings back.")
    try:
        config = AutoConfig.from_pretrained(str(folder))
    except Exception as exc:  # noqa: BLE001 - any refusal (ValueError, huggingface_hub's strict validation …)
        unknown = _unknown_model_type(raw, folder)
        if unknown:
            return unknown
        cause = exc.__cause__ or exc  # the strict validation's own sentence is its cause's
        return (f"transformers cannot read {folder / 'config.json'}: {_first_line(cause).rstrip('.')}. The folder "
                f"is not a usable model as it is. {fix}")
    from finetune_studio.core.adapter_layout import build_meta_model

    try:
        model = build_meta_model(config, None, False)
        expected, named = _checkpoint_shapes(model)
    except ModelError as exc:  # a config transformers cannot build a causal LM from: loading it would fail too
        return str(exc)
    except Exception:  # noqa: BLE001 - tied weights or names that cannot be told without the weights: no verdict
        return None
    found = _safetensors_shapes(folder)  # read after the build: a .bin-only folder is still checked for that
    if not found:
        return None
    common = [name for name in expected if name in found]
    if not common:
        return None  # names this app cannot match to the files (a conversion that needs real values): no verdict
    wrong = [name for name in common if list(expected[name]) != list(found[name])]
    import re

    ignored = [re.compile(p) for p in getattr(model, "_keys_to_ignore_on_load_missing", None) or []]
    parameters = {name for name, _ in model.named_parameters()}  # buffers may be left out of a checkpoint
    missing = [name for name in expected if named and name not in found and name in parameters
               and not any(p.search(name) for p in ignored)]
    if not wrong and not missing:
        return None
    present = set(raw) | {config.attribute_map.get(key, key) for key in raw}
    assumed = {key: value for key, value in config.to_dict().items()
               if key not in present and isinstance(value, int) and not isinstance(value, bool) and _is_size_key(key)}
    if wrong:
        dims = {d for name in wrong for d in expected[name]}
        assumed = {key: value for key, value in assumed.items() if value in dims} or assumed
        name = wrong[0]
        more = f" ({len(wrong) - 1} more weights differ too)" if len(wrong) > 1 else ""
        what = (f"{name} is {_shape(found[name])} in the weight files, but config.json makes it "
                f"{_shape(expected[name])}{more}")
    else:
        what = (f"config.json describes {len(missing)} weights the weight files do not hold ({missing[0]} first), "
                "which would start as random numbers")
    lacks = ""
    if assumed:
        listed = ", ".join(f"{key} (assumed {value:,})" for key, value in assumed.items())
        lacks = f" config.json has no {listed}: transformers took {_defaults_of(config)} defaults."
    return (f"The config.json in {folder} does not fit the model's weights: {what}.{lacks} The folder is not a "
            f"usable model as it is. {fix}")


def _missing_shards(folder: Path) -> str | None:
    """The shard files a weights index (model.safetensors.index.json, pytorch_model.bin.index.json) names in its
    weight_map that are not in the folder, with what to copy where; None when all are there or no index is readable."""
    import json

    for index in sorted(folder.glob("*.index.json")):
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map")
        except (OSError, ValueError, AttributeError):
            continue
        if not isinstance(weight_map, dict):
            continue
        files = sorted({name for name in weight_map.values() if isinstance(name, str)})
        missing = [name for name in files if not (folder / name).is_file()]
        if not missing:
            continue
        shown = ", ".join(missing[:3]) + (f" ({len(missing) - 3} more)" if len(missing) > 3 else "")
        return (f"{index.name} in {folder} names {len(files)} weight files, but {len(missing)} of them "
                f"{'is' if len(missing) == 1 else 'are'} not in the folder: {shown}. The model was copied only in "
                f"part, so it cannot load. To fix: copy {shown if len(missing) == 1 else 'every one of ' + shown} "
                f"into {folder} (from where the model came from), beside {index.name}.")
    return None


def _unknown_model_type(raw: dict, folder: Path) -> str | None:
    """config.json's model_type when the installed transformers has no such architecture (its own refusal: "…
    does not recognize this architecture … out of date"), with what would make the folder load; else None."""
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    kind = raw.get("model_type")
    if not isinstance(kind, str) or kind in CONFIG_MAPPING_NAMES:
        return None
    named = _model_type_of(raw.get("architectures"))
    if named:
        fix = (f"To fix: set \"model_type\": \"{named[1]}\" in it (its architectures entry names {named[0]}, whose "
               "model_type that is), or copy config.json again from where the model came from.")
    else:
        fix = ("To fix: if the model is newer than this transformers, upgrade it (pip install --upgrade "
               "transformers); otherwise correct model_type in config.json, or copy config.json again from where "
               "the model came from.")
    return (f"{folder / 'config.json'} names model_type '{kind}', an architecture the installed transformers "
            f"({transformers.__version__}) does not know: the folder is not a usable model here as it is. {fix}")


def _defaults_of(config: Any) -> str:
    return f"the {config.model_type} architecture's" if getattr(config, "model_type", "") else "the architecture's"


def _shape(shape: Any) -> str:
    return " × ".join(str(d) for d in shape) if shape else "a single number"


def _safetensors_shapes(folder: Path) -> dict[str, list[int]]:
    """{tensor name: shape} from the headers of a folder's model*.safetensors files (the tensors are not read); {}
    when a header cannot be read (core.generate.damage says why)."""
    import json
    import struct

    shapes: dict[str, list[int]] = {}
    for file in sorted(folder.glob("*.safetensors")):
        if file.name.startswith("adapter_"):
            continue
        try:
            with open(file, "rb") as handle:
                (length,) = struct.unpack("<Q", handle.read(8))
                if length > 100 * 2**20:
                    return {}
                header = json.loads(handle.read(length))
        except (OSError, ValueError, struct.error):
            return {}
        for name, entry in header.items():
            if name != "__metadata__" and isinstance(entry, dict) and isinstance(entry.get("shape"), list):
                shapes[name] = entry["shape"]
    return shapes


def _checkpoint_shapes(model: Any) -> tuple[dict[str, list[int]], bool]:
    """({name: shape}, whether the names are the checkpoint's) of the tensors save_pretrained would write for a
    (meta) model: tied weights once, under the checkpoint's names (transformers' revert_weight_conversion). When that
    conversion needs real values the names stay the modules', and a fused weight (MoE experts) would look missing
    from the files: the caller then compares shapes of the names both have, and nothing more."""
    from transformers.modeling_utils import remove_tied_weights_from_state_dict

    state = remove_tied_weights_from_state_dict(model.state_dict(), model)
    named = True
    try:
        from transformers.core_model_loading import revert_weight_conversion

        state = revert_weight_conversion(model, state)
    except Exception:  # noqa: BLE001 - a conversion that needs real values: the checkpoint's names are unknown
        named = False
    return {name: list(tensor.shape) for name, tensor in state.items()}, named


# The config.json keys that hold how many tokens a model reads at once, in the order transformers' families use them
# (core.generate.config_context_length reads the same from a loaded config).
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx")


def context_limit(model: ModelConfig) -> tuple[int, str] | None:
    """(tokens, the config.json key that says so): the longest sequence the chosen model was trained on, read from its
    config.json alone with no import of the training stack (a form may ask on every edit): a local folder's, the
    built-in demo's once built, a Hub model's from the local cache only (never downloaded). A multimodal config's
    text_config is read the same way. None when it cannot be told here."""
    import json

    name = model.name_or_path.strip() if isinstance(model.name_or_path, str) else ""
    if not name:
        return None
    if name == DEMO_MODEL_ID:
        from finetune_studio.core.demo import demo_model_path

        path: Any = demo_model_path(build=False) / "config.json"
    elif source_kind(name) is SourceKind.LOCAL:
        path = Path(os.path.expanduser(name)) / "config.json"
    elif source_kind(name) is SourceKind.HUB:
        path = cached_hub_file(name, "config.json", model.revision)
        if path is None:
            return None
    else:
        return None
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for section in (config, config.get("text_config") if isinstance(config, dict) else None):
        if not isinstance(section, dict):
            continue
        for key in CONTEXT_KEYS:
            value = section.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value, key
    return None


def cached_hub_file(repo_id: str, filename: str, revision: str | None = None) -> Path | None:
    """A Hub model's file from the local Hub cache (never downloaded), or None when it is not there: the cache's own
    layout (models--OWNER--NAME/refs/REVISION holds the commit, snapshots/COMMIT/FILE the file), as
    huggingface_hub.try_to_load_from_cache reads it, without importing that: its module pulls in the Hub's HTTP
    client (~0.1-0.2 s, more while the window's warm-up imports the training stack), and the window asks this on the
    GUI thread for every config naming a Hub model, the last one reopened as the window is built included."""
    from finetune_studio.core.doctor import hf_cache_dir

    repo = hf_cache_dir() / f"models--{repo_id.replace('/', '--')}"
    commit = revision or "main"
    try:
        ref = repo / "refs" / commit
        if ref.is_file():
            commit = ref.read_text(encoding="utf-8").strip()
        found = repo / "snapshots" / commit / filename
        return found if commit and found.is_file() else None
    except (OSError, ValueError):  # an unreadable ref, or a revision that is no file name
        return None


# The Model tab's words for model.trust_remote_code: its "Remote code" row, whose check box reads "Trust remote code".
TRUST_FIX = ("To fix: tick Trust remote code on the Model tab (model.trust_remote_code: true) only if you trust the "
             "model's authors, or pick a model that transformers supports itself.")


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
    return f"{path} ships its own Python code ({', '.join(modules)}) that runs when the model loads. {TRUST_FIX}"


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
        except Exception as exc:
            mismatch = config_mismatch(exc, path)  # transformers' RuntimeError "… look at the above report!"
            if mismatch:
                refusal = ModelError(f"Could not load the {what}: {mismatch}. To fix: {MISMATCH_FIX}.")
                refusal.mismatch = mismatch  # type: ignore[attr-defined]  # config_mismatch reads it (an export's words)
                raise refusal from None
            if not isinstance(exc, (OSError, ValueError)):
                raise
            if "trust_remote_code" in str(exc) and not config.trust_remote_code:
                raise ModelError(remote_code_problem(path)
                                 or f"{path} ships its own Python code. {TRUST_FIX}") from None
            raise ModelError(f"Could not load the {what} from {path}: {_first_line(exc)}") from None
    # transformers 5 asks the Hub whether the repo holds an adapter (find_adapter_config_file) even under
    # local_files_only, unless told again: offline, a cached model waited out the Hub client's retries (30 s).
    cached_only = {"adapter_kwargs": {"local_files_only": True}} if what == "model" else {}
    try:
        return loader(name, local_files_only=True, **cached_only, **common)
    except (OSError, ValueError):
        pass  # not cached: go to the Hub
    from finetune_studio.core.hub_access import require_hub

    require_hub(f"the model '{name}'", "Pick a local model folder or the built-in demo model.", name, config.revision)
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


MISMATCH_FIX = "put back the folder's original config.json, or pick the folder the weights were trained from"


def config_mismatch(exc: BaseException, folder: str | Path) -> str | None:
    """When `exc` is a model load's failure because the config.json in `folder` does not match the weights beside it
    (edited, or another model's copied over it): that fact as a clause to follow a colon, naming one tensor whose
    shapes differ, e.g. "the config.json in /m does not match its weights (model.embed_tokens.weight is 1457 × 64 in
    the weights, 1457 × 128 by config.json; 19 more differ)". None for any other failure. `exc` is transformers' own
    error, or the ModelError load_model raised for it (its clause, which names the folder it loaded): a caller with
    its own fix to give (an export names the run's config.yaml) words it with this clause. transformers 5.x raises
    only "You set `ignore_mismatched_sizes` to `False` … look at the above report!" (the report went to its log):
    the tensors are read from its LoadStateDictInfo in the failure's traceback, else from the older "size mismatch
    for NAME: copying a param with shape … from checkpoint, the shape in current model is …" text."""
    import re

    if isinstance(exc, ModelError):
        return getattr(exc, "mismatch", None)
    text = str(exc)
    mismatched: list[tuple[str, Any, Any]] = []
    tb = exc.__traceback__
    while tb is not None and not mismatched:
        for value in list(tb.tb_frame.f_locals.values()):
            keys = getattr(value, "mismatched_keys", None) if type(value).__name__ == "LoadStateDictInfo" else None
            if keys:
                mismatched = sorted((str(k[0]), k[1], k[2]) for k in keys if len(k) == 3)
                break
        tb = tb.tb_next
    if not mismatched:
        pattern = (r"size mismatch for ([^:\s]+): copying a param with shape torch\.Size\(\[([^\]]*)\]\) from "
                   r"checkpoint, the shape in current model is torch\.Size\(\[([^\]]*)\]\)")
        mismatched = [(name, [d.strip() for d in found.split(",") if d.strip()],
                       [d.strip() for d in expected.split(",") if d.strip()])
                      for name, found, expected in re.findall(pattern, text)]
    if not mismatched and "ignore_mismatched_sizes" not in text:
        return None
    said = f"the config.json in {folder} does not match its weights"
    if not mismatched:
        return said
    name, found, expected = mismatched[0]
    others = len(mismatched) - 1
    more = f"; {others} more {'differs' if others == 1 else 'differ'}" if others else ""
    return (f"{said} ({name} is {_shape(list(found))} in the weights, {_shape(list(expected))} by "
            f"config.json{more})")


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
