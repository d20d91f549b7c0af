"""Talking to a trained model: which folder to load, how a prompt is rendered, streaming generation that stops
on request and says why it stopped, and the checkpoint comparison whose answers are kept in the run folder.

The Try tab, the Compare checkpoints view and `finetune-studio generate` all go through here, so a prompt is
rendered, clamped and sampled the same way everywhere. Nothing here imports Qt; torch, transformers and peft are
imported inside the functions that need them.

Two models answer each prompt: the base model the run started from and the fine-tuned one (its final model or a
checkpoint). For an adapter run (an adapter_config.json in the folder) the base weights are loaded once and the
base answers with the adapter switched off (peft's `disable_adapter()`), so there is one copy of the weights. For
full fine-tuning both models are kept loaded only if twice the weights fit in free memory; otherwise they answer
one after the other, each loaded for its answer and released after it (`Loaded.mode` says which, in words).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import math
import os
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Sequence

from finetune_studio.core.config import ChatConfig, ModelConfig, RunConfig, load_config
from finetune_studio.core.errors import FinetuneError, ModelError
from finetune_studio.core.fileio import read_json
from finetune_studio.core.runs import ADAPTER_FILE, CHECKPOINT_RE, UNLOADABLE_FIX, RunFolder, damage, now_iso
from finetune_studio.core.threads import answer_threads, this_thread_threads

BASE, TUNED = "base", "tuned"
SIDES = (BASE, TUNED)
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
MEMORY_HEADROOM = 1.2  # weights x this: what a loaded model takes with its buffers and a generation's cache
# A seed is a whole number from 0 to SEED_LIMIT - 1: torch.manual_seed's range. One limit for every front end:
# `finetune-studio generate --seed` and the Try tab's seed field both take exactly this range.
SEED_LIMIT = 2**64
Progress = Callable[[str], None]


# CheckpointRefusal.cause values: why a checkpoint a command was given (--checkpoint N, or the Model box's pick)
# cannot be used. MISSING: the run has no complete checkpoint N; NONE_LEFT: it has no complete checkpoint at all;
# DAMAGED: it is there but cannot load; LINKED: a link to another folder's checkpoint (core.export); REMOVED: the run
# deleted it while it was being read (core.export's CHECKPOINT_REMOVED: save_total_limit).
MISSING, NONE_LEFT, DAMAGED, LINKED, REMOVED = "missing", "none_left", "damaged", "linked", "removed"


@dataclass(frozen=True)
class CheckpointRefusal:
    """The facts of a checkpoint a command cannot use, for each front end to word its fix itself (the command line
    as flags to type: core.cli._checkpoint_refusal; the Export and Push dialogs as their Model box:
    gui.export_dialog.refused_pick_text), where they rewrote core's message text. `what`: what happened, in no front
    end's terms where it can be (NONE_LEFT names --checkpoint: `detail` holds what the run folder holds for a front
    end to say it its own way); `nothing`: what was not done ("Nothing was exported."); `choices`: the run's whole
    models to pick instead (steps oldest first, then None for its final model); `fallback`: core's fix where there
    are none; `also`: a further way, a sentence said after the fix; `elsewhere`: for LINKED, the other run's
    checkpoint folder the link points to."""

    cause: str
    run: str
    checkpoint: int
    what: str
    choices: tuple[int | None, ...] = ()
    nothing: str = ""
    fallback: str = ""
    also: str = ""
    detail: str = ""
    elsewhere: Path | None = None

    @property
    def reason(self) -> str:
        """What happened and what was not done, before "To fix:"."""
        return f"{self.what} {self.nothing}".strip()


class GenerationError(FinetuneError):
    """A prompt, folder or model that cannot be used for generation; the message says what to do. `refusal`: the
    facts of a checkpoint asked by step (resolve's --checkpoint N) it cannot use, for a front end to word."""

    def __init__(self, message: str = "", refusal: CheckpointRefusal | None = None):
        super().__init__(message)
        self.refusal = refusal


class LoadStopped(GenerationError):
    """The load was stopped (the Try tab's Stop): nothing it loaded is kept, and it said so nowhere else."""


class InputError(GenerationError):
    """What was asked for cannot be, whatever the models hold: a folder that is not there or holds no model, a
    checkpoint the run does not have, an empty prompt or prompts file. `finetune-studio generate` exits 2 for it
    (bad input, as a bad config does), and 1 for a model that cannot load or a generation that fails."""


class PromptTooLong(GenerationError):
    """A rendered prompt of `tokens` tokens that leaves the model (which reads at most `limit`) no room for an
    answer: answer_room's rule, raised by stream_answer and measured before loading by prompt_problems. The advice
    to start a new conversation is only for a chat that has earlier turns (`conversation`, answer_both says it):
    a text prompt or a comparison has none to drop. `system_tokens`: of `tokens`, what a chat's system prompt takes
    (system_share), where it was measured."""

    def __init__(self, tokens: int, limit: int, conversation: bool = False, system_tokens: int = 0):
        what = "The conversation so far and this prompt are" if conversation else "The prompt is"
        said = f"{what} {tokens} tokens long; this model reads at most {limit}."
        if system_tokens:
            said += f" The system prompt takes {system_tokens} of them."
        parts = ["the prompt"] + (["the system prompt"] if system_tokens else [])
        fix = f"shorten {' or '.join(parts)}" if conversation or system_tokens else "shorten it"
        super().__init__(f"{said} To fix: {fix}{', or start a new conversation' if conversation else ''}.")
        self.tokens = tokens
        self.limit = limit
        self.system_tokens = system_tokens


@dataclass(frozen=True)
class Limit:
    """What one generation setting may be: the one rule `finetune-studio generate` refuses a flag by
    (core.generate_cli.settings_problems) and the Try tab's field takes its range from (gui.try_tab.SettingsBox),
    so the two cannot disagree (the Try tab took top-p 0, which the command refused). NaN and infinity are never
    allowed; `high` is inclusive, and infinite for "any finite number"."""

    low: float
    high: float = math.inf
    above: bool = False  # True: `low` itself is refused (it must be above it); False: from `low` on
    whole: bool = False  # a whole number

    def allows(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.whole and not (isinstance(value, int) or float(value).is_integer()):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        return (value > self.low if self.above else value >= self.low) and value <= self.high

    @property
    def rule(self) -> str:
        """The rule in words, for "--top-p must be {rule} (got 0.0)"."""
        low, high = _number(self.low), _number(self.high)
        if self.whole:
            return f"a whole number from {low} to {high}" if math.isfinite(self.high) else f"at least {low}"
        if math.isfinite(self.high):
            return f"above {low} and at most {high}" if self.above else f"from {low} to {high}"
        return f"a finite number {'above' if self.above else 'of at least'} {low}"


def _number(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and float(value).is_integer() else f"{value:g}"


def _help(text: str, limit: Limit | None = None) -> dict[str, Any]:
    return {"help": text} if limit is None else {"help": text, "limit": limit}


@dataclass
class GenerationSettings:
    """What both sides of a comparison generate with: one set, so the comparison is fair. Each field's metadata
    holds its help text and, but for do_sample, its Limit (LIMITS)."""

    do_sample: bool = field(default=False, metadata=_help("Sample the next token at random by its probability "
                                                          "(varied answers); off: greedy, always the likeliest "
                                                          "token (the same answer every time)."))
    temperature: float = field(default=1.0, metadata=_help("Sampling: below 1 sharper and safer, above 1 more "
                                                            "varied.", Limit(0, above=True)))
    top_p: float = field(default=1.0, metadata=_help("Sampling: draw only from the likeliest tokens whose "
                                                      "probabilities add up to this (1: all).",
                                                      Limit(0, 1, above=True)))
    top_k: int = field(default=50, metadata=_help("Sampling: draw only from this many likeliest tokens (0: all).",
                                                  Limit(0, whole=True)))
    repetition_penalty: float = field(default=1.0, metadata=_help("Above 1 makes tokens already in the text less "
                                                                   "likely (1: off).", Limit(0, above=True)))
    max_new_tokens: int = field(default=128, metadata=_help("The longest answer, in tokens; cut to what the "
                                                             "model's context leaves after the prompt.",
                                                             Limit(1, whole=True)))
    seed: int = field(default=0, metadata=_help("Sampling: the random seed each answer starts from, so an answer "
                                                "can be reproduced.", Limit(0, SEED_LIMIT - 1, whole=True)))

    @classmethod
    def from_generation_config(cls, config: Any) -> GenerationSettings:
        """Defaults from a model's generation_config (its authors' choice), where it sets them."""
        settings = cls()
        if config is None:
            return settings
        for declared in dataclasses.fields(cls):
            value = getattr(config, declared.name, None)
            limit = declared.metadata.get("limit")
            if value is None or declared.name == "seed" or (limit is not None and not limit.allows(value)):
                continue  # out of LIMITS: the app's default, so the CLI and the Try tab never differ silently
            setattr(settings, declared.name, type(declared.default)(value))
        if not getattr(config, "max_new_tokens", None):
            settings.max_new_tokens = cls.max_new_tokens
        return settings

    @classmethod
    def ignored_defaults(cls, config: Any, given: Collection[str] = (), greedy: bool = False,
                         whose: str = "model") -> list[str]:
        """One note per model default outside LIMITS that from_generation_config left for the app's own, so the CLI
        and the Try tab both say so instead of changing it silently. `given`: the settings the caller sets itself
        (the CLI's flags): their model default is used by no one, so a note saying the app's default is used
        instead would be wrong. `greedy`: the caller decodes greedily for good (`generate --greedy`), so the
        SAMPLING_ONLY settings are used by no one either. `whose`: the model whose file it is, where two are
        compared (Loaded.defaults_config)."""
        unused = set(given) | (set(SAMPLING_ONLY) if greedy else set())
        notes = []
        for declared in dataclasses.fields(cls):
            value, limit = getattr(config, declared.name, None), declared.metadata.get("limit")
            if (value is None or declared.name == "seed" or declared.name in unused or limit is None
                    or limit.allows(value)):
                continue
            notes.append(f"The {whose}'s generation_config.json sets {declared.name} {value}, but it must be "
                         f"{limit.rule}: using {declared.default} instead. To fix: correct it in that file.")
        return notes

    def greedy(self) -> GenerationSettings:
        return dataclasses.replace(self, do_sample=False)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def generation_config(self, model: Any, max_new_tokens: int | None = None, pad_token_id: int | None = None,
                          stops: Sequence[int] = ()) -> Any:
        """The model's own GenerationConfig with these settings on top (its stop tokens kept, `stops` added: the
        end of turn of the chat template the prompt was rendered with, Rendered.stops)."""
        import copy

        from transformers import GenerationConfig

        from finetune_studio.core.chat import with_stops

        base = getattr(model, "generation_config", None)
        config = copy.deepcopy(base) if base is not None else GenerationConfig()
        config.eos_token_id = with_stops(config.eos_token_id, stops)
        config.do_sample = self.do_sample
        config.max_new_tokens = max_new_tokens if max_new_tokens is not None else self.max_new_tokens
        config.max_length = None
        config.repetition_penalty = self.repetition_penalty
        if pad_token_id is not None:
            config.pad_token_id = pad_token_id
        if self.do_sample:
            config.temperature, config.top_p, config.top_k = self.temperature, self.top_p, self.top_k
        else:  # greedy: sampling knobs would only earn a warning
            config.temperature, config.top_p, config.top_k = None, None, None
        return config


# The settings greedy decoding does not use (GenerationSettings.generation_config drops them, the Try tab greys
# their fields out while not sampling, `generate` decoding greedily notes no model default of theirs and says that
# such a flag given has no effect): the one list.
SAMPLING_ONLY = ("temperature", "top_p", "top_k", "seed")
LIMITS: dict[str, Limit] = {f.name: f.metadata["limit"] for f in dataclasses.fields(GenerationSettings)
                            if "limit" in f.metadata}


class StopReason(str, Enum):
    EOS = "eos"
    MAX_TOKENS = "max_new_tokens"
    USER = "user"

    @property
    def text(self) -> str:
        return {"eos": "end of turn / EOS", "max_new_tokens": "max new tokens", "user": "stopped by the user"}[
            self.value]


@dataclass
class Rendered:
    """The exact text the model reads, and whether the tokenizer adds its special tokens around it."""

    text: str
    add_special_tokens: bool = True
    # The ids that end a reply in the chat template it was rendered with (core.chat.end_of_turn): generation stops
    # there too. A full chat run's generation_config holds them (core.chat.prepare_model), but an adapter answers
    # with its base's, a checkpoint's folder has none, and the base side of a comparison never had them: a LoRA chat
    # run's replies ran on past <|im_end|> to max new tokens.
    stops: tuple[int, ...] = ()


@dataclass
class Answer:
    side: str
    text: str
    tokens: int
    seconds: float
    first_token_s: float | None
    stop_reason: StopReason
    rendered: str
    prompt_tokens: int
    notes: list[str] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (f"{self.tokens} tokens · {self.tokens_per_s:.1f} tokens/s · stopped: {self.stop_reason.text}")


# ---------------------------------------------------------------------------------------------- what to load


@dataclass(frozen=True)
class Target:
    """One loadable fine-tuned model of a run: its final model or one complete checkpoint."""

    label: str  # "final model" or "checkpoint-12"
    path: Path
    step: int | None

    @property
    def adapter(self) -> bool:
        return (self.path / ADAPTER_FILE).is_file()

    @property
    def key(self) -> str:
        """How answers.jsonl names it: "final" or "checkpoint-12"."""
        return "final" if self.step is None else self.path.name


@dataclass
class Source:
    """Everything needed to load one comparison: the fine-tuned target, its base, and how prompts are rendered."""

    target: Target | None  # None: a plain model folder answers alone (it has no base to compare to)
    base: ModelConfig | None
    run_dir: Path | None = None
    chat: bool = False
    chat_config: ChatConfig | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def adapter(self) -> bool:
        return self.target is not None and self.target.adapter

    @property
    def name(self) -> str:
        if self.run_dir is not None:
            return f"{self.run_dir.name} · {self.target.label}" if self.target else self.run_dir.name
        return str(self.target.path if self.target else self.base.name_or_path if self.base else "")


def _is_model_folder(path: Path) -> bool:
    return (path / "config.json").is_file() or (path / ADAPTER_FILE).is_file()


def run_config(run_dir: Path) -> RunConfig:
    try:
        return load_config(RunFolder(run_dir).config_path)[0]
    except FinetuneError as exc:  # core.config's words, whose own "To fix:" leads this one (said once)
        said, _, fix = str(exc).strip().partition(" To fix: ")
        fix = fix.strip().rstrip(".") or "restore it"
        raise GenerationError(f"The run {run_dir.name} has an unreadable config.yaml ({said.rstrip('.')}). To fix: "
                              f"{fix}, or open the model folder itself.") from None


def targets(run_dir: Path, config: RunConfig | None = None) -> list[Target]:
    """The run's complete checkpoints, oldest first (core.runs' listing), then its final model if it has one."""
    folder = RunFolder(Path(run_dir))
    config = config or run_config(folder.path)
    output_dir = Path(config.training.get("output_dir") or folder.path)
    found = []
    for path in folder.checkpoints(output_dir):
        step = int(CHECKPOINT_RE.match(path.name).group(1))
        if _is_model_folder(path):
            found.append(Target(path.name, path, step))
    if _is_model_folder(folder.model_dir):
        found.append(Target("final model", folder.model_dir, None))
    return found


def _what_exists(run_dir: Path) -> str:
    names = sorted(child.name + ("/" if child.is_dir() else "") for child in Path(run_dir).iterdir())
    partial = [n for n in names if n.startswith("checkpoint-")]
    said = f"it holds {', '.join(names[:12])}{' …' if len(names) > 12 else ''}"
    if partial:
        said += f" ({', '.join(partial)} {'is' if len(partial) == 1 else 'are'} incomplete: cut off while saving)"
    return said


def is_chat_run(config: RunConfig | None, tokenizer_dir: Path | None, run_dir: Path | None = None) -> bool:
    """A run trained on instructions or conversations: as the run recorded it when it began training
    (RunFolder.trained_as_chat); for a run from before that, its config names a chat format, or (format 'auto') its
    data renders as chats (core.chat.renders_as_chat). Only when that cannot be told (a Hub dataset, data gone
    since) or for a model folder outside a run: the tokenizer saved with it carries a chat template. The template
    alone made a text run answer as a chat: a base like Qwen3 ships one (helper-50)."""
    recorded = RunFolder(run_dir).trained_as_chat() if run_dir is not None else None
    if recorded is not None:
        return recorded
    if config is not None:
        from finetune_studio.core.chat import renders_as_chat

        decided = renders_as_chat(config)
        if decided is not None:
            return decided
    if tokenizer_dir is None:
        return False
    try:
        saved = read_json(tokenizer_dir / "tokenizer_config.json")
    except (OSError, ValueError):
        saved = {}
    return bool((isinstance(saved, dict) and saved.get("chat_template"))
                or any((tokenizer_dir / name).is_file() for name in ("chat_template.jinja", "chat_template.json")))


def resolve(folder: str | os.PathLike[str], checkpoint: int | None = None) -> Source:
    """What `generate FOLDER [--checkpoint N]` and the Try tab load: a run folder (its final model, else its
    latest complete checkpoint, or checkpoint N), a checkpoint or model folder inside a run, or a plain model
    folder wherever it is, export's folders inside a run included (with its base when it holds an adapter).
    What cannot be, whatever the models hold (no such folder or checkpoint), raises InputError."""
    path = Path(folder).expanduser()
    if not path.exists():
        raise InputError(f"{path} does not exist. To fix: give a run folder (it holds config.yaml) or a model "
                         "folder (it holds config.json or adapter_config.json).")
    run_dir = path if RunFolder(path).exists() else path.parent if RunFolder(path.parent).exists() else None
    if run_dir is not None and run_dir != path and _own_model_folder(run_dir, path):
        run_dir = None  # e.g. export's RUN/export-merged: loaded as the model folder it is, as it would be elsewhere
    if run_dir is not None:
        config = run_config(run_dir)
        found = targets(run_dir, config)
        notes: list[str] = []
        if run_dir != path:  # a checkpoint or the model folder itself
            if checkpoint is not None:
                raise InputError(f"--checkpoint {checkpoint} picks a checkpoint of a run folder, and {path} is "
                                 f"already one of {run_dir.name}'s models. To fix: give the run folder {run_dir} "
                                 "with --checkpoint, or this folder alone.")
            chosen = next((t for t in found if t.path == path), None)
            if chosen is None:
                raise InputError(f"{path} is not a complete checkpoint or the final model of {run_dir.name} (a "
                                 "checkpoint cut off while saving, or a folder with no config.json or "
                                 f"adapter_config.json). To fix: {_pick_from(run_dir, found, config)}")
            _refuse_damaged(run_dir, chosen, found, by_step=False)
        elif checkpoint is not None:
            chosen = next((t for t in found if t.step == checkpoint), None)
            if chosen is None:
                whole = tuple(t.step for t in found if damage(t.path) is None)
                steps = [str(t.step) for t in found if t.step is not None]
                final = any(t.step is None for t in found)
                if len(steps) > 1:
                    fix = f"give one of its checkpoints: {', '.join(steps[:-1])} or {steps[-1]}."
                elif steps:
                    fix = f"give --checkpoint {steps[0]}, its only complete checkpoint."
                elif final:
                    fix = "leave out --checkpoint to use its final model."
                else:
                    fix = _wait_for_a_save(run_dir, config) or _no_model_yet(run_dir, config)
                said = (f"has no complete checkpoint {checkpoint}" if steps else
                        f"has no complete checkpoint at all, so --checkpoint {checkpoint} has none to pick "
                        f"({_what_exists(run_dir)})")
                raise InputError(f"The run {run_dir.name} {said}. To fix: {fix}", CheckpointRefusal(
                    MISSING if steps else NONE_LEFT, run_dir.name, checkpoint, f"The run {run_dir.name} {said}.",
                    whole, fallback=fix, detail="" if steps else _what_exists(run_dir)))
            _refuse_damaged(run_dir, chosen, found, by_step=True)
        elif not found:
            fix = _wait_for_a_save(run_dir, config) or _no_model_yet(run_dir, config)
            raise GenerationError(f"The run {run_dir.name} has no final model and no complete checkpoint yet, so "
                                  f"there is nothing to talk to: {_what_exists(run_dir)}. To fix: {fix}")
        else:
            chosen = None
            for candidate in reversed(found):  # the final model, else the latest checkpoint that is whole
                problem = damage(candidate.path)
                if problem is None:
                    chosen = candidate
                    break
                notes.append(f"{run_dir.name} · {candidate.label} is damaged: {problem}; skipped.")
            if chosen is None:
                raise GenerationError(f"Every model {run_dir.name} saved is damaged ({' '.join(notes)}). To fix: "
                                      f"{UNLOADABLE_FIX}.")
            if chosen.step is not None:
                notes.append(f"{run_dir.name} has no {'whole ' if notes else ''}final model; using its latest "
                             f"{'whole' if notes else 'complete'} checkpoint, {chosen.label}.")
        base = dataclasses.replace(config.model)
        tokenizer_dir = chosen.path if (chosen.path / "tokenizer_config.json").is_file() else RunFolder(
            run_dir).model_dir
        return Source(chosen, base, run_dir, is_chat_run(config, tokenizer_dir, run_dir), config.chat, notes)
    if not _is_model_folder(path):
        raise InputError(f"{path} is neither a run folder (no config.yaml) nor a model folder (no config.json or "
                         "adapter_config.json). To fix: pick the run's folder or the folder save_pretrained wrote.")
    if checkpoint is not None:
        raise InputError(f"--checkpoint needs a run folder; {path} is a model folder. To fix: give the run folder, "
                         "or the checkpoint's own folder.")
    problem = damage(path)
    if problem is not None:
        raise GenerationError(f"The model folder {path} cannot load: {problem}. To fix: save the model there again, "
                              "or pick another folder.")
    target = Target(path.name, path, None)
    base = None
    if target.adapter:
        adapter = _adapter_config(path)
        base_name = adapter.get("base_model_name_or_path")
        if not base_name:
            raise GenerationError(f"{path / ADAPTER_FILE} does not say which base model it adapts "
                                  "(base_model_name_or_path). To fix: add it, then try again.")
        base = ModelConfig(name_or_path=str(base_name))
    return Source(target, base, None, is_chat_run(None, path), None)


def base_problem(source: Source) -> tuple[str, str] | None:
    """(what, fix) when a run's config.yaml names its base model as no one model (model.name_or_path written as a
    list, a mapping or nothing), for the front ends to say in their own terms (the Try tab's base pane, the CLI's
    --base and an adapter's base); None for a name, whose loading says whether it loads. One rule for both: the Try
    tab refused such a pick (8cdf10f) while `finetune-studio generate` went on to fail at load, with exit 1."""
    base = source.base
    if base is None or (isinstance(base.name_or_path, str) and base.name_or_path.strip()):
        return None
    from finetune_studio.core.config import as_written, kind_of

    value = base.name_or_path
    got = "names no base model (model.name_or_path is empty)" if value is None or not str(value).strip() else (
        f"names its base model as {kind_of(value)} (model.name_or_path: {as_written(value)}), not as one model")
    where = source.run_dir / "config.yaml" if source.run_dir is not None else "its config.yaml"
    return (f"its config.yaml {got}", f"write the one model it was trained from in {where}, e.g. model: "
            "{name_or_path: Qwen/Qwen3-0.6B} or a model folder")


def _own_model_folder(run_dir: Path, path: Path) -> bool:
    """A model folder kept inside a run that is none of the run's own saves: export's export-merged/ and
    export-adapter/, or a copy put there. It loads as a model folder, as it would anywhere else. A checkpoint-N/
    or model/ is the run's own: only a complete one loads (one cut off while saving is refused)."""
    return (_is_model_folder(path) and not CHECKPOINT_RE.match(path.name)
            and path.resolve() != RunFolder(run_dir).model_dir.resolve())


def _wait_for_a_save(run_dir: Path, config: RunConfig) -> str | None:
    """For a run that is training now and has saved no model yet: to wait for its first save (when its config says
    it comes), as the fix; None when it is not training. "Resume it" was said, which its own lock refuses while it
    trains (core.runs.run_busy)."""
    from finetune_studio.core.runs import lock_alive, read_lock

    record = read_lock(run_dir)
    if record is None or not lock_alive(record):
        return None
    pid = record.get("pid")
    training = config.training
    strategy, every = training.get("save_strategy", "steps"), training.get("save_steps", 500)
    if strategy == "no":
        when = ("wait until it finishes: it saves no checkpoint (save_strategy: no), only its final model at the "
                "end")
    elif strategy == "epoch":
        when = "wait for its first checkpoint, saved at the end of its first epoch (save_strategy: epoch)"
    elif strategy == "steps" and isinstance(every, (int, float)) and not isinstance(every, bool) and every >= 1:
        when = f"wait for its first checkpoint, saved at step {every:g} (save_steps: {every:g})"
    else:
        when = "wait for its first checkpoint"
    return (f"{when}, then try again. It is training now ({f'process {pid}' if pid else 'in another process'}); "
            "the Runs tab, or `finetune-studio runs`, shows how far it is.")


def _no_model_yet(run_dir: Path, config: RunConfig | None) -> str:
    """The fix for a run that is not training and has no final model and no complete checkpoint: what Resume says of
    it, in the same words (core.training.start_again_fix: start it again, under another name when it trained steps),
    or why its checkpoints cannot be loaded. "Train it until it saves a checkpoint, or resume it" was said, and
    Resume refuses a run with no checkpoint."""
    from shlex import quote

    from finetune_studio.core.config import pasted_command
    from finetune_studio.core.training import start_again_fix

    output_dir = (config.training.get("output_dir") if config is not None else None) or run_dir
    folder = RunFolder(Path(run_dir).absolute())  # the command works from any folder
    point = folder.resume_point(Path(output_dir))
    if point.checkpoint is not None:  # one that loads where generate finds none (an output_dir elsewhere)
        resume = pasted_command(f"finetune-studio resume {quote(str(folder.path))}")
        return f"resume it until it saves its final model: {resume}."
    if point.why_not():
        return f"{UNLOADABLE_FIX}."
    return f"{start_again_fix(folder)}."


def _pick_from(run_dir: Path, found: list[Target], config: RunConfig | None = None) -> str:
    """What to give instead of a folder of the run that is none of its models: the ones it has, in words."""
    names = [f"{t.path.name}/" + (" (the final model)" if t.step is None else "") for t in found]
    if not names:
        waiting = _wait_for_a_save(run_dir, config) if config is not None else None
        return waiting or _no_model_yet(run_dir, config)
    if len(names) == 1:
        return f"give the run folder {run_dir}, or its only model: {names[0]}."
    return f"give the run folder {run_dir}, or one of its models: {', '.join(names[:-1])} or {names[-1]}."


def _refuse_damaged(run_dir: Path, chosen: Target, found: list[Target], by_step: bool) -> None:
    """The model asked for by name must load: say what is wrong with it and which others are whole, as they are
    picked the way this one was (`by_step`: the run folder with --checkpoint N, else a folder of the run). Resuming
    the run would not save this one again (a finished run trains no more; an unfinished one saves later steps)."""
    problem = damage(chosen.path)
    if problem is None:
        return
    whole = [t for t in found if t is not chosen and damage(t.path) is None]
    steps = [str(t.step) for t in whole if t.step is not None]
    final = any(t.step is None for t in whole)
    if not whole:
        from finetune_studio.core.runs import UNLOADABLE_FIX

        fix = f"{UNLOADABLE_FIX}; or pick another run: this one has no other whole model."
    elif by_step:
        listed = f"{', '.join(steps[:-1])} or {steps[-1]}" if len(steps) > 1 else "".join(steps)
        ways = ([f"--checkpoint {listed}"] if steps else []) + (
            ["leave out --checkpoint for its final model"] if final else [])
        fix = f"pick a whole one: {', or '.join(ways)}."
    else:
        names = [f"{t.path}" + (" (the final model)" if t.step is None else "") for t in whole]
        fix = (f"give a whole one: {names[0]}." if len(names) == 1 else
               f"give a whole one: {', '.join(names[:-1])} or {names[-1]}.")
    refusal = CheckpointRefusal(DAMAGED, run_dir.name, chosen.step, f"{run_dir.name} · {chosen.label} is damaged: "
                                f"{problem}.", tuple(t.step for t in whole), fallback=fix) \
        if by_step and chosen.step is not None else None
    raise GenerationError(f"{run_dir.name} · {chosen.label} is damaged: {problem}. To fix: {fix}", refusal)


def _adapter_config(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path / ADAPTER_FILE)
    except (OSError, ValueError) as exc:
        raise GenerationError(f"{path / ADAPTER_FILE} cannot be read ({exc}). To fix: save the adapter again.") \
            from None
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------------------------------------- rendering


def chat_template(tokenizer: Any, chat_config: ChatConfig | None) -> str:
    """The template a chat run's prompts are rendered with: the one saved with its tokenizer, else what the chat
    core would pick for it (core.chat, when present), else ChatML."""
    own = getattr(tokenizer, "chat_template", None)
    if isinstance(own, str) and own:
        return own
    try:
        from finetune_studio.core.chat import resolve_template  # type: ignore[attr-defined]
    except ImportError:
        return CHATML
    try:
        found = resolve_template(tokenizer, chat_config or ChatConfig())
    except Exception:  # noqa: BLE001 - an unknown template name: ChatML, as training would have used
        return CHATML
    text = found[0] if isinstance(found, tuple) and found else found  # core.chat: (text, name, note)
    return text if isinstance(text, str) and text else CHATML


def text_run_template(tokenizer: Any) -> str:
    """The template a text run is chatted with (Chat ticked in the Try tab): its tokenizer's own, else ChatML. Unlike
    chat_template, no control token is added to the tokenizer: the run's model has no embedding rows for one (every
    prompt failed with "IndexError: index out of range in self"), and it never learned them anyway, so ChatML's
    markers reach it as the plain text they are."""
    own = getattr(tokenizer, "chat_template", None)
    if isinstance(own, dict):
        own = own.get("default")
    return own if isinstance(own, str) and own else CHATML


def render(tokenizer: Any, prompt: str, *, chat: bool, history: list[dict[str, str]] | None = None,
           system: str = "", template: str | None = None) -> Rendered:
    """The exact text the model reads. A text run continues the prompt as it is; a chat run gets the system
    prompt, the conversation so far and the new user turn through its chat template, ending in the assistant's
    turn."""
    if not prompt.strip():
        raise GenerationError("The prompt is empty. To fix: type something for the model to answer or continue.")
    if not chat:
        return Rendered(prompt, add_special_tokens=True)
    messages = ([{"role": "system", "content": system}] if system.strip() else []) + list(history or [])
    messages.append({"role": "user", "content": prompt})
    template = template or chat_template(tokenizer, None)
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                         chat_template=template)
    from finetune_studio.core.chat import end_of_turn

    return Rendered(str(text), add_special_tokens=False, stops=tuple(end_of_turn(tokenizer, template)[0]))


@dataclass
class Conversation:
    """A chat's turns, one history per side (their answers differ, so does what each is asked next)."""

    system: str = ""
    history: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {side: [] for side in SIDES})

    def add(self, side: str, prompt: str, answer: str) -> None:
        self.history[side] += [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]

    def clear(self) -> None:
        for turns in self.history.values():
            turns.clear()

    def drop_last(self, side: str, turn: tuple[str, str] | None = None) -> bool:
        """Take `side`'s last turn (its user message and the answer to it) out of its history; the other side's is
        left as it is. A turn that not every side answered (Stop before the other began, its answer failed) is not
        kept by the sides that did answer, so both go on asking the same conversation (the Try tab's
        TryTab._answered); the message layout stays core's to know. `turn`: (prompt, answer) it must be, else
        nothing is dropped. False, and nothing changes, when there is no such whole turn to drop (an empty
        history among them)."""
        turns = self.history[side]
        last = turns[-2:]
        if [t.get("role") for t in last] != ["user", "assistant"]:
            return False
        if turn is not None and (last[0]["content"], last[1]["content"]) != tuple(turn):
            return False
        del turns[-2:]
        return True

    @property
    def turns(self) -> int:
        return max(len(turns) for turns in self.history.values()) // 2


# ---------------------------------------------------------------------------------------------- loading


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def free_memory_bytes(where: str) -> int | None:
    """Memory a model could still take on `where` ("cuda" or "cpu"); None when it cannot be told."""
    if where == "cuda":
        import torch

        return int(torch.cuda.mem_get_info()[0])
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def weights_bytes(folder: Path) -> int:
    return sum(child.stat().st_size for child in Path(folder).iterdir()
               if child.suffix in (".safetensors", ".bin") and child.is_file())


def both_fit(target: Target, where: str, free: int | None = None) -> bool:
    """Whether the base and a fully fine-tuned model fit side by side (the base has the same size)."""
    free = free_memory_bytes(where) if free is None else free
    return free is None or 2 * weights_bytes(target.path) * MEMORY_HEADROOM <= free


def load_tokenizer(source: Source) -> Any:
    from finetune_studio.core.model import load_tokenizer as load

    candidates = []
    if source.target is not None:
        candidates.append(source.target.path)
    if source.run_dir is not None:
        candidates.append(RunFolder(source.run_dir).model_dir)
    for folder in candidates:
        if (folder / "tokenizer_config.json").is_file():
            return _folder_tokenizer(folder)
    if source.base is None:
        raise GenerationError(f"{source.name} has no tokenizer files. To fix: save the tokenizer into the folder.")
    try:
        return load(source.base)
    except LoadStopped:
        raise
    except FinetuneError:
        _stop_here()  # its download stopped (stoppable), whatever the library made of it
        raise


def _folder_tokenizer(folder: Path) -> Any:
    """The tokenizer saved in a run's folder (an adapter folder too, which core.model refuses as a model)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except Exception as exc:  # noqa: BLE001 - any unreadable tokenizer file: say which folder
        _stop_here()
        raise ModelError(f"Could not load the tokenizer saved in {folder}: {describe_error(exc, 'Loading')} To fix: "
                         "save the tokenizer there again.") from None
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # as training did
    return tokenizer


# ---------------------------------------------------------------------------------------------- stopping a load
# A load stops between its steps (tokenizer, each model, the adapter) and, inside one model's from_pretrained, between
# two tensors: transformers 5 reads a checkpoint's tensors in one loop over `core_model_loading.tqdm` (the "Loading
# weights" bar), which _StoppableBar wraps once. The wrapper checks only in a thread that loads under stoppable(), so
# every other caller (training, export, the CLI) reads its weights as before. What a stopped load made is dropped
# with its frames; the caller frees the cached memory on its own thread (a collection in a worker thread can destroy
# Qt objects off the GUI thread).
# A model or tokenizer not cached yet is downloaded inside from_pretrained by huggingface_hub: one file through
# hf_hub_download in the loading thread, several through snapshot_download, whose files download in a thread pool
# (hf_thread_map). Both are wrapped once, the same way (_wrap_hub_downloads): a file's progress bar
# (file_download._get_progress_bar_context) checks the stop event at each chunk it counts, and the pool's threads load
# under the caller's event, checking it before each file (a file not begun is not asked for once Stop is pressed).
# The client counts a chunk every DOWNLOAD_CHUNK_SIZE bytes (10 MiB): lowered to HUB_CHUNK_BYTES, so a stop waits
# for at most that much more of a file (a second at 64 KiB/s; httpx reads at most 64 KiB at a time anyway). The file
# being downloaded is dropped (huggingface_hub 2.x deletes its temporary .incomplete file); files downloaded whole
# stay in the Hub cache, and the next load downloads only the rest.
# A server that sends nothing (the connection open, no bytes coming) counts no chunk: the client waits up to its read
# timeout (HF_HUB_DOWNLOAD_TIMEOUT, 10 s) for each read of the socket. In a thread loading under stoppable() that wait
# is cut into READ_SLICE_S slices (_WakingReads, around httpcore2's HTTP/1.1 read of a response's next event, the
# client under huggingface_hub's httpx2): between two slices the stop is checked, and the read is tried again on the
# same connection (a read that timed out took nothing from the socket) until the client's own timeout has passed,
# which then ends it as before. A slow server is read as before; a stalled one is left within a slice of Stop.
HUB_CHUNK_BYTES = 64 * 1024
READ_SLICE_S = 0.2
_loading = threading.local()
_hook_lock = threading.Lock()


def _stop_here() -> None:
    """Raise LoadStopped when this thread loads under a stop event that is set."""
    stop = getattr(_loading, "stop", None)
    if stop is not None and stop.is_set():
        raise LoadStopped("The load was stopped.")


class _StoppableBar:
    """transformers' progress-bar factory, whose bars, in a thread loading under stoppable(), check the stop event
    before each item (a tensor to read)."""

    def __init__(self, factory: Any):
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bar = self.factory(*args, **kwargs)
        return bar if getattr(_loading, "stop", None) is None else _checked(bar)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.factory, name)


def _checked(bar: Any) -> Iterator[Any]:
    for item in bar:
        _stop_here()
        yield item


def _wrap_weight_loading() -> None:
    try:
        from transformers import core_model_loading
    except ImportError:  # another transformers: the load stops between its steps only
        return
    with _hook_lock:
        factory = getattr(core_model_loading, "tqdm", None)
        if factory is not None and not isinstance(factory, _StoppableBar):
            core_model_loading.tqdm = _StoppableBar(factory)


class _CheckedChunks:
    """A download's progress bar that raises LoadStopped, instead of counting a chunk, once `stop` is set."""

    def __init__(self, bar: Any, stop: threading.Event):
        self._bar = bar
        self._stop = stop

    def update(self, n: Any = 1) -> Any:
        if self._stop.is_set():
            raise LoadStopped("The load was stopped.")
        return self._bar.update(n)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bar, name)


