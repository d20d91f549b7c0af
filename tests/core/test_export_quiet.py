"""`finetune-studio export --merged` says its stages in its own lines; transformers' own progress bars ("Loading
weights", "Writing model shards") no longer print between them, and the library's settings are as they were after."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests import helpers


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("export-quiet"), "lora-run", rows=120, max_steps=2)


def test_a_merged_export_prints_its_own_lines_and_no_library_progress_bars(lora_run: Path, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    verbosity = hf_logging.get_verbosity()
    out = tmp_path / "merged"
    assert cli.main(["export", str(lora_run), "--merged", "--out", str(out)]) == 0
    said = capsys.readouterr()
    text = said.out + said.err
    assert "Loading the base model" in text and "Saving the merged model" in text and "Exported the merged" in text
    assert "Loading weights" not in text and "Writing model shards" not in text and "it/s]" not in text
    assert (out / "model.safetensors").is_file()
    assert hf_logging.is_progress_bar_enabled() and hf_logging.get_verbosity() == verbosity  # restored
