"""validate(config) -> every problem at once, in words a user understands, before any model or data loads.

The installed TrainingArguments dataclass is the reference for training keys and their types, so this follows
whatever transformers version is installed. Rules TrainingArguments itself enforces with terse errors (best-model
strategies, bf16 without support) are checked here first so that each gets a sentence and a field to mark.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import fractions
import math
import os
import re
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from finetune_studio.core.config import (
    MAX_CONTEXT_TOKENS,
    MIN_TRAINING_TOKENS,
    MODEL_DTYPES,
    SECTIONS,
    RunConfig,
    as_written,
    comma_fix,
    kind_of,
    name_problem,
    nearest,
    number_text,
    runs_dir_of,
    runs_dir_problem,
    section_type,
    unknown_training_key_message,
)
from finetune_studio.core.errors import WARNING, Problem
from finetune_studio.core.runs import run_as_runs_dir_words, run_holding, runs_folder_above

STRATEGIES = ("no", "steps", "epoch")


@lru_cache(maxsize=1)
def training_fields() -> dict[str, dataclasses.Field]:
    from transformers import TrainingArguments

    return {f.name: f for f in dataclasses.fields(TrainingArguments) if f.init}


def flag_value(declared: dataclasses.Field, value: Any) -> bool:
    """A field TrainingArguments also takes bare (its argparse `const`): `fsdp: true` turns FSDP on with its
    default sharding, the form transformers 5 no longer calls deprecated, though the field is typed as text."""
    return value is True and declared.metadata.get("const") is True


def _accepts(annotation: Any, value: Any) -> bool:
    """Loose type check against a TrainingArguments annotation; enums and unions accept their str forms."""
    if value is None:
        return True  # None means "library default" for nearly every field
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin in (list, tuple):  # a list, each item of its type ("0,1" is not [0, 1], nor true a GPU number)
        args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        return isinstance(value, (list, tuple)) and (
            len(args) != 1 or all(item is not None and _accepts(args[0], item) for item in value))
    if origin is dict or annotation is dict:  # dict[str, Any] and a bare dict (accelerator_config) alike
        return isinstance(value, (dict, str))
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if isinstance(annotation, type) and issubclass(annotation, str):  # str enums such as IntervalStrategy
        return isinstance(value, str)
    return True


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(dict.fromkeys(names))  # OptimizerNames | str: "text", once
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "text"  # one of the enum's names, as TrainingArguments takes them (optim: adamw_torch)
    if typing.get_origin(annotation) in (list, tuple):
        args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        items = {bool: "true or false values", int: "whole numbers", float: "numbers", str: "texts"}
        return f"a list of {items.get(args[0], 'values')}" if len(args) == 1 else "a list"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))


def _takes_text(annotation: Any) -> bool:
    """A field that takes text, alone or among other types (run_name; report_to, text or a list; optim, a name)."""
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    return annotation is str or str in options


def wants_typed_text(declared: dataclasses.Field, value: Any) -> bool:
    """Whether a training value YAML read as something else is meant as the text typed: the field takes text,
    alone or among other types, refuses what YAML made of the value, and the value is not its bare flag form.
    `--set` asks, where quotes cannot help (a shell eats them): report_to=5 is the text "5" (report_to also takes a
    list, so report_to=[wandb, tensorboard] stays a list), run_name=2024 the run "2024", but
    include_num_input_tokens_seen=true (text or true/false) stays true and fsdp=true is FSDP's flag form."""
    return _takes_text(declared.type) and not _accepts(declared.type, value) and not flag_value(declared, value)


def _type_fix(annotation: Any, key: str, value: Any) -> str:
    """' To fix: …' for a value of the wrong type: a number in quotes without them, true/false as bool_fix says,
    else the type to write (and, for a TrainingArguments `key`, that removing it gives transformers' default)."""
    from finetune_studio.core.hub import TRAINER_PUSH_FIELDS

    if key in TRAINER_PUSH_FIELDS:
        return ""  # refused whatever its value (core.hub.config_problems), which says what to do
    if annotation is bool or typing.get_args(annotation) == (bool, type(None)):
        return bool_fix(value)
    if isinstance(value, float) and value.is_integer() and _accepts(annotation, int(value)):
        return f" To fix: write {int(value)}, without a decimal point."
    comma = _comma_fix(value, integer=not _accepts(annotation, 0.5)) if _accepts(annotation, 1) else ""
    if comma:
        return comma
    unquote = _unquote_fix(value)
    if unquote and _accepts(annotation, float(value) if "." in value or "e" in value.lower() else int(value)):
        return unquote
    default = f", or remove {key} to use the default" if key else ""
    return f" To fix: write {_type_name(annotation)}{default}."


