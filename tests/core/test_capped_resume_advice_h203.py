"""A finished run that max_steps caps was told to train further with `finetune-studio resume RUN --epochs 1` (by a
plain resume and by `resume --apply-fix`'s refusal), which then refused with exit 2 ("nothing trained: … caps it").
It is told `finetune-studio resume RUN --steps N` (max_steps doubled) and the Runs tab's Train N more steps, which
train the steps added (tests/core/test_resume_more_steps_h219.py)."""

from __future__ import annotations

import json
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


@pytest.mark.slow
def test_the_told_steps_command_trains_them(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The advice's `finetune-studio resume RUN --steps N`, run as told, trains N more steps and raises max_steps to
    2N (before `--steps` existed on the command line, the told command failed with 'unrecognized arguments')."""
    from finetune_studio.core.config import load_config
    from finetune_studio.core.training import run as train
    from tests.core.test_pasted_commands_h148 import pasted_words
    from tests.helpers import read_events, small_config

    run = Path(train(small_config(small_dataset, runs_dir, max_steps=3, save_steps=3, eval_steps=3)).run_dir)
    assert cli.main(["resume", str(run), "--quiet"]) == 0
    told = capsys.readouterr().out.split("To train it further: ")[1].split(" (in the app")[0]
    words = pasted_words(told)
    assert words == ["finetune-studio", "resume", str(run), "--steps", "3"]
    assert cli.main([*words[1:], "--quiet"]) == 0
    assert [e["step"] for e in read_events(run, "step")] == [1, 2, 3, 4, 5, 6]
    assert load_config(run / "config.yaml")[0].training["max_steps"] == 6
    assert json.loads((run / "status.json").read_text())["state"] == "finished"


def test_steps_with_apply_fix_or_a_supervisor_without_resume_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = ended_run(tmp_path, "capped")
    config_before = (run / "config.yaml").read_text()
    assert cli.main(["resume", str(run), "--apply-fix", "--steps", "2", "--quiet"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().err == (
        f"error: --apply-fix resumes a failed run with its fix, and --steps 2 trains a run past its max_steps; a "
        f"resume does one or the other, so nothing was changed. To fix: resume with --apply-fix first; once the run "
        f"has finished, train it further with finetune-studio resume {run} --steps 2.\n")
    assert cli.main(["supervise", str(run), "--steps", "2"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().err == (
        f"error: --steps 2 adds steps to a resumed run, and --resume was not given; nothing was started. To fix: add "
        f"--resume, or resume with finetune-studio resume {run} --steps 2.\n")
    assert (run / "config.yaml").read_text() == config_before
