"""A whole number written with an exponent (1e2, 5e3) is that int, in a config file and in --set alike (both read
YAML through core.config.yaml_load): `--set max_steps=1e2` was refused as "max_steps must be a whole number (got
100.0)". A fraction, and a number written with a decimal point, keep their messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import apply_overrides, load_config, yaml_load


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    return path


@pytest.mark.parametrize("text, value", [
    ("1e2", 100), ("5e3", 5000), ("-2E+4", -20000), ("1_0e2", 1000), ("0e5", 0), ("100e-2", 1),
    ("1e22", 10**22),  # exact, not float(1e22)'s neighbour
])
def test_a_whole_number_with_an_exponent_is_that_int(text: str, value: int) -> None:
    loaded = yaml_load(text)
    assert loaded == value and type(loaded) is int


@pytest.mark.parametrize("text, value", [
    ("2e-5", 2e-5), ("1.0e+2", 100.0), ("100.0", 100.0), ("1.5", 1.5), ("1.5e3", 1500.0), ("1e400", float("inf")),
    ("1e-400", 0.0),
])
def test_fractions_points_and_infinity_stay_floats(text: str, value: float) -> None:
    loaded = yaml_load(text)
    assert loaded == value and type(loaded) is float


def test_text_and_an_explicit_float_tag_stay_what_they_say() -> None:
    assert yaml_load('"1e2"') == "1e2"
    assert yaml_load("!!float 1e2") == 100.0 and type(yaml_load("!!float 1e2")) is float
    assert yaml_load("[1e2, 2e-5]") == [100, 2e-5]


def test_set_max_steps_1e2_is_100(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert main(["validate", "--set", "max_steps=1e2", str(config_file)]) == 0
    assert "problem" not in capsys.readouterr().out
    config, _ = apply_overrides(load_config(config_file)[0], ["max_steps=1e2", "dataset.max_length=5e2"])
    assert config.training["max_steps"] == 100 and type(config.training["max_steps"]) is int
    assert config.dataset.max_length == 500 and type(config.dataset.max_length) is int


def test_a_config_file_with_max_steps_1e2_loads_100(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace("training:\n", "training:\n  max_steps: 1e2\n  save_steps: 5e1\n", 1),
                           encoding="utf-8")
    config, _ = load_config(config_file)
    assert config.training["max_steps"] == 100 and type(config.training["max_steps"]) is int
    assert config.training["save_steps"] == 50 and type(config.training["save_steps"]) is int
    capsys.readouterr()
    assert main(["validate", str(config_file)]) == 0


@pytest.mark.parametrize("option, expected", [
    ("max_steps=1.5", "problem: training.max_steps: max_steps must be a whole number (got 1.5). To fix: write a "
                      "whole number, or remove max_steps to use the default."),
    ("max_steps=100.0", "problem: training.max_steps: max_steps must be a whole number (got 100.0). To fix: write "
                        "100, without a decimal point."),
    ("max_steps=1.0e+2", "problem: training.max_steps: max_steps must be a whole number (got 100.0). To fix: write "
                         "100, without a decimal point."),
    ("dataset.max_length=1.0e2", "problem: dataset.max_length: max_length must be a whole number written without a "
                                 "decimal point: 100, not 100.0. To fix: write 100."),
])
def test_a_fraction_or_a_decimal_point_keeps_its_message(option: str, expected: str, config_file: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert main(["validate", "--set", option, str(config_file)]) == 2
    assert capsys.readouterr().out.splitlines() == [expected]


@pytest.mark.parametrize("text", ["1e2", "2e3", "5e-3", ".5", "1_000e1", "-1E+4"])
def test_text_that_reads_as_a_number_round_trips_as_text(text: str, tmp_path: Path) -> None:
    """A run name or column named like a number was written plain and came back as that number (name '1e2' became
    '100', column '2e3' the int 2000): the file quotes every text the loader would read as a number."""
    from finetune_studio.core.config import RunConfig, save_config

    config = RunConfig()
    config.name, config.dataset.text_column = text, text
    config.training.update(learning_rate=2e-5, max_steps=100)
    save_config(config, tmp_path / "c.yaml")
    loaded, _ = load_config(tmp_path / "c.yaml")
    assert (loaded.name, loaded.dataset.text_column) == (text, text)
    assert (loaded.training["learning_rate"], loaded.training["max_steps"]) == (2e-5, 100)
    assert type(loaded.training["max_steps"]) is int
