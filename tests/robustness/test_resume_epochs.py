"""`resume --epochs N` (the window's "Train N more epochs"): a refused resume changes nothing in the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from tests.robustness.faults import Snapshot


@pytest.mark.parametrize("epochs", ["-1", "0", "inf"])
def test_epochs_to_add_below_or_at_0_or_endless_are_refused_before_the_run_changes(
        earlier_run: Path, epochs: str, capsys: pytest.CaptureFixture) -> None:
    saved = Snapshot(earlier_run)
    assert main(["resume", str(earlier_run), "--epochs", epochs]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: --epochs: The number of epochs to add must be {'a finite number ' if epochs == 'inf' else ''}"
        f"above 0 (got {float(epochs):g}). To fix: give how "
        "many more epochs to train, e.g. --epochs 1.")
    saved.assert_unchanged()


def test_a_resume_refused_by_validation_leaves_config_yaml_as_it_was(earlier_run: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    """The added epochs were written to config.yaml before validation refused the resume, so the next resume
    trained to the wrong epoch (or not at all, after a refused negative number)."""
    missing = tmp_path / "deleted.jsonl"
    config = earlier_run / "config.yaml"
    config.write_text(f"name: earlier\ndataset:\n  source: {missing}\ntraining:\n  num_train_epochs: 1\n",
                      encoding="utf-8")
    saved = Snapshot(earlier_run)
    assert main(["resume", str(earlier_run), "--epochs", "2"]) == 2
    assert f"Dataset not found: {missing}" in capsys.readouterr().err
    assert saved.changed() == []
    assert [Path(p).name for p in saved.added()] == ["run.lock"]  # the lock's record, "released"
    assert "num_train_epochs: 1\n" in config.read_text(encoding="utf-8")
