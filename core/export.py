"""Export a finished adapter run: the adapter alone, or merged into its base model as one ordinary model.

*Adapter only* copies what the Trainer saved (adapter_model.safetensors, adapter_config.json naming the base model,
the tokenizer): small, and loaded with peft on top of the base. *Merged* loads the base model in its saved dtype,
loads the adapter onto it and calls peft's `merge_and_unload()`, then `save_pretrained`: a model that
`AutoModelForCausalLM.from_pretrained` and `pipeline("text-generation")` load with no peft installed. For a QLoRA
run the base is loaded unquantized (its original weights rather than the 4-bit ones it trained against), because
4-bit weights cannot hold the merged values; the result says so. An adapter on a layer the base ties to another
(lm_head and embed_tokens) is merged after the pair is untied (untie_adapted_head), so the merged model computes what
the adapter does; the result says that too.

Both check free disk space against what they will write before writing anything, and write into a hidden sibling
folder that is renamed into place at the end, so a failure never leaves a folder that looks complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from finetune_studio.core.adapters import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, read_adapter_config
from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.generate import DAMAGED, LINKED, REMOVED, CheckpointRefusal, GenerationError
from finetune_studio.core.hub import local_base_size, size_text  # one way to say a size, as the push dialog does
from finetune_studio.core.runs import RUN_FILES, RunFolder, no_model_text, run_folder_problem, training_now

ADAPTER, MERGED = "adapter", "merged"
KINDS = (ADAPTER, MERGED)
# Room kept free beyond the files' own size: filesystems need some, and a disk filled to the last byte breaks
# everything else on the machine.
SPARE_BYTES = 50 * 2**20
# Files of a run's model folder that are not part of an exported adapter: the Trainer's pickled arguments (unsafe
# to load) and peft's placeholder README.
_NOT_EXPORTED = {"training_args.bin", "README.md"}
# What a checkpoint holds beyond its adapter, for Resume alone: the optimizer's and scheduler's state and the random
# generators' (pickles, the optimizer's twice the adapter's size). Its trainer_state.json is kept: it says the step.
RESUME_ONLY_FILES = ("optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state*.pth")
_RUN_FILE_NAMES = frozenset(RUN_FILES)  # a folder listing any of these holds a run (core.runs.is_run_folder)

Progress = Callable[[str], None]
#: The largest weights file of a merged model (save_pretrained's max_shard_size); None: transformers' own default.
#: A bigger model is saved in shards, model-00001-of-0000n.safetensors, with model.safetensors.index.json.
MAX_SHARD_SIZE: int | str | None = None


class ExportError(FinetuneError):
    """An export that cannot be done; the message says why and what to do. `kind` names a refusal of what the user
    gave (BAD_INPUT_KINDS: the command line exits 2 for them, not 1), so no caller reads the sentence."""

    def __init__(self, message: str, kind: str = "", problem: str = "", notes: tuple[str, ...] = (),
                 choices: tuple[int | None, ...] = (), refusal: CheckpointRefusal | None = None):
        super().__init__(message)
        self.kind = kind
        # NO_CHECKPOINT, CHECKPOINT_REMOVED: the facts of the checkpoint refused (why, the run's whole models to pick
        # in its place, core's fix where there are none), for each front end to word its fix itself: the command
        # line as flags (core.cli._checkpoint_refusal), the dialogs as their Model box
        # (gui.export_dialog.refused_pick_text). `choices` is the refusal's: steps, then None for the final model
        self.refusal = refusal
        self.choices = refusal.choices if refusal is not None and not choices else choices
        self.problem = problem  # WRITE_KINDS: what went wrong, naming neither folder nor fix (a push says its own)
        self.notes = notes  # what tidy_hidden did or found before it, said first in the message too

    @property
    def bad_input(self) -> bool:
        return self.kind in BAD_INPUT_KINDS


class DamagedCheckpoint(ExportError, GenerationError):
    """The ExportError (kind NO_CHECKPOINT: bad input) of a checkpoint the user named that is there but damaged: a
    GenerationError too, core.generate.resolve's own kind for it, which the export dialog tells from one that went
    (it marks it "(damaged)" in its Model box). Before, resolve's GenerationError itself came through, which the
    command line took for a failure (exit 1) where push refused it as bad input (exit 2)."""


# ExportError.kind values: a run that trained every weight (nothing to export), an --out that cannot take the
# export, an unknown kind of export, a destination that cannot be written (nothing was written for any of them);
# too little disk space (before or while writing), another failed write (nothing was left).
NOT_AN_ADAPTER_RUN, OUT_UNUSABLE, UNKNOWN_KIND = "not_an_adapter_run", "out_unusable", "unknown_kind"
# A checkpoint the run does not have whole (--checkpoint N): the refusal lists the ones it has.
NO_CHECKPOINT = "no_checkpoint"
# A run that is not training and has no saved model to export (core.runs.no_model_text says why and what to do):
# nothing ran, and the user must give another run or resume this one first, so the command line exits 2.
NO_MODEL = "no_model"
# A dtype a merged export cannot be saved in: a name not in MERGED_DTYPES (bad input, exit 2), or float16 for weights
# beyond its range (found once merged: nothing was written).
BAD_DTYPE, DTYPE_OVERFLOW = "bad_dtype", "dtype_overflow"
CANNOT_WRITE, NO_SPACE, WRITE_FAILED = "cannot_write", "no_space", "write_failed"
# The user cancelled the export (the window's Cancel export): nothing of it was kept, what out_dir held is as it was.
CANCELLED = "cancelled"
TRAINING_HERE = "training_here"  # a run trains in this process, so nothing may be merged in it (merge_refusal)
# Some process trains the run now (training_text): wait until it ends, or stop it. Not bad input, as a push's refusal
# (core.hub.RUN_TRAINING) is not: the command line exits 1 for both.
RUN_TRAINING = "run_training"
# The run deleted the checkpoint-N being exported (or pushed) before it was read whole: a run training in another
# process whose save_total_limit keeps only its newest checkpoints (removed_checkpoint_error). Not bad input: it was
# whole when the export began, as README's exit codes have an export of a run another process trains: exit 1.
CHECKPOINT_REMOVED = "checkpoint_removed"
# ExportError.problem of the OUT_UNUSABLE refusal of a folder that holds files, when nothing else refuses it: the
# window offers its "Replace what the folder holds" for it, which the command line has none of.
NOT_EMPTY = "not_empty"
# ExportError.problem of the OUT_UNUSABLE refusal of a folder that holds files and no model export (replace_refusal):
# no export replaces it, with or without "Delete what the folder holds" (the window disables that box for it).
NOT_AN_EXPORT = "not_an_export"
BAD_INPUT_KINDS = frozenset({NOT_AN_ADAPTER_RUN, OUT_UNUSABLE, UNKNOWN_KIND, CANNOT_WRITE, BAD_DTYPE,
                             NO_CHECKPOINT, NO_MODEL})

# The dtypes a merged export is saved in. SAME_DTYPE: the one the run loaded its base model in (model.dtype in its
# config.yaml; for "auto", the base model's own saved dtype), as every merged export was saved before the choice.
SAME_DTYPE = "auto"
MERGED_DTYPES = (SAME_DTYPE, "float16", "bfloat16", "float32")
DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4}
FLOAT16_MAX = 65504.0  # the largest finite float16: a weight past it would be saved as inf
WRITE_KINDS = frozenset({CANNOT_WRITE, NO_SPACE, WRITE_FAILED})  # ExportError.problem says what went wrong


@dataclass(frozen=True)
class ExportResult:
    kind: str  # ADAPTER or MERGED
    out_dir: Path
    files: list[str] = field(default_factory=list)
    size_bytes: int = 0
    message: str = ""


def default_out_dir(run_dir: Path, kind: str, checkpoint: int | None = None) -> Path:
    """Where an export goes unless the user says: beside the run's model, in the run folder; a checkpoint's in a
    folder of its own (export-adapter-checkpoint-2), so it neither meets nor replaces the final model's export."""
    return Path(run_dir) / (f"export-{kind}" if checkpoint is None else f"export-{kind}-checkpoint-{checkpoint}")


def _exported(path: Path) -> bool:
    """Whether a file of the model (or checkpoint) folder goes into an adapter export."""
    return path.is_file() and path.name not in _NOT_EXPORTED and not any(path.match(p) for p in RESUME_ONLY_FILES)


def whole_checkpoint_dir(folder: RunFolder, checkpoint: int) -> Path:
    """The run's complete, undamaged checkpoint-N folder, found as `generate RUN --checkpoint N` finds it
    (core.generate.resolve), or ExportError of kind NO_CHECKPOINT (bad input, exit 2) saying why, with "Nothing was
    exported." (a push says its own: core.hub._checkpoint_model), and `choices`, the run's other whole models, for a
    front end to say in its own terms (`export` as flags to type: core.cli._export). Refused: one that is not there or
    incomplete, a step below 1, a checkpoint-N that is a file, one that is damaged (weights cut short or missing, an
    unreadable adapter_config.json), and one that is a link to another folder's checkpoint. A damaged one left
    resolve's GenerationError through, so `export --checkpoint N` failed with exit 1 and no "Nothing was exported."
    where `push --checkpoint N` refused it with exit 2 (helper-216). The fix is resolve's, in its words, which the
    export dialog says as its Model box (gui.export_dialog.refused_pick_text, from the error's `refusal`)."""
    from finetune_studio.core.generate import InputError, resolve

    try:
        target = resolve(folder.path, checkpoint).target
    except (InputError, GenerationError) as exc:
        said, _, fix = str(exc).partition(" To fix: ")
        if said.startswith(f"The run {folder.path.name} has no complete checkpoint {checkpoint}."):
            said = f"{said.rstrip().rstrip('.')}{_why_not_a_checkpoint(folder, checkpoint)}."
        error = ExportError if isinstance(exc, InputError) else DamagedCheckpoint  # not there, or damaged
        choices = _checkpoint_choices(folder, checkpoint)
        facts = getattr(exc, "refusal", None)
        refusal = None if facts is None else dataclasses.replace(
            facts, what=said.rstrip(), nothing="Nothing was exported.", choices=choices)
        raise error(f"{said.rstrip()} Nothing was exported." + (f" To fix: {fix}" if fix else ""),
                    NO_CHECKPOINT, choices=choices, refusal=refusal) from None
    assert target is not None and target.step == checkpoint  # a run folder with --checkpoint N resolves to it
    path = target.path
    real = path.resolve()
    if real != path.parent.resolve() / path.name:  # the Trainer writes no links: it is another folder's checkpoint
        step = real.name.rpartition("-")[2]
        theirs = RunFolder(real.parent).exists() and real.name == f"checkpoint-{step}" and step.isdigit()
        choices = _checkpoint_choices(folder, checkpoint, own=True)
        if theirs and real.parent == path.parent.resolve():  # another checkpoint of this run: another step's weights
            what = (f"checkpoint-{checkpoint} of the run {folder.path.name} is a link to its checkpoint-{step}: its "
                    f"weights are those of step {step}, not of step {checkpoint}.")
            refusal = CheckpointRefusal(LINKED, folder.path.name, checkpoint, what, choices, "Nothing was exported.",
                                        "copy that folder in place of the link.")
            raise ExportError(f"{refusal.reason} To fix: " + (checkpoint_choices_fix(choices) if choices else
                                                              refusal.fallback), NO_CHECKPOINT, refusal=refusal)
        ways = ([f"give that run's folder ({real.parent} --checkpoint {step})"] if theirs else []) + (
            [checkpoint_choices_fix(choices)] if choices else ["copy that folder in place of the link"])
        what = (f"checkpoint-{checkpoint} of the run {folder.path.name} is a link to {real}"
                + (f", checkpoint-{step} of the run {real.parent.name}" if theirs else "")
                + ", not a checkpoint this run saved: its weights are not the ones this run's config and metrics "
                "describe.")
        refusal = CheckpointRefusal(LINKED, folder.path.name, checkpoint, what, choices, "Nothing was exported.",
                                    "copy that folder in place of the link.", elsewhere=real if theirs else None)
        raise ExportError(f"{refusal.reason} To fix: {', or '.join(ways)}".rstrip(".") + ".", NO_CHECKPOINT,
                          refusal=refusal)
    return path


def _why_not_a_checkpoint(folder: RunFolder, checkpoint: int) -> str:
    """After "The run R has no complete checkpoint N": why, where it can be told (a step below 1, a checkpoint-N
    that is a file, or a folder cut off while saving); "" otherwise."""
    if checkpoint < 1:
        return " (a checkpoint is named by the step it was saved at: 1 or more)"
    place = _output_dir(folder) / f"checkpoint-{checkpoint}"
    if place.is_dir():
        if training_now(folder):
            return f" (its {place.name} is incomplete: the run trains now, and may be saving it)"
        return f" (its {place.name} is incomplete: cut off while saving, or not a checkpoint the Trainer wrote)"
    if place.exists() or place.is_symlink():
        return f" ({place} is {'a link to nothing' if not place.exists() else 'a file'}, not a checkpoint folder)"
    return ""


