"""helper-178: validate() builds TrainingArguments at every edit of the window; it made and removed a temporary
folder each time. transformers 5's TrainingArguments only stores output_dir, so none is made now."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import validation
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import WARNING
from finetune_studio.core.validation import validate
from tests.helpers import folder_calls


def said(config) -> dict[str, str]:
    return {p.field: p.message for p in validate(config, check_files=False) if p.level != WARNING}


# ---- validate() makes no folder: TrainingArguments' output_dir is only stored

def test_repeated_validation_makes_no_folder(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = folder_calls(monkeypatch, "tempfile.mkdtemp", "os.makedirs", "os.mkdir")
    config = default_config()
    validation.training_arguments_error(config)  # once, for imports that make their own caches
    made.clear()
    for rate in (1e-4, 2e-4, 3e-4):
        config.training["learning_rate"] = rate
        assert validation.training_arguments_error(config) is None
        assert said(config) == {}
    assert made == []
    assert not validation.unmade_output_dir().exists()
    # it still catches what only TrainingArguments knows
    config.training.update(load_best_model_at_end=True, eval_strategy="steps", save_strategy="epoch")
    assert "TrainingArguments rejected these settings" in validation.training_arguments_error(config)
    assert made == []
