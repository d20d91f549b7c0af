"""`finetune-studio generate RUN --checkpoint N --base`: the base model is the same for every checkpoint, so the two
together are refused (exit 2, before anything loads) instead of --checkpoint being dropped without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import generate_cli
from tests.core.test_generate_cli import _run_with_checkpoint_2, cli, no_loading  # noqa: F401 - a fixture


def test_base_with_a_checkpoint_is_refused_before_loading(tmp_path: Path, no_loading, capsys) -> None:
    """Before: `--checkpoint 1 --base` printed 'Loading the tokenizer of run · checkpoint-2…', loaded the base model
    and answered with it, exit 0."""
    run_dir = _run_with_checkpoint_2(tmp_path)
    code, out, err = cli(capsys, str(run_dir), "--checkpoint", "2", "--base", "--prompt", "hi")
    assert (code, out) == (2, "")
    assert err == ("error: --base answers with the base model the run started from, the same for every checkpoint, "
                   "so --checkpoint 2 would change nothing. To fix: drop --checkpoint 2 to answer with the base "
                   "model, or drop --base to answer with checkpoint-2.\n")


def test_a_checkpoint_alone_still_reaches_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    run_dir = _run_with_checkpoint_2(tmp_path)
    asked: list[tuple[str, int | None]] = []

    def resolve(folder: str, checkpoint: int | None) -> None:
        asked.append((folder, checkpoint))
        raise KeyboardInterrupt  # stands for Ctrl-C while the model is looked up: the command ends there, exit 3

    monkeypatch.setattr(generate_cli, "resolve", resolve)
    code, out, err = cli(capsys, str(run_dir), "--checkpoint", "2", "--prompt", "hi")
    assert (code, out, asked) == (3, "", [(str(run_dir), 2)]), err
    assert err == "stopped before answering (Ctrl-C).\n"