def _checkpoint_choices(folder: RunFolder, checkpoint: int, own: bool = False) -> tuple[int | None, ...]:
    """The run's whole models other than checkpoint-N, to pick in its place: the steps of its whole checkpoints,
    oldest first, then None for its final model where it has a whole one. `own`: only those that are no link to
    another folder. () when it has none, or its config.yaml does not read (resolve's words say that)."""
    from finetune_studio.core.generate import damage, targets

    try:
        return tuple(t.step for t in targets(folder.path) if t.step != checkpoint and damage(t.path) is None and (
            not own or t.path.resolve() == t.path.parent.resolve() / t.path.name))
    except (GenerationError, OSError):
        return ()


def checkpoint_choices_fix(choices: tuple[int | None, ...]) -> str:
    """ExportError.choices in core.generate's words for a damaged checkpoint's fix ("pick a whole one: --checkpoint
    1 or 3, or leave out --checkpoint for its final model"), which the export dialog says as its Model box."""
    steps = [str(step) for step in choices if step is not None]
    ways = ([f"--checkpoint {', '.join(steps[:-1])} or {steps[-1]}" if len(steps) > 1 else f"--checkpoint {steps[0]}"]
            if steps else []) + (["leave out --checkpoint for its final model"] if None in choices else [])
    return f"pick a whole one: {', or '.join(ways)}."


def checkpoint_removed(folder: RunFolder, checkpoint: int, read: Iterable[Path] = ()) -> bool:
    """Whether the run's checkpoint-N, whole when an export or push of it began, is gone now: its folder, its
    trainer_state.json, or one of the files of it `read` (a copy that failed on one of them). The Trainer deletes
    an old checkpoint with shutil.rmtree when save_total_limit says so, one file after another."""
    place = _output_dir(folder) / f"checkpoint-{checkpoint}"
    try:
        return (not place.is_dir() or not (place / "trainer_state.json").is_file()
                or any(not Path(path).exists() for path in read))
    except OSError:
        return True


def _save_total_limit(folder: RunFolder) -> int | None:
    """The run's save_total_limit (its config.yaml's training section): how many checkpoints it keeps; None: all."""
    from finetune_studio.core.config import load_config

    try:
        limit = load_config(folder.config_path)[0].training.get("save_total_limit")
    except (FinetuneError, OSError):
        return None
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else None


def removed_checkpoint_error(folder: RunFolder, checkpoint: int, doing: str, nothing: str,
                             verb: str = "export") -> ExportError:
    """ExportError of kind CHECKPOINT_REMOVED: the run's checkpoint-N was removed while it was being `doing`
    ("copied", "merged into its base model", "prepared for upload"), with why (a run training in another process
    whose save_total_limit keeps only its newest K checkpoints), `nothing` (what was left, as sentences) and the fix:
    the run's whole models now (checkpoint_choices_fix, in `choices` for a front end to say in its own terms), or its
    final model once it finishes; `verb`: what to do with it ("export", "push"). It failed with "Writing the adapter
    to OUT failed (FileNotFoundError: …). … To fix: choose another folder (--out DIR)", which is no fix: any folder
    fails the same way (helper-217)."""
    choices = _checkpoint_choices(folder, checkpoint)
    training = training_now(folder)
    limit = _save_total_limit(folder)
    if training and limit:
        newest = "checkpoint" if limit == 1 else f"{limit} checkpoints"
        why = (f"the run trains in another process, and its save_total_limit ({limit}) keeps only its newest "
               f"{newest}, so it deleted checkpoint-{checkpoint} when it saved a newer one")
    elif training:
        why = "the run trains in another process, and that process (or another program) deleted it meanwhile"
    else:
        why = "it was deleted meanwhile, by another program or by hand"
    fix = checkpoint_choices_fix(choices) if choices else ""
    also = fallback = ""
    if None not in choices:
        later = ("its final model once the run finishes" if training else
                 "another run's model")
        also, fallback = f"Or {verb} {later}.", f"{verb} {later}, or a checkpoint it saves meanwhile."
        fix = f"{fix} {also}" if fix else fallback
    refusal = CheckpointRefusal(REMOVED, folder.path.name, checkpoint, f"checkpoint-{checkpoint} of the run "
                                f"{folder.path.name} was removed while it was being {doing}: {why}.", choices,
                                nothing, fallback, also)
    return ExportError(f"{refusal.reason} To fix: {fix}", CHECKPOINT_REMOVED, refusal=refusal)


@contextlib.contextmanager
def _removal_said(folder: RunFolder, checkpoint: int | None, read: Iterable[Path], doing: str,
                  out_dir: Path) -> Iterator[None]:
    """Around a read of the checkpoint-N being exported: a failure (a file not found, an adapter or tokenizer that
    does not load) while the run has deleted that checkpoint is said as that (removed_checkpoint_error)."""
    try:
        yield
    except ExportError:
        raise
    except Exception:
        if checkpoint is not None and checkpoint_removed(folder, checkpoint, read):
            raise removed_checkpoint_error(folder, checkpoint, doing, _nothing_left(out_dir)) from None
        raise


def _nothing_left(out_dir: Path) -> str:
    """What a failed export left, said before its fix."""
    return (f"Nothing was exported: {out_dir} still holds what it held before." if holds_files(out_dir) else
            f"Nothing was exported: nothing was left in {out_dir}.")


def _adapter_model_dir(run_dir: Path, checked: bool = False, checkpoint: int | None = None
                       ) -> tuple[RunFolder, Path, dict[str, Any]]:
    """The run's folder, model folder and adapter config, or ExportError saying why it has no adapter to export.
    `checked`: the caller ran shipping_problem already (a push runs it once: it reads every weight file's header,
    which for a big model is costly), so it is not run again. A run training for the first time has no model yet,
    and is said as training (training_text: wait until it ends, or stop it), as a push says it, not as a run that
    has none (no_model_text's "no saved model to export yet"). `checkpoint`: the run's checkpoint-N folder in place
    of its model folder (_checkpoint_adapter_dir)."""
    problem = run_folder_problem(run_dir)  # a bad-input error (exit 2), worded as every command words it
    if problem is not None:
        raise problem
    folder = RunFolder(Path(run_dir))
    if checkpoint is not None:
        return _checkpoint_adapter_dir(folder, checkpoint)
    model_dir = folder.model_dir
    adapter = read_adapter_config(model_dir) if model_dir.is_dir() else None
    if adapter is None:
        unreadable = _unreadable_json(model_dir / ADAPTER_CONFIG_FILE)
        if unreadable:  # said as damage, not as a model folder "missing or empty (moved or deleted since)"
            _refuse_while_training(folder, checked)
            raise ExportError(f"The saved model of the run {folder.path.name} is damaged: its {ADAPTER_CONFIG_FILE} "
                              f"{unreadable}. Nothing was exported. To fix: "
                              + _file_fix(folder, ADAPTER_CONFIG_FILE))
        if (model_dir / "config.json").is_file():
            raise ExportError(f"The run {folder.path.name} fine-tuned every weight, so its model folder is already a "
                              f"whole model that loads as it is: {model_dir}. Export is for adapter runs (LoRA, "
                              "QLoRA, DoRA). To fix: use that folder as it is (copy it, or load it with "
                              "AutoModelForCausalLM.from_pretrained).", NOT_AN_ADAPTER_RUN)
        _refuse_while_training(folder, checked)
        raise ExportError(no_model_text(folder, "export"), RUN_TRAINING if training_now(folder) else NO_MODEL)
    if not (model_dir / ADAPTER_WEIGHTS_FILE).is_file():
        raise ExportError(f"{model_dir} has {ADAPTER_CONFIG_FILE} but no {ADAPTER_WEIGHTS_FILE}: the adapter's "
                          f"weights are missing. To fix: {model_fix(folder)}")
    _refuse_while_training(folder, checked)
    problem = None if checked else shipping_problem(folder.path, "exported", busy_check=False)  # damage alone
    if problem:
        raise ExportError(problem)
    return folder, model_dir, adapter


def _checkpoint_adapter_dir(folder: RunFolder, checkpoint: int) -> tuple[RunFolder, Path, dict[str, Any]]:
    """_adapter_model_dir of the run's checkpoint-N: a checkpoint is written once, whole, and a run training on
    saves its later steps into other folders, so the checkpoint is exported whether or not the run trains now (its
    damage is said by resolve). A full fine-tuning run's checkpoint is a whole model, refused as its final one is."""
    model_dir = whole_checkpoint_dir(folder, checkpoint)
    adapter = read_adapter_config(model_dir)
    if adapter is None:
        unreadable = _unreadable_json(model_dir / ADAPTER_CONFIG_FILE)
        if unreadable:
            choices = _checkpoint_choices(folder, checkpoint)
            refusal = CheckpointRefusal(DAMAGED, folder.path.name, checkpoint, f"checkpoint-{checkpoint} of the run "
                                        f"{folder.path.name} is damaged: its {ADAPTER_CONFIG_FILE} {unreadable}.",
                                        choices, "Nothing was exported.",
                                        "save the adapter again, or pick another run.")
            fix = checkpoint_choices_fix(choices) if choices else refusal.fallback
            raise DamagedCheckpoint(f"{refusal.reason} To fix: {fix}", NO_CHECKPOINT, refusal=refusal)
        raise ExportError(f"The run {folder.path.name} fine-tuned every weight, so its checkpoint-{checkpoint} is "
                          f"already a whole model that loads as it is: {model_dir}. Export is for adapter runs "
                          "(LoRA, QLoRA, DoRA). Nothing was exported. To fix: use that folder as it is (copy its "
                          "config.json and weights, or load it with AutoModelForCausalLM.from_pretrained).",
                          NOT_AN_ADAPTER_RUN)
    return folder, model_dir, adapter


def _tokenizer_dir(folder: RunFolder, model_dir: Path) -> Path:
    """Where the tokenizer of what is exported is: its own folder (the model folder, or a checkpoint the Trainer
    saved the tokenizer into), else the run's model folder."""
    return model_dir if (model_dir / "tokenizer_config.json").is_file() else folder.model_dir


def _refuse_while_training(folder: RunFolder, checked: bool) -> None:
    """ExportError of kind RUN_TRAINING when some process trains the run now (training_text), unless the caller
    `checked` it: the same refusal a push makes with core.hub's RUN_TRAINING, so code tells it from a damaged model
    (no kind: its fix is not to wait) without reading the sentence."""
    training = None if checked else training_text(folder, "exported")
    if training:
        raise ExportError(training, RUN_TRAINING)


def shipping_problem(run_dir: Path, what: str, busy_check: bool = True) -> str | None:
    """Why the run's saved model must not be exported or pushed now (`what`: "exported", "pushed"), in words; None
    when it can. Two ways it would ship something other than what the user believes: the run is training again (a
    resume or a continue: its model folder still holds the previous result, and the card would describe that), or
    its saved model is damaged (weights cut short by a full disk or a copy: found without loading, core.generate
    .damage), which a push would publish and an export hand on, both without a word. `busy_check` False: the run's
    own process asks (a push when done, under its lock)."""
    from finetune_studio.core.generate import damage

    folder = RunFolder(Path(run_dir))
    training = training_text(folder, what) if busy_check else None
    if training:
        return training
    problem = damage(folder.model_dir) if folder.model_dir.is_dir() else None
    if problem:
        return (f"The saved model of the run {folder.path.name} is damaged: {problem}. Nothing was {what}. To fix: "
                + model_fix(folder))
    for name in TOKENIZER_JSON_FILES:  # what damage() does not read: an export or push handed it on as it was
        unreadable = _unreadable_json(folder.model_dir / name)
        if unreadable:
            return (f"The saved model of the run {folder.path.name} is damaged: its {name} {unreadable}, so its "
                    f"tokenizer does not load. Nothing was {what}. To fix: {_file_fix(folder, name)}")
    return None


# The tokenizer's files of a model folder that are JSON (a merge loads them, an adapter export copies them): one cut
# short or edited by hand made a merge say the adapter did not load, and an adapter export copy it as it was.
TOKENIZER_JSON_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")


def _unreadable_json(path: Path) -> str | None:
    """Why a JSON file that is there cannot be read, as words following its name ("is not valid JSON (…)"); None
    when it reads, or is not there."""
    import json

    try:
        if not path.is_file():
            return None
        data = json.loads(path.read_bytes())
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    except ValueError as exc:
        why = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        return "is empty" if not path.stat().st_size else f"is not valid JSON ({why})"
    return None if isinstance(data, dict) else f"holds a {type(data).__name__}, not a JSON object"


def _file_fix(folder: RunFolder, name: str) -> str:
    """How to get one damaged file of a run's model folder back, as the end of a "To fix:" sentence: from a
    checkpoint of the run holding a readable copy (the Trainer saves the tokenizer and an adapter's config into
    each), else model_fix's way (a copy of the run, or training it again)."""
    for checkpoint in reversed(folder.checkpoints(_output_dir(folder))):
        if (checkpoint / name).is_file() and not _unreadable_json(checkpoint / name):
            return (f"copy {checkpoint / name} into {folder.model_dir}/ (cp {checkpoint / name} "
                    f"{folder.model_dir}/), then try again; or train the run again.")
    return (f"put {folder.model_dir / name} back from a copy of the run (the file as the run saved it), or train the "
            "run again under a new name (a finished run does not resume).")


