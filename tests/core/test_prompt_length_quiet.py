"""Measuring a prompt longer than the model's context (Compare checkpoints skips it, generate refuses it with its
own words) printed transformers' "Token indices sequence length is longer than the specified maximum sequence
length … will result in indexing errors" on stderr: the prompt never reaches the model, so that line only alarmed.
A process of its own: transformers' log handler holds the stderr it first saw, which pytest's capture is not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

MEASURE = """
from transformers import AutoTokenizer
from finetune_studio.core.demo import demo_model_path
from finetune_studio.core.generate import Rendered, prompt_length
tokenizer = AutoTokenizer.from_pretrained(demo_model_path())
print(tokenizer.model_max_length, prompt_length(tokenizer, Rendered("Aries " * (tokenizer.model_max_length + 50))))
"""


def test_measuring_a_too_long_prompt_prints_nothing(demo_cache: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FINETUNE_STUDIO_CACHE": str(demo_cache)}
    done = subprocess.run([sys.executable, "-c", MEASURE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    limit, measured = map(int, done.stdout.split())
    assert measured > limit == 512
    assert "Token indices sequence length" not in done.stderr
