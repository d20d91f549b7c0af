"""The answers Compare checkpoints keeps in a run folder (answers.jsonl, one JSON object a line), and the table of
prompt × model they make: written by core.generate.compare_checkpoints, read by the Try tab's Compare view and by
`finetune-studio generate --answers`."""

from __future__ import annotations

import contextlib
import errno
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune_studio.core.config import as_written
from finetune_studio.core.errors import cannot_write_text
from finetune_studio.core.generate import BASE, GenerationError
from finetune_studio.core.runs import CHECKPOINT_RE

ANSWERS_FILE = "answers.jsonl"


def answers_path(run_dir: Path) -> Path:
    return Path(run_dir) / ANSWERS_FILE


def append_answer(run_dir: Path, record: dict[str, Any]) -> None:
    """One answer, one line: appended and flushed at once, so a comparison cut short keeps what it wrote. A last
    line a crash cut off (no newline at its end) is closed first, so the new record is not glued to it and lost.
    A file that cannot be written raises AnswersNotSaved naming it, the real cause and its fix (write_problem); what
    a failed write left of the line (a full disk takes part of it) is cut off again, so the file stays readable."""
    path = answers_path(run_dir)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        # unbuffered: a failed write fails here, not again when the file closes; appends always land at the end
        with path.open("a+b", buffering=0) as handle:
            size = handle.seek(0, 2)
            if size > 0:
                handle.seek(-1, 2)
                if handle.read(1) != b"\n":
                    line = b"\n" + line
            try:
                left = memoryview(line)
                while left:  # a raw write may take part of it
                    left = left[handle.write(left):]
            except OSError:
                with contextlib.suppress(OSError):
                    handle.truncate(size)
                raise
    except OSError as exc:
        raise AnswersNotSaved(write_problem(path, exc)) from None


class AnswersNotSaved(GenerationError):
    """The answers file could not be written: the answer was made (and shown), only keeping it failed."""


def write_problem(path: Path, exc: OSError) -> str:
    """Why `path` could not be written and what to do, by the real cause: a full disk, no permission, a read-only
    disk, a folder in its place, the run folder gone, else the system's own words. It always said "make the run
    folder writable". The cause and the sentence are core.errors' (write_cause, cannot_write_text), as an export's
    are; the fix is ours."""
    folder = path.parent
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = f"free space on the disk that holds {folder} (df -h '{folder}' shows how much is left)"
    elif exc.errno == errno.EROFS:
        fix = "copy the run folder to a writable disk and open it from there"
    elif isinstance(exc, IsADirectoryError):
        fix = "move that folder out of the run folder (or delete it)"
    elif isinstance(exc, FileNotFoundError):  # the run folder was deleted or moved while its answers were made
        fix = (f"the run folder {folder} is gone (deleted or moved while comparing); put it back, or pick the run "
               "where it is now (Refresh lists the runs as they are)")
    elif exc.errno in (errno.EACCES, errno.EPERM):
        fix = f"make the run folder and the file writable for your user (chmod u+w '{folder}' '{path}')"
    else:
        fix = "check the disk the run folder is on (is it still there?)"
    return cannot_write_text(path, exc, f"{fix}, then compare again", doing="save answers to")


@dataclass
class SavedAnswers:
    """What a run's answers file holds, and why some or all of it could not be read: an empty table alone looks
    like a run never compared, so whoever shows the answers also shows `note` (the Compare page, the CLI)."""

    records: list[dict[str, Any]]
    path: Path
    problem: str = ""  # the file is there but cannot be read at all: why, and what to do
    skipped: int = 0  # lines that hold no answer (cut off by a crash mid-write, or damaged)

    @property
    def note(self) -> str:
        """The problem, or how many lines were skipped and what to do; '' when every line was read."""
        if self.problem or not self.skipped:
            return self.problem
        many = self.skipped != 1
        # answers shown: the table's cells, one per prompt and model (the latest line of each), not the lines read:
        # a comparison run twice wrote each answer twice, and "24 answers are shown" stood over a table of 12
        kept = len({(shown(r["prompt"]), shown(r["model"])) for r in self.records})
        left = f"{kept} answer{'s are' if kept != 1 else ' is'} shown" if kept else "no answer is left"
        return (f"{self.skipped} line{'s' if many else ''} of {self.path} could not be read (cut off or damaged) and "
                f"{'were' if many else 'was'} skipped; {left}. To fix: run Compare checkpoints again (the Try tab) to "
                f"answer the saved prompts anew, or remove the damaged line{'s' if many else ''} from the file.")


