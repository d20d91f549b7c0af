"""`finetune-studio export RUN --merged 2>&1 | head -1` (or a push): the reader of the progress lines leaves after the
first. The next line raised BrokenPipeError inside core.export's (core.hub's) progress call, which ended the export
partway, and main then exited 0 as for any reader gone: no export, no word, exit 0. A reader leaving is not the
export's end, as it is not a run's (outlive_reader): the work goes on, and the command exits with its own code."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.core.test_runs_history import make_run, segment
from tests.gui.test_runs_unreadable_h139 import FINISHED


class GoneStream(io.StringIO):
    """A stream whose pipe's reader has left."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def gone_outputs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """stdout and stderr whose reader left; drop_closed_outputs points them at a stand-in for devnull. Called in the
    test itself: pytest sets sys.stdout and sys.stderr again between a fixture's set-up and the test."""
    dropped: list[str] = []
    monkeypatch.setattr(cli.sys, "stdout", GoneStream())
    monkeypatch.setattr(cli.sys, "stderr", GoneStream())
    monkeypatch.setattr(cli, "reader_gone", lambda: True)

    def drop() -> None:
        dropped.append("dropped")
        monkeypatch.setattr(cli.sys, "stdout", io.StringIO())
        monkeypatch.setattr(cli.sys, "stderr", io.StringIO())

    monkeypatch.setattr(cli, "drop_closed_outputs", drop)
    return dropped


def test_an_export_goes_on_when_its_reader_leaves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import export

    run = make_run(tmp_path / "runs", "r1", segment(2, 20), {**FINISHED, "step": 20, "max_steps": 20})
    done: list[str] = []

    def export_run(run_dir, kind, out_dir, overwrite, progress, dtype):
        progress("Loading the base model builtin:demo")
        progress("Saving the merged model")
        done.append(kind)
        return export.ExportResult(kind, run_dir / "export-merged", message="Exported the merged model.")

    monkeypatch.setattr(export, "export_run", export_run)
    dropped = gone_outputs(monkeypatch)
    assert cli.main(["export", str(run), "--merged"]) == 0
    assert done == ["merged"] and dropped


def test_a_push_goes_on_when_its_reader_leaves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import hub

    run = make_run(tmp_path / "runs", "r1", segment(2, 20), {**FINISHED, "step": 20, "max_steps": 20})
    done: list[str] = []

    def push_run(run_dir, repo_id, progress, **_kwargs):
        progress({"phase": "upload", "message": "Uploading 5 files"})
        progress({"phase": "commit", "message": "Committing"})
        done.append(repo_id)
        return hub.PushResult(f"https://huggingface.co/{repo_id}", repo_id, ["model.safetensors"])

    monkeypatch.setattr(hub, "push_run", push_run)
    dropped = gone_outputs(monkeypatch)
    assert cli.main(["push", str(run), "--repo", "alice/r1"]) == 0
    assert done == ["alice/r1"] and dropped
