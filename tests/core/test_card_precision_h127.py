"""A run whose precision is "auto" records what it trained in (the train_begin event's `precision`: fp32, bf16 or
fp16, as core.hardware chose), and the model card says it ("bf16 (auto, chosen for the hardware)"); a run from before
the record keeps "auto (chosen for the hardware)"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.config import precision_of
from finetune_studio.core.model_card import render_model_card
from tests.helpers import SAMPLE, read_events, small_config
from tests.hub_fixtures import make_finished_run


def _precision_rows(card: str) -> list[str]:
    return [line for line in card.splitlines() if line.startswith("| precision |")]


@pytest.mark.slow
def test_an_auto_run_records_and_its_card_says_what_it_trained_in(tmp_path: Path) -> None:
    from finetune_studio.core.hardware import detect
    from finetune_studio.core.training import run

    data = tmp_path / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:16]) + "\n", encoding="utf-8")
    config = small_config(data, tmp_path / "runs", max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "auto-precision"
    assert precision_of(config.training) == "auto"
    result = run(config)
    assert result.state == "finished", result.message
    chosen = detect().auto_precision  # fp32 on a CPU; bf16 on a GPU that has it
    begins = read_events(result.run_dir, "train_begin")
    assert [e["precision"] for e in begins] == [chosen]
    # core.events declares every key the event carries (the two new ones as NotRequired: older runs lack them).
    from typing import get_type_hints

    from finetune_studio.core.events import TrainBeginEvent

    assert set(begins[0]) <= set(get_type_hints(TrainBeginEvent)), set(begins[0]) - set(get_type_hints(TrainBeginEvent))
    assert {"precision", "trainer_defaults"} <= TrainBeginEvent.__optional_keys__
    assert _precision_rows(render_model_card(result.run_dir)) == [
        f"| precision | {chosen} (auto, chosen for the hardware) |"]


def _with_begins(run_dir: Path, *precisions: str | None) -> Path:
    with (run_dir / "metrics.jsonl").open("a", encoding="utf-8") as log:
        for at, precision in enumerate(precisions):
            event = {"event": "train_begin", "step": 6 * at, "max_steps": 12, "num_train_epochs": 1,
                     "start_step": 6 * at, "epoch": at / 2, "epochs_total": 1.0, "time": 20.0 + at}
            if precision is not None:
                event["precision"] = precision
            log.write(json.dumps(event) + "\n")
    return run_dir


def test_the_card_says_the_recorded_precision(tmp_path: Path) -> None:
    run_dir = _with_begins(make_finished_run(tmp_path / "runs"), "bf16")
    assert _precision_rows(render_model_card(run_dir)) == ["| precision | bf16 (auto, chosen for the hardware) |"]


def test_a_resume_on_other_hardware_says_both(tmp_path: Path) -> None:
    run_dir = _with_begins(make_finished_run(tmp_path / "runs"), "fp16", "bf16", "bf16")
    assert _precision_rows(render_model_card(run_dir)) == [
        "| precision | fp16, then bf16 (auto, chosen for the hardware) |"]


@pytest.mark.parametrize("begins", [(), (None,)])
def test_an_old_run_without_the_record_keeps_auto(tmp_path: Path, begins: tuple) -> None:
    run_dir = _with_begins(make_finished_run(tmp_path / "runs"), *begins)
    assert _precision_rows(render_model_card(run_dir)) == ["| precision | auto (chosen for the hardware) |"]
