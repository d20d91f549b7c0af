"""Errors a user can act on: each says what happened and what to do next, in words, not tracebacks."""

from __future__ import annotations

from dataclasses import dataclass
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
