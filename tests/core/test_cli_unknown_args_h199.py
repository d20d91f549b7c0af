"""An argument a command does not take is refused by that command, with its usage: `finetune-studio estimate --quiet`
printed the usage of the whole program (its list of commands) and 'finetune-studio: error: unrecognized arguments',
nothing of what estimate takes."""

from __future__ import annotations

import pytest

from finetune_studio.core.cli import main


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def test_an_option_another_command_has_is_refused_with_this_commands_usage(capsys) -> None:
    code, out, err = refusal(capsys, "estimate", "--quiet")
    assert (code, out) == (2, "")
    assert err.startswith("usage: finetune-studio estimate [-h] [--preset {demo,seed,chat-demo}]")
    assert err.splitlines()[-1] == ("finetune-studio estimate: error: unrecognized arguments: --quiet. To fix: drop "
                                    "it; finetune-studio estimate --help lists its options.")


def test_extra_words_are_refused_by_the_command_that_got_them(capsys) -> None:
    code, out, err = refusal(capsys, "runs", "x", "y")
    assert (code, out) == (2, "")
    assert err == ("usage: finetune-studio runs [-h] [--runs-dir RUNS_DIR]\n"
                   "finetune-studio runs: error: unrecognized arguments: x y. To fix: drop them; finetune-studio runs "
                   "--help lists its options.\n")


def test_an_unknown_option_with_no_command_is_refused_by_the_program(capsys) -> None:
    code, out, err = refusal(capsys, "--bogus")
    assert (code, out) == (2, "")
    assert err.startswith("usage: finetune-studio [-h]")
    assert err.splitlines()[-1] == ("finetune-studio: error: unrecognized arguments: --bogus. To fix: drop it; "
                                    "finetune-studio --help lists its options.")
