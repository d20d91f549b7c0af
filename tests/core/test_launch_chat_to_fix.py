"""Messages about a launch.rdzv_endpoint that is no text, and a chat.format / chat.train_on the app does not read,
say what is wrong with the value as the config file writes it and what to write instead ("To fix: ...").

The endpoint's message printed Python's form (`got True`, `got ['node0', 'node1']`) while the Launch tab's field
shows YAML's (`true`, `[node0, node1]`), and said nothing of what to do; chat.format's named the formats but not the
nearest one to a typo, and neither said "To fix"."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_studio.core.chat import check_config
from finetune_studio.core.config import RunConfig, from_yaml
from finetune_studio.core.launch import launch_problems
from finetune_studio.core.validation import validate

ENDPOINT_FIX = ("To fix: write machine 0's address and a free port as text, e.g. 192.168.1.10:29500, or leave it "
                "empty on one machine.")
FORMATS = "auto, text, prompt_completion, alpaca, messages, sharegpt"


@pytest.mark.parametrize(("written", "said"), [
    ("[node0, node1]", "[node0, node1], a list"),
    ("!!bool true", "true, a true/false value"),
    ("!!bool false", "false, a true/false value"),
    ("{host: node0, port: 29500}", "{host: node0, port: 29500}, a mapping"),
    ("[]", "[], a list"),
], ids=["list", "true", "false", "mapping", "empty list"])
def test_an_endpoint_that_is_no_text_is_named_as_written_with_a_fix(written: str, said: str) -> None:
    config, _ = from_yaml(f"name: r\nlaunch:\n  processes: 2\n  rdzv_endpoint: {written}\n")
    expected = f"The rendezvous endpoint must be text such as 192.168.1.10:29500 (got {said}). {ENDPOINT_FIX}"
    assert [p.message for p in launch_problems(config, gpu_count=0, here=False)
            if p.field == "launch.rdzv_endpoint"] == [expected]
    # validate() passes the same words on (they stand under the Launch tab's field)
    assert [p.message for p in validate(config, check_files=False) if p.field == "launch.rdzv_endpoint"] == [expected]


def _chat_messages(key: str, value: Any) -> list[str]:
    config = RunConfig()
    setattr(config.chat, key.split(".")[1], value)
    return [message for field, message in check_config(config.chat) if field == key]


@pytest.mark.parametrize(("value", "expected"), [
    ("mesages", f"chat.format 'mesages' is not a row format. Did you mean 'messages'? To fix: write messages (the "
                f"choices: {FORMATS})."),
    ("Alpaca", f"chat.format 'Alpaca' is not a row format. Did you mean 'alpaca'? To fix: write alpaca (the choices: "
               f"{FORMATS})."),
    ("sharegtp", f"chat.format 'sharegtp' is not a row format. Did you mean 'sharegpt'? To fix: write sharegpt (the "
                 f"choices: {FORMATS})."),
    ("chatml_typo", f"chat.format 'chatml_typo' is not a row format. To fix: write one of {FORMATS}."),
    (["text"], f"chat.format must be a name, not a list (got [text]). To fix: write one of {FORMATS}."),
    ({"messages": 1}, f"chat.format must be a name, not a mapping (got {{messages: 1}}). To fix: write one of "
                      f"{FORMATS}."),
    (True, f"chat.format must be a name, not a true/false value (got true). To fix: write one of {FORMATS}."),
    (None, f"chat.format has no value. To fix: write one of {FORMATS}."),
], ids=["typo", "case", "swap", "far", "list", "mapping", "true", "none"])
def test_a_format_the_app_does_not_read_names_the_nearest_and_the_fix(value: Any, expected: str) -> None:
    assert _chat_messages("chat.format", value) == [expected]
    config = RunConfig()
    config.chat.format = value
    assert [p.message for p in validate(config, check_files=False) if p.field == "chat.format"] == [expected]


def test_a_train_on_the_app_does_not_read_names_the_nearest_and_the_fix() -> None:
    assert _chat_messages("chat.train_on", "assistent") == [
        "chat.train_on 'assistent' is not a choice of which tokens to train. Did you mean 'assistant'? To fix: write "
        "assistant (the choices: auto, assistant, completion, all)."]
    assert _chat_messages("chat.train_on", ["all"]) == [
        "chat.train_on must be a name, not a list (got [all]). To fix: write one of auto, assistant, completion, all."]


def test_every_format_and_train_on_the_app_reads_is_still_accepted() -> None:
    for fmt in FORMATS.split(", "):
        assert _chat_messages("chat.format", fmt) == []
    for train_on in ("auto", "assistant", "completion", "all"):
        assert _chat_messages("chat.train_on", train_on) == []
