"""One RunConfig: what the form edits, what a YAML file stores and what the headless CLI runs.

The training section is a plain mapping of TrainingArguments fields by their own names, so every field of the
installed transformers version is reachable without a hand-kept list here. Defaults are the seed tutorial's.
Nothing in this module imports torch or transformers at import time: the GUI loads configs before the training
stack is warm. `validate()` does import it, because only the installed TrainingArguments knows its own fields.
"""

from __future__ import annotations

import dataclasses
import difflib
import fractions
import functools
import math
import os
import re
import shlex
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from finetune_studio.core.errors import ConfigError, Problem
from finetune_studio.core.fileio import atomic_write_text

SAMPLE_DATASET_ID = "builtin:sample"
CHAT_DATASET_ID = "builtin:chat"  # the offline conversational sample (resources/sample_chats.jsonl)
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
# Fields transformers 5 removed whose job another field took, with what to write there: not renamed on load, as the
# value does not always carry over (warmup_ratio: 1 is the whole run, warmup_steps: 1 one step). validate() and the
# All arguments tab (gui.forms.arguments_panel) say it where the old name is found.
FOLDED_TRAINING_KEYS: dict[str, tuple[str, str]] = {
    "warmup_ratio": ("warmup_steps", "takes the ratio now: a value below 1 is a share of the run's steps"),
}
# Training keys of TRL's SFTConfig (and of scripts written for it, or for transformers 4) that this app sets in
# another section of RunConfig, not in TrainingArguments: where (a dotted field), the value to write there for a
# flag set to true (a dataset.batching mode; None: the key's own value moves as it is) and whose key it is, for
# the message (unknown_training_key_message). Not moved on load: a dataset section that sets it too would lose.
ELSEWHERE_TRAINING_KEYS: dict[str, tuple[str, str | None, str]] = {
    "max_seq_length": ("dataset.max_length", None, "older TRL scripts' name for the longest row in tokens"),
    "max_length": ("dataset.max_length", None, "TRL's SFTConfig name for the longest row in tokens"),
    "dataset_text_field": ("dataset.text_column", None, "TRL's SFTConfig name for the column the model trains on"),
    "packing": ("dataset.batching", "packed", "TRL's SFTConfig switch for rows packed into max_length blocks"),
    "padding_free": ("dataset.batching", "padding_free", "TRL's SFTConfig switch for a batch's rows in one "
                     "sequence"),
    "group_by_length": ("dataset.batching", "group_by_length", "transformers 4's switch for batches of rows of "
                        "like length"),
}

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
    name: str | None = field(default=None,
                             metadata=_help("Hub dataset configuration (subset) name, if it has several."))
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
    delimiter: str | None = field(
        default=None,
        metadata=_help("Field separator of a local CSV: ',', ';', a tab or '|'. Empty: found in the header row "
                       "(a comma unless the header splits only at ';', a tab or '|', as spreadsheet exports in "
                       "some languages and .tsv files do)."),
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


ADAPTER_METHODS = ("full", "lora", "qlora", "dora")


@dataclass
class AdapterConfig:
    """Parameter-efficient fine-tuning through PEFT. 'full' (the default) is the seed recipe: every weight trains."""

    method: str = field(
        default="full",
        metadata=_help("'full': train every weight (the seed; needs the most memory). 'lora': train small low-rank "
                       "adapters beside frozen weights. 'qlora': LoRA on 4-bit weights (CUDA GPU and bitsandbytes). "
                       "'dora': LoRA that also learns each weight's magnitude (slower, sometimes better)."),
    )
    r: int = field(default=16, metadata=_help("Adapter rank: the width of each low-rank update. Higher trains more "
                                               "parameters; 8-64 is usual."))
    alpha: float = field(default=32, metadata=_help("LoRA alpha: updates are scaled by alpha / r (alpha / sqrt(r) "
                                                     "with rslora)."))
    dropout: float = field(default=0.05, metadata=_help("Dropout on the adapter's input, from 0 up to (not "
                                                         "including) 1."))
    target_modules: list[str] = field(
        default_factory=lambda: ["all-linear"],
        metadata=_help("Module names that get adapters, e.g. q_proj, v_proj; 'all-linear' is every linear layer "
                       "but the output head."),
    )
    rslora: bool = field(default=False, metadata=_help("Rank-stabilized LoRA: scale by alpha / sqrt(r), which "
                                                        "keeps high ranks learning."))
    modules_to_save: list[str] = field(
        default_factory=list,
        metadata=_help("Modules trained in full and saved with the adapter, e.g. embed_tokens and lm_head when new "
                       "tokens were added."),
    )
    compute_dtype: str = field(default="auto", metadata=_help("QLoRA: the dtype the 4-bit weights compute in, "
                                                               "'bf16' or 'fp16'; 'auto' picks bf16 where the GPU "
                                                               "supports it."))


CHAT_FORMATS = ("auto", "text", "prompt_completion", "alpaca", "messages", "sharegpt")
TRAIN_ON = ("auto", "assistant", "completion", "all")


@dataclass
class ChatConfig:
    """How rows become training text: a plain text column (the seed) or instructions and conversations."""

    format: str = field(
        default="auto",
        metadata=_help("Row format: 'auto' (detected from the columns), 'text' (one text column, the seed), "
                       "'prompt_completion', 'alpaca' (instruction/input/output), 'messages' (role/content) or "
                       "'sharegpt' (conversations with from/value)."),
    )
    columns: dict[str, str] = field(
        default_factory=dict,
        metadata=_help("Which of the data's columns plays each part, when they are named differently, e.g. "
                       "{prompt: question, completion: answer} or {messages: dialog}. For messages, sharegpt and "
                       "prompt_completion rows, 'tools' names the optional column of each row's tool definitions "
                       "(function schemas, passed to the chat template; read from a column named tools when not "
                       "mapped), e.g. {tools: functions}."),
    )
    template: str = field(
        default="auto",
        metadata=_help("Chat template: 'auto' is the model's own, or ChatML when the tokenizer has none; or a "
                       "named template."),
    )
    train_on: str = field(
        default="auto",
        metadata=_help("Which tokens the loss is on: 'assistant' replies, the 'completion', or 'all'. 'auto': "
                       "assistant replies for conversations, the completion for prompt/completion and alpaca."),
    )
    drop_untrained_rows: bool = field(
        default=False,
        metadata=_help("Leave out rows where nothing would be trained (e.g. max_length cuts the reply off)."),
    )


@dataclass
class LaunchConfig:
    """Where a run trains: which GPUs, how many processes, and on how many machines (torchrun)."""

    devices: list[int] = field(
        default_factory=list,
        metadata=_help("GPU indices the run uses, numbered as nvidia-smi shows them. Empty: the first GPU (or the "
                       "CPU when there is none)."),
    )
    processes: int = field(default=1, metadata=_help("Training processes on this machine (torchrun "
                                                      "--nproc_per_node). More than 1 trains data-parallel."))
    nodes: int = field(default=1, metadata=_help("Machines taking part in the run (torchrun --nnodes)."))
    node_rank: int = field(default=0, metadata=_help("This machine's number among the nodes, 0 to nodes-1."))
    rdzv_endpoint: str = field(default="", metadata=_help("host:port where the nodes meet (torchrun "
                                                           "--rdzv-endpoint). Empty: this machine, a free port."))
    join_timeout: int = field(default=300, metadata=_help("Seconds each machine waits at the rendezvous for all "
                                                           "the others before it gives up with a message, leaving "
                                                           "nothing running (torchrun --rdzv-conf join_timeout)."))


def section(factory: Callable[[], Any], text: str, renames: dict[str, str | None] | None = None,
            mapping_of: str = "settings") -> Any:
    """A RunConfig field that is a section of the YAML file (`dataset:`, `model:`, …). `renames` maps old key
    names to new ones (None: dropped with a notice) on load and for `--set`; `mapping_of` says, in the message
    for a section that is not a mapping, what it holds."""
    return field(default_factory=factory,
                 metadata={"help": text, "section": True, "renames": renames or {}, "mapping_of": mapping_of})


@dataclass
class RunConfig:
    """The whole config, and the one declaration of its layout: each field below is a top-level YAML key and
    each `section(...)` one section. YAML load and save, `--set`, validation's type checks and the forms' help
    texts all read this, so a new section or field is added here and nowhere else (its form row aside)."""

    name: str = field(default="", metadata={**_help("Run name; its folder is <runs folder>/<name>. Empty: "
                                                    "generated."), "parse": str})
    runs_dir: str | None = field(
        default=None, metadata=_help("Folder that holds all runs. Empty: the per-user default.")
    )
    dataset: DatasetConfig = section(DatasetConfig, "What to train on and how rows become batches.")
    model: ModelConfig = section(ModelConfig, "The causal LM to fine-tune and how to load it.", RENAMED_MODEL_KEYS)
    training: dict[str, Any] = section(lambda: dict(SEED_TRAINING),
                                       "TrainingArguments fields by their own names (the seed's unless set).",
                                       RENAMED_TRAINING_KEYS, mapping_of="TrainingArguments fields")
    hub: HubConfig = section(HubConfig, "Where 'push when training ends' uploads the model.")
    adapter: AdapterConfig = section(AdapterConfig, "Full fine-tuning or adapters (LoRA, QLoRA, DoRA).")
    chat: ChatConfig = section(ChatConfig, "Instruction and chat data: row format, chat template, what is trained.")
    launch: LaunchConfig = section(LaunchConfig, "Devices, processes and machines the run trains on.")
    prompts: list[str] = field(
        default_factory=list,
        metadata={**_help("Saved prompts: the Try tab's list, replayed greedily on every checkpoint by Compare "
                          "checkpoints and by 'finetune-studio generate --prompts'."), "parse": lambda v: _prompts(v)},
    )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def copy(self) -> RunConfig:
        return parse_config(self.to_dict())[0]


def _prompts(value: Any) -> list[str]:
    """`prompts:` as a list of strings: one string is one prompt; a list keeps its non-empty entries as text."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [str(item) for item in items if item is not None and str(item).strip()]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return dict(value) if isinstance(value, dict) else value


TOP_LEVEL_KEYS = tuple(f.name for f in dataclasses.fields(RunConfig))
# The sections by name, as RunConfig declares them: {"dataset": its dataclasses.Field, ...}.
SECTIONS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(RunConfig) if f.metadata.get("section")}


def section_type(name: str) -> type | None:
    """The dataclass of a section ("dataset" -> DatasetConfig); None for a free mapping (training)."""
    value = SECTIONS[name].default_factory()  # type: ignore[misc]
    return type(value) if dataclasses.is_dataclass(value) else None


def config_field(key: str) -> dataclasses.Field | None:
    """The declaration of a dotted config key ("dataset.source", "name"); None for a training field (the installed
    TrainingArguments declares those) or an unknown key."""
    head, _, rest = key.partition(".")
    if not rest:
        return next((f for f in dataclasses.fields(RunConfig) if f.name == head), None)
    cls = section_type(head) if head in SECTIONS else None
    return next((f for f in dataclasses.fields(cls) if f.name == rest), None) if cls else None


def field_help(key: str) -> str:
    """The help text of a dotted config key: one source for the forms' tooltips and the docs."""
    found = config_field(key)
    return str(found.metadata.get("help", "")) if found is not None else ""


def default_config() -> RunConfig:
    """The offline default: seed recipe on the built-in demo model and sample dataset."""
    return RunConfig()


def seed_preset() -> RunConfig:
    """The tutorial exactly: Qwen3-0.6B on karthiksagarn/astro_horoscope (needs the Hub)."""
    return RunConfig(dataset=DatasetConfig(source=SEED_DATASET_ID), model=ModelConfig(name_or_path=SEED_MODEL_ID))


def demo_preset() -> RunConfig:
    return default_config()


def chat_demo_preset() -> RunConfig:
    """Chat fine-tuning offline in one click: the demo model learns the built-in chats' assistant replies (ChatML,
    since the demo tokenizer has no template) and to end each reply. Bigger steps and a higher learning rate than
    the seed's: measured, 150 steps of 16 chats at 2e-3 have the demo model answer in the sample's style and
    stop at <|im_end|>."""
    config = default_config()
    config.dataset.source = CHAT_DATASET_ID
    config.dataset.max_length = 128
    config.training.update({"num_train_epochs": 1, "per_device_train_batch_size": 16,
                            "gradient_accumulation_steps": 1, "learning_rate": 2e-3,
                            "activation_checkpointing": False})
    return config


PRESETS = {"demo": demo_preset, "seed": seed_preset, "chat-demo": chat_demo_preset}


def default_runs_dir() -> Path:
    """Per-user runs folder; FINETUNE_STUDIO_RUNS overrides it."""
    env = os.environ.get("FINETUNE_STUDIO_RUNS")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "finetune-studio" / "runs"


def runs_dir_of(config: RunConfig) -> Path:
    """The config's runs folder; the per-user default where it names none. A runs_dir that is not text (a list or a
    mapping, from code: a config file's is refused by parse_config, runs_dir_problem) names no one folder, so the
    default stands in and the caller's check of it does not crash; validate() reports it with runs_dir_problem."""
    value = config.runs_dir
    if isinstance(value, (str, os.PathLike)) and str(value):
        return Path(value).expanduser()
    return default_runs_dir()


def runs_dir_problem(config: RunConfig) -> Problem | None:
    """What is wrong with a runs_dir that is not text, with the value as written and a "To fix:"; None when it is
    text or not set (whether that folder can be written is validate()'s check)."""
    return None if config.runs_dir is None else _not_text_problem("runs_dir", config.runs_dir)


def name_problem(config: RunConfig) -> Problem | None:
    """What is wrong with a run name that is not text (a config built in code, a form: a file's is refused as it is
    read), in the words a file's gets; None when it is text (validate() judges it as a folder name then)."""
    return _not_text_problem("name", config.name)


@functools.lru_cache(maxsize=1)
def text_keys() -> frozenset[str]:
    """The dotted keys RunConfig declares as text (str, or str | None): dataset.source, dataset.text_column, …
    Training fields are not among them: the installed TrainingArguments declares those."""
    return frozenset(key for key, hint in _declared_hints() if is_text_type(hint))


def _declared_hints() -> list[tuple[str, Any]]:
    """Every field RunConfig and its dataclass sections declare, as (dotted key, type hint)."""
    owners = [("", RunConfig)] + [(f"{name}.", section_type(name)) for name in SECTIONS]
    return [(prefix + name, hint) for prefix, cls in owners if cls is not None
            for name, hint in typing.get_type_hints(cls).items()]


@functools.lru_cache(maxsize=1)  # RunConfig's fields are fixed: computed once, not at each config file read
def _text_paths() -> tuple[tuple[Any, ...], ...]:
    """Where a config file holds RunConfig's text, as PyYAML path-resolver paths: a text field (("name",),
    ("dataset", "source"), and ("model", "model_name_or_path") under its old name too), and each entry of a list or
    mapping of text (prompts, adapter.target_modules, chat.columns' values) besides the field itself (`prompts:
    12:30` is one prompt)."""
    paths: list[tuple[Any, ...]] = []
    for key, hint in _declared_hints():
        *head, name = key.split(".")
        renames = SECTIONS[head[0]].metadata["renames"] if head else {}
        names = [name] + [old for old, new in renames.items() if new == name]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if is_text_type(hint):
            paths += [(*head, each) for each in names]
        elif origin in (list, dict) and args[-1] is str:
            entry = (origin, None)  # (list or dict, None): any entry's value, never a mapping's key
            paths += [path for each in names for path in ((*head, each), (*head, each, entry))]
    return tuple(paths)


def is_text_type(hint: Any) -> bool:
    """str or str | None: a field whose value is text whatever YAML would make of it (2024, 1e2, a: b)."""
    return hint is str or set(typing.get_args(hint)) == {str, type(None)}


def _set_keeps_text(key: str, value: Any) -> bool:
    """Whether a `--set` value YAML read as a number, bool, list or mapping is meant as the text typed: a text
    field of RunConfig, or a training field that takes text, alone or among other types, and would refuse what
    YAML made of it (run_name=2024 is the run "2024", report_to=5 the text "5"; validation.wants_typed_text).
    The quotes that would make YAML read text do not survive a shell unless the whole option is quoted too. Only
    --set asks about training keys, so loading a YAML file still imports no transformers."""
    if key in text_keys():
        return True
    section, _, name = key.partition(".")
    if section != "training" or "." in name:
        return False
    from finetune_studio.core.validation import training_fields, wants_typed_text

    declared = training_fields().get(name)
    return declared is not None and wants_typed_text(declared, value)


def as_text(key: str, value: Any) -> Any:
    """A number given for a text field, as text (a form's or a caller's dict; a config file keeps the text as written,
    see _yaml_loader); anything else unchanged, for validate() to judge (true is not taken for "True", nor a list
    for its text)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return str(value) if number and key in text_keys() else value


def nearest(name: str, choices: list[Any] | tuple[Any, ...]) -> str | None:
    """The choice `name` was most likely meant to be, or None where no guess is good enough to say "Did you mean"
    (the caller then lists the choices). Names are compared folded (case, spaces, hyphens, underscores, dots and
    Unicode form ignored), and a choice is a guess when the name folds to it exactly ('BF16', 'Adamw-Torch'), or
    differs by a slip of the hand: one edit (insert, delete, change, swap two neighbours) for names of 3 characters,
    two from 4 ('epcoh' and 'epok' for epoch, 'txt' for text), with difflib's similarity at least 0.6 as before; or
    by a word left out: its words are the choice's, in order, less some ('Horoscope' for 'Horoscope Text'), or, for
    long names (10 characters folded), a similarity of at least 0.85 (per_device_batch_size). All keep the name's
    digits (in any order: 'bfloat61' is bfloat16): a digit changed is another value, not a typo, so 'float8'
    guesses none of float16 and float32 (difflib alone said float32, a precision the user did not ask for, as if it
    were what they meant), nor 'fp32' fp16, nor 'lion' one of lion_8bit and lion_32bit. Names under 3 characters
    are guessed only when they fold to a choice ('on' is not a typo of 'no')."""
    import unicodedata

    def folded(text: str) -> str:
        return re.sub(r"[\s\-_.]+", "", unicodedata.normalize("NFKC", text).casefold())

    def typos(a: str, b: str) -> int:  # optimal string alignment: insert, delete, change, swap two neighbours
        before: list[int] = []
        previous = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            row = [i] + [0] * len(b)
            for j, y in enumerate(b, 1):
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x != y))
                if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                    row[j] = min(row[j], before[j - 2] + 1)
            before, previous = previous, row
        return previous[-1]

    def words(text: str) -> list[str]:
        return [w for w in re.split(r"[\s\-_.]+", unicodedata.normalize("NFKC", text).casefold()) if w]

    def left_out(few: list[str], more: list[str]) -> bool:  # few: more's words, in order, less at least one
        rest = iter(more)
        return len(few) < len(more) and all(word in rest for word in few)

    typed = folded(str(name))
    digits = sorted(c for c in typed if c.isdigit())
    best: tuple[int, float, int] | None = None
    found = None
    for order, choice in enumerate(c for c in choices if isinstance(c, str)):
        other = folded(choice)
        if not typed or not other:
            continue
        likeness = difflib.SequenceMatcher(None, typed, other).ratio()
        if other == typed:
            edits = 0
        elif sorted(c for c in other if c.isdigit()) != digits or len(typed) < 3:
            continue
        else:
            edits = typos(typed, other)
            slip = edits <= (1 if len(typed) == 3 else 2) and likeness >= 0.6
            long = min(len(typed), len(other)) >= 10 and likeness >= 0.85
            if not slip and not long and not left_out(words(str(name)), words(choice)):
                continue
        rank = (edits, -likeness, order)
        if best is None or rank < best:
            best, found = rank, choice
    return found


# Past this many names a section's names are not all listed beside an unknown key: TrainingArguments' 100+ names
# buried the message (and, in a terminal, the screen); the few closest are named instead (close_names).
LISTED_NAMES = 12
CLOSE_NAMES = 3


def close_names(name: str, choices: list[str] | tuple[str, ...], count: int = CLOSE_NAMES) -> list[str]:
    """The few choices most like `name` (difflib, compared with case, spaces, hyphens and dots folded to '_'), best
    first, for a message that cannot list them all; [] where none is alike. Looser than nearest, which guesses the
    one name meant: these are only offered to look at."""
    def fold(text: str) -> str:
        return re.sub(r"[\s\-.]+", "_", text.casefold())

    folded = {fold(choice): choice for choice in choices}
    return [folded[hit] for hit in difflib.get_close_matches(fold(name), list(folded), n=count, cutoff=0.6)]


def unknown_key_message(key: str, choices: list[str] | tuple[str, ...], where: str) -> str:
    """A key that is not one of its section's settings, in the shape of core.validation.choice_message: the key as
    written, the nearest name where one is near (nearest), and a "To fix:" that leads to a key the section reads.
    Where none is near, a short list of names is listed whole; a long one (TrainingArguments) only by its closest
    few (close_names), or by where to find them all."""
    hint = nearest(key, choices)
    if hint:
        return f"'{key}' is not a {where} setting. Did you mean '{hint}'? To fix: rename it to {hint}."
    if len(choices) <= LISTED_NAMES:
        return (f"'{key}' is not a {where} setting. Valid names: {', '.join(sorted(choices))}. To fix: rename it to "
                "one of them, or remove it.")
    close = close_names(key, choices)
    if close:
        listed = ", ".join(close)
        return (f"'{key}' is not a {where} setting. Close names: {listed}. To fix: rename it to the one you mean, or "
                "remove it.")
    return (f"'{key}' is not a {where} setting, nor close to one of its {len(choices)} names. To fix: correct the "
            "name (the app's All arguments tab lists them all), or remove it.")


def unknown_training_key_message(key: str, value: Any, names: list[str] | tuple[str, ...]) -> str:
    """A training key the installed TrainingArguments does not have (`names`): where transformers 5 folded it into
    another field (FOLDED_TRAINING_KEYS: warmup_ratio), where this app sets a TRL key (ELSEWHERE_TRAINING_KEYS:
    max_seq_length in dataset.max_length) or where transformers renamed it (RENAMED_TRAINING_KEYS, for a config
    built in code: a file's and --set's are renamed as they are read), that field and what to write; else
    unknown_key_message."""
    where = f"'{key}' is not a TrainingArguments setting"
    if key in FOLDED_TRAINING_KEYS and FOLDED_TRAINING_KEYS[key][0] in names:
        new, how = FOLDED_TRAINING_KEYS[key]
        fraction = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1
        fix = f"write {new}: {number_text(value)} in its place" if fraction else f"remove it and set {new}"
        return f"{where}: transformers 5 removed it, and {new} {how}. To fix: {fix}."
    if key in ELSEWHERE_TRAINING_KEYS:
        return _elsewhere_message(key, value, where)
    if key in RENAMED_TRAINING_KEYS:
        new = RENAMED_TRAINING_KEYS[key]
        if new is None:
            return f"{where}: transformers 5 removed it, and what it set is now fixed. To fix: remove it."
        if new in names:
            return f"{where}: transformers 5 calls it {new}. To fix: rename it to {new}."
    return unknown_key_message(key, names, "TrainingArguments")


def _elsewhere_message(key: str, value: Any, where: str) -> str:
    """A TRL key in the training section (ELSEWHERE_TRAINING_KEYS), where this app sets it, and what to write there:
    'max_seq_length': 1024 -> "move it to the dataset section as max_length: 1024"; 'packing': true -> "write
    batching: packed in the dataset section"; a flag set to false asks for nothing but its removal."""
    path, mode, whose = ELSEWHERE_TRAINING_KEYS[key]
    section, name = path.split(".", 1)
    head = f"{where}: it is {whose}, which this app sets in {path}"
    if mode is not None:
        if value is False:
            return (f"{head} ('{mode}' there). To fix: remove it; {path} says how rows are batched ('padded' unless "
                    "set).")
        return f"{head}. To fix: remove it, and write {name}: {mode} in the {section} section."
    if value is None or isinstance(value, (bool, dict, list)):
        return f"{head}. To fix: remove it, and set {name} in the {section} section."
    shown = number_text(value) if isinstance(value, (int, float)) else repr(str(value))
    return f"{head}. To fix: move it to the {section} section as {name}: {shown}."


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


def _parse_section(where: str, data: Any, notices: list[str], problems: list[Problem]) -> Any:
    declared = SECTIONS[where]
    default = declared.default_factory()  # type: ignore[misc]
    if data is None:
        return default
    if not isinstance(data, dict):
        what, example = declared.metadata["mapping_of"], _section_example(where, default)
        defaults = "the seed's" if where == "training" else "its defaults"
        problems.append(Problem(where, f"{where} must be a mapping of {what}, not {kind_of(data)} (got "
                                       f"{_shown(data)}). To fix: write each as key: value on its own line, indented "
                                       f"under {where}:, e.g. {where}: {example}, or remove {where} to use "
                                       f"{defaults}."))
        return default
    data = _rename(data, declared.metadata["renames"], where, notices)
    if not dataclasses.is_dataclass(default):
        return {**default, **data}  # a free mapping (training): its keys are checked by validate()
    names = [f.name for f in dataclasses.fields(default)]
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            problems.append(Problem(f"{where}.{key}", unknown_key_message(key, names, where)))
        else:
            kwargs[key] = as_text(f"{where}.{key}", value)
    return type(default)(**kwargs)


def _shown(value: Any, limit: int = 80) -> str:
    """as_written, cut to `limit` characters: a message quotes what the file holds, not a whole file of it."""
    text = as_written(value)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _section_example(where: str, default: Any) -> str:
    """One setting of a section as a file writes it, from its declaration: {name_or_path: builtin:demo}."""
    values = dataclasses.asdict(default) if dataclasses.is_dataclass(default) else dict(default)
    key, value = next(((k, v) for k, v in values.items() if v not in (None, "", [], {})), next(iter(values.items())))
    return as_written({key: value})


def not_a_mapping_message(what: str, data: Any) -> str:
    """A whole config (a file's top level, or a caller's value) that is not a mapping of settings: what it is, as
    written, and what a config file looks like."""
    *first, last = SECTIONS
    return (f"{what} must be a mapping of settings ({', '.join(first)} and {last}, each as key: value at the start "
            f"of a line), not {kind_of(data)} (got {_shown(data)}). To fix: write the settings as key: value lines, "
            f"e.g. model: {{name_or_path: {DEMO_MODEL_ID}}}, or write a new config with 'finetune-studio init "
            "NEW.yaml' and change what you need in it.")


def _not_text_problem(key: str, value: Any) -> Problem | None:
    """A top-level value that must be text (name, runs_dir) or prompts (text, or a list of text), given as a list, a
    mapping or another value that is not text: refused with the value as written, instead of becoming Python's text
    of it (`name: [a]` was the run "['a']", `prompts: {a: b}` the prompt "{'a': 'b'}") or, for runs_dir, a crash
    wherever the runs folder was asked for. A number is text already (as_text); null means "not set"."""
    if key == "prompts":
        return _prompts_problem(value)
    if key not in ("name", "runs_dir") or isinstance(value, str):
        return None
    if key == "runs_dir" and isinstance(value, os.PathLike):
        return None
    got = f"not {kind_of(value)} (got {_shown(value)})"
    if key == "name":
        return Problem("name", f"name must be one run name as text, {got}. To fix: write one name of letters, "
                               "digits, - and _, e.g. name: my-run, or remove name to have one made from the date "
                               "and time.")
    return Problem("runs_dir", f"runs_dir must be one folder as text, {got}. To fix: write one folder, e.g. runs_dir: "
                               f"~/finetune-runs, or remove runs_dir to use the per-user default "
                               f"({default_runs_dir()}).")


def _prompts_problem(value: Any) -> Problem | None:
    """`prompts:` holding a mapping, or an entry that is a list or a mapping: YAML reads a plain line with ': ' in it
    (- Question: why?) as a mapping, so the likely prompt is that line, which the fix quotes."""
    def quoted(item: Any) -> str:  # the line as written, in the quotes that keep it text: ['Question: why?']
        if isinstance(item, dict) and len(item) == 1:
            (k, v), = item.items()
            if not isinstance(k, (dict, list)) and not isinstance(v, (dict, list)):
                return as_written([f"{as_written(k)}: {as_written(v)}"])
        return as_written([as_written(item)]) if isinstance(item, (list, tuple)) else "['…']"

    if isinstance(value, dict):
        return Problem("prompts", f"prompts must be a list of prompts, not a mapping (got {_shown(value)}); YAML reads "
                                  "a line with ': ' in it as a mapping. To fix: write each prompt as text in quotes, "
                                  f"e.g. prompts: {quoted(value)}, one '- ' line per prompt.")
    if not isinstance(value, (list, tuple)):
        return None
    for number, item in enumerate(value, 1):
        if isinstance(item, (dict, list, tuple)):
            hint = "; YAML reads a line with ': ' in it as a mapping" if isinstance(item, dict) else ""
            return Problem("prompts", f"prompt {number} of prompts is {kind_of(item)} ({_shown(item)}), not "
                                      f"text{hint}. To fix: write it as one prompt in quotes, e.g. - "
                                      f"{quoted(item)[1:-1]}.")
    return None


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
        raise ConfigError([Problem("", not_a_mapping_message("A config", data))])
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(Problem(str(key), unknown_key_message(str(key), TOP_LEVEL_KEYS, "top-level")))
    kwargs: dict[str, Any] = {}
    for declared in dataclasses.fields(RunConfig):
        value = data.get(declared.name)
        if declared.name in SECTIONS:
            kwargs[declared.name] = _parse_section(declared.name, value, notices, problems)
        elif value is not None:
            value = as_text(declared.name, value)
            problem = _not_text_problem(declared.name, value)
            if problem:  # refused, not turned into Python's text of it: the partial config keeps the default
                problems.append(problem)
                continue
            kwargs[declared.name] = declared.metadata.get("parse", lambda v: v)(value)
    config = RunConfig(**kwargs)
    if problems:
        raise ConfigError(problems, partial=config)  # without its unknown keys: `validate` lists its problems too
    from finetune_studio.core.adapters import follow_method  # a LoRA config without a learning rate gets LoRA's

    training = data.get("training")
    notices += follow_method("full", config, explicit=training if isinstance(training, dict) else ())
    return config, notices


@functools.lru_cache(maxsize=4)
def _yaml_loader(config_file: bool = False, fast: bool = False) -> type:
    """SafeLoader that reads 2e-5 as a number (YAML 1.1 wants 2.0e-5, and every tutorial writes 2e-5) and
    `eval_strategy: no` as the string TrainingArguments expects (YAML 1.1 makes no/yes/on/off booleans). `fast`: the
    same on CSafeLoader, libyaml's parser under the same resolvers and constructors (made once each: lru_cache).

    For a config file (`config_file`), a text field of RunConfig keeps a plain value as the text written: `name:
    1e2` was the number 100 and became the run '100' (0x10 '16', 12:30 '750', true 'True'), the text itself gone
    before parse_config saw it. PyYAML's path resolvers mark where that text sits (_text_paths); null, ~ and an
    empty value still mean "not set". Training fields are not among them: TrainingArguments declares those, and
    loading a config imports no transformers (validate says how to quote one)."""
    import re

    import yaml

    class Loader(yaml.CSafeLoader if fast else yaml.SafeLoader):  # type: ignore[misc,valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            """A key given twice in one mapping is an error: PyYAML keeps the last value without a word, so a second
            `dataset:` section (or `learning_rate:`) silently replaced the first, and the run trained on data or
            settings the user never saw in the file."""
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key: the base class says what is wrong with it
                    continue
                if first is not key_node:
                    error = yaml.constructor.ConstructorError(
                        f"the first one is the {key!r}", first.start_mark,
                        f"{key!r} is given twice in the same section, and the second would silently replace the "
                        "first; keep one", key_node.start_mark)
                    error.fix = (f"delete the {key!r} at line {key_node.start_mark.line + 1} or the one at line "
                                 f"{first.start_mark.line + 1}, keeping the value you mean")
                    raise error
            return super().construct_mapping(node, deep)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            """A plain 1e2 resolves to a tag of its own, so _construct_exponent sees it (`!!float 1e2` does not); a
            text field's plain value, where a path resolver marks one, to text whatever it looks like."""
            tag = super().resolve(kind, value, implicit)
            exact = self.resolver_exact_paths[-1] if self.resolver_exact_paths else {}
            if kind is yaml.ScalarNode and implicit[0] and tag != _NULL_TAG and exact.get(kind) == _STR_TAG:
                return _STR_TAG
            if tag == "tag:yaml.org,2002:float" and _EXPONENT_NUMBER.fullmatch(value.replace("_", "")):
                return EXPONENT_TAG
            return tag

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list(_FLOAT_FIRST))
    Loader.add_constructor(EXPONENT_TAG, _construct_exponent)
    if config_file:
        # A prompts file that is a list at the top (`generate --prompts`) keeps its prompts as written too; a config
        # file that is a list is refused anyway.
        for path in [*_text_paths(), ((list, None),)]:  # resolved only where no implicit rule matched: resolve()
            Loader.add_path_resolver(_STR_TAG, list(path), yaml.ScalarNode)
    return Loader


