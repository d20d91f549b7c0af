"""Whether a finished run answers as a chat (the Try tab's Chat box, `generate`'s template): as the run decided it
from its data, not from a chat template its saved tokenizer happens to carry. A text run on a base whose tokenizer
ships a template (Qwen3-0.6B in the seed preset) was answered as a chat: 'Aries:' became
'<|im_start|>user\\nAries:…<|im_start|>assistant' (helper-50)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.generate import is_chat_run

TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"


@pytest.fixture
def templated_tokenizer(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": TEMPLATE}))
    return folder


def _config(source: str, chat_format: str = "auto"):
    config = default_config()
    config.dataset.source = source
    config.chat.format = chat_format
    return config


def test_a_text_run_with_a_templated_tokenizer_continues_the_prompt(templated_tokenizer: Path, tmp_path: Path) -> None:
    assert is_chat_run(_config("builtin:sample"), templated_tokenizer) is False  # the tutorial's text rows
    rows = tmp_path / "notes.jsonl"
    rows.write_text("".join(json.dumps({"text": f"note {i}"}) + "\n" for i in range(30)))
    assert is_chat_run(_config(str(rows)), templated_tokenizer) is False


def test_a_chat_run_is_a_chat_run(templated_tokenizer: Path, tmp_path: Path) -> None:
    rows = tmp_path / "chats.jsonl"
    rows.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                                     {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                            for i in range(30)))
    assert is_chat_run(_config(str(rows)), templated_tokenizer) is True
    assert is_chat_run(_config(str(rows)), None) is True  # the data decides, whatever the tokenizer holds
    assert is_chat_run(_config("builtin:sample", "messages"), None) is True  # a named format decides
    assert is_chat_run(_config(str(rows), "text"), templated_tokenizer) is False


def test_when_the_data_cannot_be_read_the_saved_template_decides(templated_tokenizer: Path, tmp_path: Path) -> None:
    """A Hub dataset (not fetched for this) or a local file gone since the run: the tokenizer is all there is."""
    assert is_chat_run(_config("someone/hub-chats"), templated_tokenizer) is True
    assert is_chat_run(_config(str(tmp_path / "gone.jsonl")), templated_tokenizer) is True
    assert is_chat_run(_config(str(tmp_path / "gone.jsonl")), tmp_path) is False
