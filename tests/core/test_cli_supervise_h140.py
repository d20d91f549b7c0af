"""`finetune-studio supervise RUN` (what the app starts for a folder it has just prepared) run by hand on a run that
had trained: without --resume it trains from the first step, so a finished run was trained again from scratch, its
model and checkpoints replaced and a second run_start appended to its metrics. It is refused now, with the resume
command; --epochs without --resume, which was dropped without a word, is refused too. A prepared folder is not."""

from __future__ import annotations

import argparse
from pathlib import Path

from finetune_studio.core import cli
from finetune_studio.core.config import save_config
from finetune_studio.core.runs import RunFolder
from tests.helpers import small_config
from tests.hub_fixtures import make_finished_run


def test_supervise_of_a_finished_run_is_refused_and_changes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    import finetune_studio.core.launch as launch

    monkeypatch.setattr(launch, "supervise", lambda *a, **k: (_ for _ in ()).throw(AssertionError("it trained")))
    run = make_finished_run(tmp_path / "runs dir", "tiny run")
    before = {path.name: path.read_bytes() for path in run.iterdir() if path.is_file()}
    assert cli.main(["supervise", str(run)]) == 2
    out, err = capsys.readouterr()
    message = RunFolder(run).read_status()["message"].rstrip(".")
    assert out == ""
    assert err == (f"error: The run tiny run has trained already ({message}), and supervise without --resume trains "
                   "a prepared run from its first step, replacing its model and checkpoints; nothing was started. To "
                   f"fix: resume it with finetune-studio resume '{run}' (or supervise --resume), or start a new run "
                   "with finetune-studio train.\n")
    assert {path.name: path.read_bytes() for path in run.iterdir() if path.is_file()} == before


def test_epochs_without_resume_is_refused(tmp_path: Path, capsys) -> None:
    run = make_finished_run(tmp_path / "runs", "tiny-run")
    assert cli.main(["supervise", str(run), "--epochs", "2"]) == 2
    assert capsys.readouterr().err == (
        "error: --epochs 2 adds epochs to a resumed run, and --resume was not given; nothing was started. To fix: "
        f"add --resume, or resume with finetune-studio resume {run} --epochs 2.\n")


def test_a_prepared_folder_and_a_resume_are_let_through(tmp_path: Path) -> None:
    prepared = tmp_path / "runs" / "new"
    prepared.mkdir(parents=True)
    save_config(small_config(tmp_path / "d.jsonl", prepared.parent), prepared / "config.yaml")
    RunFolder(prepared).write_status("running", "Starting 2 processes")  # what core.launch.claim leaves
    given = argparse.Namespace(resume=False, epochs=None)
    assert cli._supervise_refusal(prepared, given) is None
    finished = make_finished_run(tmp_path / "runs", "done")
    assert cli._supervise_refusal(finished, argparse.Namespace(resume=True, epochs=1.0)) is None
