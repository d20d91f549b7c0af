"""One format for a benchmark's result line, so run_all.py can tell a met goal from a missed one.

Every figure a benchmark reports against a goal is printed by `report` as

    what: value (goal <= 16 ms; baseline idle event loop 0.4 ms, same invocation) [met]

with the baseline it was measured against in the same invocation (on a shared CPU only such a pair means
anything) and the verdict the script computed, `met` or `MISSED`. run_all.py parses exactly this line.
"""

from __future__ import annotations

import re

LINE = re.compile(r"^(?P<what>[^:\n]+): (?P<value>.+?) \(goal (?P<goal>.+?); baseline (?P<baseline>.+)\) "
                  r"\[(?P<verdict>met|MISSED)\]\s*$", re.M)


def report(what: str, value: str, goal: str, met: bool, baseline: str) -> bool:
    """Print one result line and return `met`, so a script can exit non-zero when any goal is missed."""
    print(f"{what}: {value} (goal {goal}; baseline {baseline}) [{'met' if met else 'MISSED'}]", flush=True)
    return met