class _StoppableDownload:
    """huggingface_hub's per-file progress-bar context (file_download._get_progress_bar_context), whose bar, in a
    thread loading under stoppable(), checks the stop event when the file begins and at each chunk."""

    def __init__(self, factory: Any):
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        stop = getattr(_loading, "stop", None)
        context = self.factory(*args, **kwargs)
        return context if stop is None else _checked_download(context, stop)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.factory, name)


@contextlib.contextmanager
def _checked_download(context: Any, stop: threading.Event) -> Iterator[Any]:
    with context as bar:
        _stop_here()
        yield _CheckedChunks(bar, stop)


class _StoppableFiles:
    """snapshot_download's thread pool (hf_thread_map): called from a thread loading under stoppable(), each file
    is fetched under the same stop event, and not begun once it is set."""

    def __init__(self, thread_map: Any):
        self.thread_map = thread_map

    def __call__(self, fn: Callable[..., Any], *iterables: Any, **kwargs: Any) -> Any:
        stop = getattr(_loading, "stop", None)
        if stop is None:
            return self.thread_map(fn, *iterables, **kwargs)

        def one(*args: Any) -> Any:
            before = getattr(_loading, "stop", None)
            _loading.stop = stop
            try:
                _stop_here()
                return fn(*args)
            finally:
                _loading.stop = before

        return self.thread_map(one, *iterables, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.thread_map, name)


