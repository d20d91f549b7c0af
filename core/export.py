"""Export a finished adapter run: the adapter alone, or merged into its base model as one ordinary model.

*Adapter only* copies what the Trainer saved (adapter_model.safetensors, adapter_config.json naming the base model,
the tokenizer): small, and loaded with peft on top of the base. *Merged* loads the base model in its saved dtype,
loads the adapter onto it and calls peft's `merge_and_unload()`, then `save_pretrained`: a model that
`AutoModelForCausalLM.from_pretrained` and `pipeline("text-generation")` load with no peft installed. For a QLoRA
run the base is loaded unquantized (its original weights rather than the 4-bit ones it trained against), because
4-bit weights cannot hold the merged values; the result says so.

Both check free disk space against what they will write before writing anything, and write into a hidden sibling
folder that is renamed into place at the end, so a failure never leaves a folder that looks complete.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from finetune_studio.core.adapters import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, read_adapter_config
from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.hub import size_text  # one way to say a size, as the push dialog says it
from finetune_studio.core.runs import RunFolder

ADAPTER, MERGED = "adapter", "merged"
KINDS = (ADAPTER, MERGED)
# Room kept free beyond the files' own size: filesystems need some, and a disk filled to the last byte breaks
# everything else on the machine.
SPARE_BYTES = 50 * 2**20
# Files of a run's model folder that are not part of an exported adapter: the Trainer's pickled arguments (unsafe
# to load) and peft's placeholder README.
_NOT_EXPORTED = {"training_args.bin", "README.md"}

Progress = Callable[[str], None]


class ExportError(FinetuneError):
    """An export that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class ExportResult:
    kind: str  # ADAPTER or MERGED
    out_dir: Path
    files: list[str] = field(default_factory=list)
    size_bytes: int = 0
    message: str = ""


def default_out_dir(run_dir: Path, kind: str) -> Path:
    """Where an export goes unless the user says: beside the run's model, in the run folder."""
    return Path(run_dir) / f"export-{kind}"


def _adapter_model_dir(run_dir: Path) -> tuple[RunFolder, Path, dict[str, Any]]:
    folder = RunFolder(Path(run_dir))
    if not folder.exists():
        raise ExportError(f"{run_dir} is not a run folder (it has no config.yaml).")
    model_dir = folder.model_dir
    adapter = read_adapter_config(model_dir) if model_dir.is_dir() else None
    if adapter is None:
        if (model_dir / "config.json").is_file():
            raise ExportError(f"The run {folder.path.name} fine-tuned every weight, so its model folder is already a "
                              f"whole model that loads as it is: {model_dir}. Export is for adapter runs (LoRA, "
                              "QLoRA, DoRA).")
        state = folder.read_status().get("state", "unknown")
        raise ExportError(f"The run {folder.path.name} has no saved model to export (its state is {state}). Only a "
                          "finished run has one; finish or resume it first.")
    if not (model_dir / ADAPTER_WEIGHTS_FILE).is_file():
        raise ExportError(f"{model_dir} has {ADAPTER_CONFIG_FILE} but no {ADAPTER_WEIGHTS_FILE}: the adapter's "
                          "weights are missing. Resume the run to save them again.")
    return folder, model_dir, adapter


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
        raise ExportError(f"Not enough free disk space for the {what}: it takes about {size_text(needed)}, and "
                          f"{where} has {size_text(free)} free. Nothing was written. To fix: free some space there, "
                          "or export to a folder on another disk (--out DIR).")


def _prepare_out(out_dir: Path, overwrite: bool) -> Path:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not overwrite:
        raise ExportError(f"{out_dir} exists already and is not empty. To fix: choose another folder (--out DIR), "
                          "or delete it first.")
    partial = out_dir.parent / f".{out_dir.name}.partial"
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    return partial


def _finish(partial: Path, out_dir: Path) -> list[str]:
    if out_dir.exists():
        shutil.rmtree(out_dir) if out_dir.is_dir() else out_dir.unlink()
    os.replace(partial, out_dir)
    return sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())


