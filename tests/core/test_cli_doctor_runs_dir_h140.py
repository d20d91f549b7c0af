"""`finetune-studio doctor --runs-dir FILE` reported "disk: runs folder notes.txt: 40.2 GB free" and "ok", exit 0,
of a file given as the runs folder. It is refused now as `runs` refuses it (exit 2, the same words), before any
check runs; a folder, made or not yet, is checked as before."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core import cli, doctor
from finetune_studio.core.config import default_runs_dir


def test_doctor_refuses_a_file_as_the_runs_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(doctor, "check", lambda *a, **k: (_ for _ in ()).throw(AssertionError("checked")))
    notes = tmp_path / "notes.txt"
    notes.write_text("x", encoding="utf-8")
    assert cli.main(["doctor", "--runs-dir", str(notes)]) == 2
    out, err = capsys.readouterr()
    said = (f"error: {notes} is a file, not a runs folder. To fix: pass the folder that holds the runs with "
            f"--runs-dir (the default is {default_runs_dir()}).\n")
    assert (out, err) == ("", said)
    assert cli.main(["runs", "--runs-dir", str(notes)]) == 2  # the same words as `runs`
    assert capsys.readouterr().err == said


def test_doctor_checks_a_folder_made_or_not(tmp_path: Path, monkeypatch) -> None:
    asked = []
    monkeypatch.setattr(doctor, "main", lambda runs_dir=None: asked.append(runs_dir) or 0)
    assert cli.main(["doctor", "--runs-dir", str(tmp_path)]) == 0
    assert cli.main(["doctor", "--runs-dir", str(tmp_path / "not-yet")]) == 0
    assert cli.main(["doctor"]) == 0
    assert asked == [str(tmp_path), str(tmp_path / "not-yet"), None]