def written_value(value: Any) -> str:
    """A value as the user would write it back, for a message's "(got ...)": true, 2024-01-01, [a, b] (not True,
    datetime.date(2024, 1, 1), ['a', 'b']); text always in quotes ('no'), so a message tells it apart from its own
    words, and numbers as Python writes them (2e-05, which reads back as the same number). core.config.as_written is
    the form a field shows (text unquoted unless YAML would read it otherwise). Also core.adapters' adapter checks.

    A float is shown as the number YAML read, not as its text: validate gets values (from a file, --set or a form,
    which keep no text), so `seed: 1.0e3` shows 1000.0 — the decimal point that makes it a float is in both, and
    the fix beside it (write 1000) is the same. NaN and the infinities are said in words (NaN, infinity), not as
    Python's nan and inf, which a config file does not write (.nan, .inf); _not_finite says why a number is one."""
    if isinstance(value, float) and not math.isfinite(value):
        return _float_word(value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return repr(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return as_written(value)


def _empty(value: Any) -> bool:
    """Nothing written: no value, blank text, [] or {} (where one model or dataset source is wanted)."""
    return value is None or value == [] or value == {} or (isinstance(value, str) and not value.strip())


def _quote_fix(annotation: Any, key: str, value: Any) -> str:
    """How to write a number, true/false or a date as text in YAML (run_name: 2024 reads as the number 2024).
    TrainingArguments declares which fields are text, and loading a config does not import transformers, so a YAML
    file's training values stay as YAML read them and this says how to quote one. Not for the Trainer's own push
    settings: those are refused whatever their value (core.hub.config_problems), so quoting would not help."""
    from finetune_studio.core.hub import TRAINER_PUSH_FIELDS

    scalar = isinstance(value, (bool, int, float, datetime.date, datetime.time))
    if not _takes_text(annotation) or not scalar or key in TRAINER_PUSH_FIELDS:
        return ""
    # Not the value itself as the example: YAML has already turned 1e2 into 100 and 0x10 into 16.
    return f' To fix: put the value in quotes as you mean it ({key}: "…"), so YAML reads it as text.'


def bool_fix(value: Any) -> str:
    """' To fix: …' for a setting that must be true or false: the YAML loader (core.config._yaml_loader) reads only
    true/false as booleans, so yes, no, on and off stay text (and "true" in quotes is text too)."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return f" To fix: write {value.strip().lower()} without quotes."
    return " To fix: write true or false" + (" (yes, no, on and off are read as text)." if isinstance(value, str)
                                             else ".")


def bool_problem(key: str, value: Any) -> Problem:
    """A setting that must be true or false, with the value as written and how to write it."""
    name = key.rsplit(".", 1)[-1]
    return Problem(key, f"{name} must be true or false (got {written_value(value)}).{bool_fix(value)}")


# Beside a guess, the choices are listed only where they are few: a long list (optim's 40 names) would bury it.
SHORT_CHOICES = 8


def choice_fix(value: Any, choices: Iterable[Any], other: str = "") -> str:
    """' Did you mean …? To fix: …' for a value that is not one of `choices`, the one tail of every "not one of its
    choices" message (choice_message, core.chat's settings, core.adapters'): the nearest choice where the value is
    near one (core.config.nearest: only a slip of the hand, or a difference of case, spaces or punctuation, is
    guessed), named as what to write, with the choices beside it where there are at most SHORT_CHOICES; where none is
    near, the choices themselves, each a value that passes. `other`: what else may be done ("leave it empty")."""
    names = [str(choice) for choice in choices if choice is not None]
    also = f", or {other}" if other else ""
    hint = nearest(value, names) if isinstance(value, str) else None
    if hint is not None:
        listed = f" (the choices: {', '.join(names)})" if len(names) <= SHORT_CHOICES else ""
        return f" Did you mean '{hint}'? To fix: write {hint}{listed}{also}."
    return f" To fix: write one of {', '.join(names)}{also}."


def choice_message(key: str, value: Any, choices: Iterable[Any], what: str = "one of its choices", *,
                   other: str = "", name: str = "a name") -> str:
    """What is wrong with a setting that is not one of its choices, the same way for every such setting: the value
    as written, then choice_fix (the nearest name where one is near, and a "To fix:" that names values that pass).
    `what`: what the value is not ("a row format"); `other`: what else may be written or done ("give the template's
    Jinja text", "leave it empty"); `name`: what the setting holds, for a value of another kind (a list, a number)."""
    choices = list(choices)
    fix = choice_fix(value, choices, other)
    if value is None:
        return f"{key} has no value.{fix}"
    if isinstance(value, str) or any(not isinstance(c, str) for c in choices if c is not None):
        return f"{key} {written_value(value)} is not {what}.{fix}"
    return f"{key} must be {name}, not {kind_of(value)} (got {as_written(value)}).{fix}"


def _comma_fix(value: Any, integer: bool = False) -> str:
    """' A comma cannot mark the decimals here. To fix: write 1.5e-4, with a decimal point.' for a number typed with a
    comma ('1,5e-4', '1,000', '8,'), which YAML and --set keep as text: core.config.comma_fix's words, the window's
    number fields' too; '' for any other value. `integer`: the setting takes whole numbers only."""
    said = comma_fix(value, integer) if isinstance(value, str) else None
    return f" {said[0].upper()}{said[1:]}" if said else ""


def _unquote_fix(value: Any, accepts: Callable[[int | float], bool] | None = None) -> str:
    """' To fix: write 16 without quotes.' for a number written in quotes ('16') that `accepts` takes once unquoted
    (an int for digits alone, else a float); '' for anything else: '2.5' for a whole number, or '0' where 1 is the
    least, would be refused again without its quotes, so the caller's own fix says what to write."""
    if isinstance(value, str):
        text = value.strip()
        try:
            number: int | float = int(text) if re.fullmatch(r"[-+]?[0-9]+", text) else float(text)
        except ValueError:
            return ""
        if math.isfinite(number) and (accepts is None or accepts(number)):
            return f" To fix: write {text} without quotes."
    return ""


def _steps_multiple_problem(save_steps: float, eval_steps: float) -> str | None:
    """load_best_model_at_end's rule for save_steps and eval_steps as TrainingArguments checks it: a multiple, both
    step counts or both fractions of the run (below 1, compared as transformers does, at a millionth: 0.3 is a
    multiple of 0.1 there, not in float arithmetic), never one of each. None when it holds."""
    if save_steps % eval_steps == 0:
        return None
    if (save_steps < 1) != (eval_steps < 1):
        return (f"load_best_model_at_end needs save_steps ({number_text(save_steps)}) to be a multiple of "
                f"eval_steps ({number_text(eval_steps)}), which cannot be known when one is a fraction of the run and "
                "the other a step count. To fix: give both as fractions of the run (below 1) or both as step counts.")
    if save_steps < 1 and (save_steps * 1_000_000) % (eval_steps * 1_000_000) == 0:
        return None
    exact_save, exact_eval = fractions.Fraction(repr(save_steps)), fractions.Fraction(repr(eval_steps))
    multiple = float(math.ceil(exact_save / exact_eval) * exact_eval)
    return (f"load_best_model_at_end needs save_steps ({number_text(save_steps)}) to be a multiple of eval_steps "
            f"({number_text(eval_steps)}). To fix: set save_steps to {number_text(multiple)}, or another multiple of "
            f"{number_text(eval_steps)}.")


def _takes_none(annotation: Any) -> bool:
    """Whether a TrainingArguments annotation has None among its options (int | None, Optional[str], Any)."""
    if annotation is None or annotation is type(None) or annotation is Any:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_takes_none(arg) for arg in typing.get_args(annotation))
    return False


def _field_default(declared: dataclasses.Field) -> Any:
    """A TrainingArguments field's default as a config writes it: an enum member as its value."""
    if declared.default_factory is not dataclasses.MISSING:
        default = declared.default_factory()
    else:
        default = declared.default
    return default.value if isinstance(default, enum.Enum) else default


def _null_problem(key: str, declared: dataclasses.Field) -> str | None:
    """The words for a training field written as null (`eval_strategy: null`) whose type has no None: it passed the
    type check (None stands for "the default" where a field takes it), then TrainingArguments refused it in its own
    words ("None is not a valid IntervalStrategy"), or the Trainer failed once the run started (max_steps: null).
    None where the field takes None, or where core.hub refuses the field whatever its value."""
    from finetune_studio.core.hub import TRAINER_PUSH_FIELDS

    if key in TRAINER_PUSH_FIELDS or _takes_none(declared.type) or declared.default is dataclasses.MISSING \
            and declared.default_factory is dataclasses.MISSING:
        return None
    default = _field_default(declared)
    number = isinstance(default, (int, float)) and not isinstance(default, bool)
    said = number_text(default) if number else written_value(default)  # 5e-5, as a file writes it (not 5e-05)
    choices = _choices(declared)
    if choices:
        listed = ", ".join(f"'{choice}'" for choice in choices[:SHORT_CHOICES])
        more = f" … ({len(choices)} in all)" if len(choices) > SHORT_CHOICES else ""
        other = f"pick one of {listed}{more}"
    else:
        other = f"write {_type_name(declared.type)}"
    return (f"{key} is empty (null), and it takes no empty value: its default is {said}. To fix: remove the line to "
            f"use the default ({said}), or {other}.")


# The most rows a per-device batch size may name: a step puts that many rows on one GPU (or the CPU) at once, each
# up to max_length tokens, and the model's output alone is a score per token per vocabulary entry (a million rows of
# the shortest that train, 2 tokens, with a 32,000-word vocabulary: 256 GB in float32). Past it, a typo (1e20).
MAX_BATCH_ROWS = 1_000_000
BATCH_SIZE_KEYS = ("per_device_train_batch_size", "per_device_eval_batch_size")


# The most batches gradient_accumulation_steps may sum before an optimizer step. Each step, transformers reads that
# many batches into memory before it starts on them (Trainer.get_batch_samples), and where an epoch has fewer it
# steps once an epoch, on all of them: past this the run barely trains, or holds its data in memory, or both. Large
# pretraining recipes accumulate a few thousand; fine-tuning 1 to 64. Past it, a typo (8000 for 8, 1e8).
MAX_ACCUMULATION_STEPS = 10_000
# Whole-number training settings with an upper limit, checked before their type: 1e20 is no "write 10…0".
UPPER_LIMITS = {**dict.fromkeys(BATCH_SIZE_KEYS, MAX_BATCH_ROWS), "gradient_accumulation_steps": MAX_ACCUMULATION_STEPS}


def _past_batch_limit(value: Any, limit: int = MAX_BATCH_ROWS) -> bool:
    """A whole number (as an int, or a float such as 1e20 that YAML read with a decimal point) above `limit`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    whole = isinstance(value, int) or (math.isfinite(value) and value.is_integer())
    return whole and value > limit


def _accumulation_limit_message(value: int | float) -> str:
    return (f"gradient_accumulation_steps {number_text(value)} is far more than a run can use: it is the batches "
            "summed before each optimizer step, and each step reads that many batches into memory first; with fewer "
            "in an epoch, the run steps once an epoch and barely trains. Past "
            f"{MAX_ACCUMULATION_STEPS:,} it is refused (1 to 64 is usual; the seed uses 8). To fix: set it to 1 to "
            "64, such as 8; for a larger batch per step, raise per_device_train_batch_size or train on more "
            "processes.")


def _batch_limit_message(key: str, value: int | float) -> str:
    if key == "gradient_accumulation_steps":
        return _accumulation_limit_message(value)
    more = (", and raise gradient_accumulation_steps for a larger batch per optimizer step"
            if key == "per_device_train_batch_size" else "")
    return (f"{key} {number_text(value)} is far more rows than one device takes at once: it is the rows each GPU (or "
            f"the CPU) works on in one step, each up to max_length tokens long, and past {MAX_BATCH_ROWS:,} no "
            f"device's memory holds them (1 to 64 is usual). To fix: set it to the rows one device can take, such as "
            f"8{more}.")


# Past this a learning rate is refused, not warned about (warnings_for warns from LARGE_LEARNING_RATE up to it).
# Adam, the default, moves each weight by about learning_rate a step, and a model's weights are mostly well below 1:
# at 10 the first step wrecks the model (the loss turns to NaN). Optimizers that find their own step size
# (schedule-free, Prodigy, D-Adaptation) take 1 and, rarely, a few times that: those stay a warning.
MAX_LEARNING_RATE = 10.0


def _huge_learning_rate_message(lr: float) -> str:
    """validate()'s refusal of a learning rate above MAX_LEARNING_RATE, with the number a dropped minus sign would
    give where that is a usual learning rate (2e5 for 2e-5)."""
    try:
        mantissa, exponent = f"{lr:e}".split("e")
    except OverflowError:  # a whole number past a float (1e400 in a file is 10**400): no usual rate once flipped
        mantissa, exponent = "0", "0"
    flipped = float(f"{mantissa}e-{int(exponent)}") if int(exponent) > 0 else 0.0
    meant = number_text(flipped)
    guess = (f" If you meant {meant}, write its minus sign: {meant.replace('e-', 'e')} is {number_text(lr)}."
             if 1e-7 <= flipped <= 1e-2 and "e-" in meant else "")
    return (f"learning_rate {number_text(lr)} is far too large: Adam (the default optimizer) moves each weight by "
            "about learning_rate at every step, and a model's weights are mostly well below 1, so the first step "
            "wrecks the model and the loss turns to NaN. Fine-tuning uses about 1e-5 to 1e-3; optimizers that set "
            f"their own step size take 1, so up to {number_text(MAX_LEARNING_RATE)} is accepted with a warning."
            f"{guess} To fix: set learning_rate to 1e-5 to 1e-3 (the seed uses 2e-5).")


def _number(training: dict[str, Any], key: str, default: Any = None) -> Any:
    """The value if it is a finite number, else None (a wrong type or NaN/inf has its own problem already)."""
    value = training.get(key, default)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value if number and (isinstance(value, int) or math.isfinite(value)) else None


def whole_number_problem(key: str, value: Any, minimum: int, meaning: str = "") -> Problem | None:
    """A setting that must be a whole number of at least `minimum`: None if it is, else the problem in words
    (not a number, a fraction, a number written with a decimal point, or too small). `meaning`: what the smallest
    value means, said with "too small"."""
    name = key.rsplit(".", 1)[-1]
    more = f" ({meaning})" if meaning else ""
    fix = f" To fix: set {name} to a whole number, {minimum} or more{more}."
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        unquote = _comma_fix(value, integer=True) or _unquote_fix(
            value, lambda number: isinstance(number, int) and number >= minimum)
        return Problem(key, f"{name} must be a whole number (got {written_value(value)}).{unquote or fix}")
    if isinstance(value, float):
        if not math.isfinite(value):
            return Problem(key, f"{name} must be a whole number{_not_finite(value)}.{fix}")
        if not value.is_integer():
            return Problem(key, f"{name} must be a whole number (got {number_text(value)}).{fix}")
        if value >= minimum:
            return Problem(key, f"{name} must be a whole number written without a decimal point: {int(value)}, "
                                f"not {value!r}. To fix: write {int(value)}.")
    if value < minimum:
        return Problem(key, f"{name} is {number_text(value)}; it must be {minimum} or more{more}. To fix: set "
                            f"{name} to {minimum} or more.")
    return None




def _float_word(value: float) -> str:
    """NaN and the infinities as a person reads them in a message."""
    return "NaN" if math.isnan(value) else "infinity" if value > 0 else "minus infinity"


def _not_finite(value: float) -> str:
    """What follows "{key} must be a finite number" for NaN or an infinity. An infinity is most often a number too
    large for a float that YAML read as infinity (1e400: past about 1.8e308 every number overflows), so that is
    said; the file's text is not kept (validate reads values, from a file, --set or a form), so .inf, which reads
    the same, is named beside it."""
    if math.isnan(value):
        return " (got NaN)"
    if value > 0:
        return (", but the value is too large: it reads as infinity (a number past about 1.8e308, such as 1e400, "
                "overflows to infinity, as .inf is)")
    return (", but the value is too far below zero: it reads as minus infinity (a number below about -1.8e308, such "
            "as -1e400, overflows to minus infinity, as -.inf is)")


def _finite_number(value: float) -> str:
    """What to write instead of NaN or an infinity, for a "To fix:"."""
    return "a number" if math.isnan(value) else "a number below 1e308" if value > 0 else "a number above -1e308"


# Filesystems the kernel makes up: os.access says root may write there, yet no folder can be made (mkdir in /proc
# fails with "No such file or directory", in /sys with "Operation not permitted").
KERNEL_FOLDERS = ("/proc", "/sys")


def _writable_dir(path: Path) -> str | None:
    """None if path is (or can be created as) a writable folder, else why not. os.access alone trusted root
    everywhere: `--runs-dir /proc/runs` validated, and train failed making the folder ("FileNotFoundError … raised
    in pathlib"). So also: not on a read-only filesystem (statvfs), not under /proc or /sys, and where the folder
    does not exist yet and os.access cannot be trusted (_access_trusted: root, or no statvfs), a folder made and
    removed in its nearest existing parent, once for that parent as it is (_made_in): validate runs on every edit of
    the window, which must not make and remove a folder each time. An existing folder is never probed that way: the
    runs list watches it."""
    long = next((part for part in path.parts if len(os.fsencode(part)) > MAX_NAME_BYTES), None)
    if long is not None:  # os.stat failed with "[Errno 36] File name too long", said as validate crashing
        shown = long if len(long) <= 40 else f"{long[:20]}…{long[-8:]}"
        return f"the folder name {shown!r} in its path {_too_long(long)}. To fix: choose a shorter name."
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{probe} is a file, not a folder. To fix: choose a folder, or a path where one can be made."
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"cannot write to {probe}. To fix: pick a folder you can write to."
    real = os.path.realpath(probe)
    kernel = next((top for top in KERNEL_FOLDERS if real == top or real.startswith(top + os.sep)), None)
    if kernel:
        return (f"{path} is under {kernel}, which the system fills with its own entries: no folder can be made "
                "there. To fix: pick a folder you can write to, such as one in your home folder.")
    try:
        read_only: bool | None = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): the folder made below answers
        read_only = None
    if read_only:
        return (f"{probe} is on a read-only filesystem, so {path} cannot be written. To fix: pick a folder on a "
                "filesystem you can write to.")
    if probe != path and not (read_only is False and _access_trusted()):
        failed = _made_in(probe)
        if failed:
            return (f"{path} cannot be made: making a folder in {probe} failed ({failed}). To fix: pick a folder you "
                    "can write to.")
    return None


# How a runs folder that FINETUNE_STUDIO_RUNS names is said, in the words `finetune-studio runs` says it with.
ENV_NAMES = "(FINETUNE_STUDIO_RUNS names it)"
# The window has no --runs-dir: there, the Training tab's Runs folder sets the config's runs_dir, which the
# variable only stands in for (runs_dir_of), so that field is the fix the window's user can make.
IN_THE_WINDOW = "(in the window: the Training tab's Runs folder)"
ENV_FIX = ("point FINETUNE_STUDIO_RUNS at the folder that holds the runs, or pass that folder with --runs-dir "
           f"{IN_THE_WINDOW}.")


def _runs_dir_by_env(config: RunConfig) -> bool:
    """Whether the runs folder is the one FINETUNE_STUDIO_RUNS names: the config names none (runs_dir_of falls back
    to default_runs_dir, which reads the variable first) and the variable is set."""
    value = config.runs_dir
    named = isinstance(value, (str, os.PathLike)) and bool(str(value))
    return not named and bool(os.environ.get("FINETUNE_STUDIO_RUNS"))


def _run_as_runs_dir(config: RunConfig, folder: Path) -> str:
    """Why a runs folder that is one run's own folder is refused, in the words --runs-dir's refusal has (core.cli's
    _run_as_runs_dir_refusal), naming where it came from: FINETUNE_STUDIO_RUNS, or the config's runs_dir. Only
    --runs-dir was refused: with the variable or the config naming runs/r3, train made its run in runs/r3/<name>,
    which `runs --runs-dir runs` and the Runs tab never list."""
    import shlex

    run, inside = run_holding(folder) or (folder.absolute(), "")
    parent = runs_folder_above(folder, run)
    why = run_as_runs_dir_words(run.name, inside)
    if _runs_dir_by_env(config):
        return (f"Runs folder unusable {ENV_NAMES}: {folder} {why} point FINETUNE_STUDIO_RUNS at the folder that holds "
                f"the runs (export FINETUNE_STUDIO_RUNS={shlex.quote(str(parent))}), or pass that folder with "
                f"--runs-dir {shlex.quote(str(parent))} {IN_THE_WINDOW}.")
    return (f"Runs folder unusable: the config's runs_dir {written_value(str(config.runs_dir))} {why} set runs_dir to "
            f"the folder that holds the runs: runs_dir: {as_written(str(parent))}")


def _access_trusted() -> bool:
    """Whether os.access answers for this process where a folder not made yet goes: not for root, whom it lets
    write anywhere (an immutable folder, an NFS share that maps root to nobody, a FUSE mount refuse all the same),
    nor where there is no effective user id to judge by (Windows, whose access lists it does not read)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() != 0


# Folders a folder was made and removed in, as they were then (_probe_key): their parent's identity, owner and
# mode. Not their contents' times: the probe itself changes those. Only successes are kept: a folder that refuses
# is tried again each time (nothing is made), so it is said until it is fixed, and then no longer.
_MADE_IN: set[tuple[Any, ...]] = set()
_MADE_IN_MAX = 64


def _probe_key(folder: Path) -> tuple[Any, ...] | None:
    try:
        found = os.stat(folder)
    except OSError:
        return None
    return (os.path.realpath(folder), found.st_dev, found.st_ino, found.st_mode, found.st_uid, found.st_gid)


def _made_in(folder: Path) -> str | None:
    """None once a folder could be made (and was removed at once) in `folder`, else why it could not: tried once
    for the folder as it is (_MADE_IN), not at every edit; a chmod, chown or another folder at the path (a mount,
    a folder made anew) tries again."""
    import tempfile

    key = _probe_key(folder)
    if key is not None and key in _MADE_IN:
        return None
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".finetune-studio-check-", dir=folder))
    except OSError as exc:
        return str(exc.strerror or exc)
    if key is not None:
        if len(_MADE_IN) >= _MADE_IN_MAX:
            _MADE_IN.clear()
        _MADE_IN.add(key)
    return None


class Bound(typing.NamedTuple):
    """The range a numeric training setting must lie in, and what to say with it."""

    low: float
    low_included: bool
    high: float | None  # None: no upper bound
    high_included: bool
    usual: str  # what is usual or what a limit value means, said after the range

    def holds(self, value: float) -> bool:
        above = value >= self.low if self.low_included else value > self.low
        below = self.high is None or (value <= self.high if self.high_included else value < self.high)
        return above and below

    def words(self) -> str:
        low = f"{self.low:g}"
        if self.high is None:
            return f"{low} or more" if self.low_included else f"above {low}"
        high = f"{self.high:g}"
        return f"from {low} to {high}" if self.high_included else f"from {low} up to (not including) {high}"


# Numeric TrainingArguments fields and the ranges they take, checked where the field is set and holds a finite
# number (a wrong type has its own problem). torch's optimizers refuse a beta outside [0, 1) or a negative epsilon
# only once the model has loaded; the rest run without a word and train something else than meant (a negative
# weight decay grows the weights; a negative max_grad_norm turns clipping off, as 0 does: Trainer clips only when
# max_grad_norm > 0; a save_total_limit of 0 or less keeps every checkpoint, as empty does). warmup_steps < 0 is
# TrainingArguments' own refusal, said here in the same pass as the rest. num_train_epochs, learning_rate and the
# batch sizes have rules of their own in validate().
TRAINING_RANGES: dict[str, Bound] = {
    "adam_beta1": Bound(0, True, 1, False, "0.9 is usual"),
    "adam_beta2": Bound(0, True, 1, False, "0.999 is usual"),
    "adam_epsilon": Bound(0, False, None, False, "1e-8 is usual"),
    "weight_decay": Bound(0, True, None, False, "0 (none) to 0.1 is usual"),
    "max_grad_norm": Bound(0, True, None, False, "0 turns gradient clipping off, and 1.0 is usual"),
    "label_smoothing_factor": Bound(0, True, 1, False, "0 (none) or 0.1 is usual"),
    "warmup_steps": Bound(0, True, None, False, "a number of steps, or below 1 a fraction of the run's steps; 0 "
                                                "(no warmup) is the default"),
    "save_steps": Bound(0, False, None, False, "a number of steps, or below 1 a fraction of the run's steps; 500 is "
                                              "the default"),
    "eval_steps": Bound(0, False, None, False, "a number of steps, or below 1 a fraction of the run's steps; empty "
                                              "uses logging_steps"),
    "save_total_limit": Bound(1, True, None, False, "leave it empty (null) to keep every checkpoint"),
    "eval_accumulation_steps": Bound(1, True, None, False, "leave it empty (null) to gather the outputs of every step"),
    "torch_empty_cache_steps": Bound(1, True, None, False, "leave it empty (null) to never empty the cache"),
    "dataloader_num_workers": Bound(0, True, None, False, "0 loads the data in the training process"),
}


def _range_problems(training: dict[str, Any], reported: set[str]) -> list[Problem]:
    """Each TRAINING_RANGES field whose number lies outside its range, in words."""
    found = []
    for key, bound in TRAINING_RANGES.items():
        value = _number(training, key)
        if value is not None and f"training.{key}" not in reported and not bound.holds(value):
            found.append(Problem(f"training.{key}", f"{key} must be {bound.words()} (got {number_text(value)}); "
                                                    f"{bound.usual}. To fix: set {key} to a value in that range, or "
                                                    "remove it."))
    return found


def _choices(declared: dataclasses.Field) -> list[str] | None:
    """The values a TrainingArguments field takes, where it lists them: its str Enum (lr_scheduler_type, optim,
    the strategies) or its argparse `choices` (log_level, ddp_backend). None where any text goes."""
    if declared.metadata.get("choices"):
        return [str(choice) for choice in declared.metadata["choices"]]
    for arg in typing.get_args(declared.type) or (declared.type,):
        if isinstance(arg, type) and issubclass(arg, enum.Enum):
            return [str(member.value) for member in arg]
    return None


def _json_text_problems(training: dict[str, Any], reported: set[str]) -> list[Problem]:
    """A mapping setting (lr_scheduler_kwargs, accelerator_config, …: TrainingArguments' _VALID_DICT_FIELDS) given as
    text that starts with '{', which TrainingArguments reads as JSON, but is not JSON: said at its field in the same
    pass as every other problem. TrainingArguments said only "rejected these settings: Expecting property name
    enclosed in double quotes: line 1 column 2 (char 1)", without the field (helper-118's finding: '{' typed)."""
    import json

    from transformers import TrainingArguments

    found = []
    for key in getattr(TrainingArguments, "_VALID_DICT_FIELDS", ()):
        value = training.get(key)
        if not isinstance(value, str) or not value.startswith("{") or f"training.{key}" in reported:
            continue
        try:
            json.loads(value)
        except ValueError as exc:
            reason = getattr(exc, "msg", str(exc))
            found.append(Problem(f"training.{key}", f"{key} {written_value(value)} is text that starts with '{{', "
                                 f"which is read as JSON, and it is not JSON ({reason[:1].lower() + reason[1:]}, at "
                                 f"character {getattr(exc, 'pos', 0) + 1}). To fix: write it as a mapping, one key: "
                                 f"value a line under {key}:, or as JSON in quotes, e.g. '{{\"power\": 2}}'."))
    return found


def _choice_problems(training: dict[str, Any], reported: set[str]) -> list[Problem]:
    """Text that is not one of its field's choices (cosinus for lr_scheduler_type, adamw_torchh for optim): said
    here, with the nearest name, in the same pass as every other problem, rather than by TrainingArguments, which is
    built only once the training section has no other problem."""
    fields = training_fields()
    found = []
    for key, value in training.items():
        choices = _choices(fields[key]) if key in fields else None
        if not isinstance(value, str) or choices is None or value in choices or f"training.{key}" in reported:
            continue
        found.append(Problem(f"training.{key}", choice_message(key, value, choices,
                                                               "one of the choices transformers knows")))
    return found


# numpy.random.seed (which the Trainer calls with training.seed) takes 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1
# The longest file or folder name most filesystems allow (ext4, XFS, btrfs, APFS, NTFS in UTF-16 units): 255 bytes.
MAX_NAME_BYTES = 255
# The package each of transformers' report_to integrations needs, where its name differs from the integration's.
INTEGRATION_PACKAGES = {"azure_ml": "azureml-core", "flyte": "flytekit", "kubeflow": "kubeflow"}


def _too_long(name: str) -> str:
    """How a file or folder name is over MAX_NAME_BYTES, in words: the run name's, and a folder's in runs_dir or
    output_dir (_writable_dir), said the same way."""
    return (f"is {len(name):,} characters long ({len(os.fsencode(name)):,} bytes); a folder name holds at most "
            f"{MAX_NAME_BYTES} bytes")


def _control_characters(name: str) -> str:
    """The control characters in a name (a newline, a tab …), in words; '' if there are none."""
    import unicodedata

    found = sorted({c for c in name if unicodedata.category(c) in ("Cc", "Zl", "Zp")})
    words = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}
    return ", ".join(words.get(c, f"the control character U+{ord(c):04X}") for c in found)


