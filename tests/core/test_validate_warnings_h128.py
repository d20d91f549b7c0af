"""`finetune-studio validate` says what the window's Training tab says: max_steps above 0 ends the run, so the epochs
do not apply (a warning: the config stays valid and a run starts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import WARNING
from finetune_studio.core.validation import validate, warnings_for

MAX_STEPS_WARNING = ("warning: training.max_steps: max_steps 100 ends the run: the epochs set in num_train_epochs do "
                     "not apply. To train by epochs, remove max_steps (or set it to -1).")


def test_validate_warns_that_max_steps_ends_the_run(tmp_path: Path, runs_dir: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(path), "--set", "max_steps=100"]) == 0  # a warning: still valid
    assert capsys.readouterr().out.splitlines() == [MAX_STEPS_WARNING, "ok: the config is valid."]
    for steps in ("-1", "0"):  # the default and 0 train by epochs: nothing to say
        assert main(["validate", str(path), "--set", f"max_steps={steps}"]) == 0
        assert capsys.readouterr().out.splitlines() == ["ok: the config is valid."]


def test_max_steps_warning_is_a_warning(runs_dir: Path) -> None:
    config = default_config()
    config.training.update(max_steps=2500, num_train_epochs=0.5)
    assert validate(config, check_files=False) == []  # nothing blocks Start
    [warning] = [w for w in warnings_for(config) if w.field == "training.max_steps"]
    assert warning.level == WARNING
    assert warning.message == ("max_steps 2,500 ends the run: the epochs set in num_train_epochs do not apply. To "
                               "train by epochs, remove max_steps (or set it to -1).")
    config.training.pop("num_train_epochs")  # unset: transformers' default, 3, which max_steps ends as well
    assert [w.message for w in warnings_for(config) if w.field == "training.max_steps"] == [warning.message]
    config.training["max_steps"] = "100"  # a wrong type is validate's problem, not also a warning
    assert [w for w in warnings_for(config) if w.field == "training.max_steps"] == []


def test_no_max_steps_warning_beside_an_epochs_problem(runs_dir: Path) -> None:
    """num_train_epochs 'abc' or -1 is refused, and its problem is the one thing said: not also a warning that the
    epochs do not apply."""
    config = default_config()
    for epochs in ("abc", -1, float("nan")):
        config.training.update(max_steps=12, num_train_epochs=epochs)
        assert [p.field for p in validate(config, check_files=False)] == ["training.num_train_epochs"]
        assert [w for w in warnings_for(config) if w.field == "training.max_steps"] == []