class _HttpWhileStoppable:
    """huggingface_hub's is_xet_available as its file_download module looks it up: False in a thread loading under
    stoppable(), so that a file the Hub stores with Xet comes over HTTP there, chunk by chunk, where the stop is
    checked (_CheckedChunks). hf_xet downloads in Rust, out of reach of the stop, and its one abort
    (abort_xet_session) cancels every Xet transfer of the process. Elsewhere (training, export, a push) the
    library's own answer. A Try-tab download gives up hf_xet's speed for Stop; the model a run trained on is
    usually cached already, so it is rarely downloaded there at all."""

    def __init__(self, available: Callable[[], bool]):
        self.available = available

    def __call__(self) -> bool:
        return False if getattr(_loading, "stop", None) is not None else self.available()


def _wrap_hub_downloads() -> None:
    try:
        from huggingface_hub import _snapshot_download, constants, file_download
    except ImportError:  # another huggingface_hub: a download stops at the load's next step
        return
    with _hook_lock:
        context = getattr(file_download, "_get_progress_bar_context", None)
        if context is not None and not isinstance(context, _StoppableDownload):
            file_download._get_progress_bar_context = _StoppableDownload(context)
        pool = getattr(_snapshot_download, "hf_thread_map", None)
        if pool is not None and not isinstance(pool, _StoppableFiles):
            _snapshot_download.hf_thread_map = _StoppableFiles(pool)
        available = getattr(file_download, "is_xet_available", None)
        if available is not None and not isinstance(available, _HttpWhileStoppable):
            file_download.is_xet_available = _HttpWhileStoppable(available)
        if getattr(constants, "DOWNLOAD_CHUNK_SIZE", 0) > HUB_CHUNK_BYTES:
            constants.DOWNLOAD_CHUNK_SIZE = HUB_CHUNK_BYTES
    _wrap_hub_reads()


