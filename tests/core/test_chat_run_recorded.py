"""A finished run answers as a chat or as text the way it trained, as it recorded it when training began
(status.json's "chat", RunFolder.trained_as_chat), not as its data reads now: deciding again read the dataset on
the GUI thread each time the Try tab listed a run (~0.2 s, datasets imported), could not be done for a Hub dataset
or data moved since, and then fell back on the chat template the saved tokenizer carries, which a text run on a
base like Qwen3 has all the same: it was answered as a chat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import chat
from finetune_studio.core.generate import resolve
from finetune_studio.core.runs import RunFolder
from tests.helpers import SAMPLE, small_config, update_json

TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
CHATS = [{"messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": f"Answer {i}."}]}
         for i in range(24)]


def _trained(root: Path, name: str, rows: list[str]) -> Path:
    from finetune_studio.core.training import run

    data = root / f"{name}.jsonl"
    data.write_text("".join(line + "\n" for line in rows), encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=1, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = name
    result = run(config)
    assert result.state == "finished", result.message
    data.unlink()  # the data is gone since (moved, or a Hub dataset this machine does not fetch)
    return Path(result.run_dir)


@pytest.fixture(scope="module")
def runs(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("recorded")
    text = _trained(root, "text", SAMPLE.read_text(encoding="utf-8").splitlines()[:24])
    update_json(RunFolder(text).model_dir / "tokenizer_config.json", chat_template=TEMPLATE)  # as Qwen3's carries
    return {"text": text, "chat": _trained(root, "chat", [json.dumps(row) for row in CHATS])}


@pytest.mark.slow
def test_each_run_records_how_it_trained(runs: dict[str, Path]) -> None:
    assert json.loads((runs["text"] / "status.json").read_text())["chat"] is False
    assert json.loads((runs["chat"] / "status.json").read_text())["chat"] is True
    assert (RunFolder(runs["text"]).trained_as_chat(), RunFolder(runs["chat"]).trained_as_chat()) == (False, True)


@pytest.mark.slow
def test_the_recorded_decision_picks_chat_or_text_without_reading_the_data(runs: dict[str, Path],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def no_read(config: object) -> None:
        raise AssertionError("the run's dataset was read to tell chat from text")

    monkeypatch.setattr(chat, "first_rows", no_read)
    assert resolve(runs["text"]).chat is False  # its tokenizer's template does not make it a chat
    assert resolve(runs["chat"]).chat is True
    assert resolve(runs["text"] / "model").chat is False  # the final model's folder inside the run too


@pytest.mark.slow
def test_a_run_from_before_the_record_still_decides_from_its_files(runs: dict[str, Path]) -> None:
    status = json.loads((runs["chat"] / "status.json").read_text())
    try:
        update_json(runs["chat"] / "status.json", chat=None)  # as a run written before the app recorded it
        assert RunFolder(runs["chat"]).trained_as_chat() is None
        assert resolve(runs["chat"]).chat is True  # data gone: the chat template saved with its tokenizer decides
    finally:
        (runs["chat"] / "status.json").write_text(json.dumps(status))
