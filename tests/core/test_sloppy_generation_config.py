"""A run on a base whose generation_config.json sets sampling settings without do_sample (Llama-2's temperature
0.6 and top_p 0.9) failed at its first checkpoint, the tutorial's text recipe as well as a chat run: the Trainer
aligns the config's pad token with the tokenizer's, and a chat run adds its end of turn to the stops, and
transformers 5 refuses to save a changed config it finds invalid ("GenerationConfig is invalid ... Fix these issues
to save the configuration"; found from helper-99's suspicion about export). generate ignores those settings without
do_sample, so they are unset (core.chat.saveable) and the run log says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.chat import saveable
from tests.core.test_generate_chat_stops import ROWS
from tests.helpers import SAMPLE, demo_model_copy, read_events, small_config


def test_only_sampling_settings_without_do_sample_are_unset() -> None:
    from transformers import GenerationConfig

    sloppy = GenerationConfig.from_dict({"temperature": 0.6, "top_p": 0.9, "eos_token_id": [5, 0]})
    assert saveable(sloppy) == ["temperature 0.6", "top_p 0.9"]
    assert (sloppy.temperature, sloppy.top_p, sloppy.eos_token_id) == (None, None, [5, 0])
    sloppy.validate(strict=True)  # what save_pretrained asks of a changed config: no longer raises
    sampling = GenerationConfig.from_dict({"do_sample": True, "temperature": 0.6, "top_p": 0.9})
    assert saveable(sampling) == [] and (sampling.temperature, sampling.top_p) == (0.6, 0.9)
    plain = GenerationConfig.from_dict({"eos_token_id": 0})
    assert saveable(plain) == [] and plain.to_dict() == GenerationConfig.from_dict({"eos_token_id": 0}).to_dict()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["text", "chat"])
def test_a_run_on_such_a_base_saves_its_checkpoints_and_says_what_it_unset(demo_cache: Path, tmp_path: Path,
                                                                          kind: str) -> None:
    from finetune_studio.core.training import run

    base = demo_model_copy(tmp_path / "base", temperature=0.6, top_p=0.9)
    data = tmp_path / "rows.jsonl"
    rows = SAMPLE.read_text(encoding="utf-8").splitlines()[:64] if kind == "text" else [json.dumps(r) for r in ROWS]
    data.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    config = small_config(data, tmp_path / "runs", max_steps=2, eval_strategy="no", save_strategy="steps",
                          save_steps=1, load_best_model_at_end=False)
    config.model.name_or_path = str(base)
    config.name = "sloppy"
    result = run(config)
    assert result.state == "finished", result.message
    run_dir = Path(result.run_dir)
    for folder in (run_dir / "checkpoint-1", run_dir / "model"):
        saved = json.loads((folder / "generation_config.json").read_text(encoding="utf-8"))
        assert saved["eos_token_id"] == ([1458, 0] if kind == "chat" else 0)  # a chat's end of turn first
        assert "temperature" not in saved and "top_p" not in saved
    said = [e["message"] for e in read_events(run_dir, "warning") + read_events(run_dir, "notice")
            if "without do_sample" in e.get("message", "")]
    assert said and said[0].startswith("The base model's generation_config sets temperature 0.6, top_p 0.9 without "
                                       "do_sample, so generate ignores them and decodes greedily")
