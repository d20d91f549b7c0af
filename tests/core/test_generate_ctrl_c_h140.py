"""Ctrl-C during `finetune-studio generate --prompts FILE` stops at once (exit 3, as documented) and its last line
says what is left: the answer it cut off and the prompts never answered. Among 300 prompts the command ended at
"[26 tokens · … · stopped: stopped by the user]" with no word of the 178 prompts it had not reached."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from finetune_studio.core import generate_cli
from finetune_studio.core.generate import Answer, StopReason


@pytest.fixture(scope="module")
def demo_dir(demo_cache: Path) -> Path:
    from finetune_studio.core.demo import demo_model_path

    return demo_model_path()


def ctrl_c_at(prompt_text: str, between: bool = False, signum: int = signal.SIGINT):
    """A stream_answer that answers each prompt with "ok", and presses Ctrl-C during the answer to `prompt_text`
    (or, with `between`, just after answering it)."""
    def stream_answer(model, tokenizer, rendered, settings, stop, on_text, side):
        here = prompt_text in rendered.text
        if here and not between:
            os.kill(os.getpid(), signum)  # the command's handler sets `stop`
            on_text(" o")
            return Answer(side, " o", 1, 0.1, 0.1, StopReason.USER, rendered.text, 2)
        on_text(" ok")
        if here:
            os.kill(os.getpid(), signum)
        return Answer(side, " ok", 1, 0.1, 0.1, StopReason.EOS, rendered.text, 2)

    return stream_answer


def run(capsys, demo_dir: Path, tmp_path: Path, count: int) -> tuple[int, str, str]:
    from finetune_studio.core.cli import main

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"Aries {n}\n" for n in range(1, count + 1)), encoding="utf-8")
    args = ["generate", str(demo_dir), "--max-new-tokens", "4"]
    code = main(args + (["--prompts", str(prompts)] if count > 1 else ["--prompt", "Aries 1"]))
    out, err = capsys.readouterr()
    return code, out, err


def test_ctrl_c_during_prompt_2_of_5_says_what_is_left(demo_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(generate_cli, "stream_answer", ctrl_c_at("Aries 2"))
    code, out, err = run(capsys, demo_dir, tmp_path, 5)
    assert code == 3
    assert out == "> Aries 1\n ok\n> Aries 2\n o\n"
    assert err.splitlines()[-2:] == ["[1 tokens · 10.0 tokens/s · stopped: stopped by the user]",
                                     "stopped (Ctrl-C): the answer to prompt 2 is cut off; prompts 3 to 5 of 5 were "
                                     "not answered."]


def test_ctrl_c_between_prompts_says_the_ones_not_begun(demo_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(generate_cli, "stream_answer", ctrl_c_at("Aries 4", between=True))
    code, out, err = run(capsys, demo_dir, tmp_path, 5)
    assert code == 3 and out.endswith("> Aries 4\n ok\n")
    assert err.splitlines()[-1] == "stopped (Ctrl-C): prompt 5 of 5 was not answered."


def test_ctrl_c_during_a_single_prompt(demo_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(generate_cli, "stream_answer", ctrl_c_at("Aries 1"))
    code, out, err = run(capsys, demo_dir, tmp_path, 1)
    assert (code, out) == (3, " o\n")
    assert err.splitlines()[-1] == "stopped (Ctrl-C): the answer is cut off."


def test_stopped_text_words() -> None:
    assert generate_cli.stopped_text(300, list(range(1, 123)) + [-1]) == (
        "the answer to prompt 122 is cut off; prompts 123 to 300 of 300 were not answered.")
    assert generate_cli.stopped_text(3, [1, 2, 3, -1]) == "the answer to prompt 3 is cut off."
    assert generate_cli.stopped_text(3, [1, 2, 3]) == "every prompt was answered."


def test_sigterm_stops_as_ctrl_c_does_with_exit_3(demo_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """README: exit 3 for a generate stopped by Ctrl-C or SIGTERM; SIGTERM killed it (exit 143), saying nothing."""
    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(generate_cli, "stream_answer", ctrl_c_at("Aries 2", signum=signal.SIGTERM))
    code, out, err = run(capsys, demo_dir, tmp_path, 3)
    assert code == 3 and out.endswith("> Aries 2\n o\n")
    assert err.splitlines()[-1] == ("stopped (SIGTERM): the answer to prompt 2 is cut off; prompt 3 of 3 was not "
                                    "answered.")
    assert signal.getsignal(signal.SIGTERM) == before


def test_sigterm_while_loading_stops_before_answering(demo_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    before = signal.getsignal(signal.SIGTERM)

    def load(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("went on loading")

    monkeypatch.setattr(generate_cli, "load", load)
    code, out, err = run(capsys, demo_dir, tmp_path, 1)
    assert (code, out) == (3, "")
    assert err.splitlines()[-1] == "stopped before answering (SIGTERM)."
    assert signal.getsignal(signal.SIGTERM) == before
