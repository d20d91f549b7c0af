"""`generate` with an empty folder or --prompts (an unset shell variable: generate "$RUN" --prompt hi) is refused in
its own words, exit 2, before anything loads: '' was read as '.', refused as ". is neither a run folder … nor a model
folder" or ". is a folder, not a prompts file", and inside a run's folder it answered with that run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_generate_cli import _run_with_checkpoint_2, cli, no_loading  # noqa: F401 - a fixture

FOLDER = ("error: the folder is empty (''); it names {names}, and an empty one names none. To fix: give the run's "
          "folder, e.g. finetune-studio generate ~/runs/my-run {then}; `finetune-studio runs` lists the runs.\n")
PROMPTS = ("error: --prompts is empty (--prompts ''); it names the prompts file, and an empty one names none. To fix: "
           "give the file, one prompt a line (or - to read them from standard input), or give one prompt with "
           "--prompt TEXT.\n")


@pytest.mark.parametrize("argv, says", [
    (["", "--prompt", "hi"], FOLDER.format(names="the run (or model folder) to answer with", then="--prompt TEXT")),
    (["", "--answers"], FOLDER.format(names="the run whose saved answers to print", then="--answers")),
    ([".", "--prompts", ""], PROMPTS),
])
def test_empty_arguments_are_refused_inside_a_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_loading,
                                                         capsys, argv: list[str], says: str) -> None:
    run_dir = _run_with_checkpoint_2(tmp_path)
    monkeypatch.chdir(run_dir)  # '.' is a run here: '' must not name it
    code, out, err = cli(capsys, *argv)
    assert (code, out, err) == (2, "", says)
