#!/usr/bin/env python3
"""Generate the synthetic horoscope sample dataset (resources/sample_horoscopes.jsonl).

Standard library only and fully deterministic: the output depends on nothing
but ``random.Random(1234)`` and the templates below, so running this script
twice gives byte-identical files.

The texts deliberately vary a lot in length (one short sentence up to about
twelve sentences / ~250 words, with a skewed distribution: many short ones and
a long tail) so that padding and batching choices matter when fine-tuning.

Usage::

    python resources/make_sample_dataset.py            # regenerate in place
    python resources/make_sample_dataset.py OUT.jsonl  # write elsewhere
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import re
import sys
from pathlib import Path

SEED = 1234
NUM_ROWS = 2000
DEFAULT_OUT = Path(__file__).resolve().parent / "sample_horoscopes.jsonl"

SIGNS = [
    "Aries", "Taurus", "Gemini", "Cancer", "Leo", "Virgo",
    "Libra", "Scorpio", "Sagittarius", "Capricorn", "Aquarius", "Pisces",
]
CATEGORIES = ["general", "love", "career", "health", "money"]
PLANETS = [
    "Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus",
    "Neptune", "Pluto", "the Moon", "the Sun",
]
ASPECTS = [
    "moves into", "aligns with", "squares", "trines", "opposes",
    "forms a sextile with", "turns toward", "dances with",
]
HOUSES = [
    "first", "second", "third", "fourth", "fifth", "sixth",
    "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TIMES = ["morning", "afternoon", "evening", "weekend", "week", "month"]
MOODS = [
    "restless", "calm", "curious", "hopeful", "stubborn", "playful",
    "reflective", "bold", "tender", "impatient", "generous", "cautious",
]
ENERGIES = [
    "steady", "electric", "gentle", "fiery", "dreamy", "grounded",
    "bright", "quiet", "unpredictable", "warm",
]
COLORS = ["red", "blue", "green", "gold", "silver", "violet", "orange", "white", "teal"]
ELEMENTS = ["fire", "earth", "air", "water"]
PEOPLE = [
    "an old friend", "a colleague", "a sibling", "a neighbour", "a stranger",
    "your partner", "a mentor", "a child", "a former rival", "a new acquaintance",
]
THINGS = [
    "a letter", "a phone call", "an invitation", "a small gift", "a rumour",
    "a forgotten promise", "an unexpected bill", "a good book", "a short trip",
]

TOPIC = {
    "general": {
        "focus": ["your plans", "your home", "your daily routine", "a long-held wish",
                  "an unfinished project", "your inner voice"],
        "advice": ["trust your instincts", "slow down before you decide",
                   "say yes to something new", "tidy up loose ends",
                   "keep your promises small and real", "listen more than you speak"],
        "outcome": ["a clearer path", "a welcome surprise", "a calmer mind",
                    "a fresh start", "an honest answer"],
    },
    "love": {
        "focus": ["your relationship", "a quiet crush", "an old flame",
                  "the way you show affection", "a shared dream", "your heart"],
        "advice": ["speak openly about your feelings", "plan a simple evening together",
                   "let go of an old grudge", "make the first move",
                   "give your partner some space", "write down what you really want"],
        "outcome": ["a warm reunion", "a deeper bond", "a sweet confession",
                    "a spark of romance", "a tender moment"],
    },
    "career": {
        "focus": ["your work", "a difficult project", "a new role",
                  "your ambitions", "a meeting with your manager", "your reputation"],
        "advice": ["ask for the raise", "double-check the details",
                   "share credit generously", "finish what you started",
                   "update your skills", "stay out of office gossip"],
        "outcome": ["a promotion", "public recognition", "a useful contact",
                    "a smoother workflow", "a new offer"],
    },
    "health": {
        "focus": ["your energy", "your sleep", "your diet",
                  "your posture", "your stress levels", "your body"],
        "advice": ["drink more water", "take a long walk outside",
                   "go to bed an hour earlier", "stretch before breakfast",
                   "cut back on caffeine", "book that check-up"],
        "outcome": ["renewed vitality", "deeper rest", "a lighter mood",
                    "steady strength", "better balance"],
    },
    "money": {
        "focus": ["your finances", "your savings", "a pending payment",
                  "your spending habits", "a tempting purchase", "an investment"],
        "advice": ["review your budget", "avoid impulse buys",
                   "negotiate a better price", "pay off a small debt",
                   "put a little aside each day", "read the fine print"],
        "outcome": ["a modest windfall", "a refund", "a smart bargain",
                    "more security", "a profitable idea"],
    },
}

# One short sentence on its own (about 6-10 words).
SHORT_TEMPLATES = [
    "{sign}, expect {outcome} before {day}.",
    "Today favours {focus}, dear {sign}.",
    "{planet} brings {outcome} to {sign} this {time}.",
    "Trust the {energy} energy around {focus} today.",
    "A {mood} {time} leads to {outcome}.",
    "Your lucky number today is {num}, {sign}.",
    "Wear {color} on {day} for {outcome}.",
]

# Body sentences (roughly 8-30 words each).
BODY_TEMPLATES = [
    "{planet} {aspect} {planet2} in your {house} house, so {focus} takes centre stage.",
    "With {planet} in your {house} house, you may feel {mood} about {focus}.",
    "On {day}, {person} could bring {thing} that changes how you see {focus}.",
    "The {energy} {element} energy of this {time} asks you to {advice}.",
    "Your best move is to {advice}; the stars reward patience more than speed.",
    "If you feel {mood}, {advice} and notice how quickly the mood lifts.",
    "By {day} {time}, {outcome} is likely, especially if you {advice}.",
    "Fellow {sign2} natives understand you well right now, so lean on them.",
    "Your lucky colour is {color} and your lucky number is {num}.",
    "Around the {nth} of the month, watch for {thing} connected to {focus}.",
    "Do not let a {mood} {sign2} rush you into decisions about {focus}.",
    "Because {planet} is retrograde, old questions about {focus} return, and "
    "this time you have the answers you were missing before.",
    "Small, steady steps toward {focus} count for more than one grand gesture, "
    "and by {day} you will see why.",
    "{person} may test your patience on {day}, but a {energy} reply keeps the peace.",
    "As {planet} {aspect} {planet2}, {outcome} arrives from a direction you did not expect.",
    "Keep a note of your dreams this {time}; they hint at {outcome}.",
    "Say no to {thing} if it drains you, and say yes to {focus}.",
    "The {house} house is busy, which makes this a good {time} to {advice}.",
    "When {planet} {aspect} {planet2} on {day}, the {energy} mood spreads to everyone "
    "around you, and even {person} notices that you seem {mood} and ready for change.",
    "There is no need to solve everything about {focus} at once; pick one thing, "
    "{advice}, and let the rest of the {time} unfold at its own pace while "
    "{planet} does the heavy lifting.",
    "Conversations with {person} about {focus} go better than you fear, especially "
    "if you choose a {energy} moment on {day} {time} and keep your expectations honest.",
]

CLOSING_TEMPLATES = [
    "Overall, {outcome} is within reach.",
    "Remember, {sign}: {advice}.",
    "The {time} ends on a {energy} note.",
    "Lucky day: {day}. Lucky number: {num}.",
    "Trust yourself, {sign}.",
]


# "a" -> "an" before the slot words that start with a vowel sound.
_AN_FIX = re.compile(r"\b([Aa]) (electric|unpredictable|impatient)\b")


def _fill(template: str, rng: random.Random, sign: str, category: str) -> str:
    topic = TOPIC[category]
    # Draw every slot in a fixed order so the random stream is stable.
    planet = rng.choice(PLANETS)
    values = {
        "sign": sign,
        "sign2": rng.choice(SIGNS),
        "planet": planet,
        "planet2": rng.choice([p for p in PLANETS if p != planet]),
        "aspect": rng.choice(ASPECTS),
        "house": rng.choice(HOUSES),
        "day": rng.choice(DAYS),
        "time": rng.choice(TIMES),
        "mood": rng.choice(MOODS),
        "energy": rng.choice(ENERGIES),
        "color": rng.choice(COLORS),
        "element": rng.choice(ELEMENTS),
        "person": rng.choice(PEOPLE),
        "thing": rng.choice(THINGS),
        "focus": rng.choice(topic["focus"]),
        "advice": rng.choice(topic["advice"]),
        "outcome": rng.choice(topic["outcome"]),
        "num": str(rng.randint(1, 99)),
        "nth": _ordinal(rng.randint(1, 28)),
    }
    text = template.format(**values)
    text = _AN_FIX.sub(r"\1n \2", text)
    return text[0].upper() + text[1:]


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _num_sentences(rng: random.Random) -> int:
    """Skewed length distribution: many 1-2 sentence texts, a tail up to 12."""
    r = rng.random()
    if r < 0.30:
        return 1
    if r < 0.52:
        return 2
    if r < 0.68:
        return 3
    if r < 0.78:
        return 4
    # Long tail: 5..12 sentences, decreasing probability.
    return rng.choices(range(5, 13), weights=[8, 7, 6, 5, 4, 3, 3, 4])[0]


def _horoscope(rng: random.Random, sign: str, category: str) -> str:
    n = _num_sentences(rng)
    if n == 1:
        return _fill(rng.choice(SHORT_TEMPLATES), rng, sign, category)
    closing = n >= 3
    # Body templates without replacement so a text never repeats a sentence pattern.
    templates = rng.sample(BODY_TEMPLATES, n - 1 if closing else n)
    if closing:
        templates.append(rng.choice(CLOSING_TEMPLATES))
    sentences = [_fill(t, rng, sign, category) for t in templates]
    return " ".join(sentences)


def generate_rows(num_rows: int = NUM_ROWS, seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    start = _dt.date(2024, 1, 1)
    rows = []
    for _ in range(num_rows):
        sign = rng.choice(SIGNS)
        date = start + _dt.timedelta(days=rng.randrange(366))  # 2024 is a leap year
        category = rng.choice(CATEGORIES)
        rows.append({
            "sign": sign,
            "date": date.isoformat(),
            "category": category,
            "horoscope": _horoscope(rng, sign, category),
        })
    return rows


def main(out_path: Path | None = None) -> Path:
    """Write the dataset to *out_path* (default: next to this script). Returns the path."""
    out = Path(out_path) if out_path is not None else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row, ensure_ascii=False) for row in generate_rows()]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out


if __name__ == "__main__":
    path = main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"wrote {NUM_ROWS} rows to {path}")
