"""The commands the command line prints for the user to paste ("Run it with: …", "Resume with: …", the examples of
its refusals) quote a path that holds spaces or other characters a shell splits: `init "my run ü.yaml"` printed
"Run it with: finetune-studio train my run ü.yaml", which a shell runs as `train my run ü.yaml` (three arguments),
and a stopped run in "runs dir/tiny ü" said "Resume with: finetune-studio resume /…/runs dir/tiny ü". core.advice
and core.runs already quote theirs (shlex.quote); these did not."""

from __future__ import annotations

import shlex
import threading
from pathlib import Path

import pytest

from finetune_studio.core import cli, generate_cli
from finetune_studio.core.config import save_config
from finetune_studio.core.training import RunResult
from tests.helpers import checkpoint as make_checkpoint
from tests.helpers import small_config


def pasted(line: str, after: str) -> list[str]:
    """The arguments a shell gives the command that follows `after` in `line`."""
    return shlex.split(line.split(after, 1)[1])


def test_init_run_it_with_quotes_a_name_with_spaces(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", "my run ü.yaml"]) == 0
    out = capsys.readouterr().out
    assert out == "Wrote my run ü.yaml. Run it with: finetune-studio train 'my run ü.yaml'\n"
    assert pasted(out.strip(), "Run it with: ") == ["finetune-studio", "train", "my run ü.yaml"]
    assert (tmp_path / "my run ü.yaml").is_file()


def test_init_refusing_a_folder_quotes_the_example(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "my configs"
    folder.mkdir()
    assert cli.main(["init", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {folder} is a folder; nothing was written. To fix: give a file name in it, e.g. "
                   f"finetune-studio init '{folder}/my-run.yaml'\n")
    assert pasted(err, "e.g. ") == ["finetune-studio", "init", f"{folder}/my-run.yaml"]


def test_a_stopped_run_in_a_folder_with_spaces_says_a_resume_that_pastes(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "runs dir" / "tiny ü"

    def execute(printer: cli.ProgressPrinter, stop: threading.Event) -> RunResult:
        printer({"event": "run_start", "run_dir": str(run_dir)})
        return RunResult("stopped", "Stopped at step 1 of 40, resumable.", run_dir, 1, 40)

    assert cli._train(execute, quiet=True) == cli.EXIT_STOPPED
    out = capsys.readouterr().out.splitlines()
    assert out == ["stopped: Stopped at step 1 of 40, resumable.",
                   f"Resume with: finetune-studio resume '{run_dir}'"]
    assert pasted(out[1], "Resume with: ") == ["finetune-studio", "resume", str(run_dir)]


def test_a_second_ctrl_c_names_a_resume_that_pastes(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "runs dir" / "long one"

    def execute(printer: cli.ProgressPrinter, stop: threading.Event) -> RunResult:
        run_dir.mkdir(parents=True)
        save_config(small_config(run_dir / "d.jsonl", run_dir.parent), run_dir / "config.yaml")
        make_checkpoint(run_dir, 3)
        printer({"event": "run_start", "run_dir": str(run_dir)})
        raise KeyboardInterrupt  # the second Ctrl-C

    assert cli._train(execute, quiet=True) == cli.EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"Resume with: finetune-studio resume '{run_dir}'")
    assert pasted(err, "Resume with: ") == ["finetune-studio", "resume", str(run_dir)]


@pytest.mark.parametrize("prompts", [[], ["Aries"]])
def test_generate_answers_fix_quotes_the_run_folder(tmp_path: Path, prompts: list[str]) -> None:
    run_dir = tmp_path / "runs dir" / "tiny ü"
    run_dir.mkdir(parents=True)
    config = small_config(tmp_path / "d.jsonl", run_dir.parent)
    config.prompts = prompts
    save_config(config, run_dir / "config.yaml")
    message = generate_cli.no_answers_message(run_dir)
    if prompts:
        assert message.endswith(f"finetune-studio generate '{run_dir}' --prompts '{run_dir}/config.yaml'.")
        command = pasted(message, "keeping the answers: ")
        assert command == ["finetune-studio", "generate", str(run_dir), "--prompts", f"{run_dir}/config.yaml."]
    else:
        assert message.endswith(f"finetune-studio generate '{run_dir}' --prompt TEXT.")
        assert pasted(message, "keeping the answer: ")[:3] == ["finetune-studio", "generate", str(run_dir)]


def test_a_plain_path_is_printed_as_it_is(tmp_path: Path) -> None:
    assert cli.shell_word(tmp_path / "runs" / "tiny-run_2") == f"{tmp_path}/runs/tiny-run_2"
    assert cli.shell_word("it's here") == "'it'\"'\"'s here'"
