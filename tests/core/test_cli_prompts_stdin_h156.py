"""`generate --prompts -` reads the prompts from standard input, one a line, as `-` reads a config (helper-156): it
was taken for a file named "-" ("Cannot read the prompts file -: [Errno 2] No such file or directory: '-'"). And the
top-level help says the exit codes README lists."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from finetune_studio.core import cli, generate_cli
from finetune_studio.core.cli import main


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_prompts_dash_reads_one_prompt_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, "\ufeffAries:\n\n  \nLeo: ü\n".encode())
    assert generate_cli.read_prompts_stdin() == ["Aries:", "Leo: ü"]


def test_prompts_dash_with_nothing_piped_in_is_refused_before_loading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, b"\n  \n")
    assert main(["generate", str(tmp_path), "--prompts", "-"]) == cli.EXIT_CONFIG
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == ("error: Standard input holds no prompts (--prompts -). To fix: pipe the prompts in, one a "
                           "line (e.g. finetune-studio generate RUN --prompts - < prompts.txt), or give one with "
                           "--prompt TEXT.")
    monkeypatch.setattr("sys.stdin", None)
    assert main(["generate", str(tmp_path), "--prompts", "-"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().err.strip() == (
        "error: --prompts - reads standard input, and it is closed. To fix: pipe the prompts in, one a line (e.g. "
        "finetune-studio generate RUN --prompts - < prompts.txt), or give one with --prompt TEXT.")


def test_the_help_says_the_exit_codes() -> None:
    text = " ".join(cli._parser().format_help().split())
    assert ("Exit codes: 0 done; 1 it failed (a failed run or operation, a Hub that cannot be reached, estimate's "
            "'will not fit', a second Ctrl-C); 2 bad input, refused with nothing changed (a bad config, a folder that "
            "holds no run, a bad flag); 3 stopped by Ctrl-C or SIGTERM (train and resume can resume it). README's "
            "'Exit codes' lists every case.") in text


def test_a_config_with_no_prompts_given_as_prompts_says_how_to_add_them(tmp_path: Path) -> None:
    """It said "write one prompt a line" of a run config, whose prompts go under prompts:."""
    config = tmp_path / "run.yaml"
    config.write_text("name: x\n")
    with pytest.raises(generate_cli.InputError) as info:
        generate_cli.read_prompts_file(config)
    assert str(info.value) == (f"{config} holds no prompts (a YAML/JSON list of them, or a config's prompts:). To fix: "
                               "add prompts: to it with one prompt a line under it (- Aries:), or give a text file, "
                               "one prompt a line, or give one with --prompt TEXT.")