def _end_spaces(name: str) -> str:
    """Where a run name has blank space at its ends, in words ("starts with a space", "starts and ends with
    spaces"); '' if it has none. Counted as Python's str.strip() sees it (a no-break space too)."""
    lead, trail = len(name) - len(name.lstrip()), len(name) - len(name.rstrip())
    ends = [f"{verb} with {'a space' if count == 1 else 'spaces'}" for verb, count in (("starts", lead),
                                                                                    ("ends", trail)) if count]
    if len(ends) == 2 and lead == trail:
        return f"starts and ends with {'a space' if lead == 1 else 'spaces'}"
    return " and ".join(ends)


def _run_folder_exists(config: RunConfig) -> bool:
    """Whether the config names a run whose folder is there already (its config.yaml in <runs folder>/<name>)."""
    try:
        return (runs_dir_of(config) / config.name / "config.yaml").is_file()
    except (OSError, ValueError):  # a name the filesystem cannot hold: said by the checks after this one
        return False


def _report_to_problems(report_to: Any) -> list[str]:
    """An integration named in training.report_to whose package is not installed: the Trainer would fail at its
    start ("WandbCallback requires wandb …") after the run's folder is made."""
    names = [report_to] if isinstance(report_to, str) else report_to if isinstance(report_to, list) else []
    names = [n for n in names if isinstance(n, str) and n not in ("none", "all")]
    if not names:
        return []
    import sys

    from transformers.integrations.integration_utils import (
        INTEGRATION_TO_CALLBACK,
        get_available_reporting_integrations,
    )

    available = set(get_available_reporting_integrations())
    known = ("none", "all", *sorted(INTEGRATION_TO_CALLBACK))
    def parts(name: str) -> list[str]:  # 'wandb,tensorboard', 'wandb tensorboard': names a list would hold
        split = [part for part in re.split(r"[\s,;]+", name) if part]
        return split if len(split) > 1 and all(part in INTEGRATION_TO_CALLBACK for part in split) else [name]

    listed = [part for name in names for part in parts(name)]
    found = []
    for name in names:
        if name not in INTEGRATION_TO_CALLBACK and len(parts(name)) > 1:
            # transformers takes the whole text as the name of one integration
            found.append(f"report_to {written_value(name)} is one text, not a list of integrations, so transformers "
                         f"looks for one integration by that whole name. To fix: write a list: report_to: "
                         f"[{', '.join(listed)}]")
        elif name not in INTEGRATION_TO_CALLBACK:
            found.append(choice_message("report_to", name, known, "an integration transformers knows"))
        elif name not in available:
            package = INTEGRATION_PACKAGES.get(name, name)
            found.append(f"report_to '{name}' needs the {package} package, which is not installed. To fix: install "
                         f"it ({sys.executable} -m pip install {package}), or set report_to to none.")
    return found


