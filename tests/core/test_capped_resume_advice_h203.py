"""A finished run that max_steps caps was told to train further with `finetune-studio resume RUN --epochs 1` (by a
plain resume and by `resume --apply-fix`'s refusal), which then refused with exit 2 ("nothing trained: … caps it").
It is told `finetune-studio resume RUN --steps N` (max_steps doubled) and the Runs tab's Train N more steps, which
train the steps added (tests/core/test_resume_more_steps_h219.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.core.test_resume_trains_nothing_cli import ended_run


def test_a_capped_finished_run_is_told_a_command_that_trains_it_further(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = ended_run(tmp_path, "capped")
    assert cli.main(["resume", str(run), "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "--epochs 1" not in said
    assert said.endswith(
        f"unchanged. max_steps = 3 in its config.yaml caps it, so more epochs (--epochs) would train nothing. To train "
        f"it further: finetune-studio resume {run} --steps 3 (in the app: Runs tab, Train N more steps), which raises "
        f"max_steps to 6.\n")

    assert cli.main(["resume", str(run), "--apply-fix", "--quiet"]) == cli.EXIT_CONFIG  # no fix: refused, as before
    refused = capsys.readouterr().err
    assert "--epochs 1" not in refused
    assert refused.rstrip().endswith(f"'finetune-studio resume {run} --steps 3' (in the app: Runs tab, Train N more "
                                     "steps), which raises max_steps to 6.")