def _tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def export_adapter(run_dir: Path, out_dir: Path | None = None, overwrite: bool = False) -> ExportResult:
    """The adapter alone: adapter_model.safetensors + adapter_config.json (which names the base model) and the
    tokenizer, as `AutoPeftModelForCausalLM.from_pretrained(out_dir)` loads them."""
    folder, model_dir, adapter = _adapter_model_dir(run_dir)
    out_dir = Path(out_dir) if out_dir else default_out_dir(folder.path, ADAPTER)
    files = [p for p in sorted(model_dir.iterdir()) if p.is_file() and p.name not in _NOT_EXPORTED]
    needed = sum(p.stat().st_size for p in files)
    check_space(out_dir, needed, "adapter")
    partial = _prepare_out(out_dir, overwrite)
    try:
        for path in files:
            shutil.copy2(path, partial / path.name)
        written = _finish(partial, out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    base = adapter.get("base_model_name_or_path")
    return ExportResult(ADAPTER, out_dir, written, _tree_size(out_dir),
                        f"Exported the adapter ({size_text(_tree_size(out_dir))}) to {out_dir}. It loads on top of "
                        f"its base model {base} with peft: AutoPeftModelForCausalLM.from_pretrained('{out_dir}').")


def export_merged(run_dir: Path, out_dir: Path | None = None, overwrite: bool = False,
                  progress: Progress | None = None) -> ExportResult:
    """The adapter merged into its base model (peft's merge_and_unload), saved in the base model's dtype with the
    tokenizer: an ordinary model folder that loads without peft."""
    from finetune_studio.core.config import load_config

    say = progress or (lambda message: None)
    folder, model_dir, _adapter = _adapter_model_dir(run_dir)
    out_dir = Path(out_dir) if out_dir else default_out_dir(folder.path, MERGED)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not overwrite:
        _prepare_out(out_dir, overwrite)  # raises: says so before the base model loads
    config = load_config(folder.config_path)[0]
    from finetune_studio.core import model as models
    from finetune_studio.core.adapters import load_adapter

    notes = []
    if config.adapter.method == "qlora":
        notes.append("The run trained on 4-bit weights; its base model was loaded unquantized (its original "
                     "weights) and the adapter merged into those, since 4-bit weights cannot hold the merged values.")
        say(notes[-1])
    say(f"Loading the base model {config.model.name_or_path}")
    base = models.load_model(config.model)  # unquantized, in its saved dtype ("auto"), as the run chose it
    needed = sum(p.numel() * p.element_size() for p in base.parameters())
    needed += sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file() and p.name.startswith("tokenizer"))
    check_space(out_dir, needed, "merged model")
    say("Loading the adapter and merging it into the base model")
    merged = load_adapter(base, model_dir).merge_and_unload()  # a chat run's added token rows merge in too
    from transformers import AutoTokenizer, GenerationConfig

    if (model_dir / "generation_config.json").is_file():  # a chat run's stop tokens (the end of a reply)
        merged.generation_config = GenerationConfig.from_pretrained(str(model_dir))

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))  # as the run saved it (its pad token set)
    partial = _prepare_out(out_dir, overwrite)
    try:
        say(f"Saving the merged model to {out_dir}")
        merged.save_pretrained(str(partial))
        tokenizer.save_pretrained(str(partial))
        written = _finish(partial, out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    size = _tree_size(out_dir)
    message = (f"Exported the merged model ({size_text(size)}) to {out_dir}. It loads without peft: "
               f"AutoModelForCausalLM.from_pretrained('{out_dir}').")
    return ExportResult(MERGED, out_dir, written, size, " ".join([message, *notes]))


def export_run(run_dir: Path, kind: str, out_dir: Path | None = None, overwrite: bool = False,
               progress: Progress | None = None) -> ExportResult:
    if kind == ADAPTER:
        return export_adapter(run_dir, out_dir, overwrite)
    if kind == MERGED:
        return export_merged(run_dir, out_dir, overwrite, progress)
    raise ExportError(f"Export kind must be {' or '.join(KINDS)} (got {kind!r}).")
