"""core.generate.Conversation.drop_last: a turn that not every side answered is taken out of the sides that did
(the Try tab's _answered), by core rather than by the GUI deleting messages from the history lists."""

from __future__ import annotations

from finetune_studio.core.generate import BASE, TUNED, Conversation


def test_drop_last_removes_exactly_that_sides_last_turn() -> None:
    conversation = Conversation(system="Be brief.")
    conversation.add(BASE, "Leo", "fire")
    conversation.add(TUNED, "Leo", "Fire sign.")
    conversation.add(BASE, "Aries", "ram")
    conversation.add(TUNED, "Aries", "The ram.")
    assert conversation.drop_last(BASE) is True
    assert conversation.history[BASE] == [{"role": "user", "content": "Leo"}, {"role": "assistant", "content": "fire"}]
    assert conversation.history[TUNED] == [
        {"role": "user", "content": "Leo"}, {"role": "assistant", "content": "Fire sign."},
        {"role": "user", "content": "Aries"}, {"role": "assistant", "content": "The ram."}]
    assert conversation.system == "Be brief." and conversation.turns == 2


def test_drop_last_only_drops_the_turn_it_is_told_of() -> None:
    """Given the turn (prompt, answer) it is to take out, a side whose last turn is another one is left as it is."""
    conversation = Conversation()
    conversation.add(TUNED, "Leo", "Fire sign.")
    assert conversation.drop_last(TUNED, ("Leo", "Water sign.")) is False
    assert conversation.drop_last(TUNED, ("Virgo", "Fire sign.")) is False
    assert conversation.history[TUNED] == [{"role": "user", "content": "Leo"},
                                           {"role": "assistant", "content": "Fire sign."}]
    assert conversation.drop_last(TUNED, ("Leo", "Fire sign.")) is True
    assert conversation.history == {BASE: [], TUNED: []}


def test_drop_last_on_an_empty_history_changes_nothing() -> None:
    """No turn to drop: nothing happens (False), on that side or the other; a dangling user message (no answer)
    is not half a turn to take."""
    conversation = Conversation()
    conversation.add(TUNED, "Leo", "Fire sign.")
    assert conversation.drop_last(BASE) is False
    assert conversation.history[BASE] == [] and len(conversation.history[TUNED]) == 2
    conversation.history[BASE].append({"role": "user", "content": "Aries"})
    assert conversation.drop_last(BASE) is False
    assert conversation.history[BASE] == [{"role": "user", "content": "Aries"}]
