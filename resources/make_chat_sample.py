#!/usr/bin/env python3
"""Generate the built-in conversational sample (resources/sample_chats.jsonl, dataset id 'builtin:chat').

Standard library only and fully deterministic (``random.Random(4321)`` and the templates below): running it twice
gives byte-identical files. Each line is one OpenAI-style chat, {"messages": [{"role", "content"}, ...]}: a user
asks an astrologer about a sign, the assistant answers in one or two short sentences; some chats open with a
system prompt and some have a follow-up turn. The answers follow fixed facts (each sign's element, ruling planet
and dates), so a small model can learn both what to say and when to stop, which is what chat fine-tuning on the
demo model is meant to show.

Usage::

    python resources/make_chat_sample.py            # regenerate in place
    python resources/make_chat_sample.py OUT.jsonl  # write elsewhere
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 4321
NUM_CHATS = 3000
DEFAULT_OUT = Path(__file__).resolve().parent / "sample_chats.jsonl"

SIGNS = {
    "Aries": ("fire", "Mars", "March 21 to April 19"),
    "Taurus": ("earth", "Venus", "April 20 to May 20"),
    "Gemini": ("air", "Mercury", "May 21 to June 20"),
    "Cancer": ("water", "the Moon", "June 21 to July 22"),
    "Leo": ("fire", "the Sun", "July 23 to August 22"),
    "Virgo": ("earth", "Mercury", "August 23 to September 22"),
    "Libra": ("air", "Venus", "September 23 to October 22"),
    "Scorpio": ("water", "Pluto", "October 23 to November 21"),
    "Sagittarius": ("fire", "Jupiter", "November 22 to December 21"),
    "Capricorn": ("earth", "Saturn", "December 22 to January 19"),
    "Aquarius": ("air", "Uranus", "January 20 to February 18"),
    "Pisces": ("water", "Neptune", "February 19 to March 20"),
}
COLORS = ["red", "blue", "green", "gold", "silver", "violet", "orange", "white", "teal"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TOPICS = ["love", "work", "money", "health", "friends", "family"]
MOODS = ["calm", "bold", "curious", "hopeful", "playful", "steady", "bright", "gentle"]
ADVICE = {
    "love": ["say what you feel", "plan a quiet evening", "listen more than you speak", "write a short note"],
    "work": ["finish one task at a time", "ask for the help you need", "share your idea early", "rest at noon"],
    "money": ["wait before you spend", "check your accounts", "save a little each day", "avoid a risky bet"],
    "health": ["drink more water", "take a long walk", "sleep early", "stretch in the morning"],
    "friends": ["call an old friend", "say yes to an invitation", "forgive a small slight", "share a meal"],
    "family": ["visit a sibling", "cook for someone you love", "keep a promise", "ask about their day"],
}
SYSTEM_PROMPTS = [
    "You are a friendly astrologer. Answer in one or two short sentences.",
    "You are Stella, an astrology assistant. Keep answers brief.",
    "Answer questions about the zodiac briefly and kindly.",
]


def _fact_question(rng: random.Random, sign: str) -> tuple[str, str]:
    element, planet, dates = SIGNS[sign]
    kind = rng.randrange(3)
    if kind == 0:
        return (rng.choice([f"Which element is {sign}?", f"What element does {sign} belong to?",
                            f"Is {sign} a fire, earth, air or water sign?"]),
                f"{sign} is a {element} sign.")
    if kind == 1:
        return (rng.choice([f"Which planet rules {sign}?", f"Who is the ruler of {sign}?",
                            f"What is the ruling planet of {sign}?"]),
                f"{sign} is ruled by {planet}.")
    return (rng.choice([f"When is {sign} season?", f"What are the dates for {sign}?",
                        f"Which birthdays fall under {sign}?"]),
            f"{sign} runs from {dates}.")


def _reading(rng: random.Random, sign: str) -> tuple[str, str]:
    topic = rng.choice(TOPICS)
    day = rng.choice(DAYS)
    question = rng.choice([f"What does this week hold for {sign} in {topic}?",
                           f"Any {topic} advice for a {sign}?",
                           f"I'm a {sign}. How will {day} go for my {topic}?"])
    answer = (f"A {rng.choice(MOODS)} {day} for {sign}: {rng.choice(ADVICE[topic])}."
              + (f" Wear {rng.choice(COLORS)} for luck." if rng.random() < 0.5 else ""))
    return question, answer


def _follow_up(rng: random.Random, sign: str) -> tuple[str, str]:
    if rng.random() < 0.5:
        return "And which color is lucky for me?", f"For {sign}, {rng.choice(COLORS)} brings luck this week."
    element = SIGNS[sign][0]
    friends = [s for s, facts in SIGNS.items() if facts[0] == element and s != sign]
    return "Who gets along with me?", f"Other {element} signs, like {rng.choice(friends)}, understand you best."


def make_chats(num: int = NUM_CHATS, seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    chats = []
    for _ in range(num):
        sign = rng.choice(list(SIGNS))
        messages = []
        if rng.random() < 0.3:
            messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        question, answer = (_fact_question if rng.random() < 0.5 else _reading)(rng, sign)
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        if rng.random() < 0.25:
            question, answer = _follow_up(rng, sign)
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        chats.append({"messages": messages})
    return chats


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    lines = [json.dumps(chat, ensure_ascii=False) for chat in make_chats()]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} chats to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
