"""Validation gaps (helper-172): a run name with spaces at its ends, gradient_accumulation_steps without an upper
limit, a transformers-4 training key answered with all ~100 TrainingArguments names, and the runs-folder probe that
made and removed a folder at every validate() (the window validates on every edit)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from finetune_studio.core import validation
from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import WARNING
from finetune_studio.core.validation import training_fields, validate
from tests.helpers import folder_calls


def said(config, check_files: bool = False) -> dict[str, str]:
    return {p.field: p.message for p in validate(config, check_files=check_files) if p.level != WARNING}


# ---- 1. a run name with spaces at its ends

@pytest.mark.parametrize(("name", "words"), [
    (" run", "starts with a space, which would become part of its folder's name (hard to see, and to type again in a "
             "terminal). To fix: remove it, and name the run 'run'."),
    ("run  ", "ends with spaces, which would become part of its folder's name (hard to see, and to type again in a "
              "terminal). To fix: remove them, and name the run 'run'."),
    (" my run ", "starts and ends with a space, which would become part of its folder's name (hard to see, and to "
                 "type again in a terminal). To fix: remove them, and name the run 'my run'."),
])
def test_name_with_spaces_at_its_ends_refused(runs_dir: Path, name: str, words: str) -> None:
    config = default_config()
    config.name = name
    assert said(config)["name"] == f"The run name {name!r} {words}"
    config.name = name.strip()
    assert "name" not in said(config)


def test_name_with_end_space_refused_by_the_cli_and_no_folder_made(tmp_path: Path, runs_dir: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    path.write_text('name: "run "\n', encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    assert ("problem: name: The run name 'run ' ends with a space, which would become part of its folder's name"
            in capsys.readouterr().out)
    assert main(["validate", str(path), "--name", " run"]) == 2
    assert "The run name ' run' starts with a space" in capsys.readouterr().out
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_existing_run_folder_with_end_space_still_validates(runs_dir: Path) -> None:
    """A run made before this check (its folder named 'old ') is resumed from its config.yaml, with that name."""
    config = default_config()
    config.name = "old "
    (runs_dir / "old ").mkdir(parents=True)
    (runs_dir / "old " / "config.yaml").write_text("name: 'old '\n", encoding="utf-8")
    assert "name" not in said(config, check_files=True)
    assert said(config, check_files=False)["name"].startswith("The run name 'old ' ends with a space")


# ---- 2. gradient_accumulation_steps has an upper limit

def test_huge_gradient_accumulation_refused(runs_dir: Path) -> None:
    from finetune_studio.core.validation import MAX_ACCUMULATION_STEPS

    config = default_config()
    config.training["gradient_accumulation_steps"] = 10**8
    assert said(config)["training.gradient_accumulation_steps"] == (
        "gradient_accumulation_steps 100000000 is far more than a run can use: it is the batches summed before each "
        "optimizer step, and each step reads that many batches into memory first; with fewer in an epoch, the run "
        "steps once an epoch and barely trains. Past 10,000 it is refused (1 to 64 is usual; the seed uses 8). To "
        "fix: set it to 1 to 64, such as 8; for a larger batch per step, raise per_device_train_batch_size or train "
        "on more processes.")
    config.training["gradient_accumulation_steps"] = 1e20  # a float YAML read with a decimal point: not "write 10…0"
    assert said(config)["training.gradient_accumulation_steps"].startswith(
        "gradient_accumulation_steps 1e20 is far more than a run can use:")
    config.training["gradient_accumulation_steps"] = MAX_ACCUMULATION_STEPS + 1
    assert "training.gradient_accumulation_steps" in said(config)
    config.training["gradient_accumulation_steps"] = MAX_ACCUMULATION_STEPS
    assert "training.gradient_accumulation_steps" not in said(config)
    config.training["gradient_accumulation_steps"] = 0  # the lower limit is unchanged
    assert said(config)["training.gradient_accumulation_steps"] == (
        "gradient_accumulation_steps must be at least 1 (got 0). To fix: set gradient_accumulation_steps to 1 or "
        "more.")


# ---- 3. a transformers-4 key, and unknown keys, in a few words

def test_warmup_ratio_names_what_replaced_it(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    config = default_config()
    config.training["warmup_ratio"] = 0.1
    assert said(config)["training.warmup_ratio"] == (
        "'warmup_ratio' is not a TrainingArguments setting: transformers 5 removed it, and warmup_steps takes the "
        "ratio now: a value below 1 is a share of the run's steps. To fix: write warmup_steps: 0.1 in its place.")
    config.training["warmup_ratio"] = 1  # the whole run: warmup_steps 1 would be one step, so no value is offered
    assert said(config)["training.warmup_ratio"].endswith("To fix: remove it and set warmup_steps.")
    from finetune_studio.core.config import FOLDED_TRAINING_KEYS  # the one table, which the GUI's tab can read

    assert FOLDED_TRAINING_KEYS["warmup_ratio"][0] in training_fields()
    path = tmp_path / "old.yaml"
    path.write_text("training:\n  warmup_ratio: 0.05\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert ("problem: training.warmup_ratio: 'warmup_ratio' is not a TrainingArguments setting: transformers 5 "
            "removed it, and warmup_steps takes the ratio now: a value below 1 is a share of the run's steps. To fix: "
            "write warmup_steps: 0.05 in its place.") in out
    assert "accelerator_config" not in out  # not the ~100 names the message listed


def test_unknown_training_key_names_a_few_close_names_not_all(runs_dir: Path) -> None:
    config = default_config()
    config.training.update(fp16_backend="amp", zzz_setting=1, evaluation_strategy="epoch", logging_dir="logs",
                           learnig_rate=1e-4)
    problems = said(config)
    assert problems["training.fp16_backend"] == ("'fp16_backend' is not a TrainingArguments setting. Close names: "
                                                 "ddp_backend. To fix: rename it to the one you mean, or remove it.")
    assert problems["training.zzz_setting"] == (
        f"'zzz_setting' is not a TrainingArguments setting, nor close to one of its {len(training_fields())} names. "
        "To fix: correct the name (the app's All arguments tab lists them all), or remove it.")
    # a config built in code keeps old names a file has renamed as it is read
    assert problems["training.evaluation_strategy"] == ("'evaluation_strategy' is not a TrainingArguments setting: "
                                                        "transformers 5 calls it eval_strategy. To fix: rename it to "
                                                        "eval_strategy.")
    assert problems["training.logging_dir"] == ("'logging_dir' is not a TrainingArguments setting: transformers 5 "
                                                "removed it, and what it set is now fixed. To fix: remove it.")
    assert problems["training.learnig_rate"] == ("'learnig_rate' is not a TrainingArguments setting. Did you mean "
                                                 "'learning_rate'? To fix: rename it to learning_rate.")
    assert all(len(message) < 250 for key, message in problems.items() if key.startswith("training."))


def test_short_sections_still_list_every_name(runs_dir: Path) -> None:
    from finetune_studio.core.config import parse_config
    from finetune_studio.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config({"launch": {"zzz": 1}})
    assert caught.value.problems[0].message == (
        "'zzz' is not a launch setting. Valid names: devices, join_timeout, node_rank, nodes, processes, "
        "rdzv_endpoint. To fix: rename it to one of them, or remove it.")


# ---- 4. the runs-folder check writes nothing on every edit

@pytest.fixture
def folder_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every folder made or removed through os (tempfile.mkdtemp makes its folder with os.mkdir)."""
    monkeypatch.setattr(validation, "_MADE_IN", set(), raising=False)
    return folder_calls(monkeypatch, "os.mkdir", "os.rmdir")