class _WakingReads:
    """httpcore2's HTTP11Connection._receive_event (wait up to `timeout` for the response's next event: its headers,
    a piece of its body), which, in a thread loading under stoppable(), waits in READ_SLICE_S slices, checking the
    stop between two, until `timeout` has passed; then its ReadTimeout, as before. Elsewhere the method itself."""

    def __init__(self, receive: Callable[..., Any], timed_out: type[BaseException]):
        self.receive = receive
        self.timed_out = timed_out

    def __get__(self, connection: Any, owner: Any = None) -> Any:
        return self if connection is None else functools.partial(self.__call__, connection)

    def __call__(self, connection: Any, timeout: float | None = None) -> Any:
        stop = getattr(_loading, "stop", None)
        if stop is None or (timeout is not None and timeout <= 0):
            return self.receive(connection, timeout=timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if stop.is_set():
                raise LoadStopped("The load was stopped.")
            left = READ_SLICE_S if deadline is None else min(READ_SLICE_S, deadline - time.monotonic())
            try:
                return self.receive(connection, timeout=max(left, 0.001))
            except self.timed_out:
                if deadline is not None and time.monotonic() >= deadline:
                    raise  # nothing came for the client's whole read timeout: its own error, as before


def _wrap_hub_reads() -> None:
    try:
        import httpcore2
        from httpcore2._sync import http11
    except ImportError:  # another HTTP client: a stalled download stops at its read timeout
        return
    with _hook_lock:
        receive = http11.HTTP11Connection.__dict__.get("_receive_event")
        if receive is not None and not isinstance(receive, _WakingReads):
            http11.HTTP11Connection._receive_event = _WakingReads(receive, httpcore2.ReadTimeout)


@contextlib.contextmanager
def stoppable(stop: threading.Event | None) -> Iterator[None]:
    """Loads in this thread, inside, end with LoadStopped soon after `stop` is set (between tensors, between two
    chunks of a file downloaded from the Hub, and within READ_SLICE_S while a Hub server sends nothing)."""
    if stop is None:
        yield
        return
    _wrap_weight_loading()
    _wrap_hub_downloads()
    before = getattr(_loading, "stop", None)
    _loading.stop = stop
    try:
        yield
    finally:
        _loading.stop = before


def load_weights(config: ModelConfig, where: str) -> Any:
    """One causal LM from a folder, a Hub id or the demo, on `where`, ready to generate."""
    from finetune_studio.core.model import load_model

    try:
        model = load_model(config)
    except LoadStopped:
        raise
    except FinetuneError:
        _stop_here()  # a library that wrapped the stop in its own error (a download's) was stopped all the same
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt weights file raises the safetensors library's own error
        _stop_here()
        raise ModelError(f"Could not load the model from {config.name_or_path}: {describe_error(exc, 'Loading')} "
                         "To fix: pick another checkpoint or model folder.") from None
    _stop_here()  # not moved to the GPU only to be dropped
    return model.to(where).eval()


# An adapter's weights are read by peft (PeftModel.load_adapter: load_peft_weights, then set_peft_model_state_dict),
# outside transformers' per-tensor loop: its safetensors reader (peft.utils.save_and_load.safe_load_file, safetensors'
# load_file, which reads the whole file in one call) is wrapped once (_StoppableAdapterFile), so that in a thread
# loading under stoppable() the adapter's tensors are read one at a time with the stop checked before each, as a
# model's are. peft does the rest as before (key names, set_peft_model_state_dict). An adapter stopped partway is not
# applied: a first one goes with its base model (the caller drops both), another is deleted from the PeftModel.


class _StoppableAdapterFile:
    """peft's reader of an adapter's safetensors file, which, in a thread loading under stoppable(), reads the
    tensors one at a time (safetensors' safe_open, as its load_file does) and checks the stop before each; elsewhere
    load_file itself."""

    def __init__(self, load_file: Callable[..., Any]):
        self.load_file = load_file

    def __call__(self, filename: Any, device: Any = "cpu", **kwargs: Any) -> Any:
        if getattr(_loading, "stop", None) is None:
            return self.load_file(filename, device=device, **kwargs)
        from safetensors import safe_open

        tensors = {}
        with safe_open(filename, framework="pt", device=device, **kwargs) as opened:
            for name in getattr(opened, "offset_keys", opened.keys)():  # in the file's order, as get_tensors reads
                _stop_here()
                tensors[name] = opened.get_tensor(name)
        _stop_here()
        return tensors

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load_file, name)


