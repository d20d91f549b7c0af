"""A revision set beside a local model folder is warned about at model.revision (transformers reads the folder as it
is and ignores the revision, so the run trained the folder with no word): the Model tab disables Revision for a
folder, but a YAML or --set user saw nothing. A Hub id with a revision, or a folder without one, is not warned."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import RunConfig
from finetune_studio.core.validation import warnings_for


def _revision_warnings(name: str, revision: str | None) -> list[tuple[str, str]]:
    config = RunConfig()
    config.model.name_or_path, config.model.revision = name, revision
    return [(p.field, p.message) for p in warnings_for(config) if p.field == "model.revision"]


def test_a_revision_beside_a_model_folder_is_warned_about(
        demo_cache: Path, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_studio.core.demo import demo_model_path

    folder = tmp_path / "model"
    shutil.copytree(demo_model_path(), folder)
    (folder / "finetune_studio_demo.json").unlink(missing_ok=True)
    said = (f"revision v2 applies to Hub ids only; model.name_or_path is a local folder ({folder}), so it is ignored "
            "and the folder's files are used as they are. To fix: remove revision, or give the Hub id (owner/name) "
            "in model.name_or_path.")
    assert _revision_warnings(str(folder), "v2") == [("model.revision", said)]
    capsys.readouterr()
    assert main(["validate", "--set", f"model.name_or_path={folder}", "--set", "model.revision=v2"]) == 0
    assert f"warning: model.revision: {said}" in capsys.readouterr().out.splitlines()
    assert _revision_warnings(str(folder), None) == []  # the fix passes
    assert _revision_warnings("Qwen/Qwen3-0.6B", "v2") == []  # a Hub id's revision is used
