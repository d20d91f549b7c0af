"""One RunConfig: what the form edits, what a YAML file stores and what the headless CLI runs.

The training section is a plain mapping of TrainingArguments fields by their own names, so every field of the
installed transformers version is reachable without a hand-kept list here. Defaults are the seed tutorial's.
Nothing in this module imports torch or transformers at import time: the GUI loads configs before the training
stack is warm. `validate()` does import it, because only the installed TrainingArguments knows its own fields.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError, Problem
from core.fileio import atomic_write_text

SAMPLE_DATASET_ID = "builtin:sample"
DEMO_MODEL_ID = "builtin:demo"
SEED_MODEL_ID = "Qwen/Qwen3-0.6B"
SEED_DATASET_ID = "karthiksagarn/astro_horoscope"

# The seed tutorial's TrainingArguments, minus output_dir (the run folder) and bf16 (chosen for the hardware).
# gradient_checkpointing is spelled by its transformers-5 name.
SEED_TRAINING: dict[str, Any] = {
    "num_train_epochs": 3,
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 8,
    "activation_checkpointing": True,
    "learning_rate": 2e-5,
    "logging_steps": 10,
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "load_best_model_at_end": True,
}

# Names older configs and tutorials use, mapped to what transformers 5 calls them. None: the field is gone and
# its behaviour is now fixed, so the key is dropped with a notice.
RENAMED_TRAINING_KEYS: dict[str, str | None] = {
    "gradient_checkpointing": "activation_checkpointing",
    "gradient_checkpointing_kwargs": "activation_checkpointing_kwargs",
    "evaluation_strategy": "eval_strategy",
    "no_cuda": "use_cpu",
    "per_gpu_train_batch_size": "per_device_train_batch_size",
    "per_gpu_eval_batch_size": "per_device_eval_batch_size",
    "push_to_hub_model_id": "hub_model_id",
    "overwrite_output_dir": None,
    "logging_dir": None,
    "save_safetensors": None,
}
RENAMED_MODEL_KEYS: dict[str, str | None] = {"torch_dtype": "dtype", "model_name_or_path": "name_or_path"}

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
MODEL_DTYPES = ("auto", "float32", "bfloat16", "float16")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class DatasetConfig:
    source: str = field(
        default=SAMPLE_DATASET_ID,
        metadata=_help("A Hugging Face Hub dataset id (owner/name), a local file (.csv .json .jsonl .parquet .txt) "
                       "or a folder of such files. 'builtin:sample' is the offline sample dataset."),
    )
    name: str | None = field(default=None, metadata=_help("Hub dataset configuration (subset) name, if it has several."))
    split: str = field(default="train", metadata=_help("Which split of the source to train on."))
    text_column: str = field(default="horoscope", metadata=_help("The column holding the text the model trains on."))
    max_length: int = field(default=512, metadata=_help("Longest sequence in tokens; longer rows are cut."))
    truncation: bool = field(default=True, metadata=_help("Cut rows longer than max_length (the seed does)."))
    test_size: float = field(
        default=0.1, metadata=_help("Fraction of rows held out for evaluation (the seed uses 0.1).")
    )
    batching: str = field(
        default="padded",
        metadata=_help("How rows become batches: 'padded' (seed-exact), 'group_by_length' (less padding), "
                       "'padding_free' (a batch's rows in one sequence) or 'packed' (rows packed into "
                       "max_length blocks)."),
    )
    encoding: str | None = field(
        default=None,
        metadata=_help("Text encoding of a local CSV, JSON or .txt source, e.g. cp1252 or latin-1. Empty: UTF-8. "
                       "The Dataset tab fills it in when it detects a file that is not UTF-8."),
    )
    sample_by: str | None = field(
        default=None,
        metadata=_help("How .txt files become rows: 'document' (one row per file), 'paragraph' (split at blank "
                       "lines) or 'line'. Empty: one row per file for a folder, one row per line for a single file."),
    )


@dataclass
class ModelConfig:
    name_or_path: str = field(
        default=DEMO_MODEL_ID,
        metadata=_help("A Hub model id (owner/name) or a local folder with config.json. 'builtin:demo' is the "
                       "tiny offline demo model."),
    )
    dtype: str = field(default="auto", metadata=_help("Weight dtype on load; 'auto' keeps the saved dtype."))
    trust_remote_code: bool = field(
        default=False,
        metadata=_help("Run Python code shipped with the model. Only for models whose authors you trust."),
    )
    revision: str | None = field(default=None, metadata=_help("Branch, tag or commit of a Hub model."))


@dataclass
class HubConfig:
    repo_id: str = field(default="", metadata=_help("Where to push: owner/name. Empty: <your user>/<run name>."))
    private: bool = field(default=True, metadata=_help("Create the repository as private."))
    push_when_done: bool = field(default=False, metadata=_help("Push the model when training finishes."))


@dataclass
class RunConfig:
    name: str = field(default="", metadata=_help("Run name; its folder is <runs folder>/<name>. Empty: generated."))
    runs_dir: str | None = field(
        default=None, metadata=_help("Folder that holds all runs. Empty: the per-user default.")
    )
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: dict[str, Any] = field(default_factory=lambda: dict(SEED_TRAINING))
    hub: HubConfig = field(default_factory=HubConfig)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "runs_dir": self.runs_dir,
            "dataset": dataclasses.asdict(self.dataset),
            "model": dataclasses.asdict(self.model),
            "training": dict(self.training),
            "hub": dataclasses.asdict(self.hub),
        }

    def copy(self) -> RunConfig:
        return parse_config(self.to_dict())[0]


SECTIONS = {"dataset": DatasetConfig, "model": ModelConfig, "hub": HubConfig}
TOP_LEVEL_KEYS = ("name", "runs_dir", "dataset", "model", "training", "hub")


def default_config() -> RunConfig:
    """The offline default: seed recipe on the built-in demo model and sample dataset."""
    return RunConfig()


def seed_preset() -> RunConfig:
    """The tutorial exactly: Qwen3-0.6B on karthiksagarn/astro_horoscope (needs the Hub)."""
    return RunConfig(dataset=DatasetConfig(source=SEED_DATASET_ID), model=ModelConfig(name_or_path=SEED_MODEL_ID))


def demo_preset() -> RunConfig:
    return default_config()


PRESETS = {"demo": demo_preset, "seed": seed_preset}


def default_runs_dir() -> Path:
    """Per-user runs folder; FINETUNE_STUDIO_RUNS overrides it."""
    env = os.environ.get("FINETUNE_STUDIO_RUNS")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "finetune-studio" / "runs"


def runs_dir_of(config: RunConfig) -> Path:
    return Path(config.runs_dir).expanduser() if config.runs_dir else default_runs_dir()


def nearest(name: str, choices: list[str] | tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_key_message(key: str, choices: list[str] | tuple[str, ...], where: str) -> str:
    hint = nearest(key, choices)
    tail = f" Did you mean '{hint}'?" if hint else f" Valid names: {', '.join(sorted(choices))}."
    return f"'{key}' is not a {where} setting.{tail}"


def _rename(section: dict[str, Any], table: dict[str, str | None], where: str, notices: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in section.items():
        if key in table:
            new = table[key]
            if new is None:
                notices.append(f"{where}.{key} no longer exists in transformers 5 and was dropped.")
                continue
            if new in section:
                notices.append(f"{where}.{key} is the old name of {where}.{new}; the value of {new} wins.")
                continue
            notices.append(f"{where}.{key} is called {where}.{new} in transformers 5; renamed.")
            key = new
        out[key] = value
    return out


def _section(cls: type, data: Any, where: str, notices: list[str], problems: list[Problem],
             renames: dict[str, str | None] | None = None) -> Any:
    if data is None:
        return cls()
    if not isinstance(data, dict):
        problems.append(Problem(where, f"'{where}' must be a mapping of settings, not {type(data).__name__}."))
        return cls()
    if renames:
        data = _rename(data, renames, where, notices)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            problems.append(Problem(f"{where}.{key}", unknown_key_message(key, names, where)))
        else:
            kwargs[key] = value
    return cls(**kwargs)


def parse_config(data: Any) -> tuple[RunConfig, list[str]]:
    """Dict (from YAML or a form) -> RunConfig and notices about renamed keys.

    Raises ConfigError listing every unknown key at once. Types are checked later by validate(), so a form can
    hold a half-edited config.
    """
    notices: list[str] = []
    problems: list[Problem] = []
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([Problem("", "A config file must be a mapping with dataset, model, training and hub.")])
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(Problem(str(key), unknown_key_message(str(key), TOP_LEVEL_KEYS, "top-level")))
    training = data.get("training")
    if training is None:
        training = {}
    if not isinstance(training, dict):
        problems.append(Problem("training", "'training' must be a mapping of TrainingArguments fields."))
        training = {}
    training = _rename(training, RENAMED_TRAINING_KEYS, "training", notices)
    config = RunConfig(
        name="" if data.get("name") is None else str(data.get("name")),
        runs_dir=data.get("runs_dir"),
        dataset=_section(DatasetConfig, data.get("dataset"), "dataset", notices, problems),
        model=_section(ModelConfig, data.get("model"), "model", notices, problems, RENAMED_MODEL_KEYS),
        training={**SEED_TRAINING, **training},
        hub=_section(HubConfig, data.get("hub"), "hub", notices, problems),
    )
    if problems:
        raise ConfigError(problems)
    return config, notices


def _yaml_loader() -> type:
    """SafeLoader that reads 2e-5 as a number (YAML 1.1 wants 2.0e-5, and every tutorial writes 2e-5) and
    `eval_strategy: no` as the string TrainingArguments expects (YAML 1.1 makes no/yes/on/off booleans)."""
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
        list("-+0123456789."),
    )
    return Loader


def yaml_load(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass


# An access token is never written to a config file (nor, through config.yaml, to a run folder), whatever field it
# comes through: fields named *_token (hub_token; transformers masks the same names in TrainingArguments.to_dict) are
# left out, and any other value shaped like a Hugging Face token is masked. validate() says what to do instead.
TOKEN_VALUE_RE = re.compile(r"\bhf_[A-Za-z0-9]{30,}")  # real tokens: hf_ + 34 letters/digits
REDACTED = "<redacted>"


def is_token_key(key: Any) -> bool:
    return isinstance(key, str) and key.lower().endswith("_token")


def without_secrets(value: Any) -> Any:
    """A copy of a config mapping (or any YAML value) with every token-named key dropped and token values masked."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if not is_token_key(k)}
    if isinstance(value, (list, tuple)):
        return [without_secrets(v) for v in value]
    if isinstance(value, str):
        return TOKEN_VALUE_RE.sub(REDACTED, value)
    return value