def _known_encoding(name: str) -> bool:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _reads_as_text(ds: Any) -> bool:
    """Whether the settings core.data.check_source reads the file with (its encoding, separator, how text is cut
    into rows, the text column) are text or unset: a list or a mapping there (encoding: [a, b]) made it fail with
    "TypeError: unhashable type: 'list'" and validate with it; validate refuses each of them in its own words."""
    return all(value is None or isinstance(value, str)
               for value in (ds.encoding, ds.delimiter, ds.sample_by, ds.text_column))


def validate(config: RunConfig, check_files: bool = True, render_rows: bool = False) -> list[Problem]:
    """Every problem of the config at once. render_rows (the CLI's validate and train, and every Start:
    core.training.run, core.launch.claim): also render the first chat rows with the run's tokenizer where it is on
    this machine (core.chat.token_check), which loads the tokenizer and the chat stack (about half a second the first
    time in a process) and so is left out of the window's validation on every edit."""
    problems: list[Problem] = []
    add = lambda field, message: problems.append(Problem(field, message))  # noqa: E731

    # ---- dataset
    from finetune_studio.core.data import DELIMITERS, SAMPLE_BY, check_source, resolve_source, url_message
    from finetune_studio.core.sources import is_local, is_url

    ds = config.dataset
    if _empty(ds.source):
        add("dataset.source", "Choose a dataset: a Hub id, a local file or folder, or the built-in sample.")
    elif not isinstance(ds.source, str):
        got = f"got {as_written(ds.source)}, {kind_of(ds.source)}"
        add("dataset.source", f"dataset.source must be one file, folder or Hub id as text ({got}). To fix: write one "
                              "source, or put the files in one folder and give the folder.")
    elif is_url(ds.source):
        add("dataset.source", url_message(ds.source))
    elif check_files:
        if is_local(ds.source) and not os.path.exists(resolve_source(ds.source)):
            add("dataset.source", f"Dataset not found: {resolve_source(ds.source)}. To fix: correct the path, or "
                                  "choose a Hub id or the built-in sample.")
        elif _reads_as_text(ds):  # a bounded, cached read of a local source: empty, encoding, text column
            problems.extend(check_source(ds, config.chat))  # chat rows: core.chat's checks (roles, mapping, …)
    if not isinstance(ds.text_column, str):
        add("dataset.text_column", f"dataset.text_column must be one column name as text, not "
                                   f"{kind_of(ds.text_column)} (got {as_written(ds.text_column)}). To fix: write the "
                                   "one column that holds the text to train on, e.g. text_column: text.")
    elif not ds.text_column.strip():
        add("dataset.text_column", "Name the column that holds the text to train on. To fix: write it, e.g. "
                                   "text_column: text (the Dataset tab lists the file's columns).")
    if ds.encoding is not None and not isinstance(ds.encoding, str):
        add("dataset.encoding", f"dataset.encoding must be one encoding name as text, not {kind_of(ds.encoding)} (got "
                                f"{as_written(ds.encoding)}). To fix: write one name such as utf-8, cp1252, latin-1 or "
                                "utf-16, or leave it empty for UTF-8.")
    elif ds.encoding is not None and not _known_encoding(ds.encoding):
        add("dataset.encoding", f"Unknown encoding {written_value(ds.encoding)}. To fix: use a name such as utf-8, "
                                "cp1252, latin-1 or utf-16, or leave it empty for UTF-8.")
    if ds.delimiter is not None and (not isinstance(ds.delimiter, str) or ds.delimiter not in DELIMITERS):
        add("dataset.delimiter", f"The separator must be one of ',', ';', a tab or '|', or empty to find it in the "
                                 f"header row (got {written_value(ds.delimiter)}). To fix: write one of them, or leave "
                                 "it empty.")
    if ds.sample_by is not None and ds.sample_by not in SAMPLE_BY:
        add("dataset.sample_by", choice_message("sample_by", ds.sample_by, SAMPLE_BY, "a way to cut text into rows",
                                                other="leave it empty"))
    length = ds.max_length
    if isinstance(length, (int, float)) and not isinstance(length, bool) and math.isfinite(length) \
            and length > MAX_CONTEXT_TOKENS:
        add("dataset.max_length", f"max_length {length:,.0f} tokens is far beyond any model's context (the "
                                  f"longest take about {MAX_CONTEXT_TOKENS:,}, most 4,096 to 131,072). To fix: use "
                                  "the model's context length or less; the seed uses 512.")
    elif isinstance(length, float) and math.isfinite(length) and length.is_integer() and length > 0:
        add("dataset.max_length", f"max_length must be a whole number written without a decimal point: "
                                  f"{int(length)}, not {length!r}. To fix: write {int(length)}.")
    elif not isinstance(length, int) or isinstance(length, bool) or length <= 0:
        fix = (_comma_fix(length, integer=True)
               or _unquote_fix(length, lambda number: isinstance(number, int) and 0 < number <= MAX_CONTEXT_TOKENS)
               or " To fix: set max_length to the model's context length or less, such as 512.")
        add("dataset.max_length", f"max_length must be a whole number above 0 (got {written_value(length)}); "
                                  f"the seed uses 512.{fix}")
    elif length < MIN_TRAINING_TOKENS and ds.truncation is not False:
        # core.data tokenizes with truncation at max_length, and a causal LM's loss compares each token with the
        # one after it: a row cut to 1 token has no pair, so the run trains nothing (loss 0) and says so only after.
        add("dataset.max_length", f"max_length {length} cuts every row to a single token, and a language model "
                                  "learns each token from the ones before it, so a 1-token row trains nothing (the "
                                  f"loss stays 0). To fix: set max_length to {MIN_TRAINING_TOKENS} or more; the seed "
                                  "uses 512.")
    elif check_files:  # a usable number: against the chosen model's context (a JSON read, no training stack)
        problem = _far_past_context(config.model, length)
        if problem:
            add("dataset.max_length", problem)
    if not isinstance(ds.truncation, bool):
        problems.append(bool_problem("dataset.truncation", ds.truncation))
    if not isinstance(ds.test_size, (int, float)) or isinstance(ds.test_size, bool) or not 0 <= ds.test_size < 1:
        fix = (_comma_fix(ds.test_size) or _unquote_fix(ds.test_size, lambda number: 0 <= number < 1)
               or " To fix: set test_size to a fraction such as 0.1, or 0 to hold out none.")
        add("dataset.test_size", f"test_size must be a fraction from 0 to below 1 (got {written_value(ds.test_size)}); "
                                 f"the seed holds out 0.1.{fix}")

    from finetune_studio.core.batching import BATCHING_MODES

    if not isinstance(ds.batching, str) or ds.batching not in BATCHING_MODES:
        add("dataset.batching", choice_message("batching", ds.batching, BATCHING_MODES, "a way to batch rows"))

    # ---- model
    model = config.model
    if _empty(model.name_or_path):
        add("model.name_or_path", "Choose a model: a Hub id, a local folder or the built-in demo model.")
    elif not isinstance(model.name_or_path, str):
        got = f"got {as_written(model.name_or_path)}, {kind_of(model.name_or_path)}"
        add("model.name_or_path", f"model.name_or_path must be one model as text ({got}). To fix: write one Hub id "
                                  "(owner/name) or folder, e.g. name_or_path: Qwen/Qwen3-0.6B.")
    elif check_files:
        from finetune_studio.core.model import config_weights_problem, model_name_problem, remote_code_problem
        from finetune_studio.core.sources import SourceKind, source_kind

        problem = model_name_problem(model.name_or_path)  # a bad folder, or neither a folder nor a Hub id
        if problem:
            add("model.name_or_path", problem)
        elif source_kind(model.name_or_path) is SourceKind.LOCAL:
            path = os.path.expanduser(model.name_or_path)
            problem = remote_code_problem(path) if model.trust_remote_code is not True else None
            if problem:
                add("model.trust_remote_code", problem)
            else:  # config.json against the weights' shapes (a key missing: transformers assumed its default)
                problem = config_weights_problem(path)
                if problem:
                    add("model.name_or_path", problem)
    if model.dtype not in MODEL_DTYPES:
        add("model.dtype", choice_message("dtype", model.dtype, MODEL_DTYPES, "a precision to load the weights in"))
    if not isinstance(model.trust_remote_code, bool):
        problems.append(bool_problem("model.trust_remote_code", model.trust_remote_code))

    # ---- training: names and types against the installed TrainingArguments
    training = config.training
    fields = training_fields()
    for key, value in training.items():
        if key not in fields:
            add(f"training.{key}", unknown_training_key_message(key, value, list(fields)))
        elif value is None and _null_problem(key, fields[key]):
            add(f"training.{key}", _null_problem(key, fields[key]))
        elif key in UPPER_LIMITS and _past_batch_limit(value, UPPER_LIMITS[key]):  # before the type (1e20)
            add(f"training.{key}", _batch_limit_message(key, value))
        elif not _accepts(fields[key].type, value) and not flag_value(fields[key], value):
            fix = _quote_fix(fields[key].type, key, value) or _type_fix(fields[key].type, key, value)
            got = (_not_finite(value) if isinstance(value, float) and not math.isfinite(value)
                   else f" (got {written_value(value)})")
            add(f"training.{key}", f"{key} must be {_type_name(fields[key].type)}{got}.{fix}")
        elif isinstance(value, float) and not math.isfinite(value):
            hint = "; the seed uses 2e-5" if key == "learning_rate" else ""
            add(f"training.{key}", f"{key} must be a finite number{_not_finite(value)}{hint}. To fix: write "
                                   f"{_finite_number(value)}, or remove {key} to use the default.")

    lr = _number(training, "learning_rate", 5e-5)
    if lr is not None and lr <= 0:
        add("training.learning_rate", f"learning_rate must be above 0 (got {number_text(lr)}); the seed uses 2e-5. "
                                      "To fix: set learning_rate above 0 (1e-5 to 1e-3 is usual for fine-tuning).")
    elif lr is not None and lr > MAX_LEARNING_RATE:
        add("training.learning_rate", _huge_learning_rate_message(lr))
    for key, minimum in (("per_device_train_batch_size", 1), ("per_device_eval_batch_size", 1),
                         ("gradient_accumulation_steps", 1)):
        value = _number(training, key)
        if value is not None and value < minimum and f"training.{key}" not in {p.field for p in problems}:
            add(f"training.{key}", f"{key} must be at least {minimum} (got {number_text(value)}). To fix: set {key} to "
                                   f"{minimum} or more.")
    epochs, max_steps = _number(training, "num_train_epochs", 3), _number(training, "max_steps", -1)
    if (max_steps is None or max_steps <= 0) and epochs is not None and epochs <= 0:
        add("training.num_train_epochs", f"num_train_epochs must be above 0 (got {number_text(epochs)}) unless "
                                         "max_steps is set. To fix: set num_train_epochs to the passes over the "
                                         "data, such as 3 (the seed's), or set max_steps to the steps to train.")
    elif epochs is not None and epochs < 0:  # max_steps ends the run, but a negative count of passes is a slip
        add("training.num_train_epochs", f"num_train_epochs must be above 0 (got {number_text(epochs)}); max_steps "
                                         "ends this run, so any positive number will do (the seed uses 3). To fix: set "
                                         "num_train_epochs to 3, or remove it.")
    logging_steps = _number(training, "logging_steps", 500)
    if training.get("logging_strategy", "steps") == "steps" and logging_steps is not None and logging_steps <= 0:
        add("training.logging_steps", f"logging_steps must be above 0 (got {number_text(logging_steps)}). To fix: set "
                                      "logging_steps to a number of steps such as 10 (the seed's), or below 1 a "
                                      "fraction of the run's steps.")
    for key in ("eval_strategy", "save_strategy", "logging_strategy"):
        value = training.get(key)
        if isinstance(value, str) and value not in STRATEGIES and not (key == "save_strategy" and value == "best"):
            add(f"training.{key}", choice_message(key, value, STRATEGIES + (("best",) if key == "save_strategy"
                                                                            else ()), "a strategy"))

    seed = training.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool) and not 0 <= seed <= MAX_SEED:
        # Trainer seeds numpy with it (numpy.random.seed), which takes 0 to 2**32 - 1 only.
        add("training.seed", f"seed must be a whole number from 0 to {MAX_SEED:,} (got {seed:,}). To fix: set seed "
                             "to a number in that range; the seed uses 42.")
    data_seed = training.get("data_seed")  # the sampler's seed; None (the seed's) shuffles with seed
    if isinstance(data_seed, int) and not isinstance(data_seed, bool) and not 0 <= data_seed <= MAX_SEED:
        # A fraction or text is the typed check's problem above; torch's generator overflows past 2**64 - 1 and
        # wraps a negative one, so the same range as seed.
        add("training.data_seed", f"data_seed must be a whole number from 0 to {MAX_SEED:,} (got {data_seed:,}). "
                                  "To fix: set data_seed to a number in that range, or leave it empty (null) to "
                                  "shuffle the data with seed.")
    if not any(p.field == "training.report_to" for p in problems):  # a wrong type has its own problem
        for message in _report_to_problems(training.get("report_to")):
            add("training.report_to", message)

    eval_strategy = training.get("eval_strategy", "no")
    save_strategy = training.get("save_strategy", "steps")
    strategies_ok = not any(p.field in ("training.eval_strategy", "training.save_strategy") for p in problems)
    if training.get("load_best_model_at_end") and strategies_ok:  # an unknown strategy is its own problem
        if eval_strategy == "no":
            add("training.load_best_model_at_end", "load_best_model_at_end needs evaluation, and eval_strategy is "
                                                   "'no'. To fix: set eval_strategy to 'epoch' or 'steps', or turn "
                                                   "load_best_model_at_end off.")
        elif save_strategy != "best" and save_strategy != eval_strategy:
            add("training.save_strategy", f"load_best_model_at_end needs save_strategy to match eval_strategy "
                                          f"('{eval_strategy}'), but it is '{save_strategy}'. To fix: set "
                                          f"save_strategy to '{eval_strategy}' (or 'best').")
        elif eval_strategy == "steps" and save_strategy == "steps":
            eval_steps = _number(training, "eval_steps") or logging_steps
            save_steps = _number(training, "save_steps", 500)
            problem = _steps_multiple_problem(save_steps, eval_steps) if eval_steps and save_steps else None
            if problem:
                add("training.save_steps", problem)
    if eval_strategy != "no" and isinstance(ds.test_size, (int, float)) and ds.test_size == 0:
        add("dataset.test_size", f"eval_strategy is '{eval_strategy}' but test_size is 0, so there is nothing to "
                                 "evaluate on. To fix: hold out a fraction (test_size 0.1), or set eval_strategy to "
                                 "'no'.")

    from finetune_studio.core.hardware import detect

    hardware = detect()
    # `is True`: any other value (bf16: "no") is the typed check's one problem above, not a request for bf16.
    if training.get("bf16") is True and not hardware.bf16:
        where = "this machine has no GPU" if hardware.device == "cpu" else f"{hardware.name} does not support it"
        add("training.bf16", f"bf16 needs a GPU that supports it (NVIDIA Ampere or newer), but {where}. "
                             "To fix: choose precision 'auto' or fp32.")
    if training.get("fp16") is True and hardware.device == "cpu":
        add("training.fp16", "fp16 training needs a GPU, and this machine has none. To fix: choose precision 'auto' "
                             "or fp32.")
    if training.get("bf16") is True and training.get("fp16") is True:
        add("training.fp16", "bf16 and fp16 are both true. To fix: choose bf16 or fp16, not both (set the other to "
                             "false).")

    # ---- hub: the Trainer's own push (push_to_hub, hub_*) and any access token in the config are refused
    from finetune_studio.core.hub import config_problems

    problems.extend(config_problems(config))
    # ---- training: ranges and choices (after the Hub's refusals, so a push field gets only that one)
    reported = {p.field for p in problems}
    problems.extend(_range_problems(training, reported) + _choice_problems(training, reported)
                    + _json_text_problems(training, reported))
    if config.hub.repo_id and not isinstance(config.hub.repo_id, str):
        repo = written_value(config.hub.repo_id)
        add("hub.repo_id", f"repo_id must look like owner/name (got {repo}). To fix: write it as your Hub user or "
                           "organization, a slash and a name, e.g. me/my-model.")
    elif isinstance(config.hub.repo_id, str) and config.hub.repo_id.strip():
        from finetune_studio.core.hub import REPO_ID_FIX, repo_id_problem  # the push's own rule, said before training

        why = repo_id_problem(config.hub.repo_id.strip())
        if why:
            add("hub.repo_id", f"repo_id {written_value(config.hub.repo_id.strip())} is not a repository id the Hub "
                               f"accepts: {why}. {REPO_ID_FIX}")
    if config.hub.push_when_done:
        from finetune_studio.core.hub import current_token_source  # reads HF_TOKEN and the saved login; no network

        if current_token_source() is None:
            add("hub.push_when_done", "'Push when training ends' is on, but you are not logged in to the Hugging "
                                      "Face Hub. To fix: log in (Hub → Log in… in the app, or finetune-studio "
                                      "login), or turn the option off.")

    # ---- folders
    not_text = name_problem(config)
    if not_text:
        problems.append(not_text)
    elif config.name and not config.name.strip():
        # new_run_folder generates a name only for an empty one: a blank one made a folder named with its spaces
        add("name", f"The run name {config.name!r} is only blank space; it would name the run's folder with it, "
                    "where an empty name gets one generated from the model and dataset. To fix: write a name of "
                    "letters, digits, - and _, or leave it empty (name: '') to have one generated.")
    elif any(c in config.name for c in "/\\") or config.name in (".", ".."):
        add("name", f"The run name {config.name!r} cannot be used as a folder name; avoid / and \\. To fix: choose "
                    "a name of letters, digits, - and _.")
    elif config.name.startswith("."):
        add("name", f"The run name {config.name!r} starts with a dot, which hides its folder: the runs list would "
                    "never show it. To fix: choose a name that starts with a letter or digit.")
    elif _control_characters(config.name):
        held = _control_characters(config.name)
        add("name", f"The run name {config.name!r} holds {held}; a run name is one line of printable characters (it "
                    f"names the run's folder and its row in the runs list). To fix: remove "
                    f"{'them' if ', ' in held else 'it'} from the name.")
    elif _end_spaces(config.name) and not (check_files and _run_folder_exists(config)):
        # The window strips the name it is typed in; a file, --name and --set keep it as written, and the run's
        # folder was named with the space: hard to see in the runs list, and to type again in a terminal. Refused
        # rather than stripped here, so the name in the config file is the folder's name. Not where that run's
        # folder exists already (made before this check): resuming it reads this name from its config.yaml.
        spaces = _end_spaces(config.name)
        them = "it" if len(config.name) - len(config.name.strip()) == 1 else "them"
        add("name", f"The run name {config.name!r} {spaces}, which would become part of its folder's name (hard to "
                    f"see, and to type again in a terminal). To fix: remove {them}, and name the run "
                    f"{config.name.strip()!r}.")
    elif len(os.fsencode(config.name)) > MAX_NAME_BYTES:
        add("name", f"The run name {_too_long(config.name)}. To fix: choose a shorter name.")
    runs_dir_refused = runs_dir_problem(config)  # a list or mapping: runs_dir_of() falls back to the default
    if runs_dir_refused:
        problems.append(runs_dir_refused)
    if check_files:
        problem = None if runs_dir_refused else _writable_dir(runs_dir_of(config))
        if problem and _runs_dir_by_env(config):  # "runs_dir: somefile is a file" named no runs_dir the user set
            add("runs_dir", f"Runs folder unusable {ENV_NAMES}: {problem.partition('. To fix: ')[0]}. To fix: "
                            f"{ENV_FIX}")
        elif problem:
            add("runs_dir", f"Runs folder unusable: {problem}")
        elif not runs_dir_refused and run_holding(runs_dir_of(config)):
            add("runs_dir", _run_as_runs_dir(config, runs_dir_of(config)))
        output_dir = training.get("output_dir")
        if isinstance(output_dir, str) and output_dir:
            problem = _writable_dir(Path(output_dir).expanduser())
            if problem:
                add("training.output_dir", f"Output folder unusable: {problem}")

    # ---- adapters (LoRA, QLoRA, DoRA): values, target modules the model has, 4-bit support (core.adapters)
    from finetune_studio.core.adapters import problems as adapter_problems

    problems.extend(adapter_problems(config, check_files))

    # ---- chat data: format, train_on, column mapping and template names (core.chat)
    from finetune_studio.core.chat import check_config as chat_config_problems

    problems.extend(Problem(key, message) for key, message in chat_config_problems(config.chat))

    # ---- launch: processes, machines, the rendezvous endpoint, processes against GPUs (core.launch)
    from finetune_studio.core.launch import launch_problems

    problems.extend(launch_problems(config))
    devices = config.launch.devices
    if check_files and isinstance(devices, list) and devices \
            and not any(p.field == "launch.devices" for p in problems):  # a list of GPU numbers, each once
        # A chosen GPU this machine does not have (NVML's table); busy or mixed GPUs are warnings the Hardware tab
        # shows, and never block.
        from finetune_studio.core.gpus import device_problems, read_gpus

        problems.extend(p for p in device_problems(devices, read_gpus(with_cpu=False)) if p.level != WARNING)

    # ---- every other field a section declares (core.config.RunConfig): its type, and its choices if listed
    problems.extend(_declared_field_problems(config, {p.field for p in problems}))

    # ---- anything else TrainingArguments itself rejects: built from the training section (and dataset.batching),
    # so only a problem there stands in its way; it would repeat that problem, in its own words
    if not any(p.field == "training" or p.field.startswith("training.") for p in problems):
        message = training_arguments_error(config)
        if message:
            add("training", message)

    # ---- chat rows rendered with the run's tokenizer where it is on this machine (core.chat.token_check): a
    # dataset, or a test split, that trains no token fails the run once it has tokenized, with a folder made
    if render_rows and check_files and not any(p.field.startswith(("dataset.", "chat.", "model.")) for p in problems):
        from finetune_studio.core.chat import token_check

        problems.extend(Problem(key, message) for key, message in token_check(config).errors)
    return problems