_STR_TAG, _NULL_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"


# A float as YAML 1.2 writes it, 1e2 and 2e-5 among them (PyYAML's own YAML 1.1 rule wants a decimal point, so it
# reads 2e-5 as text): what yaml_load reads as a number, and so what to_yaml must quote when it is text.
_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X)
_FLOAT_FIRST = "-+0123456789."


@functools.lru_cache(maxsize=1)  # made once: every as_written() of a message dumps through it
def _yaml_dumper() -> type:
    """SafeDumper that quotes every text yaml_load would read as a number: a run name or a column named 1e2 was
    written plain and came back as the number 100 (PyYAML's dumper checks its own, narrower float rule)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list(_FLOAT_FIRST))
    return Dumper


def number_text(value: Any) -> str:
    """A number as people write hyperparameters, for messages and fields: 2e-05 -> "2e-5", 1e308 -> "1e308" (not
    Python's 1e+308, nor :g's 1e+308), 3.0 -> "3", 0.01 -> "0.01", 1.2345678 -> "1.2345678" (not :g's 1.23457: every
    digit the value holds, so it reads back as the same number). A whole number of 1e15 or more that ends in zeros
    keeps its exponent (1e308, which YAML's loader here reads as the whole number: core.config._construct_exponent),
    not 309 digits. Anything else as str(), None as ""."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, int) and abs(value) >= 10**15 and value % 1000 == 0:
        digits = str(abs(value))
        kept = digits.rstrip("0")
        mantissa = kept[0] + (f".{kept[1:]}" if len(kept) > 1 else "")
        return f"{'-' if value < 0 else ''}{mantissa}e{len(digits) - 1}"
    return field_number(value)


def field_number(value: Any) -> str:
    """2e-05 -> "2e-5", 3.0 -> "3", 0.01 -> "0.01", a whole int in all its digits: how a number field shows a value
    (gui.forms.common.format_number is this), which must read back as the same kind of number (parse_number): a
    whole number of 1e18 written "1e18" would read back as a float. number_text, for messages, shortens those."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) < 1e15):
        return str(int(value))
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


_GROUPED_DIGITS = re.compile(r"[+-]?\d{1,3}(,\d{3})+")


def parse_number(text: str) -> int | float | None:
    """The inverse of field_number; None for text that is not a finite number. "10" stays an int. One reading for
    the window's number fields (gui.forms.common) and the comma rule here."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def comma_fix(text: str, integer: bool = False) -> str | None:
    """What to write instead of a number typed with a comma in it ("1,5e-4": a decimal comma; "1,000": digits grouped;
    "8,": a list's comma), starting lowercase ("a comma cannot mark the decimals here. To fix: write 1.5e-4, with a
    decimal point."), or None where the comma is not why the text is no number. `integer`: the setting takes whole
    numbers only. The text itself is never rewritten: "1,5e-4" read as 15e-4 (a comma dropped) would train ten times
    faster than meant, so the user is told which number to write and writes it. One rule for the window's number
    fields and for validate (a YAML file or --set keeps "1,5e-4" as text)."""
    if not isinstance(text, str) or "," not in text:
        return None
    text = text.strip()
    bare = text.rstrip(",").strip()
    if bare != text and "," not in bare and parse_number(bare) is not None:  # "8," pasted with its list's comma
        return f"a comma is no part of a number. To fix: write {bare}."
    # 1,000: thousands, or (1,500 as a European 1.5) decimals; the user knows. Not thousands where the digits before
    # the first comma start with 0 (0,001 is 0.001: 0001 is no way to write one), nor decimals past one comma
    # (1,000,000 is no decimal number): then the one reading left is said, or the decimals' rule below.
    if _GROUPED_DIGITS.fullmatch(text) and not re.match(r"[+-]?0", text):
        plain, point = text.replace(",", ""), text.replace(",", ".")
        if integer or text.count(",") > 1:
            return f"a comma cannot group the digits here. To fix: write {plain}."
        return (f"a comma cannot group the digits nor mark the decimals here. To fix: write {plain}, or {point} if "
                "the comma marks the decimals.")
    if text.count(",") == 1 and "." not in text and parse_number(text.replace(",", ".")) is not None:
        point = re.sub(r"^([+-]?)\.", r"\g<1>0.", text.replace(",", "."))  # ",5" is 0.5
        if integer and not float(point).is_integer():
            return f"a comma cannot mark the decimals, and this field takes whole numbers only. To fix: write one, " \
                   f"such as {max(int(float(point)), 1)}."
        return f"a comma cannot mark the decimals here. To fix: write {point}, with a decimal point."
    return None


def as_written(value: Any) -> str:
    """A config value as a YAML file writes it on one line, keys in the file's order: [a, b], {host: a, port: 1},
    true, null, and a text that would read as a number quoted ('1e2'), as to_yaml writes it. What messages and
    fields show for a value the user wrote: Python's form (['a', 'b'], True, None) is not what the file says."""
    import yaml

    try:
        text = yaml.dump(value, Dumper=_yaml_dumper(), default_flow_style=True, sort_keys=False, allow_unicode=True,
                         width=10_000).strip()
    except yaml.YAMLError:  # an object YAML has no form for: its plain text
        return str(value)
    return text[:-4].strip() if text.endswith("\n...") else text.removesuffix("...").strip()


def kind_of(value: Any) -> str:
    """What a YAML value is, in a user's words: "a list", "a mapping", "a true/false value", "a number", "text"."""
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "no value"
    kinds = {"dict": "a mapping", "list": "a list", "str": "text", "date": "a date", "datetime": "a date and time"}
    return kinds.get(type(value).__name__, type(value).__name__)


# Far beyond any model's context window: the longest released ones take about 10 million tokens, most 4,096 to
# 131,072; a row this long would not fit in any memory. (Here, not in core.validation, so the window's Max length
# box can take its range from it without importing validation at start.)
MAX_CONTEXT_TOKENS = 10_000_000
# The fewest tokens a row can be cut to and still train: a causal LM's loss pairs each token with the one after it,
# so one token trains nothing. (Here for the same reason as MAX_CONTEXT_TOKENS.)
MIN_TRAINING_TOKENS = 2

# A number written with an exponent and no decimal point: 1e2, 5e3, -2E+4 (and 2e-5, which is not whole).
_EXPONENT_NUMBER = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+")
EXPONENT_TAG = "tag:finetune-studio,2025:exponent"


def _construct_exponent(loader: Any, node: Any) -> Any:
    """A number written with an exponent and no decimal point: the int it is when it is a whole number (max_steps:
    1e2, --set save_steps=5e3), else the float YAML makes of it (2e-5; 1e400, infinity). Whoever writes 1e2 means
    100, and an int is what a whole-number field takes (a float field takes it as well); 1.0e2 and 100.0 stay
    floats, which a whole-number field refuses with its own message."""
    value = loader.construct_yaml_float(node)
    if isinstance(value, float) and math.isfinite(value):
        exact = fractions.Fraction(loader.construct_scalar(node).replace("_", ""))
        if exact.denominator == 1:
            return int(exact)
    return value


def yaml_load(text: str, config_file: bool = False) -> Any:
    """YAML as configs read it; `config_file`: a whole config file, whose text fields keep their text as written
    (not for a single value, where a mapping's `name:` key would be no run name)."""
    import yaml

    # libyaml's parser under the same rules, ~4x faster on a run's config, for text it reads as PyYAML does: not
    # text with a tab (libyaml takes a tab after `key:` or in a flow list as a space, where PyYAML refuses it and
    # the user is told to indent with spaces), nor a byte-order mark past the start (libyaml skips it, PyYAML
    # refuses it), nor text it cannot encode (a lone surrogate from a non-UTF-8 byte on the command line: libyaml
    # raises UnicodeEncodeError, PyYAML reads it as text). Fuzzed against PyYAML: tests/core/test_config_yaml_fast.py.
    if getattr(yaml, "__with_libyaml__", False) and "\t" not in text and "\ufeff" not in text[1:]:
        try:
            return yaml.load(text, Loader=_yaml_loader(config_file, fast=True))  # noqa: S506 - CSafeLoader subclass
        except (yaml.YAMLError, UnicodeError):
            pass  # read again by PyYAML's own parser, whose messages (marks, snippets) the user is shown
    return yaml.load(text, Loader=_yaml_loader(config_file))  # noqa: S506 - a SafeLoader subclass


def flat_settings(data: dict[str, Any]) -> dict[str, Any]:
    """{"training": {"learning_rate": 1e-4}} -> {"training.learning_rate": 1e-4}, one level deep: a dict-valued
    TrainingArguments field (lr_scheduler_kwargs) stays one value. How two configs are compared setting by setting
    (the CLI command's --set flags, Resume's note on where the form differs)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update({f"{key}.{inner}": item for inner, item in value.items()})
        else:
            out[key] = value
    return out


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
    return yaml.dump(data, Dumper=_yaml_dumper(), sort_keys=False, allow_unicode=True, default_flow_style=False)


def from_yaml(text: str, source: str = "config") -> tuple[RunConfig, list[str]]:
    import yaml

    try:
        data = yaml_load(text, config_file=True)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        start, context = getattr(exc, "context_mark", None), getattr(exc, "context", None)
        if start and context and (not mark or start.line != mark.line):  # an unclosed [ or { is found at the end
            problem += f" ({context} that starts at line {start.line + 1}, column {start.column + 1})"
        if "'\\t'" in problem:
            problem += "; YAML indents with spaces, not tabs"
        fix = _yaml_fix(exc, problem, mark)
        raise ConfigError([Problem("", f"{source} is not valid YAML{where}: {problem}. To fix: {fix}.")]) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError([Problem("", not_a_mapping_message(source, data))])
    return parse_config(data)


def _yaml_fix(exc: Exception, problem: str, mark: Any) -> str:
    """The "To fix:" of a YAML error: the loader's own (a key given twice), a tab to replace, a second document to
    take out, else the line to correct and the two slips that most often break a config file."""
    own = getattr(exc, "fix", None)
    if own:
        return own
    line = f"line {mark.line + 1}" if mark else "the file"
    if "'\\t'" in problem:
        return f"replace the tab at {line}, column {mark.column + 1} with spaces" if mark else "use spaces for tabs"
    if "another document" in problem:
        return (f"keep one config in the file: remove the '---' at {line} and what follows it (or move that into a "
                "file of its own)")
    return (f"correct {line} (or the line before it): each setting is key: value, a section's settings are indented "
            "under it with spaces, and text holding ': ', ' #' or a bracket goes in quotes")


def load_config(path: str | os.PathLike[str]) -> tuple[RunConfig, list[str]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem("", _unreadable_message(path, exc))]) from None
    config, notices = from_yaml(text, source=str(path))
    if not text.strip() or yaml_load(text) is None:  # only whitespace, comments or "---": not the demo
        raise ConfigError([Problem("", f"Config file {path} is empty: it holds no settings. To fix: write one with "
                                       "'finetune-studio init NEW.yaml' (or File → Save config in the app), or leave "
                                       "the file out to train the built-in demo.")])
    return config, notices


def pasted_command(command: str) -> str:
    """A command to paste, set apart in quotes once: 'finetune-studio init run.yaml'. One whose words shlex.quote
    quoted already ('/my runs/x') is shown bare, not nested in another pair that reads as closing the first."""
    return command if "'" in command else f"'{command}'"


def _unreadable_message(path: Path, exc: OSError | UnicodeDecodeError) -> str:
    """Why a config file cannot be read, and what to do: a path to check (and the YAML file meant, where one is
    near), a folder given for a file, bytes that are not UTF-8 (with their line), or the system's reason."""
    if isinstance(exc, FileNotFoundError):
        looked = "" if path.is_absolute() else f" (looked for in {Path.cwd()})"
        folder = path.parent
        if (folder / "status.json").exists() or (folder / "metrics.jsonl").exists():  # a run folder's config.yaml
            return (f"Config file not found: {path}. To fix: put the run's config.yaml back in {folder} (from a copy "
                    "of it); the run cannot be resumed, exported or compared without it.")
        if not folder.is_dir():
            return (f"Config file not found: {path}{looked}: the folder {folder} does not exist. To fix: check the "
                    "path, or write a new config with 'finetune-studio init NEW.yaml'.")
        names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
        near = nearest(path.name, names)
        hint = f"Did you mean {folder / near if str(path.parent) != '.' else near}? " if near else ""
        return (f"Config file not found: {path}{looked}. {hint}To fix: check the path, or write a new config there "
                f"with {pasted_command(f'finetune-studio init {shlex.quote(str(path))}')}.")
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        names = sorted(p.name for p in path.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file()) \
            if os.access(path, os.R_OK | os.X_OK) else []
        example = f", e.g. {path / ('config.yaml' if 'config.yaml' in names else names[0])}" if names else ""
        return (f"{path} is a folder, not a config file. To fix: give the YAML config file in it{example}, or write "
                f"one with {pasted_command('finetune-studio init ' + shlex.quote(str(path / 'my-run.yaml')))}.")
    if isinstance(exc, UnicodeDecodeError):
        line = exc.object[: exc.start].count(b"\n") + 1
        return (f"Cannot read config file {path}: {exc} (line {line}): it is not UTF-8 text. To fix: save it as "
                "UTF-8 (most editors offer the encoding when saving as), then run again.")
    if isinstance(exc, PermissionError):
        return (f"Cannot read config file {path}: {exc.strerror or exc}. To fix: make it readable to you (chmod u+r "
                f"{path}), or copy it to a folder of yours and give the copy.")
    return (f"Cannot read config file {path}: {exc.strerror or exc}. To fix: check that the file can be read (its "
            "disk is mounted, the file is whole), or give a copy of it.")


def save_config(config: RunConfig, path: str | os.PathLike[str]) -> None:
    atomic_write_text(Path(path), to_yaml(config))


def apply_overrides(config: RunConfig, overrides: list[str]) -> tuple[RunConfig, list[str]]:
    """CLI `--set section.key=value` (value parsed as YAML); a bare key means a training field. A field declared as
    text takes the value as typed whatever YAML makes of it: `dataset.source=data/a: b.jsonl` is that path, not the
    mapping {'data/a': 'b.jsonl'}, `dataset.text_column=2024` the column "2024" and `training.run_name=2024` the
    run "2024" (null still clears it). A list or mapping written as one ([a, b], {a: b}: _flow_collection) is that
    list or mapping, judged as the same value in a config file is: `hub.repo_id=[a, b]` was the repo "[a, b]"."""
    import yaml

    data = config.to_dict()
    problems: list[Problem] = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--set", _set_form_message(item, data)))
            continue
        parts = key.strip().split(".")
        if len(parts) == 1 and parts[0] not in TOP_LEVEL_KEYS:
            parts = ["training", parts[0]]
        renames = SECTIONS[parts[0]].metadata["renames"] if parts[0] in SECTIONS else {}
        if len(parts) == 2 and renames.get(parts[1]):
            parts[1] = renames[parts[1]]  # so the override replaces the current value instead of losing to it
        try:
            value = yaml_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        if value is not None and not isinstance(value, str) and not _flow_collection(raw, value) \
                and _set_keeps_text(".".join(parts), value):
            value = raw.strip()
        target = data
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[parts[-1]] = value
    if problems:
        raise ConfigError(problems)
    changed, notices = parse_config(data)
    from finetune_studio.core.adapters import follow_method  # --set adapter.method=lora brings LoRA's learning rate

    explicit = [key.strip().split(".")[-1] for key, _, _ in (item.partition("=") for item in overrides)]
    return changed, notices + follow_method(config.adapter.method, changed, explicit=explicit)


def _flow_collection(raw: str, value: Any) -> bool:
    """Whether a --set value is a list or a mapping written as YAML writes one on a line, [a, b] or {a: b}: the
    same text in a config file is that list or mapping, which a text field refuses (name_problem, runs_dir_problem,
    validate()) with the value as written and a "To fix:". It was kept as the text typed, so --set name=[a, b] made
    the run "[a, b]". A path with ': ' in it (data/a: b.jsonl), which YAML reads as a mapping as well, is not
    written as one and stays the text typed; no config file could hold it unquoted."""
    return isinstance(value, (list, dict)) and raw.strip()[:1] in ("[", "{")


def _set_form_message(item: str, data: dict[str, Any]) -> str:
    """A --set value without a key=value form: what it lacks, and the flag written so it works (with the key's
    current value where it names a setting that has one)."""
    key, sep, raw = item.partition("=")
    if sep:
        return (f"'{item}' names no setting before the '='. To fix: write the setting's name before it, e.g. --set "
                f"training.learning_rate={raw.strip() or '1e-4'}")
    parts = key.strip().split(".")
    if len(parts) == 1 and parts[0] not in TOP_LEVEL_KEYS:
        parts = ["training", parts[0]]
    current: Any = data
    for part in parts:
        current = current.get(part) if isinstance(current, dict) else None
    example = (f"{key.strip()}={as_written(current)}" if isinstance(current, (str, int, float)) and current != ""
               else "training.learning_rate=1e-4")
    return f"'{item}' must look like key=value (it has no '='). To fix: give the value after '=', e.g. --set {example}"


# ---- precision ---------------------------------------------------------------------------------------------


def precision_of(training: dict[str, Any]) -> str:
    """auto: neither bf16 nor fp16 is set, so the hardware decides; fp32: set, and neither is true. Only a real true
    turns one on, as validate() reads them: bf16: "no" (text) or 1 is refused there as not true or false, and was
    taken here for bf16, so the form, the estimate and the model card showed bf16 for a value that asks for none."""
    if training.get("bf16") is True:
        return "bf16"
    if training.get("fp16") is True:
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
