"""An export replaces only a folder that holds an earlier export, or an empty one (helper-126): "Delete what the folder
holds, then export" deleted any folder's contents, so a folder of documents picked by mistake (~/Documents/thesis)
was lost. core.export refuses such a folder, with or without the box, for the window and `finetune-studio export`
alike, in the same words; runs are made without training."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import cli, export
from finetune_studio.core.export import OUT_UNUSABLE, ExportError, export_adapter
from tests.core.test_cli_push_export_input import _adapter_run, _one_line

ADAPTER_FILES = ["adapter_config.json", "adapter_model.safetensors", "tokenizer_config.json"]


def _thesis(folder: Path) -> dict[str, bytes]:
    (folder / "chapters").mkdir(parents=True)
    (folder / "chapters" / "one.tex").write_text("\\chapter{One}")
    (folder / "notes.txt").write_text("mine")
    (folder / "config.json").write_text('{"bibliography": "refs.bib"}')  # a config.json, but not a model's
    (folder / "thesis.pdf").write_bytes(b"%PDF")
    return _tree(folder)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _refusal(out: Path) -> str:
    return (f"{out} holds chapters/, config.json, notes.txt and 1 more and no earlier export (no model's config.json "
            "or adapter_config.json): an export replaces everything its folder holds, so none goes there. Nothing "
            "was changed. To fix: choose an empty folder or a new name, or move those files away first.")


@pytest.mark.parametrize("overwrite", [True, False])
@pytest.mark.parametrize("kind", ["adapter", "merged"])
def test_a_folder_of_documents_is_refused_with_or_without_replace(kind: str, overwrite: bool, tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "Documents" / "thesis"
    before = _thesis(out)
    with pytest.raises(ExportError) as refused:  # merged: refused before the base model (org/base: none) loads
        export.export_run(run, kind, out, overwrite=overwrite)
    assert str(refused.value) == _refusal(out)
    assert (refused.value.kind, refused.value.problem, refused.value.bad_input) == (OUT_UNUSABLE, "not_an_export", True)
    assert _tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["thesis"]  # no hidden folder left beside it


def test_the_command_line_refuses_it_in_the_same_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "thesis"
    before = _thesis(out)
    assert cli.main(["export", "--adapter", str(run), "--out", str(out)]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == "error: " + _refusal(out)
    assert _tree(out) == before


def test_an_earlier_export_a_saved_model_and_an_empty_folder_are_still_replaced(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    earlier = tmp_path / "earlier"
    export_adapter(run, earlier)
    (earlier / "old-only.txt").write_text("from the earlier export")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "qwen3"}')
    (model / "model.safetensors").write_bytes(b"weights")
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (earlier, model, empty):
        assert export.replace_refusal(out) is None and export.destination_refusal(run, out) is None
        result = export_adapter(run, out, overwrite=True)
        assert result.files == ADAPTER_FILES == sorted(p.name for p in out.iterdir()), out
    assert export.replace_refusal(tmp_path / "not-there") is None


def test_the_window_asks_the_same_refusal_before_export_is_pressed(tmp_path: Path) -> None:
    """destination_refusal: the refusals of check_destination that read no tree, then replace_refusal."""
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "thesis"
    _thesis(out)
    assert export.destination_refusal(run, out) == _refusal(out)
    assert export.destination_refusal(run, tmp_path / "runs").startswith(  # its own words, not the documents' refusal
        f"Refused to export into {tmp_path / 'runs'}: it holds the run folder {run}, ")
    assert export.destination_refusal(run, tmp_path / "new") is None


def test_a_folder_filled_with_documents_while_the_export_was_written_is_left_as_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A merge takes minutes between the check and the rename: the folder is asked again before it is replaced."""
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "out"
    real_copy = shutil.copy2

    def copy(source: Any, target: Any, **kwargs: Any) -> Any:
        if not out.exists():
            _thesis(out)
        return real_copy(source, target, **kwargs)

    monkeypatch.setattr(export.shutil, "copy2", copy)
    with pytest.raises(ExportError) as refused:
        export_adapter(run, out, overwrite=True)
    assert str(refused.value).startswith(f"Did not put the export into {out}: another export or program filled the "
                                         "folder while this one was written")
    assert sorted(_tree(out)) == ["chapters/one.tex", "config.json", "notes.txt", "thesis.pdf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "runs"]
