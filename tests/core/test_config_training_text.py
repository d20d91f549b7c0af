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
