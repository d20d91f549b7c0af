"""ShareGPT rows are read, and named when wrong, in ShareGPT's words. Detection reads 'From'/'Value' case-
insensitively, but TRL's maybe_convert_to_chatml renames only 'from'/'value' as written, so such rows were refused
with "has no 'role' and no 'content' ... a message looks like {"role": "user", ...}" (keys the user never wrote);
a message lacking its 'value' was said to lack 'content'."""

from __future__ import annotations

import pytest

from finetune_studio.core.chat import detect_format, render_and_label
from finetune_studio.core.config import ChatConfig


@pytest.fixture()
def tokenizer(demo_cache):
    from transformers import AutoTokenizer

    from finetune_studio.core.demo import demo_model_path

    return AutoTokenizer.from_pretrained(demo_model_path())


def test_capitalised_keys_train_the_gpt_turn(tokenizer) -> None:
    row = {"conversations": [{"From": "system", "Value": "Be brief."}, {"From": "Human", "Value": "Hi"},
                             {"From": "GPT", "Value": "Hello."}]}
    assert detect_format([row], ["conversations"]).format == "sharegpt"
    roles = render_and_label(tokenizer, row, ChatConfig(), 512)
    assert roles.problems == []
    assert roles.text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                          "<|im_start|>assistant\nHello.<|im_end|>\n")
    assert tokenizer.decode([t for t in roles.labels if t != -100]) == "Hello.<|im_end|>\n"
    plain = render_and_label(tokenizer, {"conversations": [{"from": "system", "value": "Be brief."},
                                                          {"from": "human", "value": "Hi"},
                                                          {"from": "gpt", "value": "Hello."}]}, ChatConfig(), 512)
    assert (plain.input_ids, plain.labels) == (roles.input_ids, roles.labels)


def test_a_message_without_its_value_is_named_in_sharegpt_words(tokenizer) -> None:
    row = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt"}]}
    roles = render_and_label(tokenizer, row, ChatConfig(), 512)
    assert roles.problems == ["message 2 of column 'conversations' has no 'value' (it has only 'from'); a message "
                              'looks like {"from": "human", "value": "Hi"}']