def token_warnings(config: RunConfig) -> list[Problem]:
    """What the first rows say without blocking, read after validate()'s bounded, cached read of the source (which
    warnings_for, cheap with no file reads, may not do): a .txt source whose lines look like a tab-separated table,
    trained as whole lines (core.data.text_table_warnings), and what rendering the first chat rows with the run's
    tokenizer says (replies max_length cuts, in the run log's words). `finetune-studio validate` and `train` print
    them. Read from the checks validate() just made (cached); unlike warnings_for, it reads the source's first rows
    and loads the tokenizer when those checks have not run."""
    from finetune_studio.core.chat import token_check
    from finetune_studio.core.data import text_table_warnings

    return text_table_warnings(config.dataset) + [Problem(key, message, WARNING)
                                                  for key, message in token_check(config).warnings]


def _declared_field_problems(config: RunConfig, reported: set[str]) -> list[Problem]:
    """The type (from its annotation) and `choices` (from its metadata, if any) of every field of every dataclass
    section, so a field added to core.config is checked with no code here. A field with a check of its own in
    validate() has its problem reported already and is skipped."""
    found: list[Problem] = []
    for name in SECTIONS:
        cls = section_type(name)
        if cls is None:
            continue  # training: checked against the installed TrainingArguments above
        hints = typing.get_type_hints(cls)
        values = getattr(config, name)
        for declared in dataclasses.fields(cls):
            key, value = f"{name}.{declared.name}", getattr(values, declared.name)
            choices = declared.metadata.get("choices")
            if key in reported:
                continue
            if not _accepts(hints[declared.name], value):
                found.append(Problem(key, f"{declared.name} must be {_type_name(hints[declared.name])} "
                                          f"(got {written_value(value)}).{_type_fix(hints[declared.name], '', value)}"))
            elif choices is not None and value not in choices:
                found.append(Problem(key, choice_message(declared.name, value, choices,
                                                         other="leave it empty" if None in choices else "")))
    return found


