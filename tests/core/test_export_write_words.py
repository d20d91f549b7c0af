"""An export's "Cannot write to …" worded its cause by core.runs' private _UNWRITABLE ("it is on a read-only file
system"), beside core.answers.write_problem's own words for the same causes ("the disk it is on is read-only"):
two wordings of one thing (helper-84, F3). Both now take core.errors.write_cause, in one sentence shape
(core.errors.cannot_write_text): what happened, what was left, "To fix: …"."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from finetune_studio.core import answers, export
from finetune_studio.core.errors import cannot_write_text, write_cause

CAUSES = [(errno.EROFS, "the disk it is on is read-only"), (errno.EACCES, "permission denied"),
          (errno.EPERM, "the operation is not permitted (a locked file)"), (errno.EIO, "Input/output error")]


@pytest.mark.parametrize(("code", "cause"), CAUSES)
def test_an_export_and_an_answers_file_say_a_cause_in_the_same_words(code: int, cause: str, tmp_path: Path) -> None:
    exc = OSError(code, os.strerror(code))
    out = tmp_path / "export"
    refused = export._cannot_write(out, exc)
    assert str(refused) == (f"Cannot write to {out}: {cause}. Nothing was written. To fix: choose a folder you can "
                            "write to (--out DIR).")
    assert refused.kind == export.CANNOT_WRITE and refused.problem == cause == write_cause(exc)
    path = answers.answers_path(tmp_path)
    assert answers.write_problem(path, exc).startswith(f"Cannot save answers to {path}: {cause}. To fix: ")


def test_the_sentence_leaves_out_what_was_left_when_told_nothing() -> None:
    exc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert cannot_write_text(Path("/x/a.txt"), exc, "free some space", doing="save to") == (
        "Cannot save to /x/a.txt: the disk is full. To fix: free some space.")
    assert cannot_write_text(Path("/x"), exc, "free some space", nothing="Nothing was written.") == (
        "Cannot write to /x: the disk is full. Nothing was written. To fix: free some space.")
