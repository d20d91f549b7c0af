"""check_destination looks for runs a replaced destination would delete by walking the destination's tree, and
asked every folder of it for each of a run's files besides (core.runs.is_run_folder: a stat apiece), so a big
folder chosen as the destination (a home folder) cost several times the walk (helper-84, F4). It now tells a run
from the listing the walk reads anyway, and still stops at the first run. A run deep below is still refused:
replacing the folder deletes it as surely as one at the top (tests/core/test_export_keeps_runs.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import export
from finetune_studio.core.export import ExportError
from finetune_studio.core.runs import RunFolder
from tests.core.test_cli_push_export_input import _adapter_run
from tests.hub_fixtures import make_finished_run


def _refusal(out: Path, how: str, place: Path) -> str:
    return (f"Refused to export into {out}: it {how} the run folder {place}, and an export replaces everything its "
            "folder holds, which would delete runs (their checkpoints, metrics and models). Nothing was changed. To "
            "fix: choose an empty folder or a new name (--out DIR), or leave --out out for the default "
            "(export-adapter or export-merged in the run folder).")


def _count(monkeypatch: pytest.MonkeyPatch, under: Path) -> dict[str, list[Path]]:
    """Record each os.scandir (os.walk's listing) and each Path.is_file asked of a path inside `under`."""
    calls: dict[str, list[Path]] = {"scandir": [], "is_file": []}
    real_scandir, real_is_file = os.scandir, Path.is_file

    def scandir(path: Any = ".") -> Any:
        if Path(path).is_relative_to(under):
            calls["scandir"].append(Path(path))
        return real_scandir(path)

    def is_file(self: Path, *args: Any, **kwargs: Any) -> bool:
        if self.is_relative_to(under):
            calls["is_file"].append(self)
        return real_is_file(self, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(Path, "is_file", is_file)
    return calls


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunFolder:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "app-runs"))
    return RunFolder(_adapter_run(tmp_path / "runs"))


def test_the_verdicts_for_empty_full_and_run_holding_destinations(run: RunFolder, tmp_path: Path) -> None:
    empty, full = tmp_path / "empty", tmp_path / "full"
    empty.mkdir()
    (full / "a" / "b").mkdir(parents=True)
    (full / "a" / "b" / "notes.txt").write_text("mine")
    (full / "config.yml").write_text("not a run's")  # a name close to a run's file is not one
    (full / "c" / "config.yaml").mkdir(parents=True)  # a folder named like a run's file is not one either
    for out in (empty, full, tmp_path / "new"):
        assert export.check_destination(run, out) is None, out
    other = make_finished_run(tmp_path / "elsewhere", "other")
    deep = tmp_path / "holder" / "x" / "y"
    shutil.copytree(other, deep)
    for out, how, place in ((other, "is", other), (other.parent, "holds", other), (tmp_path / "holder", "holds", deep)):
        with pytest.raises(ExportError) as refused:
            export.check_destination(run, out)
        assert str(refused.value) == _refusal(out, how, place) and refused.value.kind == export.OUT_UNUSABLE


def test_each_folder_is_listed_once_and_no_folder_is_asked_for_a_runs_files(
        run: RunFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "big"
    folders = [out / f"d{i}" / f"e{j}" for i in range(5) for j in range(4)]
    for folder in folders:
        folder.mkdir(parents=True)
        (folder / "data.bin").write_bytes(b"x")
    listed = {out, *folders, *(folder.parent for folder in folders)}
    calls = _count(monkeypatch, out)
    assert export.check_destination(run, out) is None
    assert calls["is_file"] == []  # the walk's own listing says which files a folder holds
    assert sorted(calls["scandir"]) == sorted(listed)  # each folder read once, none twice


def test_a_run_at_the_top_is_found_without_descending(run: RunFolder, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    other = make_finished_run(tmp_path / "elsewhere", "other")
    for i in range(3):
        (other / f"checkpoint-{i}" / "sub").mkdir(parents=True)
    calls = _count(monkeypatch, other)
    with pytest.raises(ExportError):
        export.check_destination(run, other)
    assert calls == {"scandir": [other], "is_file": []}
