"""The answers Compare checkpoints keeps in a run folder (answers.jsonl, one JSON object a line), and the table of
prompt × model they make: written by core.generate.compare_checkpoints, read by the Try tab's Compare view and by
`finetune-studio generate --answers`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune_studio.core.generate import BASE
from finetune_studio.core.runs import CHECKPOINT_RE

ANSWERS_FILE = "answers.jsonl"


def answers_path(run_dir: Path) -> Path:
    return Path(run_dir) / ANSWERS_FILE


def append_answer(run_dir: Path, record: dict[str, Any]) -> None:
    """One answer, one line: appended and flushed at once, so a comparison cut short keeps what it wrote."""
    with answers_path(run_dir).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()


def read_answers(run_dir: Path) -> list[dict[str, Any]]:
    """Every answer recorded for the run, oldest first; lines a crash cut off are skipped."""
    try:
        lines = answers_path(run_dir).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "prompt" in record and "model" in record:
            found.append(record)
    return found


@dataclass
class AnswerTable:
    """prompt × model (base, checkpoint-N …, final): the latest recorded answer in each cell."""

    prompts: list[str]
    models: list[str]
    cells: dict[tuple[str, str], dict[str, Any]]

    def answer(self, prompt: str, model: str) -> str | None:
        record = self.cells.get((prompt, model))
        return None if record is None else str(record.get("answer", ""))


def _model_order(name: str) -> tuple[int, int]:
    if name == BASE:
        return (0, 0)
    match = CHECKPOINT_RE.match(name)
    return (1, int(match.group(1))) if match else (2, 0)


def answer_table(records: list[dict[str, Any]], prompts: list[str] | None = None) -> AnswerTable:
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        cells[(str(record["prompt"]), str(record["model"]))] = record
    seen = list(dict.fromkeys(str(r["prompt"]) for r in records))
    order = list(prompts or []) + [p for p in seen if p not in (prompts or [])]
    models = sorted({model for _, model in cells}, key=_model_order)
    return AnswerTable(order, models, cells)
