"""Rendering a model card does not import transformers (~6 s cold, in the push dialog's background plan and in
`finetune-studio push`): the defaults row (seed, optim, … that the run's config leaves out) comes from what the run
recorded as it trained (the train_begin event's trainer_defaults), not from TrainingArguments imported at render
time. The rows are the same as before; a run from before the record still gets them from the installed version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core.model_card import DEFAULT_SHOWN_KEYS, EVAL_DEFAULT_KEYS, render_model_card
from tests.helpers import ROOT, SAMPLE, read_events, small_config

RENDER = """
import sys
from finetune_studio.core.model_card import render_model_card
card = render_model_card(sys.argv[1], repo_id="alice/tiny")
print(sorted(m for m in ("transformers", "torch", "peft", "datasets") if m in sys.modules))
sys.stdout.write(card)
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from finetune_studio.core.training import run

    root = tmp_path_factory.mktemp("defaults")
    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:24]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=6, eval_steps=6, save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "defaults"
    config.training.pop("seed", None)  # left to the default, so the card shows it
    result = run(config)
    assert result.state == "finished", result.message
    return Path(result.run_dir)


def _default_rows(card: str) -> list[str]:
    return [line for line in card.splitlines() if line.endswith(" (default) |")]


@pytest.mark.slow
def test_a_new_runs_card_renders_without_transformers(trained: Path) -> None:
    out = subprocess.run([sys.executable, "-c", RENDER, str(trained)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    imported, card = out.split("\n", 1)
    assert imported == "[]"
    assert card == render_model_card(trained, repo_id="alice/tiny")
    import dataclasses

    from transformers import TrainingArguments

    defaults = {f.name: f.default for f in dataclasses.fields(TrainingArguments)}
    expected = [f"| {key} | {getattr(defaults[key], 'value', defaults[key])} (default) |"
                for key in DEFAULT_SHOWN_KEYS + EVAL_DEFAULT_KEYS]  # the run evaluated; its config sets none of them
    assert _default_rows(card) == expected
    assert "| seed | 42 (default) |" in expected and "| per_device_eval_batch_size | 8 (default) |" in expected
    assert read_events(trained, "train_begin")[0]["trainer_defaults"] == {
        key: getattr(defaults[key], "value", defaults[key]) for key in DEFAULT_SHOWN_KEYS + EVAL_DEFAULT_KEYS}


@pytest.mark.slow
def test_a_run_from_before_the_record_gets_the_same_rows(trained: Path, tmp_path: Path) -> None:
    import shutil

    old = tmp_path / "old"
    shutil.copytree(trained, old)
    lines = []
    for line in (old / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        event.pop("trainer_defaults", None)
        lines.append(json.dumps(event))
    (old / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _default_rows(render_model_card(old)) == _default_rows(render_model_card(trained))
    assert len(_default_rows(render_model_card(old))) == len(DEFAULT_SHOWN_KEYS + EVAL_DEFAULT_KEYS)