@pytest.mark.parametrize("euid", [1000, 0])
def test_repeated_validation_makes_no_folder_each_time(tmp_path: Path, runs_dir: Path, folder_writes: list[str],
                                                       monkeypatch: pytest.MonkeyPatch, euid: int) -> None:
    """A runs folder not made yet, validated as the window does on each edit: as a user, os.access answers and
    nothing is written; as root (whom os.access lets write anywhere), one folder made and removed, the first time."""
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    parent = tmp_path / "home"
    parent.mkdir()
    folder_writes.clear()
    config = default_config()
    config.runs_dir = str(parent / "not" / "yet")
    for _ in range(5):
        assert validation._writable_dir(Path(config.runs_dir)) is None
    assert "runs_dir" not in said(config, check_files=True)
    probes = [line for line in folder_writes if str(parent) in line]
    assert len(probes) == (0 if euid else 2), probes  # root: one mkdir and its rmdir
    assert list(parent.iterdir()) == []


def test_probe_tried_again_once_the_folder_changes(tmp_path: Path, runs_dir: Path, folder_writes: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """As root: a folder that refused is tried again each time (nothing is made) and said; after a chmod it is
    tried anew."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    parent = tmp_path / "home"
    parent.mkdir()
    folder_writes.clear()
    target = parent / "runs"
    real = tempfile.mkdtemp
    refused = []

    def refuse(**kwargs):
        refused.append(kwargs["dir"])
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    for _ in range(2):
        assert validation._writable_dir(target) == (
            f"{target} cannot be made: making a folder in {parent} failed (Operation not permitted). To fix: pick a "
            "folder you can write to.")
    assert len(refused) == 2
    monkeypatch.setattr(tempfile, "mkdtemp", real)
    assert validation._writable_dir(target) is None
    assert validation._writable_dir(target) is None
    assert len([line for line in folder_writes if line.startswith("mkdir")]) == 1
    parent.chmod(0o700)  # another mode: tried again
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    assert validation._writable_dir(target).startswith(f"{target} cannot be made")


def test_read_only_and_proc_still_refused_after_a_probe(tmp_path: Path, runs_dir: Path, folder_writes: list[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    target = tmp_path / "runs" / "here"
    assert validation._writable_dir(target) is None  # probed, and remembered
    real = os.statvfs

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda path: ReadOnly() if str(path) == str(tmp_path) else real(path))
    assert validation._writable_dir(target) == (
        f"{tmp_path} is on a read-only filesystem, so {target} cannot be written. To fix: pick a folder on a "
        "filesystem you can write to.")
    if os.path.isdir("/proc/self"):
        for _ in range(2):
            assert validation._writable_dir(Path("/proc/runs")) == (
                "/proc/runs is under /proc, which the system fills with its own entries: no folder can be made there. "
                "To fix: pick a folder you can write to, such as one in your home folder.")


def test_unwritable_parent_refused_without_a_probe_as_a_user(tmp_path: Path, runs_dir: Path, folder_writes: list[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: str(path) != str(tmp_path))
    assert validation._writable_dir(tmp_path / "runs") == (
        f"cannot write to {tmp_path}. To fix: pick a folder you can write to.")
    assert folder_writes == []
