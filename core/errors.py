"""Errors a user can act on: each says what happened and what to do next, in words, not tracebacks."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config. `field` is a dotted path ("training.learning_rate") a form can mark.

    `level` is ERROR (the config cannot run: validate() returns these and they block Start) or WARNING (it runs,
    but probably not as meant: core.validation.warnings_for() returns these; they are shown and never block)."""

    field: str
    message: str
    level: str = ERROR

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class FinetuneError(Exception):
    """Base for errors whose message is meant for the user as it stands."""


class ConfigError(FinetuneError):
    def __init__(self, problems: list[Problem], partial: Any = None):
        self.problems = list(problems)
        self.partial: Any = partial  # core.config.parse_config: the RunConfig of the keys it knew, when it has one
        super().__init__("\n".join(str(p) for p in self.problems))


class DataError(FinetuneError):
    """A dataset that cannot be used; the message names the file, line/row and column where known."""


class ModelError(FinetuneError):
    """A model or tokenizer that cannot be loaded."""


class TrainingError(FinetuneError):
    """Training ended with an error the user can act on."""


class OutOfMemoryFailure(TrainingError):
    """Training ran out of memory. `fix` is a core.advice.Fix (a config change that should fit) or None when
    nothing is left to lower; `run_dir` is the run it happened in (apply the fix there and resume)."""

    def __init__(self, message: str, fix: object = None, run_dir: object = None):
        super().__init__(message)
        self.fix = fix
        self.run_dir = run_dir


def write_cause(exc: OSError) -> str:
    """Why a write failed, in words, by its real cause: a full disk, a used-up quota, a read-only disk, a folder
    in the file's place, no permission, else the system's own words. One wording for every write the app reports
    (an export's destination, the push's staging folder, a run's answers file), so a cause reads the same."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "your disk quota is used up"
    if exc.errno == errno.EROFS:
        return "the disk it is on is read-only"
    if isinstance(exc, IsADirectoryError):
        return "a folder is in its place"
    if exc.errno == errno.EACCES:
        return "permission denied"
    if exc.errno == errno.EPERM:
        return "the operation is not permitted (a locked file)"
    return exc.strerror or str(exc)


def cannot_write_text(path: Path, exc: OSError, fix: str, doing: str = "write to", nothing: str = "") -> str:
    """"Cannot <doing> <path>: <cause>. <nothing> To fix: <fix>." for a write that failed: what happened (by
    write_cause), what was left (`nothing`, a sentence, e.g. "Nothing was written."; '' to say nothing) and what to
    do (`fix`, without its full stop)."""
    return " ".join(part for part in (f"Cannot {doing} {path}: {write_cause(exc)}.", nothing, f"To fix: {fix}.")
                    if part)
