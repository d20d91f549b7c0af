"""`finetune-studio runs --runs-dir RUNS/run/checkpoint-2` (a checkpoint, or another folder inside a run) said
"No runs in …" (exit 0), as if the runs folder were empty; a run's own folder was already named. It now names the
run the folder belongs to and the runs folder to pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.cli import main
from tests.helpers import checkpoint
from tests.hub_fixtures import make_finished_run


def test_a_checkpoint_of_a_run_names_the_run_and_its_runs_folder(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run = make_finished_run(tmp_path / "my runs")
    saved = checkpoint(run, 2)
    assert main(["runs", "--runs-dir", str(saved)]) == cli.EXIT_CONFIG
    out, err = capsys.readouterr()
    assert (out, err.strip()) == ("", f"error: {saved} is a checkpoint of the run tiny-run, not a runs folder. To fix: "
                                      "pass the folder that holds the runs: finetune-studio runs --runs-dir "
                                      f"'{run.parent}'")


def test_a_folder_deeper_in_a_run_names_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_finished_run(tmp_path / "runs")
    inner = run / "model"
    assert main(["runs", "--runs-dir", str(inner)]) == cli.EXIT_CONFIG
    assert capsys.readouterr().err.strip() == (
        f"error: {inner} is a folder inside the run tiny-run, not a runs folder. To fix: pass the folder that holds "
        f"the runs: finetune-studio runs --runs-dir {run.parent}")


def test_an_empty_runs_folder_elsewhere_still_has_no_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "runs" / "empty"
    empty.mkdir(parents=True)
    assert main(["runs", "--runs-dir", str(empty)]) == 0
    assert capsys.readouterr().out == f"No runs in {empty}.\n"
