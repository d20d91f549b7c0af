"""One format for a benchmark's result line, so run_all.py can tell a met goal from a missed one.

Every figure a benchmark reports against a goal is printed by `report` as

    what: value (goal <= 16 ms; baseline idle event loop 0.4 ms, same invocation) [met]

with the baseline it was measured against in the same invocation (on a shared CPU only such a pair means
anything) and the verdict the script computed, `met` or `MISSED`. run_all.py parses exactly this line.

A script that cannot measure on this machine (a GPU benchmark without a GPU) prints a line starting with `SKIPPED:`,
saying why and where to run it, prints no result line and exits 0: run_all then keeps its last measured figures.
A script run through `exit_with` exits CRASHED when it raises, so run_all can tell a crash from a missed goal.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn

LINE = re.compile(r"^(?P<what>[^:\n]+): (?P<value>.+?) \(goal (?P<goal>.+?); baseline (?P<baseline>.+)\) "
                  r"\[(?P<verdict>met|MISSED)\]\s*$", re.M)
SKIPPED = re.compile(r"^SKIPPED:", re.M)
CRASHED = 3  # a benchmark's exit code when it raised (exit_with); 1 is a missed goal's, 2 argparse's


def skipped(stdout: str, code: int) -> bool:
    """Whether a run only said it cannot measure here: a SKIPPED: line on any line (a library's notice may be printed
    first), no result line (a run that measured some figures and skipped others did measure) and exit 0 (one that
    said SKIPPED and then crashed failed, and run_all must say so)."""
    return code == 0 and SKIPPED.search(stdout) is not None and LINE.search(stdout) is None


def exit_with(main: Callable[[], int]) -> NoReturn:
    """Runs a benchmark's main and exits with what it returns, or with CRASHED after the traceback when it raises.
    Python exits 1 on an uncaught exception, the code a script returns for a missed goal: a run that printed a MISSED
    figure and then crashed would read as complete, and replace a complete earlier run's figures (run_all)."""
    try:
        code = main()
    except Exception:  # noqa: BLE001 - any crash: printed in full, then the exit code that says crashed
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(CRASHED)
    sys.exit(code)


def report(what: str, value: str, goal: str, met: bool, baseline: str) -> bool:
    """Print one result line and return `met`, so a script can exit non-zero when any goal is missed."""
    print(f"{what}: {value} (goal {goal}; baseline {baseline}) [{'met' if met else 'MISSED'}]", flush=True)
    return met