def training_text(folder: RunFolder, what: str) -> str | None:
    """Why a run that some process is training right now cannot be `what` ("exported", "pushed"); None when none
    is. A resume or a continue trains again over a previous model still in its model folder; a run training for the
    first time has none yet, and was told it was "training again"."""
    from finetune_studio.core.runs import lock_alive, read_lock

    record = read_lock(folder.path)
    if record is None or not lock_alive(record):
        return None
    status = folder.read_status()
    step, total = status.get("step"), status.get("max_steps")
    at = f", at step {step} of {total}" if isinstance(step, int) and isinstance(total, int) and total else ""
    doing = f"(process {record.get('pid')}{at})"
    fix = f"Nothing was {what}. To fix: wait until it ends (or stop it), then try again."
    if folder.has_saved_model():
        return (f"The run {folder.path.name} is training again {doing}: its model folder still holds the previous "
                f"result, which would be {what} as if it were this run's. {fix}")
    return f"The run {folder.path.name} is training {doing}; it has no finished model yet. {fix}"


def model_fix(folder: RunFolder) -> str:
    """How to get a run's damaged or missing model weights back, as the end of a "To fix:" sentence. A finished run
    cannot resume ("already finished … nothing to resume"), which the advice said to do: its model is put back from
    the whole checkpoint it was saved from where that is still there (the best one with load_best_model_at_end, else
    one at the final step: the files Trainer.save_model wrote into both), else from a copy, or trained again. A run
    that has not finished resumes from its latest checkpoint and saves its model again at the end."""
    from finetune_studio.core.runs import WEIGHT_PATTERNS, checkpoint_problem

    status = folder.read_status()
    if status.get("state") != "finished" and folder.resumable_checkpoint(_output_dir(folder)) is not None:
        return (f"resume the run to save its model again (finetune-studio resume {shlex.quote(str(folder.path))}), or "
                "train it again.")
    source = _saved_from(folder, status)
    if source is not None and checkpoint_problem(source) is None:
        patterns = [pattern for group in WEIGHT_PATTERNS.values() for pattern in group]  # damage()'s, indexes too
        files = sorted({path.name for pattern in patterns for path in source.glob(pattern) if path.is_file()})
        if files:
            return (f"copy {' and '.join(files)} from {source}, which holds the weights the model was saved from, "
                    f"into {folder.model_dir} (e.g. cp {source / files[0]} {folder.model_dir}/), then try again; or "
                    "train the run again.")
    return (f"put the model folder {folder.model_dir} back from a copy of the run, or train the run again under a "
            "new name (a finished run does not resume).")


def _output_dir(folder: RunFolder) -> Path:
    from finetune_studio.core.config import load_config

    try:
        return Path(load_config(folder.config_path)[0].training.get("output_dir") or folder.path)
    except (FinetuneError, OSError):
        return folder.path


def _saved_from(folder: RunFolder, status: dict[str, Any]) -> Path | None:
    """The checkpoint a finished run's final model was saved from, as core.training saves it: the best one when
    trainer_state.json names one (load_best_model_at_end), else the last one if it is at the run's final step;
    None when no checkpoint holds those weights."""
    from finetune_studio.core.fileio import read_json
    from finetune_studio.core.metrics import integer

    found = folder.checkpoints(_output_dir(folder))
    if not found:
        return None
    try:
        state = read_json(found[-1] / "trainer_state.json")
    except (OSError, ValueError):
        return None
    best = state.get("best_global_step") if isinstance(state, dict) else None
    if isinstance(best, int) and not isinstance(best, bool):
        named = [path for path in found if path.name == f"checkpoint-{best}"]
        return named[0] if named else None
    return found[-1] if integer(state.get("global_step")) == integer(status.get("step")) else None


def _inside_the_run(folder: RunFolder, out_dir: Path) -> None:
    """Refuse an export into the run's model or checkpoint folders: it would become part of what Resume, the Try
    tab and a push read (a push uploaded the exported files a second time). The same of any other run whose folder
    holds out_dir: with Replace, an export into another run's model folder put this run's adapter (or merged model)
    in place of that run's trained model, and one into its checkpoint deleted the optimizer state Resume needs,
    each saying it had exported."""
    from finetune_studio.core.runs import is_run_folder

    target = out_dir.resolve()
    own = folder.path.resolve()
    others = [RunFolder(parent) for parent in target.parents if parent != own and is_run_folder(parent)]
    for run in (folder, *others):
        for place in (run.model_dir, *run.checkpoints()):
            place = place.resolve()
            if target != place and place not in target.parents:
                continue
            if run is folder:
                raise ExportError(f"{out_dir} is inside the run's {place.name} folder, which Resume, the Try tab "
                                  "and a push read as they are. To fix: export to a folder outside it (--out DIR), or "
                                  "leave --out out for the default (export-adapter or export-merged in the run "
                                  "folder).", OUT_UNUSABLE)
            raise ExportError(f"Refused to export into {out_dir}: it is inside the {place.name} folder of another "
                              f"run, {run.path.name} ({run.path}), which Resume, the Try tab and a push of that run "
                              "read as they are; an export there would replace or mix into that run's saved model. "
                              "Nothing was changed. To fix: export to a folder outside it (--out DIR), or leave --out "
                              "out for the default (export-adapter or export-merged in the run folder).", OUT_UNUSABLE)


def check_destination(folder: RunFolder, out_dir: Path) -> None:
    """Refuse, before anything loads or is deleted, an export folder the export must not write into: one inside the
    run's model or checkpoint folders (_inside_the_run), and one whose replacement would delete a run. The one check
    of a destination for the window's Export dialog and `finetune-studio export` (both call export_run)."""
    _inside_the_run(folder, out_dir)
    _refuse_replacing_runs(folder, out_dir)
    _refuse_replacing_the_base(folder, out_dir)
    _refuse_replacing_home(out_dir)


def _refuse_replacing_home(out_dir: Path) -> None:
    """An export into the user's home folder or a folder above it (/, /home): with Replace it deleted everything
    there that is not a run (documents, settings, other models), since an export replaces what its folder holds.
    No export is meant to go there; without Replace it is refused as not empty anyway, so refused whatever Replace
    says, before anything loads."""
    target, home = out_dir.resolve(), Path.home().resolve()
    if target != home and target not in home.parents:
        return
    what = "your home folder" if target == home else f"a folder that holds your home folder ({home})"
    raise ExportError(f"Refused to export into {out_dir}: it is {what}, and an export replaces everything its folder "
                      "holds. Nothing was changed. To fix: choose a new folder inside it, e.g. "
                      f"{home / 'exports' / 'my-model'} (--out DIR), or leave --out out for the default "
                      "(export-adapter or export-merged in the run folder).", OUT_UNUSABLE)


def run_adapter_config(folder: RunFolder) -> dict[str, Any] | None:
    """The run's adapter config: its final model's, else its newest checkpoint's that has one. A stopped run that
    saved adapter checkpoints has no model folder yet; its base, the merged size and the dtype it trained in were
    read from that folder alone, so the Export and Push dialogs said "Same as training" and "known once the base
    model is loaded" of a base that was on this computer all along (helpers 212, 214)."""
    from finetune_studio.core.runs import configured_output_dir

    adapter = read_adapter_config(folder.model_dir) if folder.model_dir.is_dir() else None
    if adapter is not None:
        return adapter
    for checkpoint in reversed(folder.checkpoints(configured_output_dir(folder))):
        adapter = read_adapter_config(checkpoint)
        if adapter is not None:
            return adapter
    return None


def _base_folders(folder: RunFolder) -> list[Path]:
    """The folders on this computer the run's base model is loaded from: the one its adapter_config.json names (peft
    loads the adapter on top of it) and the one its config.yaml names (a merge, Resume and the Try tab load it)."""
    from finetune_studio.core.config import load_config
    from finetune_studio.core.sources import SourceKind, source_kind

    names = [(run_adapter_config(folder) or {}).get("base_model_name_or_path")]
    try:
        names.append(load_config(folder.config_path)[0].model.name_or_path)
    except (FinetuneError, OSError):
        pass
    found = []
    for name in names:
        try:
            local = isinstance(name, str) and source_kind(name) is SourceKind.LOCAL
        except FinetuneError:
            local = False
        if local and Path(name).expanduser().is_dir():
            found.append(Path(name).expanduser().resolve())
    return found


def _refuse_replacing_the_base(folder: RunFolder, out_dir: Path) -> None:
    """An export into the base model's folder, or a folder above it, with Replace: a merged export put the merged
    model in place of the base, so the adapter, a second merge, Resume and the Try tab's base all loaded the adapter
    on top of itself; an adapter export deleted the base and said the adapter "loads on top of its base model" at
    that folder, which held the adapter itself."""
    target = out_dir.resolve()
    for base in _base_folders(folder):
        if target == base or target in base.parents:
            how = "is" if target == base else "holds"
            raise ExportError(f"Refused to export into {out_dir}: it {how} the base model folder {base} the run "
                              f"{folder.path.name} trained on, which its adapter is loaded on top of (and a merge, "
                              "Resume and the Try tab load), and an export replaces everything its folder holds. "
                              "Nothing was changed. To fix: choose an empty folder or a new name (--out DIR), or leave "
                              "--out out for the default (export-adapter or export-merged in the run folder).",
                              OUT_UNUSABLE)


def destination_refusal(run_dir: Path, out_dir: Path) -> str | None:
    """Why an export of the run `run_dir` is refused out_dir, in check_destination's words, or replace_refusal's
    for a folder holding files and no export; None when neither refuses it. For the window, which asks it as the
    folder is typed, before Export is pressed: a run found deep inside out_dir's tree is left to check_destination
    (it reads the whole tree, which for a folder such as / or a home folder takes long), and such a folder is
    refused by replace_refusal anyway unless it holds an export at its top."""
    folder = RunFolder(Path(run_dir))
    out_dir = Path(out_dir)
    try:
        _inside_the_run(folder, out_dir)
        _refuse_replacing_runs(folder, out_dir, walk=False)
        _refuse_replacing_the_base(folder, out_dir)
        _refuse_replacing_home(out_dir)
    except ExportError as exc:
        return str(exc)
    except OSError:  # a path that cannot be resolved (too long a name): said when Export is pressed
        return None
    return replace_refusal(out_dir)


def _refuse_replacing_runs(folder: RunFolder, out_dir: Path, walk: bool = True) -> None:
    """An export replaces everything its folder holds ("Replace what the folder holds" in the window): into the run
    folder, the runs folder or any folder above or around a run it deleted the runs and said it had exported.
    `walk` False: a run deep in out_dir's tree is not looked for."""
    found = _run_it_would_delete(out_dir, folder.path, walk)
    if found is None:
        return
    place, what = found
    how = "is" if place == out_dir.resolve() else "holds"
    raise ExportError(f"Refused to export into {out_dir}: it {how} the {what} {place}, and an export replaces "
                      "everything its folder holds, which would delete runs (their checkpoints, metrics and models). "
                      "Nothing was changed. To fix: choose an empty folder or a new name (--out DIR), or leave --out "
                      "out for the default (export-adapter or export-merged in the run folder).", OUT_UNUSABLE)


def _run_it_would_delete(out_dir: Path, run_dir: Path, walk: bool = True) -> tuple[Path, str] | None:
    """The folder replacing `out_dir` would delete, and what it is ("run folder", "runs folder"): the run itself
    when out_dir is it or lies above it, the app's runs folder when out_dir is it or lies above it, else the first
    run folder (any of a run's own files, _first_run_in) in out_dir's tree; None when there is none.
    Links inside are not followed, as rmtree does not follow them."""
    from finetune_studio.core.config import default_runs_dir

    target, run = out_dir.resolve(), run_dir.resolve()
    if target == run or target in run.parents:
        return run, "run folder"
    runs = default_runs_dir().resolve()
    if runs.is_dir() and (target == runs or target in runs.parents):
        return runs, "runs folder"
    found = _first_run_in(target) if walk and target.is_dir() else None
    return None if found is None else (found, "run folder")


def _first_run_in(top: Path) -> Path | None:
    """The first folder of `top`'s tree (top itself first) holding any of a run's own files (core.runs.RUN_FILES,
    what is_run_folder looks for); None when none does. Told from the listing os.walk reads anyway, one per folder:
    asking each folder for each of a run's files (is_run_folder) cost a stat apiece on top, which for a big folder
    chosen as the destination (a home folder) multiplied the walk. It stops at the first run found; a run deeper
    down is still found, since replacing the folder deletes it too."""
    for place, _dirs, files in os.walk(top):
        if not _RUN_FILE_NAMES.isdisjoint(files):
            return Path(place)
    return None


def _existing_parent(path: Path) -> Path:
    probe = path.resolve()
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return probe


