"""The window's Start of a multi-process run (core.launch.claim, before the supervisor starts) validates as a
one-process Start does (core.training.run): the first chat rows rendered with the run's tokenizer, so data that
trains no token is refused before a run folder exists. And 'this machine' is looked up once per process: the
Launch tab asks at every check, on the GUI thread, and getfqdn is a reverse DNS lookup."""

from __future__ import annotations

import json
import socket

import pytest

from finetune_studio.core import launch
from finetune_studio.core.errors import ConfigError
from tests.helpers import small_config

LONG_QUESTION = "x " * 400  # max_length 64 cuts it before the reply


def test_claim_refuses_chat_rows_that_train_nothing_before_a_folder(demo_cache, runs_dir, tmp_path):
    data = tmp_path / "cut.jsonl"
    data.write_text("".join(json.dumps({"messages": [{"role": "user", "content": LONG_QUESTION},
                                                     {"role": "assistant", "content": "Fire."}]}) + "\n"
                            for _ in range(30)), encoding="utf-8")
    config = small_config(data, runs_dir, max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "two-processes"
    config.launch.processes = 2
    with pytest.raises(ConfigError) as refused:
        launch.claim(config)
    assert [(p.field, p.message.split(": ", 1)[1][:40]) for p in refused.value.problems] == [
        ("dataset.max_length", "none of its 30 rows has a token to train")]
    assert not (runs_dir / "two-processes").exists()


def test_this_machine_is_looked_up_once(monkeypatch):
    launch._this_machine_names.cache_clear()
    lookups: list[str] = []
    monkeypatch.setattr(socket, "getfqdn", lambda *a: lookups.append("getfqdn") or "node-a.example")
    monkeypatch.setattr(socket, "gethostname", lambda: "node-a")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(None, None, None, "", ("10.1.2.3", 0))])
    try:
        assert [launch.is_this_machine(h) for h in ("node-a", "10.1.2.3", "node-a.example", "node-b", "localhost")] \
            == [True, True, True, False, True]
        assert lookups == ["getfqdn"]
    finally:
        launch._this_machine_names.cache_clear()
