"""README's exit-code list is the command line's: every code core.cli returns is listed, with what returns it.
The list lacked `resume --epochs N` on a run that max_steps caps, which exits 2 (deb5de1), and a resume of a run
with every step trained, which prints "nothing trained" and exits 0."""

from __future__ import annotations

import re
from pathlib import Path

from finetune_studio.core import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def exit_codes() -> dict[int, str]:
    """README's exit-code list: each `- `N`: …` item (with its continuation lines) by code."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("Exit codes, each error"):]
    items = re.findall(r"^- `(\d)`: (.*?)(?=^- `|^\S|\Z)", section, flags=re.M | re.S)
    return {int(code): " ".join(body.split()) for code, body in items}


def test_every_exit_code_the_cli_returns_is_listed_with_what_returns_it() -> None:
    listed = exit_codes()
    assert sorted(listed) == sorted({0, cli.EXIT_FAILED, cli.EXIT_CONFIG, cli.EXIT_STOPPED}) == [0, 1, 2, 3]
    assert "`resume --epochs N` whose run is capped by `max_steps`" in listed[cli.EXIT_CONFIG]
    assert "a `resume` of a run that had trained all its steps" in listed[0]
    assert "a second Ctrl-C that aborted it" in listed[cli.EXIT_FAILED]
    # core.export's and core.hub's RUN_TRAINING are not bad input (tests/core/test_export_first_training.py): said
    assert "an `export` or `push` of a run another process trains now" in listed[cli.EXIT_FAILED]
    assert "a `train` or `resume` of a run another process trains" in listed[cli.EXIT_CONFIG]
    # 62ca945: a run with no saved model is bad input (tests/core/test_cli_push_export_input.py)
    assert "an `export` or `push` of a run that is not training and saved no model" in listed[cli.EXIT_CONFIG]
    assert listed[cli.EXIT_STOPPED] == "stopped by Ctrl-C or SIGTERM (`train`, `resume`, `generate`)."
