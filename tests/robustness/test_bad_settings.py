"""Bad settings and config files: every one is a Problem with a field and a sentence from validate() (so the form
can mark it), a ConfigError from run() before anything is written, and exit code 2 with one line per problem from
the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import load_config, save_config
from finetune_studio.core.errors import ConfigError
from finetune_studio.core.hardware import detect
from finetune_studio.core.training import run
from finetune_studio.core.validation import validate
from tests.helpers import small_config
from tests.robustness.faults import Snapshot

ON_CPU = detect().device == "cpu"


def configure(config: Any, settings: dict[str, Any]) -> Any:
    for key, value in settings.items():
        section, _, name = key.partition(".")
        if section == "training":
            config.training[name] = value
        elif name:
            setattr(getattr(config, section), name, value)
        else:
            setattr(config, section, value)
    return config


# the "To fix: …" some messages end with
LR_FIX = " To fix: set learning_rate above 0 (1e-5 to 1e-3 is usual for fine-tuning)."
LENGTH_FIX = " To fix: set max_length to the model's context length or less, such as 512."
TEST_SIZE_FIX = " To fix: set test_size to a fraction such as 0.1, or 0 to hold out none."
FINITE_FIX = " To fix: write a number, or remove {} to use the default."
TOO_LARGE = (", but the value is too large: it reads as infinity (a number past about 1.8e308, such as 1e400, "
             "overflows to infinity, as .inf is)")
TOO_FAR_BELOW = (", but the value is too far below zero: it reads as minus infinity (a number below about -1.8e308, "
                 "such as -1e400, overflows to minus infinity, as -.inf is)")

# id, settings (dotted), the field marked, the message (exact unless it ends with "…")
SETTINGS = [
    ("negative-lr", {"training.learning_rate": -1e-4}, "training.learning_rate",
     "learning_rate must be above 0 (got -0.0001); the seed uses 2e-5." + LR_FIX),
    ("zero-lr", {"training.learning_rate": 0}, "training.learning_rate",
     "learning_rate must be above 0 (got 0); the seed uses 2e-5." + LR_FIX),
    ("text-lr", {"training.learning_rate": "fast"}, "training.learning_rate",
     "learning_rate must be a number (got 'fast'). To fix: write a number, or remove learning_rate to use the "
     "default."),
    ("batch-0", {"training.per_device_train_batch_size": 0}, "training.per_device_train_batch_size",
     "per_device_train_batch_size must be at least 1 (got 0). To fix: set per_device_train_batch_size to 1 or "
     "more."),
    ("eval-batch-0", {"training.per_device_eval_batch_size": 0}, "training.per_device_eval_batch_size",
     "per_device_eval_batch_size must be at least 1 (got 0). To fix: set per_device_eval_batch_size to 1 or more."),
    ("accumulation-0", {"training.gradient_accumulation_steps": 0}, "training.gradient_accumulation_steps",
     "gradient_accumulation_steps must be at least 1 (got 0). To fix: set gradient_accumulation_steps to 1 or "
     "more."),
    ("max-length-0", {"dataset.max_length": 0}, "dataset.max_length",
     "max_length must be a whole number above 0 (got 0); the seed uses 512." + LENGTH_FIX),
    ("max-length-negative", {"dataset.max_length": -5}, "dataset.max_length",
     "max_length must be a whole number above 0 (got -5); the seed uses 512." + LENGTH_FIX),
    ("max-length-text", {"dataset.max_length": "long"}, "dataset.max_length",
     "max_length must be a whole number above 0 (got 'long'); the seed uses 512." + LENGTH_FIX),
    ("test-size-0-with-eval", {"dataset.test_size": 0}, "dataset.test_size",
     "eval_strategy is 'steps' but test_size is 0, so there is nothing to evaluate on. To fix: hold out a "
     "fraction (test_size 0.1), or set eval_strategy to 'no'."),
    ("test-size-1", {"dataset.test_size": 1}, "dataset.test_size",
     "test_size must be a fraction from 0 to below 1 (got 1); the seed holds out 0.1." + TEST_SIZE_FIX),
    ("test-size-1.5", {"dataset.test_size": 1.5}, "dataset.test_size",
     "test_size must be a fraction from 0 to below 1 (got 1.5); the seed holds out 0.1." + TEST_SIZE_FIX),
    ("test-size-negative", {"dataset.test_size": -0.1}, "dataset.test_size",
     "test_size must be a fraction from 0 to below 1 (got -0.1); the seed holds out 0.1." + TEST_SIZE_FIX),
    ("epochs-0", {"training.num_train_epochs": 0, "training.max_steps": -1}, "training.num_train_epochs",
     "num_train_epochs must be above 0 (got 0) unless max_steps is set. To fix: set num_train_epochs to the passes "
     "over the data, such as 3 (the seed's), or set max_steps to the steps to train."),
    ("epochs-abc", {"training.num_train_epochs": "abc"}, "training.num_train_epochs",
     "num_train_epochs must be a number (got 'abc'). To fix: write a number, or remove num_train_epochs to use the "
     "default."),
    ("logging-steps-0", {"training.logging_steps": 0}, "training.logging_steps",
     "logging_steps must be above 0 (got 0). To fix: set logging_steps to a number of steps such as 10 (the seed's), "
     "or below 1 a fraction of the run's steps."),
    ("unknown-strategy", {"training.eval_strategy": "sometimes", "training.load_best_model_at_end": False},
     "training.eval_strategy", "eval_strategy 'sometimes' is not a strategy. To fix: write one of no, steps, "
                               "epoch."),
    ("load-best-without-eval", {"training.eval_strategy": "no"}, "training.load_best_model_at_end",
     "load_best_model_at_end needs evaluation, and eval_strategy is 'no'. To fix: set eval_strategy to 'epoch' or "
     "'steps', or turn load_best_model_at_end off."),
    ("load-best-mismatched-strategies", {"training.save_strategy": "epoch"}, "training.save_strategy",
     "load_best_model_at_end needs save_strategy to match eval_strategy ('steps'), but it is 'epoch'. To fix: set "
     "save_strategy to 'steps' (or 'best')."),
    ("load-best-save-steps-not-multiple", {"training.save_steps": 5, "training.eval_steps": 3},
     "training.save_steps", "load_best_model_at_end needs save_steps (5) to be a multiple of eval_steps (3). To fix: "
                            "set save_steps to 6, or another multiple of 3."),
    ("unknown-training-key", {"training.learning_rat": 1e-4}, "training.learning_rat",
     "'learning_rat' is not a TrainingArguments setting. Did you mean 'learning_rate'? To fix: rename it to "
     "learning_rate."),
    ("rejected-by-training-arguments", {"training.dataloader_prefetch_factor": 2}, "training",
     "TrainingArguments rejected these settings: --dataloader_prefetch_factor can only be set when data is loaded in "
     "a different process, i.e. when --dataloader_num_workers > 0. To fix: change the training settings it names, or "
     "remove them to use the defaults."),
    ("warmup-steps-negative", {"training.warmup_steps": -1}, "training.warmup_steps",
     "warmup_steps must be 0 or more (got -1); a number of steps, or below 1 a fraction of the run's steps; 0 (no "
     "warmup) is the default. To fix: set warmup_steps to a value in that range, or remove it."),
    ("unknown-batching", {"dataset.batching": "squeeze"}, "dataset.batching",
     "batching 'squeeze' is not a way to batch rows. To fix: write one of padded, group_by_length, padding_free, "
     "packed."),
    ("run-name-with-slash", {"name": "a/b"}, "name", "The run name 'a/b' cannot be used as a folder name; avoid / "
                                                     "and \\. To fix: choose a name of letters, digits, - and _."),
    ("nan-lr", {"training.learning_rate": float("nan")}, "training.learning_rate",
     "learning_rate must be a finite number (got NaN); the seed uses 2e-5." + FINITE_FIX.format("learning_rate")),
    ("inf-lr", {"training.learning_rate": float("inf")}, "training.learning_rate",
     "learning_rate must be a finite number" + TOO_LARGE + "; the seed uses 2e-5."
     + FINITE_FIX.format("learning_rate").replace("a number", "a number below 1e308")),
    ("nan-epochs", {"training.num_train_epochs": float("nan")}, "training.num_train_epochs",
     "num_train_epochs must be a finite number (got NaN)." + FINITE_FIX.format("num_train_epochs")),
    ("inf-weight-decay", {"training.weight_decay": float("inf")}, "training.weight_decay",
     "weight_decay must be a finite number" + TOO_LARGE + "."
     + FINITE_FIX.format("weight_decay").replace("a number", "a number below 1e308")),
    ("minus-inf-warmup", {"training.warmup_steps": float("-inf")}, "training.warmup_steps",
     "warmup_steps must be a finite number" + TOO_FAR_BELOW + "."
     + FINITE_FIX.format("warmup_steps").replace("a number", "a number above -1e308")),
    ("nan-test-size", {"dataset.test_size": float("nan")}, "dataset.test_size",
     "test_size must be a fraction from 0 to below 1 (got NaN); the seed holds out 0.1." + TEST_SIZE_FIX),
]
if ON_CPU:
    SETTINGS += [
        ("bf16-without-support", {"training.bf16": True}, "training.bf16",
         "bf16 needs a GPU that supports it (NVIDIA Ampere or newer), but this machine has no GPU. To fix: choose "
         "precision 'auto' or fp32."),
        ("fp16-on-cpu", {"training.fp16": True}, "training.fp16",
         "fp16 training needs a GPU, and this machine has none. To fix: choose precision 'auto' or fp32."),
    ]


def test_bf16_and_fp16_together_is_refused(small_dataset: Path, runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, bf16=True, fp16=True)
    problems = [(p.field, p.message) for p in validate(config)]
    assert problems[-1] == ("training.fp16", "bf16 and fp16 are both true. To fix: choose bf16 or fp16, not both (set "
                                             "the other to false).")
    assert len(problems) == (3 if ON_CPU else 1)  # on a CPU, neither is supported either


@pytest.mark.parametrize("settings, field, message", [s[1:] for s in SETTINGS], ids=[s[0] for s in SETTINGS])
def test_bad_setting_is_one_problem_and_run_writes_nothing(settings: dict, field: str, message: str,
                                                            small_dataset: Path, runs_dir: Path,
                                                            earlier_run: Path) -> None:
    config = configure(small_config(small_dataset, runs_dir), settings)
    saved = Snapshot(runs_dir, small_dataset)
    problems = validate(config)
    assert [(p.field, p.message) for p in problems] == [(field, message)]
    with pytest.raises(ConfigError) as info:
        run(config)
    assert info.value.problems == problems
    saved.assert_unchanged()


@pytest.fixture
def regular_file(tmp_path: Path) -> Path:
    path = tmp_path / "just-a-file"
    path.write_text("I am a file")
    return path


# id, settings built from (regular file, tmp_path), the field, the message
FOLDERS = [
    ("output-dir-under-a-file", lambda f, t: {"training.output_dir": str(f / "out")}, "training.output_dir",
     "Output folder unusable: {file} is a file, not a folder. To fix: choose a folder, or a path where one can be "
     "made."),
    ("runs-folder-is-a-file", lambda f, t: {"runs_dir": str(f)}, "runs_dir",
     "Runs folder unusable: {file} is a file, not a folder. To fix: choose a folder, or a path where one can be made."),
    ("runs-folder-under-a-file", lambda f, t: {"runs_dir": str(f / "runs")}, "runs_dir",
     "Runs folder unusable: {file} is a file, not a folder. To fix: choose a folder, or a path where one can be made."),
]


@pytest.mark.parametrize("settings, field, message", [s[1:] for s in FOLDERS], ids=[s[0] for s in FOLDERS])
def test_unusable_folder_is_named(settings: Any, field: str, message: str, regular_file: Path, tmp_path: Path,
                                  small_dataset: Path, runs_dir: Path, earlier_run: Path) -> None:
    config = configure(small_config(small_dataset, runs_dir), settings(regular_file, tmp_path))
    saved = Snapshot(runs_dir, regular_file)
    assert [(p.field, p.message) for p in validate(config)] == [(field, message.format(file=regular_file))]
    with pytest.raises(ConfigError):
        run(config)
    saved.assert_unchanged()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_read_only_output_folder_is_named(tmp_path: Path, small_dataset: Path, runs_dir: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        config = small_config(small_dataset, runs_dir, output_dir=str(locked / "out"))
        assert [str(p) for p in validate(config)] == [
            f"training.output_dir: Output folder unusable: cannot write to {locked}. To fix: pick a folder you can "
            "write to."]
    finally:
        locked.chmod(0o755)


# id, the YAML text, the message of the one error line (exact; {path} is the file)
YAML_FILES = [
    ("unknown-key", "dataset:\n  source: builtin:sample\n  text_colum: horoscope\n",
     "dataset.text_colum: 'text_colum' is not a dataset setting. Did you mean 'text_column'? To fix: "
     "rename it to text_column."),
    ("unknown-section", "trainig:\n  learning_rate: 1e-4\n",
     "trainig: 'trainig' is not a top-level setting. Did you mean 'training'? To fix: rename it "
     "to training."),
    ("syntax-error-unclosed-list", "training:\n  learning_rate: 2e-5\n  report_to: [tensorboard\n",
     "{path} is not valid YAML at line 4, column 1: expected ',' or ']', but got '<stream end>' (while parsing a "
     "flow sequence that starts at line 3, column 14). To fix: correct line 4 (or the line before it): each setting "
     "is key: value, a section's settings are indented under it with spaces, and text holding ': ', ' #' or a "
     "bracket goes in quotes."),
    ("syntax-error-tab", "model:\n\tname_or_path: builtin:demo\n",
     "{path} is not valid YAML at line 2, column 1: found character '\\t' that cannot start any token; YAML "
     "indents with spaces, not tabs. To fix: replace the tab at line 2, column 1 with spaces."),
    ("not-a-mapping", "- dataset\n- model\n",
     "{path} must be a mapping of settings (dataset, model, training, hub, adapter, chat and launch, each as key: "
     "value at the start of a line), not a list (got [dataset, model]). To fix: write the settings as key: value "
     "lines, e.g. model: {{name_or_path: builtin:demo}}, or write a new config with 'finetune-studio init NEW.yaml' "
     "and change what you need in it."),
    ("section-not-a-mapping", "training: 3\n",
     "training: training must be a mapping of TrainingArguments fields, not a number (got 3). To fix: write each as "
     "key: value on its own line, indented under training:, e.g. training: {{num_train_epochs: 3}}, or remove "
     "training to use the seed's."),
    ("empty-file", "", "Config file {path} is empty: it holds no settings. To fix: write one with "
                       "'finetune-studio init NEW.yaml' (or File → Save config in the app), or leave the file out "
                       "to train the built-in demo."),
    ("comments-only", "# to do\n", "Config file {path} is empty: it holds no settings. To fix: write one with "
                                   "'finetune-studio init NEW.yaml' (or File → Save config in the app), or leave the "
                                   "file out to train the built-in demo."),
]


@pytest.mark.parametrize("text, message", [y[1:] for y in YAML_FILES], ids=[y[0] for y in YAML_FILES])
def test_bad_config_file_exits_2_with_one_line(text: str, message: str, tmp_path: Path, runs_dir: Path,
                                               earlier_run: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    saved = Snapshot(runs_dir, path)
    expected = message.format(path=path)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == expected
    assert main(["train", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {expected}"]
    saved.assert_unchanged()


def test_wrong_type_in_a_config_file_exits_2_from_validate_and_train(tmp_path: Path, small_dataset: Path,
                                                                    runs_dir: Path, earlier_run: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    save_config(small_config(small_dataset, runs_dir), path)
    path.write_text(path.read_text().replace("num_train_epochs: 1", "num_train_epochs: abc"))
    saved = Snapshot(runs_dir, path)
    assert main(["validate", str(path)]) == 2
    said = ("training.num_train_epochs: num_train_epochs must be a number (got 'abc'). To fix: write a number, or "
            "remove num_train_epochs to use the default.")
    assert capsys.readouterr().out.splitlines() == [f"problem: {said}"]
    assert main(["train", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {said}"]
    saved.assert_unchanged()


def test_missing_and_unreadable_config_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["train", str(missing)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: Config file not found: {missing}. To fix: check the path, or write a new config there with "
        f"'finetune-studio init {missing}'."]
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    assert main(["validate", str(latin)]) == 2
    assert capsys.readouterr().err.startswith(f"error: Cannot read config file {latin}: 'utf-8' codec can't decode")


def test_cli_set_flags_report_every_problem_at_once(tmp_path: Path, runs_dir: Path, earlier_run: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    saved = Snapshot(runs_dir)
    assert main(["train", "--set", "learning_rate=0", "--set", "per_device_train_batch_size=0",
                 "--set", "dataset.test_size=1.5", "--set", "num_train_epochs=abc"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: dataset.test_size: test_size must be a fraction from 0 to below 1 (got 1.5); the seed holds out 0.1."
        + TEST_SIZE_FIX,
        "error: training.num_train_epochs: num_train_epochs must be a number (got 'abc'). To fix: write a number, or "
        "remove num_train_epochs to use the default.",
        "error: training.learning_rate: learning_rate must be above 0 (got 0); the seed uses 2e-5." + LR_FIX,
        "error: training.per_device_train_batch_size: per_device_train_batch_size must be at least 1 (got 0). To fix: "
        "set per_device_train_batch_size to 1 or more.",
    ]
    assert main(["train", "--set", "learning_rate"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --set: 'learning_rate' must look like key=value (it has no '='). To fix: give the value after '=', "
        "e.g. --set learning_rate=2.0e-05"]
    saved.assert_unchanged()


def test_a_good_run_still_works_after_the_bad_settings(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=2, eval_strategy="no", load_best_model_at_end=False,
                          save_strategy="no")
    result = run(config)
    assert (result.state, result.step) == ("finished", 2)