def check_space(out_dir: Path, needed: int, what: str) -> None:
    """Refuse before writing when the disk that will hold `out_dir` has less free space than `needed` (+ spare)."""
    where = _existing_parent(out_dir)
    free = shutil.disk_usage(where).free
    if free < needed + SPARE_BYTES:
        problem = (f"the {what} takes about {size_text(needed)}, and {size_text(SPARE_BYTES)} more are kept free for "
                   f"the system, but the disk has {size_text(free)} free")
        raise ExportError(f"Not enough free disk space for the {what} in {out_dir}: {problem}. Nothing was written. "
                          f"To fix: free some space on the disk that holds {where}, or export to a folder on another "
                          "disk (--out DIR).", NO_SPACE, problem)


def _cannot_write(out_dir: Path, exc: OSError) -> ExportError:
    """The destination refused a write (no permission, a read-only file system): a bad --out, said as such rather
    than as a failed training ("Training failed: OSError"). The cause is worded as every failed write of the app
    words it (core.errors.write_cause: a run's answers file too)."""
    from finetune_studio.core.errors import cannot_write_text, write_cause

    return ExportError(cannot_write_text(out_dir, exc, "choose a folder you can write to (--out DIR)",
                                         nothing="Nothing was written."), CANNOT_WRITE, write_cause(exc))


def _check_writable(out_dir: Path) -> None:
    """Refuse before anything loads (a merge loads the whole base model first) when the export could not be
    written: a probe folder is made, and removed, where the hidden .partial folder goes (beside out_dir, or in the
    nearest folder that exists) and, when out_dir holds files to replace, in out_dir itself."""
    import tempfile

    places = [_existing_parent(out_dir.parent)]
    if out_dir.is_dir() and any(out_dir.iterdir()):
        places.append(out_dir)
    for place in places:
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".finetune-studio-probe-", dir=place))
        except OSError as exc:  # a full disk is said as one; anything else as a folder that cannot be written
            failed = write_failed(exc, "export", out_dir, out_dir)
            if failed.kind == NO_SPACE:
                raise failed from None
            if place != out_dir and out_dir.is_dir():
                raise _cannot_write_beside(out_dir, place, exc) from None
            raise _cannot_write(out_dir, exc) from None


def _cannot_write_beside(out_dir: Path, parent: Path, exc: OSError) -> ExportError:
    """A folder the user can write in, in a folder they cannot (/srv/models/alice, made for them in a shared
    /srv/models): the export is written beside it and renamed into place, so it needs the folder above. It was
    refused as 'Cannot write to /srv/models/alice: permission denied', which the user found untrue (they can write
    there), with no way that works; a new folder inside it does."""
    from finetune_studio.core.errors import cannot_write_text, write_cause

    return ExportError(cannot_write_text(parent, exc, f"export into a new folder inside {out_dir}, e.g. "
                                         f"{out_dir / 'my-model'}, or choose a folder you can write to (--out DIR)",
                                         nothing=f"An export is written beside its folder and then put in its place, "
                                         f"so it needs to write in {parent}, not only in {out_dir}. Nothing was "
                                         "written."), CANNOT_WRITE, write_cause(exc))


def write_failed(exc: Exception, what: str, partial: Path, out_dir: Path) -> ExportError:
    """A write of the export that failed, said of out_dir (the hidden .partial folder it went into is gone by now)
    with the fix for its cause: a full disk, a folder that cannot be written, or another error. Public: a push
    words a failed write in its staging folder by it too (core.hub._stage_files), from its kind and problem."""
    from finetune_studio.core.advice import disk_full_cause
    from finetune_studio.core.runs import UNWRITABLE_ERRNOS

    if isinstance(exc, OSError) and exc.errno in UNWRITABLE_ERRNOS:
        return _cannot_write(out_dir, exc)
    where = _existing_parent(out_dir)
    full = disk_full_cause(exc, where)
    if full is not None:
        problem = f"the disk ran out of space ({full.strerror or 'No space left on device'})"
        return ExportError(f"Writing the {what} to {out_dir} failed: {problem}. Nothing was left there. To fix: free "
                           f"some space on the disk that holds {where}, or export to a folder on another disk (--out "
                           "DIR), then export again.", NO_SPACE, problem)
    lines = str(exc).strip().splitlines()
    problem = (f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__).replace(str(partial), str(out_dir))
    return ExportError(f"Writing the {what} to {out_dir} failed ({problem}). Nothing was left there. To fix: choose "
                       "another folder (--out DIR), then export again.", WRITE_FAILED, problem)


