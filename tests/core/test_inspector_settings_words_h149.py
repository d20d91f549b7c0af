"""The Inspector's problems are worded for the settings in force: a row cut before its reply is not told to 'drop
such rows' when chat.drop_untrained_rows is already on, and a reply without its end-of-turn token is not told to
'train on every token' when train_on is already 'all'."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import default_config
from finetune_studio.core.inspector import Inspector

NO_END_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}"
                   "{% endgeneration %}{% else %}{{ m['content'] + ' ' }}{% endif %}{% endfor %}")
GOOD = {"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}]}
LONG = {"messages": [{"role": "user", "content": "word " * 80}, {"role": "assistant", "content": "Short."}]}


@pytest.fixture(scope="module")
def tokenizer(demo_cache: Path) -> Any:
    from finetune_studio.core.config import ModelConfig
    from finetune_studio.core.model import load_tokenizer

    return load_tokenizer(ModelConfig())


def problem(tokenizer: Any, rows: list[dict], tmp_path: Path, kind: str, max_length: int, **chat: Any):
    config = default_config()
    config.dataset.max_length = max_length
    for key, value in chat.items():
        setattr(config.chat, key, value)
    ins = Inspector(config, cache=tmp_path / "cache").load(tokenizer=tokenizer, ds=rows)
    return next(p for p in ins.check().problems(ins.chat) if p.kind == kind)


def test_cut_before_reply_with_rows_already_dropped(tokenizer: Any, tmp_path: Path) -> None:
    off = problem(tokenizer, [GOOD, LONG], tmp_path, "cut_before_reply", 64)
    assert off.message == ("1 row trains nothing: max_length (64 tokens) cuts it before the reply starts. To fix: "
                           "raise max_length, or drop such rows.")
    on = problem(tokenizer, [GOOD, LONG, LONG], tmp_path, "cut_before_reply", 64, drop_untrained_rows=True)
    assert on.message == ("2 rows train nothing: max_length (64 tokens) cuts them before the reply starts. "
                          "chat.drop_untrained_rows is on, so a run leaves them out. To fix, to train them: raise "
                          "max_length.")
    assert on.count == 2 and [f.label for f in on.fixes] == ["Raise max_length to 192"]


def test_end_not_trained_when_every_token_already_trains(tokenizer: Any, tmp_path: Path) -> None:
    assistant = problem(tokenizer, [GOOD], tmp_path, "end_not_trained", 512, template=NO_END_TEMPLATE)
    assert assistant.message.endswith("To fix: pick a chat template that ends each turn with a token, or train on "
                                      "every token.")
    every = problem(tokenizer, [GOOD, GOOD], tmp_path, "end_not_trained", 512, template=NO_END_TEMPLATE,
                    train_on="all")
    assert every.message == ("2 rows train a reply without its end-of-turn token, so the model would not learn to "
                             "stop. Every token already trains (train_on 'all'): the chat template ends a turn with "
                             "no special token. To fix: pick a chat template that ends each turn with a token "
                             "(chatml).")
    assert every.count == 2 and every.fixes == []