# Above this the loss almost always diverges; fine-tuning uses about 1e-5 to 1e-3.
LARGE_LEARNING_RATE = 1.0


def warnings_for(config: RunConfig) -> list[Problem]:
    """Settings that run but are probably not what was meant (level WARNING): shown at their field and printed by
    `finetune-studio validate`, never blocking a start. Cheap, with no imports: a form may call it on every edit."""
    found: list[Problem] = []
    lr = _number(config.training, "learning_rate")
    if lr is not None and LARGE_LEARNING_RATE < lr <= MAX_LEARNING_RATE:  # past it: validate() refuses it
        found.append(Problem("training.learning_rate",
                             f"learning_rate {number_text(lr)} is unusually large: fine-tuning uses about 1e-5 to "
                             "1e-3, and above 1 the loss almost always diverges. The seed uses 2e-5.", WARNING))
    found += _max_steps_warnings(config.training)
    found += _revision_warnings(config.model)
    found += _public_dashboard_warnings(config.training)
    found += _context_warnings(config)
    from finetune_studio.core.adapters import warnings_for as adapter_warnings  # an adapter rank that saves nothing

    found += adapter_warnings(config)
    from finetune_studio.core.chat import warnings_for as chat_warnings  # chat.columns parts the format does not use

    found += chat_warnings(config)
    from finetune_studio.core.launch import launch_warnings  # FSDP with one process, or on the CPU

    found += launch_warnings(config)
    return found


