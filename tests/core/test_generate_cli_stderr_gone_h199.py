"""`generate RUN --prompts p.txt 2>&1 >answers.txt | head -1`: the reader of stderr alone leaves after its first line.
The next note raised BrokenPipeError, which ended generate quietly with exit 0 as for a reader of the answers gone:
answers.txt stayed empty, none of the prompts answered. The answers now go on to stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_generate_cli import demo_dir  # noqa: F401 - a fixture


@pytest.mark.slow
def test_answers_go_on_when_the_reader_of_stderr_leaves(demo_dir: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Aries:\nTaurus:\nGemini:\n", encoding="utf-8")
    answers = tmp_path / "answers.txt"
    with answers.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "finetune_studio.core.cli", "generate", str(demo_dir),
                                    "--prompts", str(prompts), "--max-new-tokens", "4", "--greedy"],
                                   stdout=out, stderr=subprocess.PIPE, env=dict(os.environ))
        assert process.stderr is not None
        process.stderr.close()  # the reader has gone before the first note
        assert process.wait(timeout=120) == 0
    shown = [line for line in answers.read_text(encoding="utf-8").splitlines() if line.startswith("> ")]
    assert shown == ["> Aries:", "> Taurus:", "> Gemini:"]


@pytest.mark.slow
def test_a_reader_of_both_that_leaves_still_ends_it_quietly(demo_dir: Path, tmp_path: Path) -> None:
    """`2>&1 | head -c 3`: stdout's reader is gone too, so nothing more is worth making."""
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"Prompt {number}\n" for number in range(200)), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "finetune_studio.core.cli", "generate", str(demo_dir),
                                "--prompts", str(prompts), "--max-new-tokens", "50"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    assert process.stdout is not None
    first = process.stdout.read(3)
    process.stdout.close()
    assert (len(first), process.wait(timeout=120)) == (3, 0)