def to_yaml(config: RunConfig) -> str:
    import yaml

    data = without_secrets(config.to_dict())
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def from_yaml(text: str, source: str = "config") -> tuple[RunConfig, list[str]]:
    import yaml

    try:
        data = yaml_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        start, context = getattr(exc, "context_mark", None), getattr(exc, "context", None)
        if start and context and (not mark or start.line != mark.line):  # an unclosed [ or { is found at the end
            problem += f" ({context} that starts at line {start.line + 1}, column {start.column + 1})"
        if "'\\t'" in problem:
            problem += "; YAML indents with spaces, not tabs"
        raise ConfigError([Problem("", f"{source} is not valid YAML{where}: {problem}.")]) from None
    return parse_config(data)


def load_config(path: str | os.PathLike[str]) -> tuple[RunConfig, list[str]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem("", f"Config file not found: {path}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem("", f"Cannot read config file {path}: {exc}")]) from None
    config, notices = from_yaml(text, source=str(path))
    if not text.strip() or yaml_load(text) is None:  # only whitespace, comments or "---": not the demo
        raise ConfigError([Problem("", f"Config file {path} is empty: it holds no settings. Write one with "
                                       "'finetune-studio init NEW.yaml' (or File → Save config in the app), or leave "
                                       "the file out to train the built-in demo.")])
    return config, notices


def save_config(config: RunConfig, path: str | os.PathLike[str]) -> None:
    atomic_write_text(Path(path), to_yaml(config))


def apply_overrides(config: RunConfig, overrides: list[str]) -> tuple[RunConfig, list[str]]:
    """CLI `--set section.key=value` (value parsed as YAML); a bare key means a training field."""
    import yaml

    data = config.to_dict()
    problems: list[Problem] = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--set", f"'{item}' must look like key=value, e.g. training.learning_rate=1e-4"))
            continue
        parts = key.strip().split(".")
        if len(parts) == 1 and parts[0] not in TOP_LEVEL_KEYS:
            parts = ["training", parts[0]]
        renames = {"training": RENAMED_TRAINING_KEYS, "model": RENAMED_MODEL_KEYS}.get(parts[0], {})
        if len(parts) == 2 and renames.get(parts[1]):
            parts[1] = renames[parts[1]]  # so the override replaces the current value instead of losing to it
        try:
            value = yaml_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        target = data
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[parts[-1]] = value
    if problems:
        raise ConfigError(problems)
    return parse_config(data)


# ---- precision ---------------------------------------------------------------------------------------------


def precision_of(training: dict[str, Any]) -> str:
    """auto: neither bf16 nor fp16 is set, so the hardware decides; fp32: both explicitly off."""
    if training.get("bf16"):
        return "bf16"
    if training.get("fp16"):
        return "fp16"
    if "bf16" in training or "fp16" in training:
        return "fp32"
    return "auto"


def set_precision(training: dict[str, Any], precision: str) -> None:
    for key in ("bf16", "fp16"):
        training.pop(key, None)
    if precision == "bf16":
        training["bf16"] = True
    elif precision == "fp16":
        training["fp16"] = True
    elif precision == "fp32":
        training["bf16"] = False
        training["fp16"] = False
