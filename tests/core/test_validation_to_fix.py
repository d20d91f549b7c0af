"""Every refusal of validate() for a value says the value as written and what to do next ("To fix: …"), so the
Problems list tells the user the next step. It said only "trust_remote_code must be true or false." for
`trust_remote_code: no` (the YAML loader keeps yes/no as text), "processes must be a whole number (got True)." (not
as written) and "r (the adapter rank) must be a whole number above 0 (got 0); 8 to 64 is usual." (no fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import from_yaml
from finetune_studio.core.validation import validate
from tests.helpers import said

BOOL_TEXT = "To fix: write true or false (yes, no, on and off are read as text)."



@pytest.mark.parametrize("yaml_text, field, message", [
    ("model:\n  trust_remote_code: no\n", "model.trust_remote_code",
     f"trust_remote_code must be true or false (got 'no'). {BOOL_TEXT}"),
    ("model:\n  trust_remote_code: maybe\n", "model.trust_remote_code",
     f"trust_remote_code must be true or false (got 'maybe'). {BOOL_TEXT}"),
    ("model:\n  trust_remote_code: 'true'\n", "model.trust_remote_code",
     "trust_remote_code must be true or false (got 'true'). To fix: write true without quotes."),
    ("model:\n  trust_remote_code: 1\n", "model.trust_remote_code",
     "trust_remote_code must be true or false (got 1). To fix: write true or false."),
    ("dataset:\n  truncation: yes\n", "dataset.truncation",
     f"truncation must be true or false (got 'yes'). {BOOL_TEXT}"),
    ("training:\n  bf16: off\n", "training.bf16", f"bf16 must be true or false (got 'off'). {BOOL_TEXT}"),
    ("adapter:\n  method: lora\n  rslora: on\n", "adapter.rslora",
     f"rslora must be true or false (got 'on'). {BOOL_TEXT}"),
], ids=["trust-no", "trust-maybe", "trust-quoted-true", "trust-1", "truncation-yes", "bf16-off", "rslora-on"])
def test_true_or_false_settings_say_the_value_and_how_to_write_it(yaml_text: str, field: str, message: str) -> None:
    assert said(yaml_text, field) == [message]


PROCESSES = "To fix: set processes to a whole number, 1 or more (1: one process, the usual run)."


@pytest.mark.parametrize("yaml_text, field, message", [
    ("launch:\n  processes: '2'\n", "launch.processes",
     "processes must be a whole number (got '2'). To fix: write 2 without quotes."),
    ("launch:\n  processes: true\n", "launch.processes", f"processes must be a whole number (got true). {PROCESSES}"),
    ("launch:\n  processes: 2.5\n", "launch.processes", f"processes must be a whole number (got 2.5). {PROCESSES}"),
    ("launch:\n  processes: .nan\n", "launch.processes", f"processes must be a whole number (got NaN). {PROCESSES}"),
    ("launch:\n  processes: 0\n", "launch.processes",
     "processes is 0; it must be 1 or more (1: one process, the usual run). To fix: set processes to 1 or more."),
    ("launch:\n  nodes: 2.0\n", "launch.nodes",
     "nodes must be a whole number written without a decimal point: 2, not 2.0. To fix: write 2."),
    ("launch:\n  node_rank: first\n", "launch.node_rank",
     "node_rank must be a whole number (got 'first'). To fix: set node_rank to a whole number, 0 or more (0: the "
     "first machine)."),
    ("dataset:\n  max_length: '512'\n", "dataset.max_length",
     "max_length must be a whole number above 0 (got '512'); the seed uses 512. To fix: write 512 without quotes."),
    ("dataset:\n  max_length: 512.0\n", "dataset.max_length",
     "max_length must be a whole number written without a decimal point: 512, not 512.0. To fix: write 512."),
    ("dataset:\n  max_length: 0\n", "dataset.max_length",
     "max_length must be a whole number above 0 (got 0); the seed uses 512. To fix: set max_length to the model's "
     "context length or less, such as 512."),
    ("training:\n  max_steps: 100.0\n", "training.max_steps",
     "max_steps must be a whole number (got 100.0). To fix: write 100, without a decimal point."),
    ("training:\n  max_steps: '100'\n", "training.max_steps",
     "max_steps must be a whole number (got '100'). To fix: write 100 without quotes."),
    ("training:\n  num_train_epochs: three\n", "training.num_train_epochs",
     "num_train_epochs must be a number (got 'three'). To fix: write a number, or remove num_train_epochs to use "
     "the default."),
    ("training:\n  per_device_train_batch_size: 0\n", "training.per_device_train_batch_size",
     "per_device_train_batch_size must be at least 1 (got 0). To fix: set per_device_train_batch_size to 1 or more."),
    ("training:\n  logging_steps: 0\n", "training.logging_steps",
     "logging_steps must be above 0 (got 0). To fix: set logging_steps to a number of steps such as 10 (the seed's), "
     "or below 1 a fraction of the run's steps."),
    ("training:\n  eval_strategy: epok\n", "training.eval_strategy",
     "eval_strategy 'epok' is not a strategy. Did you mean 'epoch'? To fix: write epoch (the choices: no, steps, "
     "epoch)."),
    ("dataset:\n  batching: Packed\n", "dataset.batching",
     "batching 'Packed' is not a way to batch rows. Did you mean 'packed'? To fix: write packed (the choices: padded, "
     "group_by_length, padding_free, packed)."),
    ("training:\n  seed: -1\n", "training.seed",
     "seed must be a whole number from 0 to 4,294,967,295 (got -1). To fix: set seed to a number in that range; the "
     "seed uses 42."),
], ids=["processes-quoted", "processes-true", "processes-fraction", "processes-nan", "processes-0", "nodes-2.0",
        "node-rank-text", "max-length-quoted", "max-length-512.0", "max-length-0", "max-steps-100.0",
        "max-steps-quoted", "epochs-text", "batch-0", "logging-steps-0", "eval-strategy-typo", "batching-case",
        "seed-negative"])
def test_numbers_and_choices_say_the_value_and_the_fix(yaml_text: str, field: str, message: str) -> None:
    assert said(yaml_text, field) == [message]


LORA = "adapter:\n  method: lora\n"


@pytest.mark.parametrize("yaml_text, field, message", [
    (LORA + "  r: 0\n", "adapter.r",
     "r (the adapter rank) must be a whole number above 0 (got 0); 8 to 64 is usual. To fix: set r to a whole number "
     "such as 16."),
    (LORA + "  r: true\n", "adapter.r",
     "r (the adapter rank) must be a whole number above 0 (got true); 8 to 64 is usual. To fix: set r to a whole "
     "number such as 16."),
    (LORA + "  r: 8\n  alpha: -1\n", "adapter.alpha",
     "alpha must be a number above 0 (got -1); twice r is usual. To fix: set alpha to 16."),
    (LORA + "  dropout: 1\n", "adapter.dropout",
     "dropout must be from 0 up to (not including) 1 (got 1); 0.05 is usual. To fix: set dropout to 0.05, or 0 for "
     "none."),
    (LORA + "  target_modules: []\n", "adapter.target_modules",
     "target_modules is empty: an adapter needs at least one module to go on. To fix: list the modules, e.g. "
     "[q_proj, v_proj], or write [all-linear]."),
    (LORA + "  target_modules: [all-linear, q_proj]\n", "adapter.target_modules",
     "all-linear already covers every linear layer (got [all-linear, q_proj]). To fix: use all-linear alone, or "
     "list the modules without it."),
    (LORA + "  target_modules: {q_proj: 1}\n", "adapter.target_modules",
     "target_modules must be a list of module names, e.g. [q_proj, v_proj], or [all-linear] (got {q_proj: 1}). "
     "To fix: write a list of names, such as [q_proj, v_proj]."),
    (LORA + "  compute_dtype: BF16\n", "adapter.compute_dtype",
     "compute_dtype 'BF16' is not a compute precision. Did you mean 'bf16'? To fix: write bf16 (the choices: auto, "
     "bf16, fp16)."),
    ("adapter:\n  method: prefix\n", "adapter.method",
     "method must be one of full, lora, qlora, dora (got 'prefix'). To fix: write lora for an adapter, or full to "
     "train every weight."),
], ids=["r-0", "r-true", "alpha-negative", "dropout-1", "targets-empty", "all-linear-and-more", "targets-mapping",
        "compute-dtype-case", "method-unknown"])
def test_adapter_checks_say_the_value_and_the_fix(yaml_text: str, field: str, message: str) -> None:
    assert said(yaml_text, field) == [message]


def test_every_refusal_of_a_config_full_of_slips_says_what_to_do() -> None:
    """One config with a slip in each section: each of its problems ends in a next step."""
    config, _notices = from_yaml(
        "name: a/b\nmodel:\n  trust_remote_code: no\n  dtype: float8\ndataset:\n  truncation: maybe\n"
        "  max_length: '512'\n  test_size: 2\n  batching: pad\n  sample_by: sentence\n"
        "adapter:\n  method: lora\n  r: 0\n  alpha: x\n  dropout: 1\n  target_modules: q_proj\n  rslora: 'true'\n"
        "  compute_dtype: bf32\nlaunch:\n  processes: 0\n  nodes: 2.0\n  join_timeout: '300'\n"
        "training:\n  num_train_epochs: three\n  bf16: yes\n  per_device_train_batch_size: 0\n  logging_steps: 0\n"
        "  eval_strategy: epok\n  adam_beta1: 1.5\n  seed: -1\n  data_seed: -1\n  learning_rate: -1\n"
        "  lr_scheduler_type: cosinus\n  max_steps: 1.5\n")
    problems = validate(config, check_files=False)
    assert len(problems) >= 25
    assert [str(p) for p in problems if "To fix: " not in p.message] == []


def test_the_cli_validate_prints_the_fix(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    path.write_text(path.read_text().replace("trust_remote_code: false", "trust_remote_code: no"))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().out.splitlines() == [
        f"problem: model.trust_remote_code: trust_remote_code must be true or false (got 'no'). {BOOL_TEXT}"]
