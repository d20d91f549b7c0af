"""An answers.jsonl that cannot be written always said "make the run folder writable" (a full disk too), and the
comparison ended there. Now the message names the file and the real cause (full disk, permission, read-only disk,
a folder in its place, the system's words otherwise) with its own fix, and the comparison goes on showing answers,
saying once that they are not saved."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import answers as saved
from finetune_studio.core import generate as g
from finetune_studio.core.generate import GenerationError
from tests.gui.test_try_tab_states import make_run


class FullDisk:
    """The real answers file, whose writes stop after `room` bytes with ENOSPC, as a full disk's do (this machine's
    /dev/full is a plain file, so a link to it fills nothing)."""

    def __init__(self, handle: Any, room: int):
        self.handle, self.room = handle, room

    def write(self, data: Any) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = self.handle.write(bytes(data[:self.room]))
        self.room -= written
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def _disk_full(monkeypatch: pytest.MonkeyPatch, room: int = 0) -> None:
    """Every answers.jsonl write fails once `room` more bytes are written; other files are not touched."""
    real_open = Path.open

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, *args, **kwargs)
        return FullDisk(handle, room) if self.name == saved.ANSWERS_FILE else handle

    monkeypatch.setattr(Path, "open", open_)


def test_a_full_disk_says_the_disk_is_full_and_how_to_free_space(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = saved.answers_path(tmp_path)
    saved.append_answer(tmp_path, {"prompt": "Leo", "model": "base", "answer": "kept"})
    before = path.read_bytes()
    _disk_full(monkeypatch, room=10)  # part of the next line gets written, then the disk is full
    with pytest.raises(GenerationError) as caught:  # core.answers.AnswersNotSaved, one of them
        saved.append_answer(tmp_path, {"prompt": "Leo", "model": "final", "answer": "lost"})
    assert str(caught.value) == (f"Cannot save answers to {path}: the disk is full. To fix: free space on the disk "
                                 f"that holds {tmp_path} (df -h '{tmp_path}' shows how much is left), then compare "
                                 "again.")
    assert "writable" not in str(caught.value)
    assert path.read_bytes() == before  # the part written is cut off again: no damaged line is left
    assert saved.load_answers(tmp_path).skipped == 0


@pytest.mark.parametrize(("code", "cause", "fix"), [
    (errno.EROFS, "the disk it is on is read-only", "copy the run folder to a writable disk and open it from there"),
    (errno.EACCES, "permission denied", "make the run folder and the file writable for your user (chmod u+w '{d}' "
                                        "'{p}')"),
    (errno.EDQUOT, "your disk quota is used up", "free space on the disk that holds {d} (df -h '{d}' shows how "
                                                 "much is left)"),
    (errno.EIO, "Input/output error", "check the disk the run folder is on (is it still there?)"),
])
def test_each_cause_has_its_own_words_and_fix(tmp_path: Path, code: int, cause: str, fix: str) -> None:
    path = saved.answers_path(tmp_path)
    problem = saved.write_problem(path, OSError(code, os.strerror(code)))
    assert problem == (f"Cannot save answers to {path}: {cause}. To fix: "
                       f"{fix.format(d=tmp_path, p=path)}, then compare again.")


def test_a_comparison_on_a_full_disk_shows_every_answer_and_says_once_they_are_not_saved(
        demo_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.demo import demo_model_path

    run_dir = make_run(tmp_path / "runs", "run", demo_model_path(), steps=(4,))
    path = saved.answers_path(run_dir)
    _disk_full(monkeypatch)
    events: list[dict] = []
    table = g.compare_checkpoints(run_dir, ["Aries", "Leo"], g.GenerationSettings(max_new_tokens=2),
                                  sink=events.append, where="cpu")
    answered = [(e["prompt"], e["model"]) for e in events if e["event"] == "answer"]
    assert answered == [(p, m) for m in ("base", "checkpoint-4", "final") for p in ("Aries", "Leo")]
    said = ("The answers are shown but not saved from here on (0 of this comparison's answers were saved before). "
            f"Cannot save answers to {path}: the disk is full. To fix: free space on the disk that holds {run_dir} "
            f"(df -h '{run_dir}' shows how much is left), then compare again.")
    assert [e["text"] for e in events if e["event"] == "unsaved"] == [said]
    assert table.unsaved == said and len(table.cells) == 6
