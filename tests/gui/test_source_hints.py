"""The Model form's hint under the name field follows core.sources' rule (tests/core/test_sources.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.gui.forms.model_form import describe_model_source


def test_model_form_hint_follows_the_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "weights.bin").write_text("x")
    (tmp_path / "org" / "name").mkdir(parents=True)
    assert describe_model_source("Qwen/Qwen3-0.6B").startswith("Hugging Face Hub model id")
    assert describe_model_source("org/name") == "Local model folder."
    assert describe_model_source("a/b/c") == "Local folder (not found yet)."
    assert describe_model_source("model.json") == "Local folder (not found yet)."
    assert describe_model_source("weights.bin").startswith("A file, not a folder")
    assert describe_model_source("https://huggingface.co/Qwen/Qwen3-0.6B").startswith("A web address")
