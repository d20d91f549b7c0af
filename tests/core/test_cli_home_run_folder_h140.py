"""resume, export, push and supervise read a run folder written with ~ (quoted, or after '=', which the shell leaves
as typed) as the user's home, as generate, runs and init do: core.runs.require_run_folder looked for the path as
typed, so `finetune-studio resume '~/runs/tiny-run'` said "No run folder at ~/runs/tiny-run" (exit 2) of a run
that is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.hub_fixtures import make_finished_run


@pytest.fixture
def home_run(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    return make_finished_run(home / "runs", "tiny-run")


def test_resume_finds_a_run_under_home(home_run: Path, monkeypatch) -> None:
    import finetune_studio.core.training as training
    from finetune_studio.core.training import RunResult

    resumed = []
    monkeypatch.setattr(training, "resume", lambda run_dir, *a, **k: resumed.append(run_dir) or RunResult(
        "finished", "Finished 12 steps.", run_dir, 12, 12))
    assert cli.main(["resume", "~/runs/tiny-run", "--quiet"]) == 0
    assert resumed == [home_run]


def test_push_finds_a_run_under_home(home_run: Path, monkeypatch, capsys) -> None:
    from finetune_studio.core import hub

    pushed = []

    class Pushed:
        unchanged, url, files = False, "https://hub/alice/tiny-run", ["README.md"]

    monkeypatch.setattr(hub, "push_run", lambda run_dir, **k: pushed.append(run_dir) or Pushed())
    assert cli.main(["push", "~/runs/tiny-run", "--repo", "alice/tiny-run"]) == 0
    assert pushed == [home_run]
    assert capsys.readouterr().out == "Pushed 1 files to https://hub/alice/tiny-run\n"


def test_export_and_supervise_find_a_run_under_home(home_run: Path, capsys) -> None:
    assert cli.main(["export", "--adapter", "~/runs/tiny-run"]) == 2
    assert capsys.readouterr().err.startswith("error: The run tiny-run fine-tuned every weight")  # the run was read
    assert cli.main(["supervise", "~/runs/tiny-run"]) == 2
    assert capsys.readouterr().err.startswith("error: The run tiny-run has trained already")
