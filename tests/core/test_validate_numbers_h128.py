"""validate writes numbers as people write them (1e308, not Python's 1e+308), and a number typed with a decimal
comma gets the window's fix (core.config.comma_fix), not only "must be a number"."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import comma_fix, default_config, number_text
from finetune_studio.core.validation import validate


def test_number_text_writes_numbers_as_people_do() -> None:
    assert [number_text(v) for v in (1e308, 2e-05, 3.0, 0.01, 1.2345678, -1e6, 5, 1e20, 2.5e-07)] == [
        "1e308", "2e-5", "3", "0.01", "1.2345678", "-1000000", "5", "1e20", "2.5e-7"]
    # 1e308 in a file or --set is the whole number 10**308 (core.config._construct_exponent): said as written
    assert [number_text(v) for v in (10**308, -(10**18), 123 * 10**18, 10**15 + 1, 1000)] == [
        "1e308", "-1e18", "1.23e20", "1000000000000001", "1000"]


def test_large_learning_rate_warning_says_1e308(tmp_path: Path, runs_dir: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(path), "--set", "learning_rate=1e308"]) == 2  # past 10: refused (helper-166)
    assert capsys.readouterr().out.splitlines() == [
        "problem: training.learning_rate: learning_rate 1e308 is far too large: Adam (the default optimizer) moves "
        "each weight by about learning_rate at every step, and a model's weights are mostly well below 1, so the "
        "first step wrecks the model and the loss turns to NaN. Fine-tuning uses about 1e-5 to 1e-3; optimizers that "
        "set their own step size take 1, so up to 10 is accepted with a warning. To fix: set learning_rate to 1e-5 to "
        "1e-3 (the seed uses 2e-5)."]


def test_a_range_problem_keeps_every_digit(runs_dir: Path) -> None:
    config = default_config()
    config.training.update(weight_decay=-1.2345678, learning_rate=-1e-300)
    said = {p.field: p.message for p in validate(config, check_files=False)}
    assert said["training.weight_decay"].startswith("weight_decay must be 0 or more (got -1.2345678);")
    assert said["training.learning_rate"].startswith("learning_rate must be above 0 (got -1e-300);")


def test_decimal_comma_says_what_to_write(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    path.write_text(path.read_text().replace("learning_rate: 2.0e-05", "learning_rate: 1,5e-4"))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "problem: training.learning_rate: learning_rate must be a number (got '1,5e-4'). A comma cannot mark the "
        "decimals here. To fix: write 1.5e-4, with a decimal point."]
    assert main(["validate", str(path), "--set", "per_device_train_batch_size=1,000", "--set",
                 "learning_rate=2e-5"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "problem: training.per_device_train_batch_size: per_device_train_batch_size must be a whole number (got "
        "'1,000'). A comma cannot group the digits here. To fix: write 1000."]


def test_comma_in_dataset_numbers(runs_dir: Path) -> None:
    config = default_config()
    config.dataset.max_length, config.dataset.test_size = "1,024", "0,1"
    said = {p.field: p.message for p in validate(config, check_files=False)}
    assert said["dataset.max_length"] == ("max_length must be a whole number above 0 (got '1,024'); the seed uses "
                                          "512. A comma cannot group the digits here. To fix: write 1024.")
    assert said["dataset.test_size"] == ("test_size must be a fraction from 0 to below 1 (got '0,1'); the seed holds "
                                         "out 0.1. A comma cannot mark the decimals here. To fix: write 0.1, with a "
                                         "decimal point.")


def test_comma_fix_is_the_window_rule() -> None:
    """The cases gui.forms.common._comma_fix covers, word for word."""
    assert comma_fix("1,5e-4") == "a comma cannot mark the decimals here. To fix: write 1.5e-4, with a decimal point."
    assert comma_fix(",5") == "a comma cannot mark the decimals here. To fix: write 0.5, with a decimal point."
    assert comma_fix("8,", integer=True) == "a comma is no part of a number. To fix: write 8."
    assert comma_fix("1,000") == ("a comma cannot group the digits nor mark the decimals here. To fix: write 1000, or "
                                  "1.000 if the comma marks the decimals.")
    assert comma_fix("2,5", integer=True) == ("a comma cannot mark the decimals, and this field takes whole numbers "
                                              "only. To fix: write one, such as 2.")
    assert comma_fix("1.5") is None and comma_fix("a,b") is None and comma_fix("1,2,3") is None
