"""The command line given a folder it cannot use: a run folder that is missing, a file, holds no run, or cannot be
written is bad input (exit 2, one sentence that says what to do), never a failed run (exit 1) and never a traceback;
and the runs table lines up for run names in wide (CJK) characters."""

from __future__ import annotations

import errno
import json
import os
import re
import unicodedata
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import PRESETS, save_config
from tests.helpers import checkpoint

FIX = "To fix: give a run's folder (the one holding its config.yaml); `finetune-studio runs` lists the runs."

# Every command that takes an existing run's folder (`worker` makes its folder on a machine that has none).
RUN_FOLDER_COMMANDS = [
    ["resume", "{dir}"],
    ["resume", "{dir}", "--apply-fix"],
    ["export", "--adapter", "{dir}"],
    ["export", "--merged", "{dir}", "--out", "{out}"],
    ["push", "{dir}", "--repo", "alice/tiny"],
    ["supervise", "{dir}"],
]


def fabricated_run(runs: Path, name: str, state: str = "stopped", message: str = "Stopped at step 2.") -> Path:
    """A run folder as a stopped run leaves it (config, status, metrics, a checkpoint), made without training."""
    path = runs / name
    checkpoint(path, 2)  # one Resume can load (core.runs' resume_point)
    config = PRESETS["demo"]()
    config.name = name
    save_config(config, path / "config.yaml")
    (path / "status.json").write_text(json.dumps({"state": state, "message": message, "pid": 1}))
    events = [{"event": "train_begin", "step": 0, "max_steps": 4}, {"event": "step", "step": 2, "max_steps": 4},
              {"event": "log", "step": 2, "loss": 1.5}, {"event": "end", "state": state, "step": 2, "max_steps": 4}]
    (path / "metrics.jsonl").write_text("".join(json.dumps({"time": 1e9 + i, **e}) + "\n"
                                                for i, e in enumerate(events)))
    return path


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("command", RUN_FOLDER_COMMANDS, ids=lambda c: " ".join(c[:2]).replace("{dir}", "DIR"))
def test_a_missing_run_folder_is_bad_input_and_names_the_folder(command: list[str], tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "no-such-run"
    argv = [part.format(dir=missing, out=tmp_path / "out") for part in command]
    assert cli.main(argv) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == f"error: No run folder at {missing}. {FIX}"
    assert captured.out == ""
    assert sorted(tmp_path.iterdir()) == []  # nothing was made: not the folder, not an export


@pytest.mark.parametrize("command", RUN_FOLDER_COMMANDS, ids=lambda c: " ".join(c[:2]).replace("{dir}", "DIR"))
def test_a_file_or_a_folder_without_a_run_given_as_the_run_folder_is_bad_input(command: list[str], tmp_path: Path,
                                                                              capsys: pytest.CaptureFixture) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a run")
    argv = [part.format(dir=a_file, out=tmp_path / "out") for part in command]
    assert cli.main(argv) == cli.EXIT_CONFIG
    assert capsys.readouterr().err.splitlines()[-1] == f"error: {a_file} is a file, not a run folder. {FIX}"
    assert a_file.read_text() == "not a run"

    empty = tmp_path / "runs"  # e.g. the runs folder itself, not one run in it
    empty.mkdir()
    argv = [part.format(dir=empty, out=tmp_path / "out") for part in command]
    assert cli.main(argv) == cli.EXIT_CONFIG
    assert capsys.readouterr().err.splitlines()[-1] == (f"error: {empty} is not a run folder (it has no config.yaml). "
                                                        f"{FIX}")
    assert sorted(tmp_path.iterdir()) == [a_file, empty] and list(empty.iterdir()) == []


@pytest.mark.parametrize(("code", "reason", "fix"), [
    (errno.EROFS, "the disk it is on is read-only",
     "copy the run folder somewhere writable and resume the copy (finetune-studio resume NEW_FOLDER)"),
    (errno.EACCES, "permission denied",
     "give yourself write permission on the folder, or copy the run folder somewhere writable and resume the copy "
     "(finetune-studio resume NEW_FOLDER)"),
], ids=["read-only", "no-permission"])
def test_resume_of_a_run_folder_that_cannot_be_written_says_so_and_changes_nothing(
        code: int, reason: str, fix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    run_dir = fabricated_run(tmp_path, "stopped-run")
    before = snapshot(run_dir)
    real_open = os.open

    def read_only_lock(path: object, flags: int, *args: object, **kwargs: object) -> int:
        # Tests run as root, whom chmod does not stop: the file system's answer is faked for the lock alone.
        if Path(os.fsdecode(path)) == run_dir / "run.lock":  # type: ignore[arg-type]
            raise OSError(code, os.strerror(code), os.fsdecode(path))  # type: ignore[arg-type]
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", read_only_lock)
    assert cli.main(["resume", str(run_dir), "--quiet"]) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"error: The run folder {run_dir} cannot be written ({reason}), so the run "
                                         f"cannot train there; nothing in it was changed. To fix: {fix}."]
    assert "Errno" not in captured.out + captured.err and "Training failed" not in captured.out + captured.err
    assert snapshot(run_dir) == before and not (run_dir / "run.lock").exists()


def display_columns(text: str) -> int:
    """Terminal columns, counted here on their own (not with the code under test)."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
               for c in text)


def test_runs_table_lines_up_wide_run_names(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fabricated_run(tmp_path, "日本語の実行", "finished", "Finished 4 steps.")
    fabricated_run(tmp_path, "plain", "stopped", "Stopped at step 2.")
    assert cli.main(["runs", "--runs-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and any("日本語の実行" in line for line in lines)
    # Cells are separated by two or more spaces (a cell may hold single spaces: "train loss", a message).
    cells = [[(display_columns(line[:m.start()]), display_columns(line[:m.end()]))
              for m in re.finditer(r"\S+(?: \S+)*", line)] for line in lines]
    assert all(len(row) == 6 for row in cells), lines
    for column in (0, 1, 5):  # name, state, message: left-aligned, they start at the same column
        assert len({row[column][0] for row in cells}) == 1, (column, lines)
    for column in (2, 3, 4):  # steps and losses: right-aligned, they end at the same column
        assert len({row[column][1] for row in cells}) == 1, (column, lines)


def test_display_width_counts_wide_characters_twice_and_combining_marks_not_at_all() -> None:
    assert cli.display_width("plain") == 5
    assert cli.display_width("日本語の実行") == 12
    assert cli.display_width("ｆｕｌｌ") == 8  # fullwidth Latin
    assert cli.display_width("cafe\u0301") == 4  # e + a combining acute accent is one column


def test_resume_apply_fix_in_a_run_folder_that_cannot_be_written_says_so_and_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """--apply-fix writes the fixed config.yaml (and config.before-fix.yaml) before the resume takes its lock, so a
    read-only folder gave a raw OSError there (found by helper-43)."""
    run_dir = fabricated_run(tmp_path, "failed-run", "failed", "CUDA ran out of memory.")
    status = json.loads((run_dir / "status.json").read_text())
    status["fix"] = {"description": "Batch size 4", "overrides": {"training.per_device_train_batch_size": 4}}
    (run_dir / "status.json").write_text(json.dumps(status))
    before = snapshot(run_dir)
    real_open = os.open

    def read_only_folder(path: object, flags: int, *args: object, **kwargs: object) -> int:
        writes = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if writes and Path(os.fsdecode(path)).parent == run_dir:  # type: ignore[arg-type]
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))  # type: ignore[arg-type]
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", read_only_folder)
    assert cli.main(["resume", str(run_dir), "--apply-fix", "--quiet"]) == cli.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1].startswith(f"error: The run folder {run_dir} cannot be written (the disk it "
                                                    "is on is read-only)")
    assert "Errno" not in captured.out + captured.err
    assert snapshot(run_dir) == before
