"""A chat adapter run saved before its saves wrote generation_config.json (before 02da590; or a run whose final save
was finished on resume from such a checkpoint) exported with its base's stops alone: the merged model's
generation_config said eos_token_id 0 on the demo, so `model.generate` on the export ran on past <|im_end|> to
max_new_tokens, and the adapter export carried no generation_config.json to load (helper-93). Both now get the
template's end of turn among the stops, as a newer run's model folder holds it. The app's own answers (Try tab,
`generate --checkpoint N`) stopped right all along: core.generate stops at the rendered template's end of turn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import export
from tests.core.test_generate_chat_stops import _emit_at, lora_chat_run  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow


@pytest.fixture
def old_chat_run(lora_chat_run: Path, tmp_path: Path) -> tuple[Path, dict]:
    """A copy of the chat LoRA run whose model folder lacks generation_config.json, and what the file held."""
    copy = tmp_path / "runs" / "old-chat"
    shutil.copytree(lora_chat_run, copy)
    saved = copy / "model" / "generation_config.json"
    held = json.loads(saved.read_text(encoding="utf-8"))
    saved.unlink()
    return copy, held


def _stops(held: dict) -> tuple:
    return held["eos_token_id"], held.get("pad_token_id")


def test_a_merged_export_of_an_old_chat_run_stops_at_the_end_of_turn(old_chat_run: tuple[Path, dict],
                                                                    tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run, held = old_chat_run
    assert _stops(held) == ([1458, 0], 0)  # <|im_end|> first, then the demo's own EOS: what a run saves now
    out = tmp_path / "merged"
    export.export_merged(run, out)
    written = json.loads((out / "generation_config.json").read_text(encoding="utf-8"))
    assert _stops(written) == _stops(held)
    sizes = dict(export.merged_files(run))  # the push's list names the file the merge writes, at its size
    assert sizes["generation_config.json"] == (out / "generation_config.json").stat().st_size

    model = AutoModelForCausalLM.from_pretrained(str(out))
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": "Which sign is day 3?"}],
                                           add_generation_prompt=True, return_tensors="pt", return_dict=True)
    handle = _emit_at(model, end, step=4)
    try:
        output = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    finally:
        handle.remove()
    reply = output[0, inputs["input_ids"].shape[1]:].tolist()
    assert (len(reply), reply[-1]) == (4, end)  # 3 reply tokens, then the end of turn: no run-on to 20


def test_an_adapter_export_of_an_old_chat_run_carries_the_stops_and_says_to_load_them(
        old_chat_run: tuple[Path, dict], tmp_path: Path) -> None:
    run, held = old_chat_run
    out = tmp_path / "adapter"
    result = export.export_adapter(run, out)
    assert "generation_config.json" in result.files
    assert _stops(json.loads((out / "generation_config.json").read_text(encoding="utf-8"))) == _stops(held)
    assert result.message.endswith(" peft answers with the base model's generation_config, which does not stop at "
                                   "the end of a chat reply: load this one too, model.generation_config = "
                                   f"GenerationConfig.from_pretrained('{out}'), or replies run on past the end of "
                                   "turn.")
    assert not (run / "model" / "generation_config.json").exists()  # the run's own folder is left as it was


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "from-its-config"])
def test_a_text_run_gets_no_stops_of_a_template(recorded: bool, old_chat_run: tuple[Path, dict],
                                                tmp_path: Path) -> None:
    """The same run as a text run (its tokenizer still carries the template): as it recorded it when training began
    (status.json chat false), or, for a run from before that record, as its config says (chat.format text).
    Nothing is added: the export is the copy it was."""
    import yaml

    run, _held = old_chat_run
    status = json.loads((run / "status.json").read_text(encoding="utf-8"))
    assert status.pop("chat") is True  # what the chat run recorded
    if recorded:
        status["chat"] = False
    else:
        config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
        config.setdefault("chat", {})["format"] = "text"
        (run / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (run / "status.json").write_text(json.dumps(status), encoding="utf-8")
    result = export.export_adapter(run, tmp_path / "adapter")
    assert "generation_config.json" not in result.files
    assert result.message.endswith("AutoPeftModelForCausalLM.from_pretrained('" + str(tmp_path / "adapter") + "').")