def load_answers(run_dir: Path) -> SavedAnswers:
    """Every answer recorded for the run, oldest first, and what could not be read. Each line stands alone: a line
    a crash cut off (mid-JSON or mid-character) or any other unreadable line is skipped and counted, and the others
    are still read. No file is no answers yet, not a problem; a file that cannot be opened (a folder in its place,
    no permission) says why in `problem`."""
    path = answers_path(run_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return SavedAnswers([], path)
    except IsADirectoryError:
        return SavedAnswers([], path, problem=(
            f"Cannot read the saved answers: {path} is a folder, not a file. To fix: move that folder out of the "
            "run folder (or delete it); Compare checkpoints then writes the answers file anew."))
    except PermissionError:
        return SavedAnswers([], path, problem=(
            f"Cannot read the saved answers: permission denied on {path}. To fix: make the file readable for your "
            f"user (chmod u+r '{path}'), then look again."))
    except OSError as exc:
        return SavedAnswers([], path, problem=(
            f"Cannot read the saved answers in {path}: {exc.strerror or exc}. To fix: check the disk the run folder "
            "is on, then look again."))
    found = []
    skipped = 0
    for raw in data.splitlines():
        if not raw.strip():
            continue  # a blank line holds nothing to lose
        try:
            record = json.loads(raw.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError and json.JSONDecodeError are both ValueErrors
            skipped += 1
            continue
        # a line with no answer (cut to its first fields by hand, or of a format that names it otherwise) is not
        # an answer: the table showed it as "(empty)", as if the model had said nothing
        if isinstance(record, dict) and "prompt" in record and "model" in record and "answer" in record:
            found.append(record)
        else:
            skipped += 1
    return SavedAnswers(found, path, skipped=skipped)


def read_answers(run_dir: Path) -> list[dict[str, Any]]:
    """The records of load_answers alone, for callers that only count or compare them (tests, scripts); anything
    shown to a user takes load_answers, so an unreadable file or skipped lines are said, not an empty table."""
    return load_answers(run_dir).records


@dataclass
class AnswerTable:
    """prompt × model (base, checkpoint-N …, final): the latest recorded answer in each cell."""

    prompts: list[str]
    models: list[str]
    cells: dict[tuple[str, str], dict[str, Any]]
    unsaved: str = ""  # a comparison whose answers file could not be written: why, and from which answer on

    def answer(self, prompt: str, model: str) -> str | None:
        record = self.cells.get((prompt, model))
        return None if record is None else shown(record.get("answer", ""))


def shown(value: Any) -> str:
    """A record's value as a cell or a title shows it: text as it is; anything else a line of the file holds (an
    answers.jsonl edited by hand, or written by another tool) as a config file writes it, core.config.as_written:
    null, true, [a, b], {a: 1}, not Python's None, True, ['a', 'b'], {'a': 1}."""
    return value if isinstance(value, str) else as_written(value)


def _model_order(name: str) -> tuple[int, int, str]:
    """base, the checkpoints by step, any other name a line holds by name, then final: the same columns in the same
    order each time. Other names all tied with final, so their order came from a set's and changed between runs."""
    if name == BASE:
        return (0, 0, "")
    if name == "final":
        return (3, 0, "")
    match = CHECKPOINT_RE.match(name)
    return (1, int(match.group(1)), "") if match else (2, 0, name)


def answer_table(records: list[dict[str, Any]], prompts: list[str] | None = None) -> AnswerTable:
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        cells[(shown(record["prompt"]), shown(record["model"]))] = record
    seen = list(dict.fromkeys(shown(r["prompt"]) for r in records))
    order = list(prompts or []) + [p for p in seen if p not in (prompts or [])]
    models = sorted({model for _, model in cells}, key=_model_order)
    return AnswerTable(order, models, cells)
