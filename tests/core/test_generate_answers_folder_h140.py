"""`finetune-studio generate PATH --answers` where PATH is not a run folder says what PATH is and, for a file or
folder inside a run (its config.yaml, a checkpoint-N/), the run folder to give instead. It said "… config.yaml is
not a run folder (no config.yaml)" of the run's own config.yaml, and the same of a checkpoint folder and of a path
that does not exist."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import save_config
from tests.helpers import checkpoint, small_config


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs dir" / "tiny ü"
    folder.mkdir(parents=True)
    save_config(small_config(tmp_path / "d.jsonl", folder.parent), folder / "config.yaml")
    checkpoint(folder, 2)
    return folder


def answers(capsys, path: Path) -> tuple[int, str, str]:
    code = main(["generate", str(path), "--answers"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_runs_config_file_names_its_run_folder(run_dir: Path, capsys) -> None:
    code, out, err = answers(capsys, run_dir / "config.yaml")
    assert (code, out) == (2, "")
    assert err == (f"error: {run_dir}/config.yaml is a file, not a run folder, so it has no saved answers. To fix: "
                   f"give the run folder it is in: finetune-studio generate '{run_dir}' --answers.\n")
    assert shlex.split(err.split("it is in: ")[1].rstrip(".\n")) == ["finetune-studio", "generate", str(run_dir),
                                                                        "--answers"]


def test_a_checkpoint_folder_names_its_run_folder(run_dir: Path, capsys) -> None:
    code, _, err = answers(capsys, run_dir / "checkpoint-2")
    assert code == 2
    assert err == (f"error: {run_dir}/checkpoint-2 is not a run folder (no config.yaml), so it has no saved answers. "
                   f"To fix: give the run folder it is in: finetune-studio generate '{run_dir}' --answers.\n")


def test_a_path_that_is_not_there_says_so(run_dir: Path, capsys) -> None:
    code, _, err = answers(capsys, run_dir.parent / "tiny")
    assert code == 2
    assert err == (f"error: {run_dir.parent}/tiny does not exist, so it has no saved answers. To fix: give the run "
                   "folder Compare checkpoints answered in; `finetune-studio runs` lists the runs.\n")


def test_a_file_outside_any_run(tmp_path: Path, capsys) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hi", encoding="utf-8")
    code, _, err = answers(capsys, notes)
    assert code == 2
    assert err == (f"error: {notes} is a file, not a run folder, so it has no saved answers. To fix: give the run "
                   "folder Compare checkpoints answered in.\n")


def test_the_run_folder_itself_still_reads_its_answers(run_dir: Path, capsys) -> None:
    (run_dir / "answers.jsonl").write_text('{"prompt": "Aries", "model": "checkpoint-2", "answer": "Stars."}\n',
                                           encoding="utf-8")
    code, out, _ = answers(capsys, run_dir)
    assert (code, out) == (0, "> Aries\n  [checkpoint-2] Stars.\n\n")


@pytest.mark.parametrize(("flags", "said", "them"), [
    (["--checkpoint", "2"], "--checkpoint 2 is", "it"),
    (["--base", "--greedy", "--temperature", "0.5"], "--base, --greedy, --temperature are", "them"),
    (["--system", "Be brief.", "--max-new-tokens", "8"], "--system, --max-new-tokens are", "them"),
])
def test_flags_that_answers_does_not_use_are_refused(run_dir: Path, capsys, flags: list[str], said: str,
                                                     them: str) -> None:
    """--answers --checkpoint 2 (to see that checkpoint's answers) printed every saved answer, the flag dropped."""
    (run_dir / "answers.jsonl").write_text('{"prompt": "Aries", "model": "checkpoint-2", "answer": "Stars."}\n',
                                           encoding="utf-8")
    code = main(["generate", str(run_dir), "--answers", *flags])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (f"error: --answers prints the answers Compare checkpoints saved, for every model it asked, and "
                   f"answers nothing new: {said} for answering a prompt and would change nothing. To fix: drop "
                   f"{them}, or give --prompt TEXT instead of --answers to answer with {them}.\n")


def test_a_folder_given_as_the_prompts_file_is_said_as_a_folder(run_dir: Path, tmp_path: Path, capsys) -> None:
    """It said "Cannot read the prompts file p: [Errno 21] Is a directory: 'p'"."""
    folder = tmp_path / "my prompts"
    folder.mkdir()
    assert main(["generate", str(run_dir), "--prompts", str(folder)]) == 2
    assert capsys.readouterr().err == (f"error: {folder} is a folder, not a prompts file. To fix: give a UTF-8 text "
                                       "file in it, one prompt a line (or a YAML/JSON list, or a config file with "
                                       "prompts:).\n")
