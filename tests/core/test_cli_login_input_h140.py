"""`finetune-studio login` with no token to read: standard input closed (`<&-`), or at its end (`< /dev/null`, a job
or container with no terminal, where getpass falls back to standard input). It ended in "error: finetune-studio login
failed: AttributeError: 'NoneType' object has no attribute 'readline' … report it" or "login failed: EOFError",
exit 1, as if something had broken; it is bad input, refused as an empty token is (exit 2), with the way to give one:
--token-stdin. getpass's own warning no longer adds a path and a line of its source code."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

from finetune_studio.core import cli

PIPE_FIX = ("To fix: pipe the token in, e.g. finetune-studio login --token-stdin < token.txt (create one at "
            "https://huggingface.co/settings/tokens).")


def test_token_stdin_with_stdin_closed_exits_2(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    assert cli.main(["login", "--token-stdin"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: no access token was given (standard input is closed); nothing was saved. {PIPE_FIX}\n"


def test_the_prompt_at_the_end_of_input_with_no_terminal_exits_2(monkeypatch, capsys) -> None:
    def at_end(prompt: str = "") -> str:
        print(prompt, end="", file=sys.stderr)
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", at_end)
    monkeypatch.setattr(cli, "_has_terminal", lambda: False)
    assert cli.main(["login"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-2:] == ["Token (input hidden): ",
                        "error: no access token was given (standard input ended before one was entered, and there is "
                        f"no terminal to type it in); nothing was saved. {PIPE_FIX}"]


def test_an_empty_answer_at_a_terminal_says_to_paste_it(monkeypatch, capsys) -> None:
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "")
    assert cli.main(["login"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: no access token was given (none was entered); nothing was saved. To fix: paste the token at the "
        "prompt (create one at https://huggingface.co/settings/tokens).")


def _login(tmp_path: Path, *args: str, closed: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_TOKEN", None)
    code = "import sys; from finetune_studio.gui.launcher import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, "login", *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, start_new_session=True,  # no terminal
                          preexec_fn=(lambda: os.close(0)) if closed else None)


def test_login_with_no_input_and_no_terminal_as_a_process(tmp_path: Path) -> None:
    done = _login(tmp_path, closed=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert "Traceback" not in done.stderr and "GetPassWarning" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "error: no access token was given (standard input ended before one was entered, and there is no terminal "
        f"to type it in); nothing was saved. {PIPE_FIX}")
    closed = _login(tmp_path, "--token-stdin", closed=True)
    assert (closed.returncode, closed.stderr) == (
        2, f"error: no access token was given (standard input is closed); nothing was saved. {PIPE_FIX}\n")
    assert not (tmp_path / "hf" / "token").exists()
