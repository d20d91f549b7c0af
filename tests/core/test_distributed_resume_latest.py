"""A rank given `--resume-from latest` (the lines Copy launch command gives for a resume) continues from the
checkpoint Resume would: core.runs' resume_point, the latest complete one whose weights load. It read
latest_checkpoint, so a newest checkpoint whose weights were deleted or cut short was chosen and every rank failed
loading it."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.config import PRESETS
from finetune_studio.core.distributed import _checkpoint
from finetune_studio.core.errors import FinetuneError
from tests.helpers import checkpoint


def test_latest_passes_over_a_newest_checkpoint_that_cannot_load(tmp_path: Path) -> None:
    config = PRESETS["demo"]()
    checkpoint(tmp_path, 6)
    checkpoint(tmp_path, 12, weights=False)  # its model.safetensors deleted to save space, say
    assert _checkpoint(tmp_path, config, "latest") == tmp_path / "checkpoint-6"


def test_latest_in_the_configs_output_dir(tmp_path: Path) -> None:
    config = PRESETS["demo"]()
    config.training["output_dir"] = str(tmp_path / "out")
    checkpoint(tmp_path / "out", 3)
    checkpoint(tmp_path / "out", 9, weights=False)
    assert _checkpoint(tmp_path / "run", config, "latest") == tmp_path / "out" / "checkpoint-3"


def test_latest_with_no_checkpoint_starts_at_step_0_and_a_named_one_is_taken_as_given(tmp_path: Path) -> None:
    config = PRESETS["demo"]()
    assert _checkpoint(tmp_path, config, "latest") is None
    assert _checkpoint(tmp_path, config, None) is None
    assert _checkpoint(tmp_path, config, str(tmp_path / "checkpoint-5")) == tmp_path / "checkpoint-5"


def test_latest_when_no_checkpoint_loads_is_refused_with_why(tmp_path: Path) -> None:
    config = PRESETS["demo"]()
    tmp_path = tmp_path / "weightless"
    checkpoint(tmp_path, 4, weights=False)
    with pytest.raises(FinetuneError) as refused:
        _checkpoint(tmp_path, config, "latest")
    assert str(refused.value) == (
        "The run weightless cannot resume: none of its checkpoints can be loaded (checkpoint-4: it holds no weights "
        "(model*.safetensors)). To fix: put the missing or damaged files back from a copy of the run, or start it "
        "again with its settings (in the app: Runs tab, Use its settings, then Start).")
