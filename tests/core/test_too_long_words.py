"""A prompt longer than the model reads, in the Try tab's words: "start a new conversation" only for a chat with
earlier turns (it was said for a text prompt, and for a comparison, which have none), and a long system prompt's
share said (it was blamed on the prompt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import generate as g


@pytest.fixture(scope="module")
def loaded(demo_cache: Path) -> g.Loaded:
    from finetune_studio.core.demo import demo_model_path

    return g.load(g.resolve(demo_model_path()), where="cpu")  # a text model folder: it answers alone, 512 tokens


def _refused(loaded: g.Loaded, prompt: str, conversation: g.Conversation | None = None,
             chat: bool = False) -> str:
    with pytest.raises(g.PromptTooLong) as caught:
        g.answer_both(loaded, prompt, g.GenerationSettings(max_new_tokens=2), conversation, chat=chat)
    return str(caught.value)


def test_a_text_prompt_too_long_says_shorten_it_without_a_conversation(loaded: g.Loaded) -> None:
    said = _refused(loaded, "word " * 600)
    assert said.startswith("The prompt is ") and said.endswith("tokens long; this model reads at most 512. To fix: "
                                                               "shorten it.")


def test_a_first_chat_turn_too_long_has_no_conversation_to_start_anew(loaded: g.Loaded) -> None:
    said = _refused(loaded, "word " * 600, g.Conversation(), chat=True)
    assert "conversation" not in said and said.endswith("To fix: shorten it.")


def test_a_chat_with_earlier_turns_says_start_a_new_conversation(loaded: g.Loaded) -> None:
    conversation = g.Conversation()
    conversation.add(g.TUNED, "word " * 240, "an answer")
    said = _refused(loaded, "word " * 40, conversation, chat=True)
    assert said.startswith("The conversation so far and this prompt are ")
    assert said.endswith("this model reads at most 512. To fix: shorten the prompt, or start a new conversation.")


def test_a_long_system_prompt_says_how_many_tokens_it_takes(loaded: g.Loaded) -> None:
    said = _refused(loaded, "Aries", g.Conversation(system="word " * 300), chat=True)
    system = int(said.split("The system prompt takes ")[1].split(" ")[0])
    assert system >= 300 and said.startswith("The prompt is ")
    assert said.endswith(f"this model reads at most 512. The system prompt takes {system} of them. To fix: shorten "
                         "the prompt or the system prompt.")