# How far past a model's context max_length may go before it is refused rather than warned about. Fine-tuning a
# model to read longer rows than it was trained on is done on purpose (position interpolation, YaRN: 2 to 32 times
# the context); past 32 times it, max_length is a slip (1,000,000 for the demo's 512) that still costs: rows are cut
# at max_length, not at the context, packed batching makes blocks max_length long, and the memory estimate plans
# for rows of max_length tokens (the demo at 1,000,000: 87 GiB, and a packed run was killed for memory).
FAR_PAST_CONTEXT = 32


def model_context(model: Any) -> tuple[int, str] | None:
    """core.model.context_limit, and the built-in demo model's own before it is first built (its config.json does
    not exist yet, but its context is the recipe's: core.demo.MODEL_MAX_LENGTH as max_position_embeddings), so a
    fresh install warns as a built one does."""
    from finetune_studio.core.config import DEMO_MODEL_ID
    from finetune_studio.core.model import context_limit  # a JSON read, no training stack

    found = context_limit(model)
    if found is None and isinstance(model.name_or_path, str) and model.name_or_path.strip() == DEMO_MODEL_ID:
        from finetune_studio.core.demo import MODEL_MAX_LENGTH

        return MODEL_MAX_LENGTH, "max_position_embeddings"
    return found