def _check_out(out_dir: Path, overwrite: bool, run_dir: Path | None = None) -> None:
    """Refuse an export folder that cannot take the export, before anything is loaded or written. `run_dir`: the run
    being exported, whose models an earlier export in out_dir is looked for among (earlier_export_text)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file, not a folder. To fix: choose a folder to export to (--out DIR).",
                          OUT_UNUSABLE)
    if out_dir.is_dir() and os.path.ismount(out_dir):  # a disk's top folder cannot be renamed or replaced
        raise ExportError(f"{out_dir} is the top folder of a disk (a mount point), and an export is written beside "
                          "its folder and then put in its place, which a disk's top folder cannot be. Nothing was "
                          f"written. To fix: export into a new folder on it, e.g. {out_dir / 'my-model'} (--out DIR).",
                          OUT_UNUSABLE)
    parent = _existing_parent(out_dir.parent)
    if not parent.is_dir():  # mkdir below would fail with a bare FileExistsError
        raise ExportError(f"{parent} is a file, not a folder, so {out_dir} cannot be made inside it. To fix: choose "
                          "a folder to export to (--out DIR).", OUT_UNUSABLE)
    if out_dir.exists() and any(out_dir.iterdir()):
        refusal = replace_refusal(out_dir)
        if refusal:
            raise ExportError(refusal, OUT_UNUSABLE, NOT_AN_EXPORT)
        if not overwrite:  # it holds an earlier export (replace_refusal): said which, where it can be told
            raise ExportError(f"{out_dir} exists already and is not empty: it holds "
                              f"{earlier_export_text(out_dir, run_dir)}. To fix: choose another folder (--out DIR), "
                              "or delete it first.", OUT_UNUSABLE, NOT_EMPTY)
    _check_writable(out_dir)


HELD_LISTED = 1000  # a folder's names read to say what it holds; past these it says "and more"


def held_names(folder: Path) -> list[str]:
    """The names a folder holds, sorted, a folder's with a '/' (at most HELD_LISTED + 1 read); [] for a folder that
    is empty, not there or cannot be read."""
    import itertools

    try:
        with os.scandir(folder) as entries:
            return sorted(entry.name + ("/" if entry.is_dir() else "")
                          for entry in itertools.islice(entries, HELD_LISTED + 1))
    except OSError:
        return []


def names_text(names: list[str], shown: int = 3) -> str:
    """'a.txt, notes.txt, photos/ and 2 more' (more than HELD_LISTED: 'and more')."""
    rest = len(names) - shown
    more = "" if rest <= 0 else " and more" if len(names) > HELD_LISTED else f" and {rest} more"
    return ", ".join(names[:shown]) + more


def _json_object(path: Path) -> dict[str, Any]:
    from finetune_studio.core.fileio import read_json

    try:
        if path.stat().st_size > 2**20:  # a model's config is a few kB; this is something else
            return {}
        data = read_json(path)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def holds_export(folder: Path) -> bool:
    """Whether a folder holds a model export (this app's, or any model saved by transformers or peft): an
    adapter_config.json naming its peft_type, or a config.json naming its model_type or architectures, at its top.
    What either kind of export writes, and what a folder of documents does not hold by chance."""
    adapter = _json_object(Path(folder) / ADAPTER_CONFIG_FILE)
    model = _json_object(Path(folder) / "config.json")
    return bool(adapter.get("peft_type")) or bool(model.get("model_type") or model.get("architectures"))


def _written_at(folder: Path) -> str:
    """When the export in `folder` was written (the folder's modification time: its files were put in it then; an
    adapter export's own files keep the run's times, copy2 copying them), as core.runs says a time; "" if unknown."""
    from datetime import datetime

    try:
        return datetime.fromtimestamp(folder.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except (OSError, ValueError, OverflowError):
        return ""


def _exported_step(folder: Path) -> int | None:
    """The step a checkpoint's export is of: the global_step of its trainer_state.json, which an export of a
    checkpoint carries and one of a final model does not; None when it holds none."""
    step = _json_object(folder / "trainer_state.json").get("global_step")
    return step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else None


def _same_bytes(one: Path, other: Path) -> bool:
    import filecmp

    try:
        return one.stat().st_size == other.stat().st_size and filecmp.cmp(one, other, shallow=False)
    except OSError:
        return False


def _exported_from(folder: Path, runs: Iterable[Path]) -> tuple[str, int | None] | None:
    """(run name, checkpoint step or None for its final model) of the run whose adapter the adapter export in
    `folder` holds byte for byte, looked for in `runs` (run folders): the checkpoint its trainer_state.json names
    first, or the final model first for an export without one (a final model is often the last checkpoint's
    weights). None when no model of those runs has its weights (a merged export, another run's, or one deleted)."""
    weights = folder / ADAPTER_WEIGHTS_FILE
    if not weights.is_file():
        return None
    step = _exported_step(folder)
    for run in runs:
        found = RunFolder(run)
        try:
            if not found.exists():
                continue
            saved = [(int(path.name.rpartition("-")[2]), path) for path in found.checkpoints(_output_dir(found))]
        except OSError:
            continue
        models: list[tuple[int | None, Path]] = [(None, found.model_dir), *reversed(saved)]
        models.sort(key=lambda model: (model[0] != step) if step is not None else (model[0] is not None))
        for which, path in models:
            if _same_bytes(weights, path / ADAPTER_WEIGHTS_FILE):
                return found.path.name, which
    return None


def earlier_export_text(out_dir: Path, run_dir: Path | None = None) -> str:
    """What the earlier export in out_dir is, for a refusal to replace it: "an earlier export of the run R's
    checkpoint-4 (written 2026-12-05 14:02)". The refusal said only that the folder "exists already and is not
    empty", and the command line "It holds an earlier export", never of what. An export records no source of its
    own (an adapter export copies the run's files but its README.md; a merged one is what save_pretrained writes),
    so it is told from what it holds: an adapter whose weights are byte for byte those of a model of the run being
    exported (`run_dir`) or of the run out_dir lies in; else the step its trainer_state.json names (an export of a
    checkpoint carries it). Where nothing tells, it says so rather than guessing (helper-217)."""
    written = _written_at(out_dir)
    when = f" (written {written})" if written else ""
    runs = [Path(run_dir)] if run_dir is not None else []
    if out_dir.parent not in runs:
        runs.append(out_dir.parent)  # the default place: RUN/export-adapter-checkpoint-N
    source = _exported_from(out_dir, runs)
    unmatched = f"no model of the run {Path(run_dir).name} has its weights now" if run_dir is not None else ""
    if source is not None:
        run, step = source
        return f"an earlier export of the run {run}'s {'final model' if step is None else f'checkpoint-{step}'}{when}"
    step = _exported_step(out_dir)
    if step is not None:
        return (f"an earlier export of a checkpoint saved at step {step}{when}: its trainer_state.json says the step "
                "but not the run" + (f", and {unmatched}" if unmatched else ""))
    adapter = _json_object(out_dir / ADAPTER_CONFIG_FILE)
    model = _json_object(out_dir / "config.json")
    base = adapter.get("base_model_name_or_path")
    what = (f"an adapter on {base}" if adapter.get("peft_type") and isinstance(base, str) and base else
            "an adapter" if adapter.get("peft_type") else f"a whole {model['model_type']} model"
            if isinstance(model.get("model_type"), str) else "a whole model")
    return (f"an earlier export{when}: {what}, which does not record which run or checkpoint it was exported from"
            + (f", and {unmatched}" if adapter.get("peft_type") and unmatched else ""))


def replace_refusal(out_dir: Path) -> str | None:
    """Why an export must not replace what out_dir holds, in words; None when it may (out_dir is empty, not there,
    or holds an earlier export: holds_export). Replacing deletes everything the folder holds, and "Delete what the
    folder holds, then export" deleted any folder's contents, so a folder of documents picked by mistake was lost.
    The one check for the window (its box and Export button, before anything is pressed) and `finetune-studio
    export`, which refuses such a folder in the same words."""
    names = held_names(out_dir)
    if not names or holds_export(out_dir):
        return None
    return (f"{out_dir} holds {names_text(names)} and no earlier export (no model's config.json or "
            "adapter_config.json): an export replaces everything its folder holds, so none goes there. Nothing was "
            "changed. To fix: choose an empty folder or a new name, or move those files away first.")


def _prepare_out(out_dir: Path, overwrite: bool, what: str, run_dir: Path | None = None
                 ) -> tuple[Path, Path | None]:
    """The hidden folder beside out_dir that the export is written into (renamed into place by _write), and the
    topmost folder above it that this made (None: out_dir's folder was there), which _write removes again when
    the export fails or is cancelled, as it is still empty then. Its name is
    this export's own (the process, a random part and this computer: _hidden_name): two exports into one folder at
    once (the window and the command line) shared one .partial folder, each deleting what the other had written,
    and one of them renamed an incomplete model into place and said it had exported it. Hidden folders that exports
    of this computer which died left (their process is gone) are removed (_remove_dead_partials)."""
    import uuid

    _check_out(out_dir, overwrite, run_dir)
    partial = out_dir.parent / _hidden_name(out_dir, PARTIAL, f"{os.getpid()}-{uuid.uuid4().hex[:8]}-{this_host()}")
    made = _first_missing(out_dir.parent)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        _remove_dead_partials(out_dir)
        partial.mkdir()
    except OSError as exc:
        _remove_made(out_dir, made)
        raise write_failed(exc, what, partial, out_dir) from exc
    return partial, made


def _first_missing(folder: Path) -> Path | None:
    """The topmost folder of `folder`'s path that is not there (folder itself, or one above it); None when it is."""
    missing = None
    for place in (folder, *folder.parents):
        if place.exists() or place.is_symlink():
            break
        missing = place
    return missing


def _remove_made(out_dir: Path, made: Path | None) -> None:
    """Remove the folders an export that did not finish made above out_dir (made: the topmost), while empty: an
    export into a new folder path (a typo in it, or one cancelled) said "nothing of it was written" and left the
    whole chain of empty folders it had made for it."""
    if made is None:
        return
    for place in (out_dir.parent, *out_dir.parent.parents):
        try:
            place.rmdir()  # only an empty folder: one something else put files in meanwhile stays
        except OSError:
            return
        if place == made:
            return


# The stages of an export's hidden folders beside its folder NAME: .NAME.STAGE-PID-XXXXXXXX-HOST (the process that
# made it, a random part, the computer it runs on): what it writes (PARTIAL), the earlier export it replaces, moved
# aside until the new one is in place (REPLACED), and that earlier export once the new one is in place, renamed so
# before it is deleted (DELETING): a copy no export needs any more, whoever left it.
PARTIAL, REPLACED, DELETING = "partial", "replaced", "deleting"
_STAGES = (PARTIAL, REPLACED, DELETING)
DAY_S = 24 * 3600  # hidden folders of other computers' exports older than this are mentioned (never deleted)


def this_host() -> str:
    """This computer's name as an export's hidden folders carry it: a process number says nothing on a disk that
    several computers share, where another computer's live export has a number this one may see as gone."""
    import re
    import socket

    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:32] or "unknown"


def _hidden_name(out_dir: Path, stage: str, owner: str) -> str:
    return f".{out_dir.name}.{stage}-{owner}"


@dataclass(frozen=True)
class HiddenFolder:
    """One hidden folder of an export into out_dir, read from its name: its stage, the process that made it and
    the computer it runs on (None for one named before names carried it, and for a bare .NAME.partial)."""

    path: Path
    stage: str
    owner: str  # PID-XXXXXXXX-HOST as in the name ("" for a bare .NAME.partial)
    pid: int | None
    host: str | None

    @property
    def gone(self) -> bool:
        """Provably dead: made by this computer, by a process that is no longer running. Any other (another
        computer's, or one whose computer is not named) may still be written by an export."""
        from finetune_studio.core.runs import _pid_alive

        return self.host == this_host() and self.pid is not None and not _pid_alive(self.pid)

    def age_s(self) -> float:
        import time

        try:
            return time.time() - self.path.lstat().st_mtime
        except OSError:
            return 0.0


def hidden_folders(out_dir: Path) -> list[HiddenFolder]:
    """The hidden folders of exports into out_dir (beside it), sorted by name: .NAME.STAGE-PID-XXXXXXXX-HOST, and
    the names earlier versions gave them (.NAME.STAGE-PID-XXXXXXXX, .NAME.partial)."""
    import re

    prefix = f".{out_dir.name}."
    found = []
    try:
        with os.scandir(out_dir.parent) as entries:
            names = sorted(entry.name for entry in entries if entry.name.startswith(prefix))
    except OSError:
        return []
    for name in names:
        rest = name[len(prefix):]
        if rest == PARTIAL:
            found.append(HiddenFolder(out_dir.parent / name, PARTIAL, "", None, None))
            continue
        match = re.fullmatch(r"([a-z]+)-((\d+)-[0-9a-f]{8}(?:-(.+))?)", rest)
        if match and match.group(1) in _STAGES:
            found.append(HiddenFolder(out_dir.parent / name, match.group(1), match.group(2), int(match.group(3)),
                                      match.group(4)))
    return found


def _remove_dead_partials(out_dir: Path) -> None:
    """Delete the hidden folders that exports of this computer into out_dir were writing when their process died
    (killed, or the machine went down). Only this computer's: on a disk several computers share, a process number
    that is gone here may be another computer's live export, so those (and ones named before names carried the
    computer) are left, and mentioned once a day old (left_behind_note)."""
    for hidden in hidden_folders(out_dir):
        if hidden.stage == PARTIAL and hidden.gone and hidden.path.is_dir() and not hidden.path.is_symlink():
            shutil.rmtree(hidden.path, ignore_errors=True)


def _stranded(hidden: HiddenFolder) -> bool:
    """An earlier export that an export moved aside (REPLACED) and whose process is gone: killed between its two
    renames, or after them and before it renamed the copy to DELETING. One named before names carried the computer
    counts when its process number is gone here: putting it back deletes nothing."""
    from finetune_studio.core.runs import _pid_alive

    if hidden.stage != REPLACED:
        return False
    return hidden.gone or (hidden.host is None and hidden.pid is not None and not _pid_alive(hidden.pid))


def tidy_hidden(out_dir: Path) -> list[str]:
    """Clear up what exports into out_dir that were stopped (killed, or the machine went down) left beside it, and
    say what was done or is left to the user, as sentences ([] when nothing was). An export that replaces out_dir
    moves the earlier export aside to .NAME.replaced-… and deletes it once the new one is in place; killed between
    the two renames, it left out_dir missing and the earlier export hidden, so it seemed gone. Such a copy is put
    back when out_dir is missing (or an empty folder): the newest one, if several. When out_dir holds an export, the
    copy may be the earlier export of a replace that finished, or one whose replace never did, which cannot be told
    apart: it is named, with that it can be deleted. A copy renamed to .NAME.deleting-… is one of a replace that
    finished, and is deleted; so are this computer's dead exports' .partial folders (_remove_dead_partials)."""
    notes: list[str] = []
    if out_dir.parent.is_dir():
        _remove_dead_partials(out_dir)
    hidden = hidden_folders(out_dir)
    for doomed in (h for h in hidden if h.stage == DELETING and h.path.is_dir() and not h.path.is_symlink()):
        shutil.rmtree(doomed.path, ignore_errors=True)
    stranded = sorted((h for h in hidden if _stranded(h) and h.path.is_dir() and not h.path.is_symlink()),
                      key=lambda h: h.age_s())  # the newest first
    if not stranded:
        return notes
    try:
        empty = out_dir.is_dir() and not out_dir.is_symlink() and not any(out_dir.iterdir())
        if empty:
            out_dir.rmdir()
        if not out_dir.exists() and not out_dir.is_symlink():
            os.replace(stranded[0].path, out_dir)
            notes.append(f"An earlier export into {out_dir} was stopped after it had moved the export that was there "
                         f"aside to {stranded[0].path.name}, before it put its own in place, so that export seemed "
                         f"gone: it is back in {out_dir}.")
            stranded = stranded[1:]
    except OSError:
        pass  # left as it is: said below
    now = (f"{out_dir} holds another export now" if holds_export(out_dir) else
           f"{out_dir} is there again, holding something else, so it was not put back")
    for left in stranded:
        notes.append(f"{left.path} is an earlier export of {out_dir} that an export stopped while replacing it left "
                     f"behind; {now}. If you no longer need that copy, delete it.")
    return notes


def _noted(exc: ExportError, notes: list[str]) -> ExportError:
    """`exc` with tidy_hidden's notes said first (and kept in its notes)."""
    if not notes:
        return exc
    return ExportError(" ".join([*notes, str(exc)]), exc.kind, exc.problem, tuple(notes))


def _check_out_noted(out_dir: Path, overwrite: bool, run_dir: Path | None = None) -> list[str]:
    """tidy_hidden, then _check_out: a refusal says first what was tidied (an earlier export put back is what the
    folder now holds); the notes, for the export's message."""
    notes = tidy_hidden(out_dir)
    try:
        _check_out(out_dir, overwrite, run_dir)
    except ExportError as exc:
        raise _noted(exc, notes) from None
    return notes


def left_behind_note(out_dir: Path) -> str:
    """What an export says of the hidden folders of other exports into out_dir it left as they are, once they are
    more than a day old (a younger one is most likely an export still running); "" when there are none."""
    old = [hidden for hidden in hidden_folders(out_dir)
           if not hidden.gone and not _stranded(hidden) and hidden.age_s() > DAY_S]
    if not old:
        return ""
    hosts = sorted({hidden.host for hidden in old if hidden.host and hidden.host != this_host()})
    where = f" (on {', '.join(hosts)})" if hosts else ""
    names = ", ".join(str(hidden.path) for hidden in old[:3]) + (f" and {len(old) - 3} more" if len(old) > 3 else "")
    return (f" Hidden folders of other exports into this place{where}, more than a day old, were left as they are, "
            f"since this computer cannot tell whether those exports still run: {names}. If no other export into "
            f"{out_dir} is running, delete them.")


def _write(partial: Path, out_dir: Path, what: str, write: Callable[[Path], None], overwrite: bool = False,
           made: Path | None = None) -> list[str]:
    """`write` the export into `partial`, then put it in place of out_dir; on any failure nothing is left (nor the
    empty folders _prepare_out `made` for it) and the
    error names out_dir, not the deleted partial folder (which the user never chose). What out_dir held before stays
    as it was when the export fails, and the message says so rather than "Nothing was left there"."""
    try:
        write(partial)
        _readable_as_new(partial)
        return _finish(partial, out_dir, overwrite)
    except BaseException as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(exc, ExportError):
            _remove_made(out_dir, made)
            raise
        if isinstance(exc, Exception):  # a full disk mid-write, a file system error: said as an export's failure
            failed = write_failed(exc, what, partial, out_dir)  # naming the disk before its new folders go
            if holds_files(out_dir) and "Nothing was left there." in str(failed):
                kept = f"{out_dir} still holds what it held before (nothing of it was replaced)."
                failed = ExportError(str(failed).replace("Nothing was left there.", kept), failed.kind,
                                     failed.problem)
            _remove_made(out_dir, made)
            raise failed from exc
        _remove_made(out_dir, made)
        raise


def _readable_as_new(folder: Path) -> None:
    """Give each file of the written export the permissions any new file gets (0666 less the umask, as
    core.fileio gives its files): safetensors writes its files 0600 (a temporary file renamed into place), and
    copy2 kept that mode of the run's adapter_model.safetensors, so an export was the one folder whose weights only
    its owner could read: copied to a shared models folder, or loaded by a server under another account, it
    failed with 'Permission denied' on its weights alone, its config and tokenizer reading fine."""
    import stat

    from finetune_studio.core.fileio import _umask

    wanted = 0o666 & ~_umask()
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                mode = stat.S_IMODE(path.stat().st_mode)
                if mode | wanted != mode:
                    os.chmod(path, mode | wanted)
        except OSError:  # a disk that keeps no permissions (a FAT USB stick refuses chmod): its files are as it says
            pass


def stop_if_cancelled(cancel: Any, out_dir: Path, what: str) -> None:
    """Raise ExportError of kind CANCELLED when `cancel` (a threading.Event, or None) is set: between an export's
    stages (loading the base, merging, writing), since none of them can be stopped half-way. Raised inside the write,
    it is caught by _write, which deletes the hidden folder: nothing of the export is kept."""
    if cancel is None or not cancel.is_set():
        return
    kept = (f" {out_dir} still holds what it held before." if holds_files(out_dir) else "")
    raise ExportError(f"The export of the {what} to {out_dir} was cancelled: nothing of it was written.{kept} To "
                      "export it, press Export again.", CANCELLED)


def holds_files(folder: Path) -> bool:
    """Whether an export's destination holds anything, so that "it still holds what it held before" is said only of a
    folder that held something (an export into a new folder that failed leaves no folder at all)."""
    try:
        return folder.is_dir() and any(folder.iterdir())
    except OSError:
        return False


def _finish(partial: Path, out_dir: Path, overwrite: bool = False) -> list[str]:
    """Put the written export in place of out_dir. An earlier export there (overwrite) is moved aside first and
    deleted only once the new one is in place, and put back if that fails: deleting it first lost it, or left it
    half-deleted and looking whole, when the rename then failed (the export said "Nothing was left there"). A folder
    that something else filled while this export was written (another export into it, or files that are not an
    export: replace_refusal, asked again here since a merge takes minutes) is left as it is."""
    old = None
    if out_dir.is_symlink() or out_dir.exists():
        if out_dir.is_dir() and not out_dir.is_symlink() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        elif not overwrite or not out_dir.is_dir() or out_dir.is_symlink() or replace_refusal(out_dir):
            problem = "another export or program filled the folder while this one was written"
            raise ExportError(f"Did not put the export into {out_dir}: {problem}, and it is left as it is (nothing "
                              "of this export was kept). To fix: look at what it holds, then choose another folder "
                              "(--out DIR), or delete it first, and export again.", WRITE_FAILED, problem)
        else:
            owner = partial.name[len(_hidden_name(out_dir, PARTIAL, "")):]  # this export's PID-XXXXXXXX-HOST
            old = out_dir.parent / _hidden_name(out_dir, REPLACED, owner)
            os.replace(out_dir, old)
    try:
        os.replace(partial, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old, out_dir)
        raise
    if old is not None:  # renamed first: a copy killed half-deleted is never taken for the export it was (tidy_hidden)
        doomed = out_dir.parent / _hidden_name(out_dir, DELETING, owner)
        try:
            os.replace(old, doomed)
        except OSError:
            doomed = old
        shutil.rmtree(doomed, ignore_errors=True)
    return sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())


