"""validate() refuses a run name or runs folder that is not text in the words a config file's gets, when the config
was built in code (the forms, a script): a file's is refused as it is read (core.config, de27f42), but a RunConfig
made otherwise said "The run name ['a'] cannot be used as a folder name; avoid / and \\" (the wrong reason, in
Python's form) and, for runs_dir, nothing: runs_dir_of() falls back to the default folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.config import RunConfig
from finetune_studio.core.validation import validate


def messages(config: RunConfig) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in validate(config, check_files=True):
        found.setdefault(problem.field, []).append(problem.message)
    return found


def test_a_run_name_that_is_a_list_is_refused_as_no_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    config = RunConfig()
    config.name = ["a"]
    assert messages(config)["name"] == [
        "name must be one run name as text, not a list (got [a]). To fix: write one name of letters, digits, - and "
        "_, e.g. name: my-run, or remove name to have one made from the date and time."]


def test_a_runs_folder_that_is_a_mapping_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    config = RunConfig()
    config.runs_dir = {"x": 1}
    assert messages(config)["runs_dir"] == [
        "runs_dir must be one folder as text, not a mapping (got {x: 1}). To fix: write one folder, e.g. runs_dir: "
        f"~/finetune-runs, or remove runs_dir to use the per-user default ({tmp_path / 'runs'})."]
    config.runs_dir = str(tmp_path / "mine")  # one folder as text passes
    assert "runs_dir" not in messages(config)
