"""`--set` keeps text for a training field TrainingArguments declares as text: run_name=2024 was the number 2024
and output_dir=/a: b the mapping {'/a': 'b'}, which validate then refused as the wrong type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import apply_overrides, default_config


def test_set_keeps_text_for_text_training_fields() -> None:
    config, _ = apply_overrides(default_config(), ["training.run_name=2024", "training.output_dir=/a: b",
                                                   "training.hub_model_id=true", "training.learning_rate=3e-5"])
    assert config.training["run_name"] == "2024"
    assert config.training["output_dir"] == "/a: b"
    assert config.training["hub_model_id"] == "true"
    assert config.training["learning_rate"] == 3e-5
    assert type(config.training["learning_rate"]) is float  # a number field still takes YAML's number


def test_bare_key_null_and_flag_forms() -> None:
    config, _ = apply_overrides(default_config(), ["run_name=1e2", "training.fsdp=true",
                                                   "training.logging_steps=7"])
    assert config.training["run_name"] == "1e2"  # a bare key is a training field, text for a text field
    assert config.training["fsdp"] is True  # fsdp takes a bare true as its flag form, not the text "true"
    assert config.training["logging_steps"] == 7
    assert apply_overrides(default_config(), ["training.run_name=null"])[0].training["run_name"] is None


def test_cli_validate_takes_a_numeric_run_name(runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", "--set", "training.run_name=2024"]) == 0
    assert "ok: the config is valid." in capsys.readouterr().out


def test_loading_yaml_does_not_import_transformers(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("training:\n  run_name: 2024\n  learning_rate: 3.0e-5\n", encoding="utf-8")
    code = ("import sys; from finetune_studio.core.config import load_config; "
            f"load_config({str(path)!r}); print('transformers' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(("written", "read"), [("2024", "2024"), ("1e2", "100")])
def test_a_yaml_number_for_a_text_training_field_says_to_quote_it(tmp_path: Path, runs_dir: Path, written: str,
                                                                  read: str, capsys: pytest.CaptureFixture) -> None:
    """A YAML file's training values stay as YAML read them (no transformers at load), so validate says how."""
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    path.write_text(path.read_text().replace("training:\n", f"training:\n  run_name: {written}\n", 1))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    assert (f"problem: training.run_name: run_name must be text (got {read}). To fix: put the value in quotes as you "
            f'mean it (run_name: "…"), so YAML reads it as text.') in capsys.readouterr().out


@pytest.mark.parametrize(("line", "said"), [
    ("run_name: 2024-01-01", "run_name must be text (got 2024-01-01). " + "{fix}"),
    ("run_name: true", "run_name must be text (got true). {fix}"),
    ("report_to: 5", "report_to must be text or a list of texts (got 5). {fix}"),
    ("optim: 1", "optim must be text (got 1). {fix}"),
    ("hub_model_id: true", "hub_model_id must be text (got true)."),  # refused anyway: quoting would not help
])
def test_the_refusal_shows_the_value_as_written_and_the_quote_fix_where_it_helps(
        tmp_path: Path, runs_dir: Path, line: str, said: str, capsys: pytest.CaptureFixture) -> None:
    """helper-79: a date showed as datetime.date(2024, 1, 1) and got no fix, optim said 'OptimizerNames or text',
    report_to (text or a list) got no fix, and hub_model_id: true was told to quote a value refused whatever it is."""
    key = line.split(":")[0]
    fix = f'To fix: put the value in quotes as you mean it ({key}: "…"), so YAML reads it as text.'
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    path.write_text(path.read_text().replace("training:\n", f"training:\n  {line}\n", 1))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    problems = [row for row in capsys.readouterr().out.splitlines() if row.startswith(f"problem: training.{key}: ")]
    assert problems[0] == f"problem: training.{key}: " + said.format(fix=fix)


def test_set_keeps_text_for_a_field_that_takes_text_among_other_types() -> None:
    """report_to is `None | str | list[str]`: `--set report_to=5` stayed the number 5 and was refused with 'put the
    value in quotes', which a shell undoes (--set report_to="5" reaches the app as report_to=5)."""
    config, _ = apply_overrides(default_config(), ["training.report_to=5", "optim=1", "training.debug=12:30",
                                                   "include_num_input_tokens_seen=true", "training.fsdp=true"])
    assert config.training["report_to"] == "5"
    assert config.training["optim"] == "1"  # OptimizerNames | str
    assert config.training["debug"] == "12:30"  # str | list[DebugOption], not 750
    assert config.training["include_num_input_tokens_seen"] is True  # str | bool: true is one of its own values
    assert config.training["fsdp"] is True  # its bare flag form
    listed, _ = apply_overrides(default_config(), ["report_to=[wandb, tensorboard]"])
    assert listed.training["report_to"] == ["wandb", "tensorboard"]  # a list it takes stays a list


def test_no_set_value_of_a_text_field_is_refused_as_the_wrong_type() -> None:
    """Whatever YAML makes of a --set value (a number, true, a date, a time), a training field that takes text gets
    the text typed or a value of its own type, so no --set ends with a quote fix that a shell would undo."""
    from finetune_studio.core.validation import _accepts, _takes_text, flag_value, training_fields

    for name, declared in training_fields().items():
        if not _takes_text(declared.type):
            continue
        for typed in ("5", "true", "2024-01-01", "12:30", "1e2"):
            value = apply_overrides(default_config(), [f"training.{name}={typed}"])[0].training.get(name)
            assert value == typed or _accepts(declared.type, value) or flag_value(declared, value), (name, typed)


def test_cli_set_report_to_a_number_is_judged_as_the_text_typed(runs_dir: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", "--set", "training.report_to=5"]) == 2
    out = capsys.readouterr().out
    assert "report_to '5' is not an integration transformers knows. To fix: write one of none, all, " in out
    assert "must be text" not in out and "quotes" not in out
    assert main(["validate", "--set", "report_to=none", "--set", "training.optim=adamw_torch"]) == 0
    assert "ok: the config is valid." in capsys.readouterr().out


@pytest.mark.parametrize("line", ["accelerator_config: 0", "lr_scheduler_kwargs: 5", "deepspeed: true"])
def test_a_number_for_a_mapping_or_text_field_is_refused(tmp_path: Path, runs_dir: Path, line: str,
                                                         capsys: pytest.CaptureFixture) -> None:
    """A bare `dict | str` annotation took any value: accelerator_config: 0 passed validate, and TrainingArguments
    opened file descriptor 0 and read its settings from standard input."""
    key, _, value = line.partition(": ")
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    path.write_text(path.read_text().replace("training:\n", f"training:\n  {line}\n", 1))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().out.splitlines() == [
        f'problem: training.{key}: {key} must be dict or text (got {value}). To fix: put the value in quotes as you '
        f'mean it ({key}: "…"), so YAML reads it as text.']


def test_a_missing_file_a_training_setting_names_is_a_problem_not_a_crash(tmp_path: Path, runs_dir: Path,
                                                                         capsys: pytest.CaptureFixture) -> None:
    """accelerator_config=missing.json ended validate with 'error: Training failed: FileNotFoundError' (exit 1)."""
    missing = tmp_path / "missing.json"
    assert main(["validate", "--set", f"accelerator_config={missing}"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        f"problem: training: TrainingArguments cannot read {missing}: No such file or directory. To fix: give "
        "accelerator_config the path of an existing JSON file, or remove it."]
