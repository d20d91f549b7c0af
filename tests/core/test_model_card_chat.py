"""A chat run's model card says what the run trained on as its log says it (rows, loss, template), with a chat
usage snippet (helper-45: it said 'text column horoscope' and showed a plain-text prompt); a run name holding
newlines stays one heading."""

from __future__ import annotations

import json
from pathlib import Path

from finetune_studio.core.model_card import render_model_card
from tests.hub_fixtures import make_finished_run

ROWS = ("Rows are conversations in the 'messages' column (lists of role/content messages); the loss is on the "
        "assistant replies.")
TEMPLATE = "Chat template: ChatML (the tokenizer has none)."


def _notice(run_dir: Path, message: str) -> None:
    with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps({"event": "notice", "message": message, "time": 1.0}) + "\n")


def test_a_chat_runs_card_says_its_rows_loss_and_template_and_shows_a_chat_call(tmp_path: Path) -> None:
    run_dir = make_finished_run(tmp_path / "runs")
    _notice(run_dir, ROWS)
    _notice(run_dir, TEMPLATE)
    card = render_model_card(run_dir, repo_id="alice/chat")
    assert f"split `train`. {ROWS}" in card and "text column" not in card
    assert f"- {TEMPLATE}" in card
    assert 'messages = [{"role": "user", "content": "Hello!"}]' in card and "Once upon a time" not in card


def test_a_plain_text_runs_card_is_as_before(tmp_path: Path) -> None:
    card = render_model_card(make_finished_run(tmp_path / "runs"), repo_id="alice/text")
    assert "text column `horoscope`" in card and "Chat template" not in card and "Once upon a time" in card


def test_a_run_name_with_newlines_stays_one_heading(tmp_path: Path) -> None:
    from finetune_studio.core.config import load_config, save_config

    run_dir = make_finished_run(tmp_path / "runs")
    config, _ = load_config(run_dir / "config.yaml")
    config.name = "line1\nline2 ---\n# heading\n"  # edited by hand after training (validate refuses it)
    save_config(config, run_dir / "config.yaml")
    card = render_model_card(run_dir)
    headings = [line for line in card.splitlines() if line.startswith("# ")]
    assert headings == ["# line1 line2 --- # heading"]
