"""`finetune-studio runs` with FINETUNE_STUDIO_RUNS naming one run's folder (or a checkpoint of it) says that the
variable names it and how to point it at the runs folder: it said only "pass the folder that holds the runs:
finetune-studio runs --runs-dir …", so the variable stayed as it was for the next command (and `train`, with it,
made its new run inside that run's folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.core.test_runs_history import make_run, segment
from tests.gui.test_runs_unreadable_h139 import FINISHED


@pytest.fixture
def run(tmp_path: Path) -> Path:
    folder = make_run(tmp_path / "runs", "r1", segment(2, 20), {**FINISHED, "step": 20, "max_steps": 20})
    (folder / "checkpoint-20").mkdir()
    return folder


@pytest.mark.parametrize("inside, what", [("", "the folder of the run r1"),
                                          ("checkpoint-20", "a checkpoint of the run r1")])
def test_the_variable_naming_a_run_is_said_with_its_fix(run: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str], inside: str,
                                                        what: str) -> None:
    named = run / inside if inside else run
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(named))
    assert cli.main(["runs"]) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"error: {named} is {what}, not a runs folder (FINETUNE_STUDIO_RUNS names it). To fix: "
                            f"point FINETUNE_STUDIO_RUNS at the folder that holds the runs (export "
                            f"FINETUNE_STUDIO_RUNS={run.parent}), or pass it: finetune-studio runs --runs-dir "
                            f"{run.parent}\n")


def test_runs_dir_given_keeps_its_words(run: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(run))
    assert cli.main(["runs", "--runs-dir", str(run)]) == cli.EXIT_CONFIG
    assert capsys.readouterr().err == (f"error: {run} is the folder of the run r1, not a runs folder. To fix: pass "
                                       f"the folder that holds the runs: finetune-studio runs --runs-dir "
                                       f"{run.parent}\n")
