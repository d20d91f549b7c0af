"""A runs folder given where a run's folder is wanted names one of its runs as the example: now the newest (the
one the Runs tab lists first, and likely the one meant), not the first by name, and its path is quoted for a shell,
so a runs folder with a space in its name pastes as one word."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from finetune_studio.core.runs import NO_RUN, run_folder_problem


def _run(runs: Path, name: str, created: str | None) -> Path:
    folder = runs / name
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(f"name: {name}\n")
    if created is not None:
        (folder / "status.json").write_text(f'{{"state": "finished", "created": "{created}"}}')
    return folder


def test_the_example_is_the_newest_run_quoted_for_a_shell(tmp_path: Path) -> None:
    runs = tmp_path / "my runs"
    _run(runs, "alpha", "2026-01-02T10:00:00+00:00")
    newest = _run(runs, "beta", "2026-03-04T10:00:00+00:00")
    _run(runs, "gamma", "2025-12-31T10:00:00+00:00")
    problem = run_folder_problem(runs)
    assert problem is not None and problem.kind == NO_RUN
    assert str(problem) == (f"{runs} is not a run folder: it holds runs (3, e.g. beta). To fix: give one run's "
                            f"folder, e.g. '{newest}'; `finetune-studio runs --runs-dir '{runs}'` lists them.")
    pasted = str(problem).split("e.g. ", 2)[2].split(";")[0]
    assert shlex.split(pasted) == [str(newest)]


def test_a_run_without_status_is_dated_by_its_files(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    old = _run(runs, "a-old", None)
    new = _run(runs, "b-new", None)
    os.utime(old / "config.yaml", (1_000_000, 1_000_000))
    os.utime(new / "config.yaml", (2_000_000, 2_000_000))
    assert "(2, e.g. b-new)" in str(run_folder_problem(runs))
    os.utime(old / "config.yaml", (3_000_000, 3_000_000))
    assert f"(2, e.g. a-old). To fix: give one run's folder, e.g. {old};" in str(run_folder_problem(runs))
