"""Commands printed for pasting quote a path that holds spaces once (shlex.quote, as core.cli.shell_word does),
and are not nested in a second pair of quotes; `resume --epochs inf` is told the number must be finite; `resume
--apply-fix` with no fix to apply is bad input (exit 2)."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import load_config
from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.export import model_fix
from finetune_studio.core.runs import RunFolder, require_run_folder
from tests.core.test_advice_no_fix import diverged_run
from tests.helpers import checkpoint


def pasted_words(command: str) -> list[str]:
    return shlex.split(command)


def test_resume_epochs_inf_says_a_finite_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = diverged_run(tmp_path / "runs")
    assert main(["resume", str(run), "--epochs", "inf"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: --epochs: The number of epochs to add must be a finite number above 0 (got inf). To fix: give how "
        "many more epochs to train, e.g. --epochs 1.")
    assert main(["resume", str(run), "--epochs", "0"]) == 2  # a finite one keeps the plain words
    assert "must be above 0 (got 0)." in capsys.readouterr().err


def test_apply_fix_with_no_fix_exits_2_with_the_command_quoted_once(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run = diverged_run(tmp_path / "my runs", "conc", checkpoint=True)
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "state": "finished", "message": "Finished 20 steps."}))
    assert main(["resume", str(run), "--apply-fix"]) == 2
    err = capsys.readouterr().err
    # its config's max_steps (20) caps it, so the advice is resume --steps (5d4fa39, then helper-219)
    assert err == ("error: The run conc has no proposed fix to apply (it is finished: Finished 20 steps). max_steps = "
                   "20 in its config.yaml caps it, so more epochs (--epochs) would train nothing. To train it further: "
                   f"finetune-studio resume '{run}' --steps 20 (in the app: Runs tab, Train N more steps), which "
                   "raises max_steps to 40.\n")
    command = err.split("To train it further: ")[1].split(" (in the app")[0]
    assert pasted_words(command) == ["finetune-studio", "resume", str(run), "--steps", "20"]


def test_plain_paths_keep_the_quoted_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = diverged_run(tmp_path / "runs", checkpoint=True)
    assert main(["resume", str(run), "--apply-fix"]) == 2
    assert f" with 'finetune-studio resume {run}'.\n" in capsys.readouterr().err


def test_config_init_commands_quote_a_spaced_path(tmp_path: Path) -> None:
    folder = tmp_path / "my configs"
    folder.mkdir()
    with pytest.raises(FinetuneError) as missing:
        load_config(folder / "run one.yaml")
    assert str(missing.value).endswith(f"with finetune-studio init '{folder / 'run one.yaml'}'.")
    with pytest.raises(FinetuneError) as a_folder:
        load_config(folder)
    assert str(a_folder.value).endswith(f"one with finetune-studio init '{folder / 'my-run.yaml'}'.")


def test_runs_dir_given_as_a_run_names_the_quoted_runs_command(tmp_path: Path) -> None:
    runs = tmp_path / "my runs"
    diverged_run(runs)
    with pytest.raises(FinetuneError) as refused:
        require_run_folder(runs)
    said = str(refused.value)
    command = said.split("`")[1]
    assert command == f"finetune-studio runs --runs-dir '{runs}'"
    assert pasted_words(command) == ["finetune-studio", "runs", "--runs-dir", str(runs)]


def test_export_fix_resume_command_quotes_a_spaced_path(tmp_path: Path) -> None:
    run = diverged_run(tmp_path / "my runs")
    checkpoint(run, 5)
    said = model_fix(RunFolder(run))
    assert said == f"resume the run to save its model again (finetune-studio resume '{run}'), or train it again."
    assert subprocess.run(["sh", "-c", 'printf "%s\\n" "$@"', "sh", *pasted_words(said.split("(")[1].split(")")[0])],
                          capture_output=True, text=True).stdout.splitlines()[-1] == str(run)
