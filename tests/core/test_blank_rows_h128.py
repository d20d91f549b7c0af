"""validate's verdict on a source's blank rows is what a run trains.

validate (core.data.check_source) counted a row as having text when its text is not blank (str.strip()), while a run
(core.data.tokenize_and_split) dropped only rows that give no tokens: "   " gives three space tokens with the demo
tokenizer, so rows "", "   ", "ok" were refused by validate ("holds 1 row with text, too few to hold out a test
split") and trained by a run (2 rows: 1 to train, 1 to test). One rule now, core.data.is_blank, in both."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core import data
from finetune_studio.core.config import RunConfig, demo_preset
from finetune_studio.core.model import load_tokenizer
from finetune_studio.core.validation import validate


def _config(path: Path, rows: list[str]) -> RunConfig:
    import json

    path.write_text("".join(json.dumps({"text": row}) + "\n" for row in rows))
    config = demo_preset()
    config.dataset.source, config.dataset.text_column, config.dataset.test_size = str(path), "text", 0.1
    config.training["eval_strategy"] = "no"
    return config


def _run_trains(config: RunConfig) -> bool:
    """Whether a run's data preparation (the run's own functions, the run's tokenizer) gives rows to train on."""
    tokenizer = load_tokenizer(config.model)
    try:
        splits = data.tokenize_and_split(data.load_split(config.dataset), tokenizer, config.dataset, 42)
    except data.DataError:
        return False
    return len(splits["train"]) > 0


def test_validate_refuses_blank_rows_exactly_when_a_run_cannot_train(tmp_path: Path, demo_cache: Path,
                                                                     runs_dir: Path) -> None:
    verdicts = []
    for rows in (["", "   ", "ok"], ["", "ok"], ["ok", "fine"], ["   ", "\t"]):
        config = _config(tmp_path / "rows.jsonl", rows)
        refused = [p.field for p in validate(config, render_rows=True) if p.field.startswith("dataset.")]
        verdicts.append((rows, not refused, _run_trains(config)))
    assert [(rows, valid) for rows, valid, _ in verdicts] == [(rows, trains) for rows, _, trains in verdicts]