def _out_path(out_dir: Path | None, folder: RunFolder, kind: str, checkpoint: int | None = None) -> Path:
    """The folder the export goes into: the one given, or the default. A link to a folder is followed, so the export
    goes into the folder it names: put in place of the link, it failed after the whole export was written ("Cannot
    call rmtree on a symbolic link")."""
    out_dir = Path(out_dir) if out_dir else default_out_dir(folder.path, kind, checkpoint)
    try:
        return out_dir.resolve() if out_dir.is_symlink() else out_dir
    except OSError as exc:  # a name longer than the disk allows: every later check raised a bare OSError
        if exc.errno == errno.ENAMETOOLONG:
            longest = max(out_dir.parts, key=lambda part: len(os.fsencode(part)))
            raise ExportError(f"{out_dir} cannot be made: the name {longest[:40]}… is {len(os.fsencode(longest))} "
                              "bytes long, more than the disk allows for one name (File name too long). Nothing was "
                              "written. To fix: choose a shorter folder name (--out DIR).", OUT_UNUSABLE) from None
        raise _cannot_write(out_dir, exc) from None


def _tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def export_adapter(run_dir: Path, out_dir: Path | None = None, overwrite: bool = False, *, cancel: Any = None,
                   checkpoint: int | None = None) -> ExportResult:
    """The adapter alone: adapter_model.safetensors + adapter_config.json (which names the base model) and the
    tokenizer, as `AutoPeftModelForCausalLM.from_pretrained(out_dir)` loads them. `checkpoint`: the run's
    checkpoint-N's adapter in place of its final one (with its trainer_state.json, which says the step; the
    tokenizer from the model folder where the checkpoint has none)."""
    folder, model_dir, adapter = _adapter_model_dir(run_dir, checkpoint=checkpoint)
    out_dir = _out_path(out_dir, folder, ADAPTER, checkpoint)
    check_destination(folder, out_dir)
    tidied = _check_out_noted(out_dir, overwrite, folder.path)
    with _removal_said(folder, checkpoint, [], "copied", out_dir):  # deleted since it was found whole
        files = [p for p in sorted(model_dir.iterdir()) if _exported(p)]
        tokenizer_dir = _tokenizer_dir(folder, model_dir)
        if tokenizer_dir != model_dir and tokenizer_dir.is_dir():
            files += [p for p in sorted(tokenizer_dir.iterdir()) if _exported(p) and p.name not in
                      {ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE} and not (model_dir / p.name).exists()]
        needed = sum(p.stat().st_size for p in files)
    check_space(out_dir, needed, "adapter")
    partial, made = _prepare_out(out_dir, overwrite, "adapter", folder.path)
    stops = None if (model_dir / "generation_config.json").is_file() else adapter_stops(folder, model_dir)

    def copy(into: Path) -> None:
        for path in files:
            stop_if_cancelled(cancel, out_dir, "adapter")
            with _removal_said(folder, checkpoint, [path, *files], "copied", out_dir):  # by save_total_limit
                _copy(path, into / path.name)
        stop_if_cancelled(cancel, out_dir, "adapter")
        if stops is not None:  # what the run's saves write now, for one saved before they did
            stops.save_pretrained(str(into))

    written = _write(partial, out_dir, "adapter", copy, overwrite, made)
    base = adapter.get("base_model_name_or_path")
    what = "the adapter" if checkpoint is None else f"the adapter of checkpoint-{checkpoint} of {folder.path.name}"
    return ExportResult(ADAPTER, out_dir, written, _tree_size(out_dir),
                        f"Exported {what} ({size_text(_tree_size(out_dir))}) to {out_dir}."
                        + _resize_note(folder, out_dir) + f" It loads on top of its base model {base} with peft: "
                        f"AutoPeftModelForCausalLM.from_pretrained({str(out_dir.absolute())!r})."
                        + _stops_note(out_dir, written) + _base_gone_note(base, out_dir)
                        + "".join(f" {note}" for note in tidied) + left_behind_note(out_dir))


def _resize_note(folder: RunFolder, out_dir: Path) -> str:
    """What an adapter export adds when its tokenizer has more tokens than its base model has embedding rows (a chat
    run whose template's tokens were added, <|im_start|> and <|im_end|>): peft's other way to load it,
    PeftModel.from_pretrained on a base loaded with AutoModelForCausalLM, failed with 'IndexError: index 1457 is out
    of bounds for dimension 0 with size 1457' until the base was resized; AutoPeftModelForCausalLM resizes it itself.
    "" when the counts are not known without loading anything (a base neither on this computer nor cached)."""
    tokens, rows = _tokenizer_size(out_dir), _base_vocab_size(folder)
    if not tokens or not rows or tokens <= rows:
        return ""
    return (f" Its tokenizer has {tokens} tokens, {tokens - rows} more than its base model's {rows} embedding rows "
            "(tokens the run added), so a base you load yourself for PeftModel.from_pretrained must be resized first, "
            f"base.resize_token_embeddings({tokens}), or loading fails with IndexError; AutoPeftModelForCausalLM "
            "resizes it itself.")


def _tokenizer_size(model_dir: Path) -> int:
    """How many tokens the tokenizer.json in model_dir holds, added ones included (len(tokenizer)); 0 when there is
    none or it cannot be read."""
    from finetune_studio.core.fileio import read_json

    try:  # not _json_object, which passes over files past 1 MiB: a real model's tokenizer.json is a few MB
        data = read_json(model_dir / "tokenizer.json")
    except (OSError, ValueError):
        return 0
    model = data.get("model") if isinstance(data, dict) and isinstance(data.get("model"), dict) else {}
    vocab = model.get("vocab")
    ids = set(vocab.values()) if isinstance(vocab, dict) else set(range(len(vocab))) if isinstance(vocab, list) \
        else set()
    added = data.get("added_tokens") if isinstance(data, dict) and isinstance(data.get("added_tokens"), list) else []
    ids |= {token.get("id") for token in added if isinstance(token, dict)}
    ids = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    return max(ids) + 1 if ids else 0


def _base_vocab_size(folder: RunFolder) -> int:
    """The base model's vocab_size (its embedding rows) from its config.json: a folder of this computer, or a Hub
    model's cached copy; 0 when neither is there."""
    from finetune_studio.core.model import cached_hub_file
    from finetune_studio.core.sources import SourceKind, source_kind

    bases = _base_folders(folder)
    path = bases[0] / "config.json" if bases else None
    if path is None:
        name = (run_adapter_config(folder) or {}).get("base_model_name_or_path")
        try:
            hub = isinstance(name, str) and source_kind(name) is SourceKind.HUB
        except FinetuneError:
            hub = False
        path = cached_hub_file(name, "config.json") if hub else None
    config = _json_object(path) if path is not None else {}
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    size = config.get("vocab_size") or text.get("vocab_size")
    return size if isinstance(size, int) and not isinstance(size, bool) else 0


def _copy(source: Path, target: Path) -> None:
    """copy2 without its failure on a disk that keeps no permissions: a FAT USB stick (mounted without 'quiet')
    refuses the chmod copy2's copystat makes (EPERM), which failed the whole adapter export as 'Cannot write to …:
    the operation is not permitted'. The file's contents are what matter: copied again without its mode."""
    try:
        shutil.copy2(source, target)
    except PermissionError as exc:  # copystat's chmod refused; a copy the disk refuses itself fails again below
        if exc.errno != errno.EPERM:
            raise
        shutil.copyfile(source, target)


def _base_gone_note(base: Any, out_dir: Path) -> str:
    """What an adapter export adds when the base model its adapter_config.json names is a folder no longer on this
    computer: the export said it "loads on top of its base model" there, and loading it failed."""
    if not _local_and_gone(base):
        return ""
    if _rebuilt_demo(base):
        return (f" Its base model, the built-in demo model, was gone from the app's cache (cleared since the run), so "
                f"it was built again at {base}, where the adapter loads it.")
    return (f" Its base model folder {base} is not there now (moved or deleted), so the adapter does not load until "
            f"it is: put the base model back there, or set base_model_name_or_path in "
            f"{out_dir / ADAPTER_CONFIG_FILE} to where it is now.")


def _rebuilt_demo(base: Any) -> bool:
    """Build the built-in demo model again when `base` is its folder in the app's cache and it is gone (the cache
    cleared to free space): the adapter export said to "put the base model back there", which the user has no copy
    of, while the app builds it the same way each time (a merged export did, by loading it). Whether it was built."""
    from finetune_studio.core.demo import demo_model_path

    try:
        if Path(base).expanduser() != demo_model_path(build=False):
            return False
        return demo_model_path().is_dir()
    except Exception:  # noqa: BLE001 - it could not be built here: the note says the folder is gone
        return False


def adapter_stops(folder: RunFolder, model_dir: Path) -> Any:
    """The generation_config.json a chat adapter run's model folder lacks (saved before its saves wrote one): its
    base's with the template's end of turn among the stops (add_run_stops), so the export carries it as a newer
    run's does and says to load it (_stops_note); None for a text run, or where the run's config, tokenizer or base
    cannot be read (the export is then the copy it always was)."""
    from finetune_studio.core.config import load_config
    from finetune_studio.core.generate import is_chat_run

    try:
        config = load_config(folder.config_path)[0]
    except (FinetuneError, OSError):
        return None
    if not is_chat_run(config, model_dir, folder.path):  # a text run: nothing to load (transformers) for
        return None
    from transformers import AutoTokenizer, GenerationConfig

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        generation = _base_generation_config(config)
        if generation is None:  # none saved with the base: the one transformers derives from its config
            from finetune_studio.core.adapter_layout import _load_config

            generation = GenerationConfig.from_model_config(_load_config(config.model))
    except Exception:  # noqa: BLE001 - a base or tokenizer that cannot be read here: the plain copy
        return None
    return generation if add_run_stops(generation, config, folder, tokenizer) else None


def _stops_note(out_dir: Path, written: list[str]) -> str:
    """What an adapter export adds when it carries the run's generation_config.json (a chat run's: the template's
    end of turn among its stops). peft does not read it: AutoPeftModelForCausalLM answers with its base's, whose
    only stop is the base's EOS, so a reply ran on past <|im_end|> to max_new_tokens."""
    if "generation_config.json" not in written:
        return ""
    return (" peft answers with the base model's generation_config, which does not stop at the end of a chat "
            "reply: load this one too, model.generation_config = "
            f"GenerationConfig.from_pretrained({str(out_dir.absolute())!r}), or replies run on past the end of turn.")


def dtype_refusal(dtype: str | None, nothing: str = "Nothing was exported.") -> str | None:
    """Why a merged export (or push: `nothing` says what was not done) cannot be saved in `dtype`, in words; None for
    one of MERGED_DTYPES (None: SAME_DTYPE)."""
    if dtype is None or dtype in MERGED_DTYPES:
        return None
    named = {"fp16": "float16", "half": "float16", "bf16": "bfloat16", "fp32": "float32", "float": "float32"}
    instead = named.get(str(dtype).lower().removeprefix("torch."))
    return (f"A merged model cannot be saved in {dtype!r}: the choices are {', '.join(MERGED_DTYPES[1:])}, or "
            f"{SAME_DTYPE} (the dtype the run trained in). {nothing} To fix: "
            + (f"write {instead}." if instead else f"choose one of {', '.join(MERGED_DTYPES)}."))


def _saved_dtype_of(folder: Path) -> str | None:
    """The dtype a model folder's config.json says its weights are saved in ("dtype", or transformers 4's
    "torch_dtype"; a multimodal model's text_config's), when it is one of DTYPE_BYTES; None otherwise."""
    config = _json_object(folder / "config.json")
    for place in (config, config.get("text_config") if isinstance(config.get("text_config"), dict) else {}):
        saved = place.get("dtype") or place.get("torch_dtype")
        if isinstance(saved, str) and saved.removeprefix("torch.") in DTYPE_BYTES:
            return saved.removeprefix("torch.")
    return None


