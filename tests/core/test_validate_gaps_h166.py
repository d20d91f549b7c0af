"""Validation gaps other testers found (helper-166): a training field written as null whose type takes no None, a
decimal comma read as thousands where the digits start with 0, a run name of spaces, a runs folder that os.access
calls writable but cannot be made (/proc as root), and batch sizes and learning rates no run survives. Each is said
by validate, at its field, before any model loads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finetune_studio.core import validation
from finetune_studio.core.cli import main
from finetune_studio.core.config import comma_fix, default_config
from finetune_studio.core.errors import WARNING
from finetune_studio.core.validation import validate, warnings_for


def said(config, check_files: bool = False) -> dict[str, str]:
    return {p.field: p.message for p in validate(config, check_files=check_files) if p.level != WARNING}


# ---- 1. null where the field takes no None

def test_null_strategy_names_the_field_its_default_and_choices(runs_dir: Path) -> None:
    config = default_config()  # the seed: load_best_model_at_end with eval and save by epoch
    config.training.update(eval_strategy=None, save_strategy=None)
    problems = said(config)
    assert problems == {
        "training.eval_strategy": "eval_strategy is empty (null), and it takes no empty value: its default is 'no'. "
                                  "To fix: remove the line to use the default ('no'), or pick one of 'no', 'steps', "
                                  "'epoch'.",
        "training.save_strategy": "save_strategy is empty (null), and it takes no empty value: its default is "
                                  "'steps'. To fix: remove the line to use the default ('steps'), or pick one of 'no', "
                                  "'steps', 'epoch', 'best'."}
    # load_best_model_at_end no longer says "set save_strategy to 'None'"
    assert not any("'None'" in message for message in problems.values())


@pytest.mark.parametrize(("key", "message"), [
    ("max_steps", "max_steps is empty (null), and it takes no empty value: its default is -1. To fix: remove the line "
                  "to use the default (-1), or write a whole number."),
    ("lr_scheduler_type", "lr_scheduler_type is empty (null), and it takes no empty value: its default is 'linear'. "
                          "To fix: remove the line to use the default ('linear'), or pick one of 'linear', 'cosine', "
                          "'cosine_with_restarts', 'polynomial', 'constant', 'constant_with_warmup', "
                          "'inverse_sqrt', 'reduce_lr_on_plateau' … (12 in all)."),
    ("logging_strategy", "logging_strategy is empty (null), and it takes no empty value: its default is 'steps'. To "
                         "fix: remove the line to use the default ('steps'), or pick one of 'no', 'steps', 'epoch'."),
    ("learning_rate", "learning_rate is empty (null), and it takes no empty value: its default is 5e-5. To fix: "
                      "remove the line to use the default (5e-5), or write a number."),
    ("bf16", "bf16 is empty (null), and it takes no empty value: its default is false. To fix: remove the line to "
             "use the default (false), or write true or false."),
])
def test_null_field_said_at_its_field(runs_dir: Path, key: str, message: str) -> None:
    config = default_config()
    config.training[key] = None
    problems = said(config)
    assert problems[f"training.{key}"] == message
    assert "training" not in problems  # not TrainingArguments' "None is not a valid …"


def test_null_optim_and_a_field_that_takes_none(runs_dir: Path) -> None:
    config = default_config()
    config.training.update(optim=None, save_total_limit=None, eval_steps=None)  # the last two take None
    problems = said(config)
    assert problems["training.optim"].startswith("optim is empty (null), and it takes no empty value: its default is "
                                                 "'adamw_torch_fused'. To fix: remove the line to use the default "
                                                 "('adamw_torch_fused'), or pick one of 'adamw_torch', ")
    assert problems["training.optim"].endswith(" … (41 in all).")
    assert "training.save_total_limit" not in problems and "training.eval_steps" not in problems


def test_cli_validate_refuses_null_strategy(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    path.write_text(path.read_text().replace("  eval_strategy: epoch", "  eval_strategy: null"))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "problem: training.eval_strategy: eval_strategy is empty (null), and it takes no empty value: its default is "
        "'no'. To fix: remove the line to use the default ('no'), or pick one of 'no', 'steps', 'epoch'."]


# ---- 2. a decimal comma

@pytest.mark.parametrize(("text", "integer", "fix"), [
    ("0,001", False, "a comma cannot mark the decimals here. To fix: write 0.001, with a decimal point."),
    ("-0,500", False, "a comma cannot mark the decimals here. To fix: write -0.500, with a decimal point."),
    ("0,001", True, "a comma cannot mark the decimals, and this field takes whole numbers only. To fix: write one, "
                    "such as 1."),
    ("1,5", False, "a comma cannot mark the decimals here. To fix: write 1.5, with a decimal point."),
    ("1,000", False, "a comma cannot group the digits nor mark the decimals here. To fix: write 1000, or 1.000 if the "
                     "comma marks the decimals."),
    ("1,000", True, "a comma cannot group the digits here. To fix: write 1000."),
    ("1,000,000", False, "a comma cannot group the digits here. To fix: write 1000000."),
])
def test_comma_fix_offers_only_readings_that_are_numbers(text: str, integer: bool, fix: str) -> None:
    assert comma_fix(text, integer) == fix


def test_validate_says_decimal_only_for_leading_zero(runs_dir: Path) -> None:
    config = default_config()
    config.training["learning_rate"] = "0,001"
    assert said(config)["training.learning_rate"] == (
        "learning_rate must be a number (got '0,001'). A comma cannot mark the decimals here. To fix: write 0.001, "
        "with a decimal point.")


# ---- 3. a run name of spaces

def test_blank_name_refused_empty_name_generated(runs_dir: Path) -> None:
    config = default_config()
    config.name = "   "
    assert said(config)["name"] == (
        "The run name '   ' is only blank space; it would name the run's folder with it, where an empty name gets "
        "one generated from the model and dataset. To fix: write a name of letters, digits, - and _, or leave it "
        "empty (name: '') to have one generated.")
    config.name = ""
    assert "name" not in said(config)


# ---- 4. a runs folder that cannot be made

@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_runs_dir_under_proc_refused(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    config = default_config()
    config.runs_dir = "/proc/runs"
    assert said(config, check_files=True)["runs_dir"] == (
        "Runs folder unusable: /proc/runs is under /proc, which the system fills with its own entries: no folder can "
        "be made there. To fix: pick a folder you can write to, such as one in your home folder.")
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(path), "--runs-dir", "/proc/runs"]) == 2
    assert "problem: runs_dir: Runs folder unusable: /proc/runs is under /proc" in capsys.readouterr().out


def test_runs_dir_on_read_only_filesystem(tmp_path: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.statvfs

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda path: ReadOnly() if str(path) == str(tmp_path) else real(path))
    config = default_config()
    config.runs_dir = str(tmp_path / "runs" / "here")
    assert said(config, check_files=True)["runs_dir"] == (
        f"Runs folder unusable: {tmp_path} is on a read-only filesystem, so {tmp_path / 'runs' / 'here'} cannot be "
        "written. To fix: pick a folder on a filesystem you can write to.")


def test_runs_dir_probe_failure_said_and_nothing_left(tmp_path: Path, runs_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    config = default_config()
    config.runs_dir = str(tmp_path / "new" / "runs")
    assert "runs_dir" not in said(config, check_files=True)
    assert list(tmp_path.iterdir()) == []  # the folder made to try is removed; the runs folder is not made

    import tempfile

    def refuse(**kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    monkeypatch.setattr(validation, "_MADE_IN", set())  # the first call's probe is remembered (6a98a01)
    assert said(config, check_files=True)["runs_dir"] == (
        f"Runs folder unusable: {tmp_path / 'new' / 'runs'} cannot be made: making a folder in {tmp_path} failed "
        "(Operation not permitted). To fix: pick a folder you can write to.")


# ---- 5. batch sizes and learning rates no run survives

def test_huge_batch_size_refused_not_rewritten(runs_dir: Path) -> None:
    config = default_config()
    config.training.update(per_device_train_batch_size=1e20, per_device_eval_batch_size=10**9)
    problems = said(config)
    assert problems["training.per_device_train_batch_size"] == (
        "per_device_train_batch_size 1e20 is far more rows than one device takes at once: it is the rows each GPU "
        "(or the CPU) works on in one step, each up to max_length tokens long, and past 1,000,000 no device's memory "
        "holds them (1 to 64 is usual). To fix: set it to the rows one device can take, such as 8, and raise "
        "gradient_accumulation_steps for a larger batch per optimizer step.")
    assert problems["training.per_device_eval_batch_size"].startswith(
        "per_device_eval_batch_size 1000000000 is far more rows than one device takes at once:")
    assert problems["training.per_device_eval_batch_size"].endswith("such as 8.")
    config.training.update(per_device_train_batch_size=1_000_000, per_device_eval_batch_size=8)
    assert "training.per_device_train_batch_size" not in said(config)


def test_huge_learning_rate_refused(runs_dir: Path) -> None:
    config = default_config()
    config.training["learning_rate"] = 1e26
    assert said(config)["training.learning_rate"] == (
        "learning_rate 1e26 is far too large: Adam (the default optimizer) moves each weight by about learning_rate "
        "at every step, and a model's weights are mostly well below 1, so the first step wrecks the model and the "
        "loss turns to NaN. Fine-tuning uses about 1e-5 to 1e-3; optimizers that set their own step size take 1, so "
        "up to 10 is accepted with a warning. To fix: set learning_rate to 1e-5 to 1e-3 (the seed uses 2e-5).")
    assert not [p for p in warnings_for(config) if p.field == "training.learning_rate"]  # said once, as an error
    config.training["learning_rate"] = 200000  # 2e5 in a file: the minus sign left out
    assert "If you meant 2e-5, write its minus sign: 2e5 is 200000." in said(config)["training.learning_rate"]
    config.training["learning_rate"] = 10**400  # 1e400 in a file
    assert said(config)["training.learning_rate"].startswith("learning_rate 1e400 is far too large:")
    config.training["learning_rate"] = 5
    assert "training.learning_rate" not in said(config)
    assert [p.message for p in warnings_for(config) if p.field == "training.learning_rate"] == [
        "learning_rate 5 is unusually large: fine-tuning uses about 1e-5 to 1e-3, and above 1 the loss almost always "
        "diverges. The seed uses 2e-5."]
