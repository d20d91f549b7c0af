"""An empty run folder argument (`finetune-studio resume "$RUN"` with RUN unset) is refused in its own words, exit 2:
it was read as '.', refused as ". is not a run folder (it has no config.yaml)", naming a folder never given, and run
from inside a run's folder it resumed (exported, pushed) that run."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.core.test_runs_history import make_run, segment
from tests.gui.test_runs_unreadable_h139 import FINISHED


def said(command: str) -> str:
    return (f"error: the run folder is empty (''); it names the run to {command.split()[0]}, and an empty one names "
            f"none. To fix: give the run's folder, e.g. finetune-studio {command} ~/runs/my-run; `finetune-studio "
            "runs` lists the runs.\n")


@pytest.mark.parametrize("argv, command", [(["resume", ""], "resume"), (["export", "", "--merged"], "export --merged"),
                                           (["push", ""], "push"), (["supervise", ""], "supervise")])
def test_an_empty_run_folder_is_refused_even_inside_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], argv: list[str],
                                                          command: str) -> None:
    run = make_run(tmp_path / "runs", "r1", segment(2, 20), {**FINISHED, "step": 20, "max_steps": 20})
    before = sorted(path.name for path in run.iterdir())
    monkeypatch.chdir(run)  # '.' is a run here: '' must not name it
    assert cli.main(argv) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", said(command))
    assert sorted(path.name for path in run.iterdir()) == before


def test_a_run_folder_given_is_still_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["resume", str(tmp_path / "nothing-here")]) == cli.EXIT_CONFIG
    assert capsys.readouterr().err.startswith(f"error: No run folder at {tmp_path}/nothing-here.")
