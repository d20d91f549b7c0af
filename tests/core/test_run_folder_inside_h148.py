"""A path inside a run (its config.yaml, a checkpoint-N/ or model/ folder) given to resume, export or push names
the run folder to give instead, as generate --answers does; exit 2 and nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from tests.core.test_advice_no_fix import diverged_run
from tests.helpers import checkpoint


def test_resume_export_push_of_a_path_inside_a_run_name_the_run(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    run = diverged_run(tmp_path / "my runs")
    inside = checkpoint(run, 5)
    fix = f"To fix: give the folder of the run it is in: '{run}'."
    assert main(["resume", str(inside)]) == 2
    assert capsys.readouterr().err == (f"error: {inside} is a folder inside the run div1, not a run folder. "
                                       f"{fix}\n")
    # export and push take a checkpoint's step (6b2d751, d12951e): the fix is the command for that checkpoint
    assert main(["export", str(inside), "--merged"]) == 2
    assert capsys.readouterr().err == (f"error: {inside} is checkpoint-5 of the run div1, not a run folder: export "
                                       "takes the run's folder and the checkpoint's step. Nothing was exported. "
                                       f"To fix: finetune-studio export --merged '{run}' --checkpoint 5.\n")
    assert main(["push", str(inside)]) == 2
    assert capsys.readouterr().err == (f"error: {inside} is checkpoint-5 of the run div1, not a run folder: push "
                                       "takes the run's folder and the checkpoint's step. Nothing was sent to the "
                                       f"Hub. To fix: finetune-studio push '{run}' --checkpoint 5.\n")
    assert main(["resume", str(run / "config.yaml")]) == 2
    assert capsys.readouterr().err == f"error: {run / 'config.yaml'} is a file, not a run folder. {fix}\n"


def test_kinds_and_other_paths_keep_their_words(tmp_path: Path) -> None:
    from finetune_studio.core.runs import NO_RUN, NOT_A_FOLDER, enclosing_run, run_folder_problem

    run = diverged_run(tmp_path / "runs")
    model = run / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    assert enclosing_run(model / "config.json") == run and enclosing_run(run) is None
    assert run_folder_problem(model).kind == NO_RUN
    assert run_folder_problem(model / "config.json").kind == NOT_A_FOLDER
    assert str(run_folder_problem(model / "config.json")).endswith(f"it is in: {run}.")
    assert run_folder_problem(run) is None
    lone = tmp_path / "lone"
    lone.mkdir()
    assert str(run_folder_problem(lone)) == (f"{lone} is not a run folder (it has no config.yaml). To fix: give a "
                                             "run's folder (the one holding its config.yaml); `finetune-studio runs` "
                                             "lists the runs.")