def _wrap_adapter_loading() -> None:
    try:
        from peft.utils import save_and_load
    except ImportError:  # another peft: an adapter's load stops at the load's next step
        return
    with _hook_lock:
        load_file = getattr(save_and_load, "safe_load_file", None)
        if load_file is not None and not isinstance(load_file, _StoppableAdapterFile):
            save_and_load.safe_load_file = _StoppableAdapterFile(load_file)


def _with_adapter(base: Any, target: Target, **kwargs: Any) -> Any:
    from finetune_studio.core.adapters import load_adapter  # grows the base for a chat run's added tokens

    _wrap_adapter_loading()
    try:
        model = load_adapter(base, target.path, **kwargs).eval()
    except LoadStopped:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken adapter folder: say which, keep going elsewhere
        _stop_here()  # a library that wrapped the stop in its own error was stopped all the same
        raise _adapter_error(target, exc) from None
    _stop_here()  # stopped at the very end: dropped with its base, as the user asked
    return model


def _add_adapter(peft_model: Any, target: Target) -> None:
    """Another checkpoint's adapter beside those loaded (the comparison), made the active one; one that fails to
    load, or whose load is stopped (LoadStopped), leaves nothing behind: the adapter active before stays so."""
    _wrap_adapter_loading()
    try:
        peft_model.load_adapter(str(target.path), adapter_name=target.key)
        _stop_here()
        peft_model.set_adapter(target.key)
    except Exception as exc:  # a broken adapter folder: say which, keep going elsewhere
        with contextlib.suppress(Exception):
            peft_model.delete_adapter(target.key)
        if isinstance(exc, LoadStopped):
            raise
        _stop_here()
        raise _adapter_error(target, exc) from None


def _adapter_error(target: Target, exc: BaseException) -> ModelError:
    """torch's "Error(s) in loading state_dict for PeftModel:" alone said nothing: the line under it names what does
    not fit (core.adapters.load_failure_reason)."""
    from finetune_studio.core.adapters import load_failure_reason

    return ModelError(f"Could not load the adapter in {target.path}: {load_failure_reason(exc)}. To fix: check that "
                      f"adapter_config.json and adapter_model.safetensors in {target.path} are the ones the run saved "
                      "together (copy the run folder again if it was copied or edited), and that the base model is the "
                      "one it trained on; or pick another checkpoint.")


