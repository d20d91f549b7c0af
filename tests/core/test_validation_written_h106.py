"""validate's messages show a value as the config file writes it, not in Python's form (helper-106): launch.devices
said "got ['cpu']" (a file writes [cpu]), test_size "got nan"/"got inf" (a file writes .nan/.inf), and a number too
large for a float (logging_steps: 1e400, which YAML reads as infinity) "(got infinity)" with no word of why. A float
written with an exponent and a decimal point (seed: 1.0e3) is shown as the number YAML read, 1000.0: validate gets
values, not the file's text (core.validation.written_value says so). Each fix the message gives is followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.validation import validate, written_value

TOO_LARGE = ("but the value is too large: it reads as infinity (a number past about 1.8e308, such as 1e400, overflows "
             "to infinity, as .inf is).")


@pytest.fixture(autouse=True)
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def _validate(capsys: pytest.CaptureFixture[str], *settings: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    args = ["validate"]
    for setting in settings:
        args += ["--set", setting]
    code = main(args)
    return code, [line for line in capsys.readouterr().out.splitlines() if line.startswith("problem: ")]


def test_devices_cpu_is_shown_as_written_and_says_how_to_train_on_the_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(capsys, "launch.devices=[cpu]") == (2, [
        "problem: launch.devices: launch.devices must be a list of GPU numbers (like [0, 1]); got [cpu]. cpu is not a "
        "GPU number: to train on the CPU, leave devices empty and set use_cpu: true in the training section. To fix: "
        "tick GPUs in the Hardware panel, or write them as a list, e.g. devices: [0, 1] (empty: the first GPU, or the "
        "CPU)."])
    assert _validate(capsys, "launch.devices=[]", "training.use_cpu=true") == (0, [])  # the fix


def test_a_number_too_large_for_a_float_says_it_overflowed(capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(capsys, "logging_steps=1e400", "max_steps=1e400") == (2, [
        f"problem: training.logging_steps: logging_steps must be a finite number, {TOO_LARGE[:-1]}. To fix: write a "
        "number below 1e308, or remove logging_steps to use the default.",
        f"problem: training.max_steps: max_steps must be a whole number, {TOO_LARGE} To fix: write a whole number, or "
        "remove max_steps to use the default."])
    assert _validate(capsys, "logging_steps=10", "max_steps=20") == (0, [])  # the fix


def test_a_whole_number_field_past_infinity_says_it_overflowed() -> None:
    config = default_config()
    config.launch.processes = float("inf")
    found = [p.message for p in validate(config, check_files=False) if p.field == "launch.processes"]
    assert found == [f"processes must be a whole number, {TOO_LARGE} To fix: set processes to a whole number, 1 or "
                     "more (1: one process, the usual run)."]


def test_nan_and_infinity_are_said_in_words_not_as_python_writes_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert (written_value(float("nan")), written_value(float("inf")), written_value(float("-inf"))) == (
        "NaN", "infinity", "minus infinity")
    assert written_value(["cpu", True, None]) == "[cpu, true, null]"
    fix = " To fix: set test_size to a fraction such as 0.1, or 0 to hold out none."
    assert _validate(capsys, "dataset.test_size=.nan") == (2, [
        f"problem: dataset.test_size: test_size must be a fraction from 0 to below 1 (got NaN); the seed holds out "
        f"0.1.{fix}"])


def test_a_float_from_an_exponent_is_shown_as_yaml_read_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(capsys, "seed=1.0e3") == (2, [
        "problem: training.seed: seed must be a whole number (got 1000.0). To fix: write 1000, without a decimal "
        "point."])
    assert _validate(capsys, "seed=1000") == (0, [])


def test_a_repo_id_that_is_not_text_is_shown_as_written() -> None:
    config = default_config()
    config.hub.repo_id = ["me", "model"]
    found = [p.message for p in validate(config, check_files=False) if p.field == "hub.repo_id"]
    assert found == ["repo_id must look like owner/name (got [me, model]). To fix: write it as your Hub user or "
                     "organization, a slash and a name, e.g. me/my-model."]
