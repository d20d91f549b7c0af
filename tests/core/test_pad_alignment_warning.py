"""The demo's tokenizer has no pad token, so the run pads with its eos token and says so once; the Trainer then copies
that pad token into the model's config and transformers warned "The tokenizer has new PAD/BOS/EOS tokens that
differ from the model config ... Updated tokens: {'pad_token_id': 0}." in every demo run's log, the first thing a new
user read. A changed bos or eos token is still said: generation stops on it."""

from __future__ import annotations

import logging
from pathlib import Path

from finetune_studio.core.training import _WarningsToEvents, run
from tests.helpers import SAMPLE, read_events, small_config

ALIGNED = ("The tokenizer has new PAD/BOS/EOS tokens that differ from the model config and generation config. The "
           "model config and generation config were aligned accordingly, being updated with the tokenizer's values. "
           "Updated tokens: {}.")


def test_the_demo_run_says_its_pad_token_once_and_not_the_librarys_alignment(tmp_path: Path) -> None:
    data = tmp_path / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:40]) + "\n", encoding="utf-8")
    config = small_config(data, tmp_path / "runs", max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    result = run(config)
    assert result.state == "finished", result.message
    said = [e["message"] for e in read_events(Path(result.run_dir), "warning")]
    assert not [m for m in said if "PAD/BOS/EOS" in m], said
    notes = [e["message"] for e in read_events(Path(result.run_dir), "notice")]
    assert [m for m in notes if "no pad token" in m] == [
        "The tokenizer has no pad token; using its eos token '<|endoftext|>' for padding."]


def _emitted(message: str) -> list[str]:
    events: list[str] = []
    handler = _WarningsToEvents(lambda event: events.append(event["message"]))
    handler.emit(logging.LogRecord("transformers.trainer_utils", logging.WARNING, __file__, 1, message, None, None))
    return events


def test_a_changed_eos_or_bos_token_is_still_said() -> None:
    assert _emitted(ALIGNED.format("{'pad_token_id': 0}")) == []
    eos = ALIGNED.format("{'eos_token_id': 7, 'pad_token_id': 7}")
    assert _emitted(eos) == [eos]
    bos = ALIGNED.format("{'bos_token_id': 1}")
    assert _emitted(bos) == [bos]