@dataclass
class Loaded:
    """The models one comparison answers with, and how they share memory (`mode`, said on screen).

    Use `model_for(side)`: it yields the model that answers for that side, switching the adapter off for the
    base of an adapter run, and in "one after the other" mode loading each side's model when it is its turn."""

    source: Source
    tokenizer: Any
    where: str
    mode: str  # "adapter", "both", "one after the other", "alone"
    models: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # side -> why its model did not load; the other answers
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def sides(self) -> tuple[str, ...]:
        return (TUNED,) if self.mode == "alone" else SIDES

    @property
    def concurrent(self) -> bool:
        """Both sides may generate at the same time (two separate models in memory)."""
        return self.mode == "both" and not self.failed

    def defaults_config(self) -> tuple[Any, str]:
        """The generation_config the shared settings take their defaults from, and whose it is (for
        GenerationSettings.ignored_defaults): the fine-tuned model's where it loaded, as `finetune-studio generate
        RUN` reads it (the Try tab read the base's, and a bad value in the fine-tuned model's file went unsaid); the
        base's only where the fine-tuned one did not load. Named by side where two models of their own are
        compared; an adapter run's is its base model's (the adapter is put on the base weights, whose
        generation_config.json is the one read: a generation_config.json in the adapter's folder is not), so a note
        sends the user to the file that is read; a model alone is "the model"."""
        side = TUNED if TUNED in self.models else next(iter(self.models), None)
        config = getattr(self.models.get(side), "generation_config", None)
        if side is not None and self.mode == "adapter":
            return config, "base model"
        if side is None or self.mode not in ("both", "one after the other"):
            return config, "model"
        return config, "base model" if side == BASE else "fine-tuned model"

    def describe(self) -> str:
        for side, message in self.failed.items():
            return (f"The {'base' if side == BASE else 'fine-tuned'} model could not load, so the "
                    f"{'fine-tuned' if side == BASE else 'base'} model answers alone. {message}")
        return {
            "adapter": "Adapter run: the base weights are loaded once; the base answers with the adapter switched "
                       "off, then the fine-tuned model with it on.",
            "both": "Both models are loaded and answer at the same time.",
            "one after the other": "Both models do not fit in memory together, so they answer one after the other, "
                                   "each loaded for its answer.",
            "alone": "This model folder has no base model to compare with: it answers alone.",
        }[self.mode]

    @contextlib.contextmanager
    def model_for(self, side: str, progress: Progress | None = None) -> Iterator[Any]:
        if self.mode == "adapter":
            with self._lock:  # one copy of the weights: one side at a time
                model = self.models[TUNED]
                if side == BASE:
                    with model.disable_adapter():
                        yield model
                else:
                    yield model
            return
        if self.mode == "one after the other":
            with self._lock:
                if side not in self.models:
                    self.release()
                    if progress:
                        progress(f"Loading the {'base' if side == BASE else 'fine-tuned'} model…")
                    self.models[side] = self.load_side(side)
                yield self.models[side]
            return
        yield self.models[side]

    def load_side(self, side: str) -> Any:
        """One side's own model (full fine-tuning). The base grows its embeddings to the run's tokenizer: a chat run
        that added control tokens renders them into every prompt, and the base's smaller table has no row for
        them (an IndexError in the embedding lookup); the added rows are as drawn, the base never learned them."""
        model = load_weights(self._config(side), self.where)
        if side == BASE:
            from finetune_studio.core.adapters import grow_embeddings

            grow_embeddings(model, len(self.tokenizer))
        return model

    def _config(self, side: str) -> ModelConfig:
        if side == BASE:
            assert self.source.base is not None
            return self.source.base
        assert self.source.target is not None
        base = self.source.base or ModelConfig()
        return dataclasses.replace(base, name_or_path=str(self.source.target.path), revision=None)

    def release(self) -> None:
        """Drop the models and give their memory back (training always wins)."""
        self.models.clear()
        free_cached_memory()


def free_cached_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def load(source: Source, progress: Progress | None = None, where: str | None = None,
         free: int | None = None, sides: tuple[str, ...] = SIDES, tokenizer: Any = None,
         stop: threading.Event | None = None) -> Loaded:
    """Load what `source` needs to answer on `sides`, saying each step to `progress`; `tokenizer`: the one
    load_tokenizer(source) already gave, so it is not loaded twice. Once `stop` is set the load ends with
    LoadStopped, between two steps or two tensors of a model (stoppable), and nothing it loaded is kept: free the
    cached memory afterwards (free_cached_memory), on the caller's thread."""
    with stoppable(stop):
        return _load(source, progress, where, free, sides, tokenizer)


def _load(source: Source, progress: Progress | None, where: str | None, free: int | None,
          sides: tuple[str, ...], tokenizer: Any) -> Loaded:
    say = progress or (lambda _text: None)
    _stop_here()
    where = where or device()
    if tokenizer is None:
        say(f"Loading the tokenizer of {source.name}…")
        tokenizer = load_tokenizer(source)
        _stop_here()
    if source.base is None or source.target is None:
        mode, sides = "alone", (TUNED,)
    elif source.adapter:
        mode = "adapter"
    elif set(sides) == set(SIDES) and not both_fit(source.target, where, free):
        mode = "one after the other"
    else:
        mode = "both"
    loaded = Loaded(source, tokenizer, where, mode, notes=list(source.notes))
    if mode == "adapter":
        say(f"Loading the base model {source.base.name_or_path}…")
        base = load_weights(source.base, where)
        _stop_here()
        say(f"Loading the adapter of {source.target.label}…")
        loaded.models[TUNED] = _with_adapter(base, source.target)
    elif mode == "one after the other":
        loaded.notes.append(loaded.describe())
        say(f"Loading the fine-tuned model ({source.target.label})…")
        loaded.models[TUNED] = loaded.load_side(TUNED)
    else:
        errors: list[FinetuneError] = []
        for side in sides:
            _stop_here()
            say(f"Loading the {'base' if side == BASE else 'fine-tuned'} model "
                f"({source.base.name_or_path if side == BASE else source.target.label})…")
            try:
                loaded.models[side] = loaded.load_side(side)
            except LoadStopped:
                loaded.models.clear()  # the other side's model goes too
                raise
            except FinetuneError as exc:  # one side that cannot load leaves the other to answer
                errors.append(exc)
                loaded.failed[side] = str(exc)
        if not loaded.models:
            raise errors[0]
    _stop_here()  # stopped at the very end: the models go all the same, as the user asked
    say("Ready.")
    return loaded


# ---------------------------------------------------------------------------------------------- generating


def context_length(model: Any, tokenizer: Any) -> int | None:
    """The most tokens `model` reads (prompt and answer together), from its config, else the tokenizer's limit."""
    return config_context_length(getattr(model, "config", None), tokenizer)


def config_context_length(config: Any, tokenizer: Any) -> int | None:
    """context_length from a model's config (a transformers PretrainedConfig, read from config.json without the
    weights; None when there is none), else the tokenizer's limit."""
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, name, None) if config is not None else None
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 1_000_000 else None


def side_context_length(source: Source, side: str, tokenizer: Any) -> int | None:
    """context_length of the model that answers for `side`, from its config.json alone (the weights stay on disk):
    the fine-tuned folder's own config, or the base model's for the base and for an adapter. None when that config
    cannot be read here (a Hub model not in the cache): loading the model then says what is wrong, and
    stream_answer measures the prompt against the loaded model."""
    from finetune_studio.core.adapter_layout import _load_config

    if side == BASE and source.base is None:
        return None
    if side == BASE or (source.adapter and source.base is not None):
        where = source.base
    elif source.target is not None:
        where = dataclasses.replace(source.base or ModelConfig(), name_or_path=str(source.target.path), revision=None)
    else:
        return None
    try:
        config = _load_config(where)
    except Exception:  # noqa: BLE001 - unreadable or not cached: left to loading, which says why
        return None
    return config_context_length(config, tokenizer)


def prompt_length(tokenizer: Any, rendered: Rendered) -> int:
    """How many tokens the model reads for `rendered`: stream_answer's own count. verbose=False: a prompt past the
    context is measured to be refused in our words, and never reaches the model, so transformers' "indexing errors"
    line on stderr only alarmed."""
    return len(tokenizer(rendered.text, add_special_tokens=rendered.add_special_tokens, verbose=False)["input_ids"])


def answer_room(prompt_tokens: int, limit: int | None, max_new_tokens: int) -> tuple[int, list[str]]:
    """The one rule for a prompt's length: a prompt that fills the model's context (`limit` tokens, None: not
    known) leaves no room for an answer and raises PromptTooLong; one that leaves less room than `max_new_tokens`
    gets that room, said in a note. Returns (max new tokens, notes)."""
    if limit is None:
        return max_new_tokens, []
    if prompt_tokens >= limit:
        raise PromptTooLong(prompt_tokens, limit)
    if prompt_tokens + max_new_tokens > limit:
        room = limit - prompt_tokens
        return room, [f"Max new tokens clamped to {room}: the model reads at most {limit} tokens and the prompt "
                      f"takes {prompt_tokens}."]
    return max_new_tokens, []


def prompt_problems(source: Source, tokenizer: Any, prompts: list[str], side: str = TUNED,
                    system: str = "") -> list[tuple[int, PromptTooLong]]:
    """(number from 1, why) of each prompt that answer_room refuses for the model answering on `side`, measured
    with the tokenizer and the model's config.json before any weights load; prompts rendered as stream_answer reads
    them (a chat run's through its template, with `system`). Empty when the model's context cannot be read here,
    and for a prompt that cannot be rendered or measured: answering it says why."""
    limit = side_context_length(source, side, tokenizer)
    if limit is None:
        return []
    template = chat_template(tokenizer, source.chat_config) if source.chat else None
    found = []
    for number, prompt in enumerate(prompts, 1):
        try:
            tokens = prompt_length(tokenizer, render(tokenizer, prompt, chat=source.chat, system=system,
                                                     template=template))
            answer_room(tokens, limit, 1)
        except PromptTooLong as exc:
            if source.chat and system.strip():
                exc.system_tokens = system_share(tokenizer, prompt, system, template)
            found.append((number, exc))
        except Exception:  # noqa: BLE001 - an empty prompt or a template that fails: answering it says why
            continue
    return found


