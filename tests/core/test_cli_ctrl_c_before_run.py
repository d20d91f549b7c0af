"""A Ctrl-C before a run's own handler is in place (train's config being loaded and checked, a resume's folder
being read, an export) said "Resume from the latest checkpoint with 'finetune-studio resume RUN_DIR'": of a run that
was never started, or an export. Nothing had trained, so it says so and offers no resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli


def interrupted(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("argv, patched", [(["train", "--preset", "demo"], "_load"),
                                           (["resume", "somewhere"], "require_run_folder")])
def test_a_ctrl_c_before_training_began_says_nothing_was_trained(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture, argv: list[str],
                                                                 patched: str) -> None:
    monkeypatch.setattr(cli, patched, interrupted)
    assert cli.main(argv) == cli.EXIT_FAILED
    assert capsys.readouterr().err.splitlines() == [
        "error: aborted (Ctrl-C) before training began: nothing was trained or changed."]


def test_a_ctrl_c_during_an_export_offers_no_resume(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                                                    tmp_path: Path) -> None:
    """What the destination holds is said as it is: a folder that held files still holds them; of one the export
    was to make (removed with its partial files), "holds what it held before" was said of a folder that is not."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_export", interrupted)
    assert cli.main(["export", "somewhere", "--merged"]) == cli.EXIT_FAILED
    assert capsys.readouterr().err.splitlines() == [
        "error: aborted (Ctrl-C): nothing was exported (no somewhere/export-merged was left) and the run is "
        "unchanged. To fix: run finetune-studio export --merged somewhere again."]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("kept")
    assert cli.main(["export", "somewhere", "--merged", "--out", "mine"]) == cli.EXIT_FAILED
    assert capsys.readouterr().err.splitlines() == [
        "error: aborted (Ctrl-C): nothing was exported (mine holds what it held before) and the run is unchanged. "
        "To fix: run finetune-studio export --merged somewhere --out mine again."]
    assert (tmp_path / "mine" / "notes.txt").read_text() == "kept"
