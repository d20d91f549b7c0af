"""README's command list shows export's --replace (63efcc2), as a line the CLI's own parser takes; --quiet's help
says what it keeps (warnings, errors and the final line), which README does not contradict."""

from __future__ import annotations

import shlex

from finetune_studio.core.cli import _parser
from tests.helpers import ROOT


def test_readme_shows_export_replace_as_a_command_that_parses() -> None:
    lines = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
             if line.startswith("finetune-studio export ")]
    replacing = [line for line in lines if "--replace" in line]
    assert len(replacing) == 1
    command, note = replacing[0].split("#", 1)
    words = shlex.split(command.replace("<run>", "runs/x"))[1:]
    args = _parser().parse_args(words)
    assert (args.command, args.kind, args.replace, args.run_dir) == ("export", "merged", True, "runs/x")
    assert "earlier export" in note