def trained_dtype(run_dir: Path) -> str | None:
    """The dtype the run loaded its base model in, which SAME_DTYPE saves a merged export in: model.dtype in its
    config.yaml, or for "auto" the base model's own (its config.json, for a base in a folder of this computer);
    None when that is not known without loading it (a Hub id)."""
    from finetune_studio.core.config import load_config

    folder = RunFolder(Path(run_dir))
    try:
        model = load_config(folder.config_path)[0].model
    except (FinetuneError, OSError, ValueError):
        return None
    if model.dtype and model.dtype != SAME_DTYPE:
        return str(model.dtype).removeprefix("torch.") if str(model.dtype).removeprefix("torch.") in DTYPE_BYTES \
            else None
    bases = _base_folders(folder)
    return _saved_dtype_of(bases[0]) if bases else None


def merged_size(run_dir: Path, dtype: str | None = SAME_DTYPE) -> int:
    """About how many bytes a merged export's weights take in `dtype` (SAME_DTYPE: trained_dtype), from the weight
    files of a base model in a folder of this computer and the dtype they are saved in; 0 when that is not known
    without loading it (a Hub id, or a base whose config names no dtype)."""
    folder = RunFolder(Path(run_dir))
    size = local_base_size(folder.path)
    bases = _base_folders(folder)
    saved = _saved_dtype_of(bases[0]) if bases else None
    target = trained_dtype(folder.path) if dtype in (None, SAME_DTYPE) else dtype
    if not size or saved is None or target not in DTYPE_BYTES:
        return 0
    return size * DTYPE_BYTES[target] // DTYPE_BYTES[saved]


def export_merged(run_dir: Path, out_dir: Path | None = None, overwrite: bool = False,
                  progress: Progress | None = None, *, checked: bool = False, cancel: Any = None,
                  dtype: str | None = SAME_DTYPE, checkpoint: int | None = None) -> ExportResult:
    """The adapter merged into its base model (peft's merge_and_unload), saved with the tokenizer: an ordinary model
    folder that loads without peft. `dtype`: what its weights are saved in, one of MERGED_DTYPES; SAME_DTYPE (the
    default) is the dtype the run loaded its base model in. `checked`: the caller (a merged push) has run
    shipping_problem on the run already. transformers' own progress bars stay off stderr meanwhile: `progress`
    says each stage (its warnings still show). `checkpoint`: the adapter of the run's checkpoint-N is merged in
    place of its final one."""
    from finetune_studio.core.model import quiet_transformers

    refusal = dtype_refusal(dtype)
    if refusal:
        raise ExportError(refusal, BAD_DTYPE)
    with quiet_transformers(warnings=False):
        return _export_merged(run_dir, out_dir, overwrite, progress, checked, cancel, dtype or SAME_DTYPE,
                              checkpoint)


def merge_refusal(run_name: str, verb: str, nothing: str) -> str | None:
    """Why the adapter of the run `run_name` cannot be merged now, for `verb` ("export", "push"), with `nothing`
    (what was done so far, as a sentence); None when it can. Merging loads the whole base model in this process:
    while a run trains here (the window's Train tab), that would build it under torch's process-wide default dtype
    (transformers' local_torch_dtype) as the run's thread makes tensors, and take the memory the run uses. The fix
    is the adapter alone now, or the merged model once the run ends: another process (the command line) would take
    the same memory from the run, so it is no way round."""
    from finetune_studio.core.shared_state import training_in_process

    if not training_in_process():
        return None
    return (f"Cannot merge the adapter of the run {run_name} into its base model now: a run is training in this app, "
            "and merging loads the whole base model into the app's process and the memory that run is using. "
            f"{nothing} To fix: {verb} the adapter alone now (it needs no merge), or wait until that run ends (or stop "
            f"it), then {verb} the merged model again.")


def _local_and_gone(name: Any) -> bool:
    """A base model named by a path on this computer that is no longer there."""
    from finetune_studio.core.sources import SourceKind, source_kind

    try:
        return source_kind(name) is SourceKind.LOCAL and not Path(name).expanduser().exists()
    except FinetuneError:  # no text: core.model has said what it is
        return False


def _require_cached_base(config: Any, folder: RunFolder) -> None:
    """Raise core.hub_access.HubUnreachable at once when the run's base model is a Hub id that is not in the local
    cache (deleted since the run, or the run copied from another computer) and the Hub cannot be reached, with this
    run's fix: its config.yaml names the base, so another model (core.model's "Pick a local model folder or the
    built-in demo model") is none. (It also spared the ~25 s of retries transformers' adapter look-up took before
    core.model passed it local_files_only, 6ef3c6e.)"""
    from finetune_studio.core.model import cached_hub_file
    from finetune_studio.core.sources import SourceKind, source_kind

    name = config.model.name_or_path
    try:
        if source_kind(name) is not SourceKind.HUB:
            return
    except FinetuneError:  # no text: load_model says what it is
        return
    if cached_hub_file(name, "config.json", config.model.revision) is not None:
        return
    from finetune_studio.core.hub_access import require_hub

    require_hub(f"the base model '{name}'", f"set model.name_or_path in {folder.config_path} to a folder holding a "
                f"copy of {name}", name, config.model.revision)


def _export_merged(run_dir: Path, out_dir: Path | None, overwrite: bool, progress: Progress | None,
                   checked: bool, cancel: Any = None, dtype: str = SAME_DTYPE, checkpoint: int | None = None
                   ) -> ExportResult:
    from finetune_studio.core.config import load_config

    folder, model_dir, _adapter = _adapter_model_dir(run_dir, checked, checkpoint)
    read = [path for path in model_dir.iterdir() if path.is_file()] if checkpoint is not None else []
    out_dir = _out_path(out_dir, folder, MERGED, checkpoint)

    def say(message: str) -> None:  # each stage: a Cancel pressed during the one before stops the export here
        stop_if_cancelled(cancel, out_dir, "merged model")
        if progress is not None:
            progress(message)
    check_destination(folder, out_dir)
    # a folder that cannot take it is said before the base model loads
    tidied = _check_out_noted(out_dir, overwrite, folder.path)
    busy = merge_refusal(folder.path.name, "export", "Nothing was exported.")
    if busy:
        raise ExportError(busy, TRAINING_HERE)
    config = load_config(folder.config_path)[0]
    ahead = merged_size(folder.path, dtype) or local_base_size(folder.path)  # about what the merge writes
    if ahead:
        check_space(out_dir, ahead, "merged model")  # before the base model loads (minutes for a big one)
    from finetune_studio.core import model as models
    from finetune_studio.core.adapters import load_adapter

    notes = []
    if config.adapter.method == "qlora":
        notes.append("The run trained on 4-bit weights; its base model was loaded unquantized (its original "
                     "weights) and the adapter merged into those, since 4-bit weights cannot hold the merged values.")
        say(notes[-1])
    say(f"Loading the base model {config.model.name_or_path}")
    try:
        _require_cached_base(config, folder)  # a Hub base gone from the cache: said before transformers' retries
        # Unquantized, in the dtype the run chose (its saved one for "auto"), so the adapter is merged into the
        # weights it trained against; float32 is loaded as float32, so the merge is computed in it too.
        base = models.load_model(_loaded_as(config.model, dtype))
    except FinetuneError as exc:  # core.model's words ("Model folder not found: …"), with what it means here
        mismatch = models.config_mismatch(exc, models.resolve_model(config.model.name_or_path))
        if mismatch:  # the base's config.json no longer describes its weights (edited, or another model's copied)
            name = config.model.name_or_path
            raise ExportError(f"The run {folder.path.name}'s base model could not be loaded, so the adapter cannot "
                              f"be merged into it: {mismatch}. Nothing was exported. To fix: put back the base model "
                              f"the run trained on at {name} (its config.json and weight files together), or set "
                              f"model.name_or_path in {folder.config_path} to where that model is now, then export "
                              "again.") from None
        said, _, model_fix = str(exc).strip().partition(" To fix: ")
        run_fix = (f"put the base model back where the run's config.yaml names it (model.name_or_path: "
                   f"{config.model.name_or_path}), or set model.name_or_path in {folder.config_path} to where it is "
                   "now, then export again.")
        # A base folder that is gone: the fix is this run's, whose config names it; core.model's ("give the folder
        # where the model is now") is validate's, for a field the user edits, which an export has none of.
        fix = run_fix if _local_and_gone(config.model.name_or_path) or not model_fix else model_fix
        raise ExportError(f"The run {folder.path.name}'s base model could not be loaded, so the adapter cannot be "
                          f"merged into it: {said} Nothing was exported. To fix: {fix}") from None
    needed = sum(p.numel() * (DTYPE_BYTES.get(dtype) or p.element_size()) for p in base.parameters())
    tokenizer_dir = _tokenizer_dir(folder, model_dir)
    merging = "merged into its base model"
    with _removal_said(folder, checkpoint, read, merging, out_dir):  # deleted while the base model loaded
        needed += sum(p.stat().st_size for p in tokenizer_dir.iterdir()
                      if p.is_file() and p.name.startswith("tokenizer"))
    say("Loading the adapter and merging it into the base model" if checkpoint is None else
        f"Loading the adapter of checkpoint-{checkpoint} and merging it into the base model")
    try:
        with _removal_said(folder, checkpoint, read, merging, out_dir):
            adapted = load_adapter(base, model_dir)
    except FinetuneError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged or edited adapter folder: say which, and what does not fit
        from finetune_studio.core.adapters import load_failure_reason

        raise ExportError(f"Could not load the adapter in {model_dir} onto its base model "
                          f"{config.model.name_or_path}: {load_failure_reason(exc)}. Nothing was exported. To fix: "
                          f"check that {ADAPTER_CONFIG_FILE} and {ADAPTER_WEIGHTS_FILE} in {model_dir} are the ones "
                          "the run saved together (copy the run folder again if it was copied or edited), and that "
                          "its base model is the one it trained on.") from None
    untied = untie_adapted_head(adapted)
    if untied:
        notes.append(UNTIED_NOTE)
        say(notes[-1])
    check_space(out_dir, needed + untied, "merged model")
    merged = adapted.merge_and_unload()  # a chat run's added token rows merge in too
    trained = str(merged.dtype).removeprefix("torch.")
    if dtype != SAME_DTYPE and dtype != trained:
        say(f"Converting the merged weights from {trained} to {dtype}")
        _check_fits(merged, dtype, trained)
        merged = merged.to(getattr(__import__("torch"), dtype))
    from transformers import AutoTokenizer, GenerationConfig

    with _removal_said(folder, checkpoint, read, merging, out_dir):  # its tokenizer deleted with it meanwhile
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))  # as the run saved it (its pad token set)
        if (model_dir / "generation_config.json").is_file():  # a chat run's stop tokens (the end of a reply)
            merged.generation_config = GenerationConfig.from_pretrained(str(model_dir))
        else:  # the base's, as loaded: a chat run saved before its stops were saved with it gets them here
            add_run_stops(merged.generation_config, config, folder, tokenizer)
    partial, made = _prepare_out(out_dir, overwrite, "merged model", folder.path)

    def save(into: Path) -> None:
        say(f"Saving the merged model to {out_dir}")
        merged.save_pretrained(str(into), max_shard_size=shard_limit(merged))
        with_torch_dtype(into)
        tokenizer.save_pretrained(str(into))
        stop_if_cancelled(cancel, out_dir, "merged model")  # pressed while it was written: not put in place

    written = _write(partial, out_dir, "merged model", save, overwrite, made)
    size = _tree_size(out_dir)
    saved = str(merged.dtype).removeprefix("torch.")  # the run's model.dtype, the base's own ("auto"), or the choice
    converted = f", converted from {trained}, the dtype the run trained in" if saved != trained else ""
    what = "the merged model" if checkpoint is None else (f"the merged model of checkpoint-{checkpoint} of "
                                                          f"{folder.path.name}")
    message = (f"Exported {what} ({size_text(size)}, in {saved}{converted}) to {out_dir}. It loads without "
               f"peft: AutoModelForCausalLM.from_pretrained({str(out_dir.absolute())!r}).")
    message = " ".join([message, *notes, *tidied]) + left_behind_note(out_dir)
    return ExportResult(MERGED, out_dir, written, size, message)


def _loaded_as(model: Any, dtype: str) -> Any:
    """The run's model config to load the base by for a merge saved in `dtype`: as the run loaded it, but float32
    for a float32 export (an upcast loses nothing, and the adapter's update is added in full precision)."""
    import dataclasses

    return dataclasses.replace(model, dtype="float32") if dtype == "float32" else model


def _check_fits(merged: Any, dtype: str, trained: str) -> None:
    """Refuse float16 for merged weights past its range (FLOAT16_MAX): they would be saved as inf, and the model
    answer NaN. bfloat16 and float32 hold any value of the others' range."""
    import torch

    if dtype != "float16":
        return
    largest, where = 0.0, ""
    with torch.no_grad():
        for name, tensor in [*merged.named_parameters(), *merged.named_buffers()]:
            if not tensor.is_floating_point() or not tensor.numel():
                continue
            peak = float(tensor.detach().abs().max())
            if peak > largest:
                largest, where = peak, name
    if largest > FLOAT16_MAX:
        problem = (f"The merged model cannot be saved in float16: its weight {where} holds values up to "
                   f"{largest:,.0f}, and float16 holds at most {FLOAT16_MAX:,.0f}, so they would be saved as inf and "
                   "the model would answer NaN.")
        raise ExportError(f"{problem} Nothing was exported. To fix: export it in bfloat16 (as small as float16, with "
                          f"float32's range), or in {trained}, the dtype the run trained in.", DTYPE_OVERFLOW,
                          problem=problem)  # a push says its own "nothing" and fix (core.hub._overflow_refusal)


