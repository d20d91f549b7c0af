"""Chat ticked on a text run (the Try tab's Chat box, or `generate --chat`-like calls of answer_both(chat=True)).

The run trained on plain text, so it has no chat template of its own and its tokenizer no ChatML tokens. Finding
the template used to go through the chat core's template plan, which adds ChatML's control tokens to the loaded
tokenizer (as a chat *run* does before it grows its model's embeddings): the fine-tuned model, which has no rows for
them, then failed every chat prompt with "IndexError: index out of range in self" (helper-53 noticed). A text run
is chatted with through its tokenizer's own template, or ChatML as plain text, and the tokenizer is left as it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import generate as g
from finetune_studio.core.config import ModelConfig


@pytest.fixture(scope="module")
def demo_dir(demo_cache: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    return demo_model_path()


def test_chatting_with_a_text_run_answers_on_both_sides_and_leaves_its_tokenizer_as_it_was(demo_dir: Path) -> None:
    source = g.Source(g.Target("demo", demo_dir, None), ModelConfig())
    assert not source.chat
    loaded = g.load(source, where="cpu")
    vocabulary = len(loaded.tokenizer)
    events: list[dict] = []
    conversation = g.Conversation()
    answers = g.answer_both(loaded, "Leo", g.GenerationSettings(max_new_tokens=5), conversation, sink=events.append,
                            chat=True)
    assert [e["message"] for e in events if e["event"] == "error"] == []
    assert set(answers) == {"base", "tuned"} and all(a.tokens == 5 for a in answers.values())
    assert len(loaded.tokenizer) == vocabulary  # no control token added: no model has rows for one
    rendered = next(e["text"] for e in events if e["event"] == "rendered" and e["side"] == "tuned")
    assert rendered == "<|im_start|>user\nLeo<|im_end|>\n<|im_start|>assistant\n"  # ChatML, read as the text it is
    assert [m["role"] for m in conversation.history["tuned"]] == ["user", "assistant"]

    again = g.answer_both(loaded, "And Virgo?", g.GenerationSettings(max_new_tokens=5), conversation, chat=True)
    assert set(again) == {"base", "tuned"}  # the second turn too, with the first in its prompt
    assert len(loaded.tokenizer) == vocabulary
