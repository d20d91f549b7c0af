"""An export with "Replace what the folder holds" (the window) into the run folder, the runs folder or any folder
above or around a run deleted the runs and said it had exported (helper-65's hostile test). core.export refuses
any destination whose replacement would delete a run, before anything loads or is deleted, for the window and
`finetune-studio export` alike. Runs are made without training."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli, export
from finetune_studio.core.export import ExportError, export_adapter
from tests.core.test_cli_push_export_input import _adapter_run, _one_line
from tests.hub_fixtures import make_finished_run


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}



def _refusal(out: Path, how: str, what: str, place: Path) -> str:
    return (f"Refused to export into {out}: it {how} the {what} {place}, and an export replaces everything its "
            "folder holds, which would delete runs (their checkpoints, metrics and models). Nothing was changed. To "
            "fix: choose an empty folder or a new name (--out DIR), or leave --out out for the default "
            "(export-adapter or export-merged in the run folder).")



@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    runs = tmp_path / "all" / "runs"
    run = _adapter_run(runs)
    make_finished_run(runs, "other")
    return runs, run


def test_replacing_the_run_the_runs_folder_or_a_folder_above_them_is_refused(
        two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    runs, run = two_runs
    elsewhere = tmp_path / "elsewhere" / "deep" / "kept"
    shutil.copytree(runs / "other", elsewhere)  # a run somewhere below the chosen folder
    before = _tree(tmp_path)
    said = {run: ("is", "run folder", run), runs: ("holds", "run folder", run),
            runs.parent: ("holds", "run folder", run), tmp_path: ("holds", "run folder", run),
            tmp_path / "elsewhere": ("holds", "run folder", elsewhere),
            runs / "other": ("is", "run folder", runs / "other")}
    for out, (how, what, place) in said.items():
        for kind in ("adapter", "merged"):  # merged: refused before the base model (org/base: none) would load
            with pytest.raises(ExportError) as refused:
                export.export_run(run, kind, out, overwrite=True)
            assert str(refused.value) == _refusal(out, how, what, place), (out, kind)
            assert refused.value.bad_input
    assert _tree(tmp_path) == before  # every run and every file of it is still there
    assert sorted(p.name for p in runs.iterdir()) == ["lora-run", "other"]


def test_the_apps_empty_runs_folder_and_its_parents_are_refused_too(two_runs: tuple[Path, Path], tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _runs, run = two_runs
    own = tmp_path / "home" / "runs"
    own.mkdir(parents=True)
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(own))
    for out in (own, own.parent):
        with pytest.raises(ExportError) as refused:
            export_adapter(run, out, overwrite=True)
        assert str(refused.value) == _refusal(out, "is" if out == own else "holds", "runs folder", own)
    assert own.is_dir() and list(own.iterdir()) == []


def test_a_folder_without_runs_is_still_replaced_when_asked(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    _runs, run = two_runs
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "old.txt").write_text("old")
    (out / "adapter_config.json").write_text('{"peft_type": "LORA"}')  # an earlier export: only such is replaced
    result = export_adapter(run, out, overwrite=True)
    assert result.out_dir == out and sorted(result.files) == ["adapter_config.json", "adapter_model.safetensors",
                                                              "tokenizer_config.json"]


def test_the_command_line_refuses_the_runs_folder_with_exit_2(two_runs: tuple[Path, Path],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    runs, run = two_runs
    before = _tree(runs)
    for out in (runs, run):
        assert cli.main(["export", "--adapter", str(run), "--out", str(out)]) == cli.EXIT_CONFIG
        place = run
        assert _one_line(capsys) == "error: " + _refusal(out, "is" if out == run else "holds", "run folder", place)
    assert _tree(runs) == before