def with_torch_dtype(folder: Path) -> None:
    """config.json of a saved model with "torch_dtype" beside "dtype" (transformers 5 writes "dtype" alone): a
    transformers before 4.56 reads only torch_dtype, and loaded a bfloat16 or float16 export with dtype="auto" as
    float32, twice its size. transformers 5 takes the two as one (dtype wins, without a warning). Written as
    transformers writes the file (sorted keys, two spaces)."""
    import json

    path = Path(folder) / "config.json"
    data = _json_object(path)
    saved = data.get("dtype")
    if not isinstance(saved, str) or data.get("torch_dtype") == saved:
        return
    data["torch_dtype"] = saved
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


UNTIED_NOTE = ("The adapter changes the output head or the input embeddings, which the base model shares (tied "
               "weights), so the merged model keeps them as two separate weights, each with its own part of the "
               "adapter merged in: it computes what the adapter on its base computes, and its files are larger than "
               "the base model's by one copy of that weight.")


def _innermost(module: Any) -> Any:
    """The plain layer under peft's wrappers (a LoRA layer's base_layer, modules_to_save's or trainable tokens'
    original module)."""
    from peft.tuners.tuners_utils import BaseTunerLayer
    from peft.utils.other import AuxiliaryTrainingWrapper

    for _ in range(8):  # wrappers nest at most a couple deep
        if isinstance(module, BaseTunerLayer):
            module = module.get_base_layer()
        elif isinstance(module, AuxiliaryTrainingWrapper):
            module = module.original_module
        else:
            break
    return module


def _changes_weight(module: Any) -> bool:
    """A layer peft's merge changes by adding to its weight (a LoRA/DoRA layer) or replaces by a trained copy
    (modules_to_save). Trainable token rows are left out: merging writes the same rows into a shared weight twice,
    which is harmless, so a chat run's added tokens alone never untie anything."""
    from peft.tuners.lora import LoraLayer
    from peft.utils.other import ModulesToSaveWrapper

    return isinstance(module, (LoraLayer, ModulesToSaveWrapper))


def untie_adapted_head(peft_model: Any) -> int:
    """Give the output head a weight of its own when the base ties it to the input embeddings and the adapter changes
    either of them; the number of bytes that adds to the merged model (0: nothing to untie).

    A tied pair is one tensor. An adapter on lm_head (or embed_tokens) changes only that layer while it runs as an
    adapter, but merge_and_unload adds its update to the one tensor both layers read: the merged model's embeddings
    changed too and its logits moved by up to 2.56 on the demo from the adapter's (helper-56, D5). peft's own
    answer (its merge warning) is to clone the weight before merging; its ensure_weight_tying (0.21) still merges a
    tied adapter twice into the shared tensor. So the head gets a copy here, after the adapter is loaded (peft
    ties trainable token rows by the model's tie, which must still hold then) and before the merge, and the config
    says the weights are no longer tied, so save_pretrained writes both and from_pretrained keeps them apart."""
    import torch

    model = peft_model.get_base_model()
    embeddings, head = model.get_input_embeddings(), model.get_output_embeddings()
    if embeddings is None or head is None:
        return 0
    embedding_layer, head_layer = _innermost(embeddings), _innermost(head)
    shared = getattr(embedding_layer, "weight", None)
    if shared is None or getattr(head_layer, "weight", None) is not shared:
        return 0
    if not (_changes_weight(embeddings) or _changes_weight(head)):
        return 0
    head_layer.weight = torch.nn.Parameter(shared.detach().clone(), requires_grad=False)
    for config in {id(c): c for c in (model.config, model.config.get_text_config())}.values():
        config.tie_word_embeddings = False
    return shared.numel() * shared.element_size()


def shard_limit(model: Any) -> int | str:
    """The max_shard_size a merged model is saved with: MAX_SHARD_SIZE, else save_pretrained's own default."""
    import inspect

    if MAX_SHARD_SIZE:
        return MAX_SHARD_SIZE
    return inspect.signature(type(model).save_pretrained).parameters["max_shard_size"].default


def weight_files(model: Any, max_shard_size: int | str) -> list[tuple[str, int]]:
    """(name, bytes) of the weight files `model.save_pretrained(..., max_shard_size=...)` writes, by transformers'
    own steps: tied weights kept once (remove_tied_weights_from_state_dict), names and order as the checkpoint
    format has them (revert_weight_conversion), split by huggingface_hub's
    split_torch_state_dict_into_shards into model.safetensors, or into model-0000i-of-0000n.safetensors and
    model.safetensors.index.json. Sizes are the files' exact bytes (header included). Works on a model on the
    meta device, so a push's file list can name the merged model's files before anything is merged."""
    import json

    from huggingface_hub import split_torch_state_dict_into_shards
    from transformers.modeling_utils import remove_tied_weights_from_state_dict
    from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME

    from finetune_studio.core.adapter_layout import safetensors_size, st_dtype

    state = remove_tied_weights_from_state_dict(model.state_dict(), model)
    try:  # save_pretrained's save_original_format: the checkpoint's names, in its (sorted) order
        from transformers.core_model_loading import dot_natural_key, revert_weight_conversion

        reverted = revert_weight_conversion(model, state)
        if reverted is state:  # nothing to convert: a model that from_pretrained loaded is still saved sorted
            reverted = dict(sorted(state.items(), key=lambda item: dot_natural_key(item[0])))
        state = reverted
    except Exception:  # noqa: BLE001 - a conversion that needs real values; the names stay the modules'
        pass
    split = split_torch_state_dict_into_shards(
        state, filename_pattern=SAFE_WEIGHTS_NAME.replace(".safetensors", "{suffix}.safetensors"),
        max_shard_size=max_shard_size)
    files = [(name, safetensors_size({k: (st_dtype(state[k]), list(state[k].shape)) for k in keys}, {"format": "pt"}))
             for name, keys in split.filename_to_tensors.items()]
    if split.is_sharded:
        index = {"metadata": {"total_parameters": model.num_parameters(), **split.metadata},
                 "weight_map": split.tensor_to_filename}
        files.append((SAFE_WEIGHTS_INDEX_NAME, len((json.dumps(index, indent=2, sort_keys=True) + "\n").encode())))
    return files


def _as_merged(meta: Any, model_dir: Path) -> Any:
    """The base built on the meta device, shaped as export_merged saves it: the run's adapter put on it by peft from
    its adapter_config.json, the head untied as untie_adapted_head unties it, and the adapter taken off again (on
    the meta device all of it is shapes only). Without it a push's list left out the untied head's weight."""
    import warnings

    import torch
    from peft import PeftConfig, get_peft_model

    head = meta.get_output_embeddings()
    if head is None or head.weight is not meta.get_input_embeddings().weight:
        return meta  # nothing tied: nothing to untie
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")  # peft's notes on tied weights and meta tensors: untie_adapted_head's part
        wrapped = get_peft_model(meta, PeftConfig.from_pretrained(str(model_dir)))
        untie_adapted_head(wrapped)
        return wrapped.unload()


def merged_files(run_dir: Path, checked: bool = False, dtype: str | None = SAME_DTYPE) -> list[tuple[str, int]]:
    """(name, bytes) of every file export_merged writes for this adapter run, without loading or merging any
    weights: the weight files (`weight_files` of the base built on the meta device, grown to the run's tokenizer),
    and config.json, generation_config.json and the tokenizer's files, saved for real into a scratch folder (they
    are small) exactly as export_merged saves them. `checked`: the caller ran shipping_problem on the run. `dtype`:
    export_merged's."""
    import tempfile

    from transformers import AutoTokenizer, GenerationConfig

    from finetune_studio.core.adapter_layout import meta_model
    from finetune_studio.core.config import load_config

    folder, model_dir, _adapter = _adapter_model_dir(run_dir, checked)
    config = load_config(folder.config_path)[0]
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = _as_merged(meta_model(config.model, vocab_size=len(tokenizer)), model_dir)
    if dtype in DTYPE_BYTES:  # on the meta device: shapes only, cast for nothing
        import torch

        model = model.to(getattr(torch, dtype))
    if (model_dir / "generation_config.json").is_file():  # a chat run's, which export_merged keeps
        model.generation_config = GenerationConfig.from_pretrained(str(model_dir))
    else:  # the base model's own, as from_pretrained loads it with the weights (a Hub id's only when cached)
        model.generation_config = _base_generation_config(config) or model.generation_config  # else: derived from
        add_run_stops(model.generation_config, config, folder, tokenizer)  # the config, as the merged model's
    files = weight_files(model, shard_limit(model))
    with tempfile.TemporaryDirectory(prefix="finetune-studio-merged-files-") as tmp:
        model.config.dtype = str(model.dtype).removeprefix("torch.")  # as save_pretrained writes it
        model.config.architectures = [type(model).__name__]
        model.config.save_pretrained(tmp)
        with_torch_dtype(Path(tmp))
        if model.can_generate():
            model.generation_config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        files += [(p.relative_to(tmp).as_posix(), p.stat().st_size) for p in Path(tmp).rglob("*") if p.is_file()]
    return sorted(files)


def _base_generation_config(config: Any) -> Any:
    """The base model's own generation_config.json as from_pretrained loads it with the weights (a Hub id's only
    when cached); None when it has none saved (transformers then derives one from the model's config)."""
    from transformers import GenerationConfig

    from finetune_studio.core.adapter_layout import config_source
    from finetune_studio.core.errors import FinetuneError

    try:
        source, kwargs = config_source(config.model)
    except FinetuneError:
        return None
    kwargs.pop("trust_remote_code", None)
    try:
        return GenerationConfig.from_pretrained(source, local_files_only=True, **kwargs)
    except (OSError, ValueError):
        return None


def run_stops(config: Any, folder: RunFolder, tokenizer: Any) -> list[int]:
    """The ids a chat run's replies end with: its template's end of turn (core.chat.end_of_turn), as the run
    trained them, core.chat.prepare_model adds them to its generation_config and core.generate stops at them;
    [] for a text run (core.generate.is_chat_run: as the run recorded it, else its config, else the chat template
    saved with its tokenizer)."""
    from finetune_studio.core.chat import end_of_turn
    from finetune_studio.core.generate import chat_template, is_chat_run

    if not is_chat_run(config, folder.model_dir, folder.path):
        return []
    return end_of_turn(tokenizer, chat_template(tokenizer, config.chat))[0]


def add_run_stops(generation_config: Any, config: Any, folder: RunFolder, tokenizer: Any) -> bool:
    """Put a chat run's end of turn (run_stops) among `generation_config`'s stops, and its pad token where it has
    none, as core.chat.prepare_model does for a run that trains now; whether anything was added. For a model folder
    saved without generation_config.json: an adapter run's from before its saves wrote one (02da590; a run whose
    final save was finished from such a checkpoint on resume too), which exported with its base's stops alone, so
    a merged export's replies ran on past <|im_end|> to max_new_tokens in plain transformers."""
    from finetune_studio.core.chat import saveable, with_stops

    stops = run_stops(config, folder, tokenizer)
    if not stops:
        return False
    before = generation_config.eos_token_id
    generation_config.eos_token_id = with_stops(before, stops)
    if generation_config.pad_token_id is None and tokenizer.pad_token_id is not None:
        generation_config.pad_token_id = tokenizer.pad_token_id
    saveable(generation_config)  # sampling settings without do_sample (Llama-2's), which a changed config cannot keep
    return generation_config.eos_token_id != before


def export_run(run_dir: Path, kind: str, out_dir: Path | None = None, overwrite: bool = False,
               progress: Progress | None = None, cancel: Any = None, dtype: str | None = SAME_DTYPE,
               checkpoint: int | None = None) -> ExportResult:
    """`cancel`: a threading.Event the caller sets to stop the export at its next stage (cancelled_error). `dtype`:
    what a merged export's weights are saved in (MERGED_DTYPES); an adapter is exported as the run saved it.
    `checkpoint`: export the run's checkpoint-N (`generate RUN --checkpoint N`'s) in place of its final model, into
    export-KIND-checkpoint-N by default; None: the final model."""
    if kind == ADAPTER:
        if dtype not in (None, SAME_DTYPE):
            raise ExportError(f"An adapter export copies the adapter as the run saved it, so it has no dtype to "
                              f"choose (got {dtype}). Nothing was exported. To fix: leave the dtype out, or export "
                              "the merged model, whose weights can be saved in another dtype.", BAD_DTYPE)
        return export_adapter(run_dir, out_dir, overwrite, cancel=cancel, checkpoint=checkpoint)
    if kind == MERGED:
        return export_merged(run_dir, out_dir, overwrite, progress, cancel=cancel, dtype=dtype, checkpoint=checkpoint)
    raise ExportError(f"Export kind must be {' or '.join(KINDS)} (got {kind!r}).", UNKNOWN_KIND)
