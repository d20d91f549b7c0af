"""An export into the home folder or a folder above it is refused before anything loads or is deleted: with Replace
("Replace what the folder holds", overwrite=True) it deleted everything there that is not a run (helper-114's
finding: a folder without runs is replaced when asked, which is right for an earlier export, not for ~)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.export import ExportError, export_run
from tests.core.test_cli_push_export_input import _adapter_run


@pytest.mark.parametrize("where", ["home", "above"])
def test_the_home_folder_and_the_folders_above_it_are_refused_with_replace(where: str, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "top" / "me"
    (home / "Documents").mkdir(parents=True)
    (home / "Documents" / "thesis.txt").write_text("years of work", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    run = _adapter_run(tmp_path / "runs")
    out = home if where == "home" else home.parent
    with pytest.raises(ExportError) as refused:
        export_run(run, "adapter", out, overwrite=True)
    what = "your home folder" if where == "home" else f"a folder that holds your home folder ({home})"
    assert str(refused.value) == (
        f"Refused to export into {out}: it is {what}, and an export replaces everything its folder holds. Nothing "
        f"was changed. To fix: choose a new folder inside it, e.g. {home / 'exports' / 'my-model'} (--out DIR), or "
        "leave --out out for the default (export-adapter or export-merged in the run folder).")
    assert (home / "Documents" / "thesis.txt").read_text(encoding="utf-8") == "years of work"
    assert sorted(p.name for p in home.iterdir()) == ["Documents"]


def test_a_new_folder_inside_home_still_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "me"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    run = _adapter_run(tmp_path / "runs")
    result = export_run(run, "adapter", home / "exports" / "mine")
    assert result.out_dir == home / "exports" / "mine"
    assert (home / "exports" / "mine" / "adapter_config.json").is_file()