def system_share(tokenizer: Any, prompt: str, system: str, template: str | None) -> int:
    """How many tokens of a chat prompt rendered with the system prompt `system` that system prompt takes (the
    prompt rendered with it, less rendered without it), so a prompt too long for the model can say which part to
    shorten: a long --system was blamed on the user's prompt. 0 when it cannot be told."""
    try:
        with_system = prompt_length(tokenizer, render(tokenizer, prompt, chat=True, system=system,
                                                      template=template))
        without = prompt_length(tokenizer, render(tokenizer, prompt, chat=True, template=template))
    except Exception:  # noqa: BLE001 - a template that fails: the whole prompt is said, as before
        return 0
    return max(0, with_system - without)


def eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for value in (getattr(getattr(model, "generation_config", None), "eos_token_id", None),
                  getattr(getattr(model, "config", None), "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(v for v in value if isinstance(v, int))
    return ids


def _stop_criteria(stop: threading.Event) -> Any:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopOnEvent(StoppingCriteria):
        """Ends generation after the current token once the user pressed Stop."""

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([StopOnEvent()])


STREAM_INTERVAL_S = 0.016  # after an answer's first text, its text is handed on at most this often (a frame)


class _TextStream:
    """What `model.generate` hands each new token to (transformers' streamer interface: put, end), in the thread
    that generates. A token costs an append; the answer's text is decoded and handed to `on_text` for the first
    token that shows any text at once, then at most every `interval_s` (and at the end), so a fast model is not
    slowed down by a decode, a queue and a thread switch per token, and a slow one still shows every token as it
    comes. The text is the whole answer decoded as the plain `tokenizer.decode` would (skip_special_tokens), cut
    where what was already handed on ends; a decode ending in an incomplete character waits for the next token."""

    def __init__(self, tokenizer: Any, on_text: Callable[[str], None] | None, interval_s: float):
        self.tokenizer, self.on_text, self.interval_s = tokenizer, on_text, interval_s
        self.ids: list[int] = []
        self.pieces: list[str] = []
        self.first: float | None = None  # time.perf_counter() when the first text was handed on
        self._shown = 0  # characters of the decoded answer handed on so far
        self._due = 0.0  # time.perf_counter() from which the next text may be handed on
        self._prompt_skipped = False

    def put(self, value: Any) -> None:
        if not self._prompt_skipped:  # generate's first call hands over the prompt's ids
            self._prompt_skipped = True
            return
        self.ids.extend(value.reshape(-1).tolist())
        if time.perf_counter() >= self._due:
            self._hand_on(final=False)

    def end(self) -> None:
        self._hand_on(final=True)

    def _hand_on(self, final: bool) -> None:
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if (text.endswith("\ufffd") and not final) or len(text) <= self._shown:
            return  # nothing new to show yet: the next token tries again at once
        piece, self._shown = text[self._shown:], len(text)
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self._due = now + self.interval_s
        self.pieces.append(piece)
        if self.on_text is not None:
            self.on_text(piece)


def stream_answer(model: Any, tokenizer: Any, rendered: Rendered, settings: GenerationSettings,
                  stop: threading.Event | None = None, on_text: Callable[[str], None] | None = None,
                  side: str = TUNED, interval_s: float = STREAM_INTERVAL_S, at_once: int = 1) -> Answer:
    """Generate one answer with `model.generate` in the calling thread, handing its text to `on_text` as it comes
    (the first text at once, then at most every `interval_s`: _TextStream), until EOS, max new tokens or `stop`.
    On the CPU the thread leaves a core to what shows the text and shares the rest with the other answers
    generated `at_once` (core.threads). Errors inside generate are raised here."""
    import torch

    stop = stop or threading.Event()
    notes: list[str] = []
    encoded = tokenizer(rendered.text, return_tensors="pt", add_special_tokens=rendered.add_special_tokens)
    input_ids = encoded["input_ids"].to(model.device)
    attention_mask = encoded["attention_mask"].to(model.device)
    prompt_tokens = int(input_ids.shape[1])
    if prompt_tokens == 0:
        raise GenerationError("The prompt has no tokens. To fix: type something for the model to continue.")
    limit = context_length(model, tokenizer)
    max_new = int(settings.max_new_tokens)
    if max_new < 1:  # the forms and the CLI refuse it first; a caller of this function gets the same words
        raise GenerationError(f"Max new tokens must be at least 1 (got {max_new}). To fix: give the longest answer "
                              "you want in tokens, e.g. 128.")
    max_new, room_notes = answer_room(prompt_tokens, limit, max_new)  # PromptTooLong when there is no room
    notes += room_notes
    started = time.perf_counter()
    stream = _TextStream(tokenizer, on_text, interval_s)
    if settings.do_sample:
        torch.manual_seed(settings.seed)
    cores = this_thread_threads(answer_threads(at_once)) if model.device.type == "cpu" else contextlib.nullcontext()
    with torch.inference_mode(), cores:
        output = model.generate(input_ids=input_ids, attention_mask=attention_mask, streamer=stream,
                                generation_config=settings.generation_config(model, max_new, tokenizer.pad_token_id,
                                                                             rendered.stops),
                                stopping_criteria=_stop_criteria(stop))
    seconds = time.perf_counter() - started
    new = output[0, prompt_tokens:].tolist()
    if new and new[-1] in eos_ids(model, tokenizer) | set(rendered.stops):
        reason = StopReason.EOS
    elif stop.is_set() and len(new) < max_new:
        reason = StopReason.USER
    elif len(new) >= max_new:
        reason = StopReason.MAX_TOKENS
    else:
        reason = StopReason.USER if stop.is_set() else StopReason.EOS
    first = None if stream.first is None else stream.first - started
    return Answer(side, "".join(stream.pieces), len(new), seconds, first, reason, rendered.text, prompt_tokens, notes)


AnswerSink = Callable[[dict[str, Any]], None]


def answer_both(loaded: Loaded, prompt: str, settings: GenerationSettings, conversation: Conversation | None = None,
                stop: threading.Event | None = None, sink: AnswerSink | None = None,
                chat: bool | None = None) -> dict[str, Answer]:
    """Both sides answer one prompt with the same settings. `sink` gets plain dicts as things happen:
    {"event": "rendered", side, text} (right after the side's first text, or at its end), {"event": "text", side,
    text}, {"event": "answer", side, answer}, {"event": "error", side, message}, {"event": "progress", text},
    {"event": "load stopped", side} (models loaded in turn: `stop` ended the side's load, nothing of it is kept). Full
    fine-tuning with both models in memory and greedy settings answer at the same time; otherwise (one copy of the
    weights, a seed to honour, or models loaded in turn) one after the other, base first."""
    stop = stop or threading.Event()
    emit = sink or (lambda _event: None)
    chat = loaded.source.chat if chat is None else chat
    conversation = conversation or Conversation()
    template = None
    if chat:  # a chat run with its own template; a text run (Chat ticked) without adding tokens to its tokenizer
        template = (chat_template(loaded.tokenizer, loaded.source.chat_config) if loaded.source.chat
                    else text_run_template(loaded.tokenizer))
    answers: dict[str, Answer] = {}
    errors: dict[str, BaseException] = {}
    said: set[str] = set()

    def said_rendered(side: str, rendered: Rendered | None) -> None:
        """The rendered prompt goes to the sink right after the side's first text (or at its end), not before: the
        window then sets it in the same turn as that text, after drawing it, instead of while the model reads the
        prompt."""
        if rendered is not None and side not in said:
            said.add(side)
            emit({"event": "rendered", "side": side, "text": rendered.text})

    def one(side: str) -> None:
        if stop.is_set():
            return
        if side in loaded.failed:  # its model did not load: the sink hears why at every prompt, the other answers
            errors[side] = ModelError(loaded.failed[side])
            emit({"event": "error", "side": side, "message": loaded.failed[side]})
            return
        rendered: Rendered | None = None

        def on_text(text: str) -> None:
            emit({"event": "text", "side": side, "text": text})
            said_rendered(side, rendered)

        try:
            rendered = render(loaded.tokenizer, prompt, chat=chat, history=conversation.history[side],
                              system=conversation.system, template=template)
            # models loaded in turn: Stop ends this side's load (between two tensors or download chunks)
            loading = lambda text: emit({"event": "progress", "text": text})  # noqa: E731
            with stoppable(stop), loaded.model_for(side, loading) as model:
                answer = stream_answer(model, loaded.tokenizer, rendered, settings, stop, on_text, side,
                                       at_once=at_once)
        except LoadStopped:  # nothing of this side's model is kept (model_for stores it only once loaded)
            emit({"event": "load stopped", "side": side})
            return
        except BaseException as exc:  # noqa: BLE001 - one side failing leaves the other's answer standing
            if isinstance(exc, PromptTooLong) and chat:
                exc = _chat_too_long(exc, loaded.tokenizer, prompt, conversation, side, template)
            errors[side] = exc
            said_rendered(side, rendered)
            emit({"event": "error", "side": side, "message": describe_error(exc)})
            return
        said_rendered(side, rendered)
        answers[side] = answer
        if chat:
            conversation.add(side, prompt, answer.text)
        emit({"event": "answer", "side": side, "answer": answer})

    sides = loaded.sides
    at_once = len(sides) if loaded.concurrent and not settings.do_sample else 1
    if at_once > 1:
        threads = [threading.Thread(target=one, args=(side,), name=f"answer-{side}", daemon=True) for side in sides]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for side in sides:
            one(side)
    if isinstance(errors.get(TUNED) or errors.get(BASE), GenerationError) and not answers:
        raise next(iter(errors.values()))
    return answers


def _chat_too_long(exc: PromptTooLong, tokenizer: Any, prompt: str, conversation: Conversation, side: str,
                   template: str | None) -> PromptTooLong:
    """A chat's prompt too long, in a chat's words: the conversation's earlier turns take room too (start a new
    one), and so does its system prompt (how much: system_share)."""
    system = system_share(tokenizer, prompt, conversation.system, template) if conversation.system.strip() else 0
    return PromptTooLong(exc.tokens, exc.limit, conversation=bool(conversation.history[side]), system_tokens=system)


def describe_error(exc: BaseException, what: str = "Generation") -> str:
    if isinstance(exc, FinetuneError):
        return str(exc)
    text = str(exc).strip().splitlines()
    if "out of memory" in str(exc).lower():
        return (f"{what} ran out of memory. To fix: lower max new tokens, close other programs, or stop the "
                "training run that holds the memory.")
    said = f"{what} failed: {type(exc).__name__}: {text[0].rstrip('.') if text else ''}."
    return said if what != "Generation" else said + " To fix: try other settings or another checkpoint."


# ---------------------------------------------------------------------------------------------- comparing checkpoints


def first_words(prompt: str, words: int = 6, chars: int = 40) -> str:
    """A prompt as a message names it: its first words, quoted, with … where more follows."""
    whole = " ".join(prompt.split())
    shown = " ".join(whole.split(" ")[:words])[:chars]
    return f'"{shown}…"' if shown != whole else f'"{shown}"'


def too_long_in_comparison(prompts: list[str], prompt: str, exc: PromptTooLong) -> str:
    """Why the comparison skips a saved prompt, in its words: a comparison has no conversation to start anew (the
    Try tab's chat advice, PromptTooLong's own), the fix is a shorter prompt."""
    return (f"prompt {prompts.index(prompt) + 1} ({first_words(prompt)}) is longer than the model's context "
            f"({exc.tokens} tokens, limit {exc.limit}, prompt and answer together): skipped on every model. To fix: "
            f"shorten it to well under {exc.limit} tokens (save the shorter one, remove this one), then compare "
            "again.")


def _named(target: Target) -> str:
    """A target as a sentence names it: "checkpoint-12", "the final model"."""
    return target.label if target.step is not None else f"the {target.label}"


def compare_checkpoints(run_dir: Path, prompts: list[str], settings: GenerationSettings | None = None,
                        sink: AnswerSink | None = None, stop: threading.Event | None = None,
                        where: str | None = None) -> Any:
    """Every saved prompt, greedily, on the base model and on every complete checkpoint and the final model of
    the run; each answer is sent to `sink` as {"event": "answer", "prompt", "model", "record"} and appended to
    run_dir/answers.jsonl as it comes ({"event": "progress", "text"} while loading). A checkpoint that is damaged
    (core.generate.damage) or fails to load is skipped and the rest are compared: {"event": "skipped", "model",
    "text"} says which and why. A prompt longer than the model reads is skipped on every model, said once
    ({"event": "skipped", "model": None, "prompt", "text"}), and the others are answered: one saved prompt too
    long ended the whole comparison, with a chat's advice to start a new conversation. Only when every prompt is too
    long does the comparison not start (GenerationError). An answers file that cannot be written does not end it
    either: the answers go on being made and shown, the first failure is said once ({"event": "unsaved", "text"}:
    the real cause, core.answers.write_problem) and no more writes are tried; the table returned says it too
    (AnswerTable.unsaved). It ended the comparison, and the answers not yet made were lost. Each model loads under
    stoppable(stop): Stop during a load ends it within a moment ({"event": "load stopped", "model", "label"}),
    nothing of that model is kept, no other model is loaded, and the answers already made stay in answers.jsonl."""
    from finetune_studio.core.answers import AnswersNotSaved, answer_table, append_answer

    run_dir = Path(run_dir)
    prompts = [p for p in prompts if p.strip()]
    if not prompts:
        raise GenerationError("There are no saved prompts to compare on. To fix: add prompts to the list first.")
    emit = sink or (lambda _event: None)
    stop = stop or threading.Event()
    settings = (settings or GenerationSettings()).greedy()
    source = resolve(run_dir)
    config = run_config(run_dir)
    found = targets(run_dir, config)
    where = where or device()
    tokenizer = load_tokenizer(source)
    records: list[dict[str, Any]] = []
    unsaved: list[str] = []  # why the answers file could not be written: set once, then nothing more is written
    too_long: dict[str, PromptTooLong] = {}  # prompts longer than the model reads: said once, skipped on every model
    gone: list[str] = []  # the run folder went away: said in full once, then in short

    def say(text: str) -> None:
        emit({"event": "progress", "text": text})

    def skip(target: Target, problem: str) -> None:
        if not run_dir.is_dir():  # deleted or moved while comparing: every model of it is missing, none damaged
            problem = gone[0] if gone else (
                f"the run folder {run_dir} is gone (deleted or moved while comparing), so its models cannot be "
                "loaded. To fix: put it back, or pick the run where it is now (Refresh lists the runs as they "
                "are), then compare again")
            gone[:] = ["the run folder is gone (see above)"]
        text = f"{target.label} skipped: {problem}"
        emit({"event": "skipped", "model": target.key, "text": text})
        say(text)

    def skip_prompt(prompt: str, exc: PromptTooLong) -> None:
        too_long[prompt] = exc
        text = too_long_in_comparison(prompts, prompt, exc)
        emit({"event": "skipped", "model": None, "prompt": prompt, "text": text})
        say(text)

    for side in SIDES:  # measured before any weights load (tokenizer and config.json), as generate does
        for number, exc in prompt_problems(source, tokenizer, prompts, side):
            if prompts[number - 1] not in too_long:
                skip_prompt(prompts[number - 1], exc)
    if len(too_long) == len(set(prompts)):
        limit = min(exc.limit for exc in too_long.values())
        raise GenerationError(f"Every saved prompt is longer than the model's context (limit {limit} tokens, prompt "
                              "and answer together), so there is nothing to compare on. To fix: save shorter "
                              f"prompts, well under {limit} tokens, and remove the long ones.")

    def answer_all(model: Any, key: str, step: int | None) -> None:
        for prompt in prompts:
            if stop.is_set():
                return
            if prompt in too_long:
                continue
            rendered = render(tokenizer, prompt, chat=source.chat,
                              template=chat_template(tokenizer, source.chat_config) if source.chat else None)
            try:
                answer = stream_answer(model, tokenizer, rendered, settings, stop, side=key)
            except PromptTooLong as exc:  # a model whose context only the loaded model says
                skip_prompt(prompt, exc)
                continue
            if answer.stop_reason is StopReason.USER:
                return
            record = {"prompt": prompt, "model": key, "step": step, "answer": answer.text, "tokens": answer.tokens,
                      "stop_reason": answer.stop_reason.value, "seconds": round(answer.seconds, 3),
                      "settings": settings.to_dict(), "time": now_iso()}
            records.append(record)
            emit({"event": "answer", "prompt": prompt, "model": key, "record": dict(record)})  # shown, then kept
            keep(record)

    def keep(record: dict[str, Any]) -> None:
        if unsaved:
            return
        try:
            append_answer(run_dir, record)
        except AnswersNotSaved as exc:
            kept = len(records) - 1
            unsaved.append(f"The answers are shown but not saved from here on ({kept} of this comparison's answers "
                           f"{'was' if kept == 1 else 'were'} saved before). {exc}")
            emit({"event": "unsaved", "text": unsaved[0]})
            say(unsaved[0])

    def whole(target: Target) -> bool:
        problem = damage(target.path)
        if problem is not None:
            skip(target, f"it is damaged: {problem}")
        return problem is None

    def load_stopped(key: str, label: str) -> Any:
        # Stop ended this model's load: nothing of it is kept (its frames are gone), none after it is loaded
        emit({"event": "load stopped", "model": key, "label": label})
        free_cached_memory()
        return finish()

    def finish() -> Any:
        table = answer_table(records, prompts)
        table.unsaved = unsaved[0] if unsaved else ""
        return table

    say(f"Loading the base model {source.base.name_or_path}…")
    try:
        with stoppable(stop):
            base = load_weights(source.base, where)
    except LoadStopped:
        return load_stopped(BASE, "the base model")
    from finetune_studio.core.adapters import grow_embeddings

    grow_embeddings(base, len(tokenizer))  # a chat run's added tokens are in its rendered prompts
    answer_all(base, BASE, None)
    adapters = [t for t in found if t.adapter]
    if adapters and not stop.is_set():
        peft_model = None
        for target in adapters:
            if stop.is_set():
                break
            if not whole(target):
                continue
            say(f"Loading the adapter of {target.label}…")
            try:
                with stoppable(stop):
                    if peft_model is None:
                        peft_model = _with_adapter(base, target, adapter_name=target.key)
                    else:
                        _add_adapter(peft_model, target)
            except LoadStopped:
                del peft_model, base
                return load_stopped(target.key, _named(target))
            except ModelError as exc:
                skip(target, str(exc))
                continue
            answer_all(peft_model, target.key, target.step)
        del peft_model
    del base
    free_cached_memory()
    for target in (t for t in found if not t.adapter):
        if stop.is_set():
            break
        if not whole(target):
            continue
        say(f"Loading {target.label}…")
        try:
            with stoppable(stop):
                model = load_weights(dataclasses.replace(source.base, name_or_path=str(target.path), revision=None),
                                     where)
        except LoadStopped:
            return load_stopped(target.key, _named(target))
        except FinetuneError as exc:
            skip(target, str(exc))
            continue
        answer_all(model, target.key, target.step)
        del model
        free_cached_memory()
    return finish()