def _far_past_context(model: Any, length: int) -> str | None:
    """validate()'s refusal of a max_length more than FAR_PAST_CONTEXT times the model's context; between the
    context and that, _context_warnings warns."""
    found = model_context(model) if isinstance(model.name_or_path, str) else None
    if found is None or length <= found[0] * FAR_PAST_CONTEXT:
        return None
    limit, key = found
    times = length / limit
    times_text = f"{times:,.0f} times" if times >= FAR_PAST_CONTEXT + 1 else f"more than {FAR_PAST_CONTEXT} times"
    return (f"max_length {length:,} is far past this model's context: it reads at most {limit:,} tokens ({key} in "
            f"its config.json), and {length:,} is {times_text} that. Rows are cut at max_length, not at the context, "
            "so a longer row trains at positions the model never learned; the memory estimate plans for rows of "
            f"{length:,} tokens, and packed batching makes blocks that long. To fix: set max_length to {limit:,} or "
            f"less; to train the model on longer rows on purpose, up to {limit * FAR_PAST_CONTEXT:,} "
            f"({FAR_PAST_CONTEXT} times its context) is accepted with a warning.")


def _context_warnings(config: RunConfig) -> list[Problem]:
    """max_length past the model's context (max_position_embeddings in its config.json). Rows are cut at max_length,
    not at the context, so a longer row trains at positions the model never learned: on the demo (rotary positions)
    the run goes on without a word; a model with learned position embeddings (GPT-2) fails at the first such row.
    A warning, not an error: with rows that are all shorter than the context nothing goes wrong, a model can be
    trained to read longer rows on purpose, and the window's memory estimate is still asked for such configs. Past
    FAR_PAST_CONTEXT times the context validate() refuses it instead (_far_past_context), so nothing is said here."""
    length = config.dataset.max_length
    if not isinstance(length, int) or isinstance(length, bool) or length <= 0 or length > MAX_CONTEXT_TOKENS:
        return []  # not a usable number: validate() says so
    found = model_context(config.model) if isinstance(config.model.name_or_path, str) else None
    if found is None or length <= found[0] or length > found[0] * FAR_PAST_CONTEXT:
        return []
    limit, key = found
    return [Problem("dataset.max_length",
                    f"max_length {length:,} is past this model's context: it was trained on at most {limit:,} tokens "
                    f"({key} in its config.json). A longer row trains at positions the model never learned, which "
                    "usually makes it worse (a model with learned positions, such as GPT-2, stops with an error at "
                    f"the first such row instead). To fix: set max_length to {limit:,} or less.", WARNING)]


def _revision_warnings(model: Any) -> list[Problem]:
    """A revision beside a local model folder: transformers reads the folder as it is and ignores the revision, so
    the run trains the folder with no word of it. The Model tab disables Revision for a folder; a YAML or --set
    user sees only this. A stat of the path, no file read."""
    from finetune_studio.core.sources import SourceKind, source_kind

    name, revision = model.name_or_path, model.revision
    if not isinstance(name, str) or not name.strip() or not isinstance(revision, str) or not revision.strip():
        return []
    if source_kind(name) is not SourceKind.LOCAL:
        return []
    return [Problem("model.revision",
                    f"revision {revision.strip()} applies to Hub ids only; model.name_or_path is a local folder "
                    f"({name.strip()}), so it is ignored and the folder's files are used as they are. To fix: remove "
                    "revision, or give the Hub id (owner/name) in model.name_or_path.", WARNING)]


def _max_steps_warnings(training: dict[str, Any]) -> list[Problem]:
    """max_steps above 0 ends the run whatever num_train_epochs says (transformers trains max_steps optimizer steps
    whenever it is above 0), in the Training tab's words for its Epochs field (gui.forms.training_form's epochs
    hint), said for a file or --set. A warning: the run starts and trains max_steps steps, which may be meant (a short
    trial run). At max_steps, not at num_train_epochs, so the window does not say it twice under Epochs, where the
    Training tab's own hint says it; the All arguments tab, where max_steps is set, shows it at its row."""
    steps = training.get("max_steps")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        return []  # -1 (the default) and 0 train by epochs; a wrong type is validate()'s problem
    epochs = _number(training, "num_train_epochs", 3)
    if epochs is None or epochs < 0:
        return []  # num_train_epochs of the wrong type, NaN or below 0: validate()'s problem, which says max_steps
    # The epochs are not named by their value: the All arguments tab checks its own values against the seed's
    # training section (gui.forms.arguments_panel), whose num_train_epochs need not be the Training tab's.
    return [Problem("training.max_steps",
                    f"max_steps {steps:,} ends the run: the epochs set in num_train_epochs do not apply. To train by "
                    "epochs, remove max_steps (or set it to -1).", WARNING)]


def _public_dashboard_warnings(training: dict[str, Any]) -> list[Problem]:
    """report_to trackio with a Space id publishes the run's metrics to a Hugging Face Space, which transformers
    makes public unless hub_private_repo says otherwise — and hub_* settings belong to the Hub tab here, so the
    Space is public. Said at the field, never blocking: some users want a public dashboard."""
    report_to = training.get("report_to")
    targets = {report_to} if isinstance(report_to, str) else set(report_to or []) if isinstance(report_to, list) \
        else set()
    if not targets & {"trackio", "all"}:
        return []
    found = []
    for key in ("trackio_space_id", "trackio_static_space_id"):
        space = training.get(key)
        if isinstance(space, str) and space.strip():
            found.append(Problem(f"training.{key}", f"{key} {space!r} publishes this run's metrics to a Hugging Face "
                                 "Space that anyone can see (it is created public). To keep them on this computer, "
                                 f"clear {key}; the Hub tab's push does not cover it.", WARNING))
    return found


# The output_dir training_arguments_error builds TrainingArguments with (a config's own training.output_dir comes
# first, as in a run): a folder nothing makes, named in the system's temporary folder rather than relative to the
# current one, so that a later transformers that made it would not make it among the user's files.
UNMADE_OUTPUT_NAME = "finetune-studio-validate-output-never-made"


def unmade_output_dir() -> Path:
    import tempfile

    return Path(tempfile.gettempdir()) / UNMADE_OUTPUT_NAME


def training_arguments_error(config: RunConfig) -> str | None:
    """Build TrainingArguments as a run would, to catch the combinations only it knows about.

    Skipped (None) while a run trains in this process: building them resets accelerate's shared state under that
    run (see core.shared_state). The window validates again when the run ends.

    Their output_dir is unmade_output_dir(), which nothing makes: TrainingArguments (transformers 5.24's __post_init__)
    only stores it, with ~ expanded, and the Trainer makes it when it saves. A temporary folder made and removed
    here was a write at every edit of the window, which validates at each."""
    from finetune_studio.core.shared_state import unless_training
    from finetune_studio.core.training import training_arguments

    with unless_training() as free:
        if not free:
            return None
        try:
            training_arguments(config, unmade_output_dir())
        except (ValueError, TypeError) as exc:
            lines = str(exc).strip().splitlines()
            return (f"TrainingArguments rejected these settings: {(lines[0] if lines else str(exc)).rstrip('.')}. "
                    "To fix: change the training settings it names, or remove them to use the defaults.")
        except OSError as exc:  # a file a setting names (accelerator_config: a JSON file): validate ended in a crash
            named = next((key for key, value in config.training.items() if value == exc.filename), None)
            setting = named or "the setting that names it"
            return (f"TrainingArguments cannot read {exc.filename or 'a file these settings name'}: "
                    f"{exc.strerror or exc}. To fix: give {setting} the path of an existing JSON file, or remove it.")
    return None
