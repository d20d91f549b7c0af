"""Exports that fail or meet another export (helper-114): an earlier export that Replace was replacing is kept when
the new one cannot be put in its place, two exports into one folder at once no longer delete each other's files,
and a base model whose config.json no longer describes its weights is refused with a fix."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from finetune_studio.core import export
from finetune_studio.core.export import ExportError, export_adapter, export_merged
from finetune_studio.core.hub import size_text
from tests.core.test_cli_push_export_input import _adapter_run
from tests.helpers import demo_model_copy

ADAPTER_FILES = ["adapter_config.json", "adapter_model.safetensors", "tokenizer_config.json"]


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_failed_replace_keeps_the_earlier_export_and_says_so(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    export_adapter(run, out)
    (out / "adapter_model.safetensors").write_bytes(b"the earlier export's weights")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:  # the new export cannot be renamed into place
        if ".partial" in Path(source).name:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(export.os, "replace", replace)
    with pytest.raises(ExportError) as failed:
        export_adapter(run, out, overwrite=True)
    assert str(failed.value) == (f"Writing the adapter to {out} failed (OSError: [Errno 5] Input/output error). "
                                 f"{out} still holds what it held before (nothing of it was replaced). To fix: choose "
                                 "another folder (--out DIR), then export again.")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # deleted first, it was lost
    assert _hidden(out.parent) == []


def test_a_replace_that_works_leaves_only_the_new_export(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    export_adapter(run, out)
    (out / "old-only.txt").write_text("from the earlier export")
    result = export_adapter(run, out, overwrite=True)
    assert result.files == ADAPTER_FILES == sorted(p.name for p in out.iterdir())
    assert _hidden(out.parent) == []


def test_two_exports_into_one_folder_at_once_keep_one_whole_export(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The second export starts (and finishes) while the first is half-way through its files: with one shared
    .partial folder it deleted the first's files, and the first failed naming a file of the folder it never chose
    (or, a moment later, renamed an incomplete adapter into place as a success)."""
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    real_copy = shutil.copy2
    calls: list[str] = []

    def copy(source: Any, target: Any, **kwargs: Any) -> Any:
        calls.append(Path(target).parent.name)
        if len(calls) == 2:  # the first export has copied one file: the second one runs to its end
            second.append(export_adapter(run, out))
        return real_copy(source, target, **kwargs)

    second: list[Any] = []
    monkeypatch.setattr(export.shutil, "copy2", copy)
    with pytest.raises(ExportError) as failed:
        export_adapter(run, out)
    assert str(failed.value) == (f"Did not put the export into {out}: another export or program filled the folder "
                                 "while this one was written, and it is left as it is (nothing of this export was "
                                 "kept). To fix: look at what it holds, then choose another folder (--out DIR), or "
                                 "delete it first, and export again.")
    assert failed.value.kind == export.WRITE_FAILED
    assert second[0].files == ADAPTER_FILES == sorted(p.name for p in out.iterdir())  # the second export, whole
    weights = "adapter_model.safetensors"
    assert (out / weights).read_bytes() == (run / "model" / weights).read_bytes()
    assert len(set(calls)) == 2  # each wrote into a hidden folder of its own
    assert _hidden(out.parent) == []


def test_hidden_folders_of_dead_exports_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    host = export.this_host()
    dead, older, live = (out.parent / name for name in (f".mine.partial-999999999-0a1b2c3d-{host}", ".mine.partial",
                                                          f".mine.partial-{os.getpid()}-feedbeef-{host}"))
    for folder in (dead, older, live):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    export_adapter(run, out)
    # This computer's dead export's folder goes; a live one stays, and so does one an older version named without
    # its computer (it could be another computer's, on a shared disk).
    assert _hidden(out.parent) == sorted([older.name, live.name])


def test_a_base_whose_config_no_longer_fits_its_weights_is_refused_with_a_fix(tmp_path: Path, demo_cache: Path
                                                                             ) -> None:
    run = _adapter_run(tmp_path / "runs")
    base = demo_model_copy(tmp_path / "base")
    config = json.loads((base / "config.json").read_text())
    config["hidden_size"] *= 2  # config.json edited (or another model's copied over it) after the run trained
    (base / "config.json").write_text(json.dumps(config))
    written = yaml.safe_load((run / "config.yaml").read_text())
    written["model"]["name_or_path"] = str(base)
    (run / "config.yaml").write_text(yaml.safe_dump(written))
    out = tmp_path / "merged"
    with pytest.raises(ExportError) as refused:
        export_merged(run, out)
    assert str(refused.value) == (
        "The run lora-run's base model could not be loaded, so the adapter cannot be merged into it: the "
        f"config.json in {base} does not match its weights (model.embed_tokens.weight is 1457 × 64 in the weights, "
        f"1457 × 128 by config.json; 19 more differ). Nothing was exported. To fix: put back the base model the run "
        f"trained on at {base} (its "
        f"config.json and weight files together), or set model.name_or_path in {run / 'config.yaml'} to where that "
        "model is now, then export again.")
    assert not out.exists() and _hidden(tmp_path) == []


def test_a_link_to_a_folder_is_exported_into_the_folder_it_names(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    real = tmp_path / "disk" / "exports"
    real.mkdir(parents=True)
    link = tmp_path / "exports"
    link.symlink_to(real)
    result = export_adapter(run, link)  # it failed at the end: "Cannot call rmtree on a symbolic link"
    assert result.out_dir == real and result.files == ADAPTER_FILES == sorted(p.name for p in real.iterdir())
    assert link.is_symlink() and link.resolve() == real
    assert _hidden(tmp_path / "disk") == [] and _hidden(tmp_path) == []


def test_a_folder_name_longer_than_the_disk_allows_is_refused_with_a_fix(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    name = "x" * 300
    for kind in ("adapter", "merged"):  # merged: refused before anything loads
        with pytest.raises(ExportError) as refused:
            export.export_run(run, kind, tmp_path / name / "mine")  # was a bare OSError: [Errno 36]
        assert str(refused.value) == (f"{tmp_path / name / 'mine'} cannot be made: the name {'x' * 40}… is 300 bytes "
                                      "long, more than the disk allows for one name (File name too long). Nothing "
                                      "was written. To fix: choose a shorter folder name (--out DIR).")
        assert refused.value.bad_input
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_an_adapter_whose_base_folder_is_gone_is_exported_with_a_note(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    base = tmp_path / "moved-away" / "base"
    config = json.loads((run / "model" / "adapter_config.json").read_text())
    (run / "model" / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": str(base)}))
    out = tmp_path / "mine"
    result = export_adapter(run, out)
    assert result.files == ADAPTER_FILES
    assert result.message == (
        f"Exported the adapter ({size_text(result.size_bytes)}) to {out}. It loads on top of its base model {base} "
        f"with peft: AutoPeftModelForCausalLM.from_pretrained('{out}'). Its base model folder {base} is not there now "
        "(moved or deleted), so the adapter does not load until it is: put the base model back there, or set "
        f"base_model_name_or_path in {out / 'adapter_config.json'} to where it is now.")
    base.mkdir(parents=True)  # back where it was: no note
    assert export_adapter(run, tmp_path / "again").message.endswith("from_pretrained('" + str(tmp_path / "again")
                                                                    + "').")


def test_replacing_the_base_model_folder_or_one_above_it_is_refused(tmp_path: Path) -> None:
    """With Replace, a merged export put the merged model in place of the run's base (the adapter then loaded on
    top of itself), and an adapter export deleted the base."""
    run = _adapter_run(tmp_path / "runs")
    base = tmp_path / "models" / "base"
    base.mkdir(parents=True)
    (base / "config.json").write_text('{"model_type": "qwen3"}')
    (base / "model.safetensors").write_bytes(b"the base weights")
    config = json.loads((run / "model" / "adapter_config.json").read_text())
    (run / "model" / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": str(base)}))
    for out, how in ((base, "is"), (base.parent, "holds")):
        for kind in ("adapter", "merged"):
            with pytest.raises(ExportError) as refused:
                export.export_run(run, kind, out, overwrite=True)
            assert str(refused.value) == (
                f"Refused to export into {out}: it {how} the base model folder {base} the run lora-run trained on, "
                "which its adapter is loaded on top of (and a merge, Resume and the Try tab load), and an export "
                "replaces everything its folder holds. Nothing was changed. To fix: choose an empty folder or a new "
                "name (--out DIR), or leave --out out for the default (export-adapter or export-merged in the run "
                "folder).")
            assert refused.value.bad_input
    assert sorted(p.name for p in base.iterdir()) == ["config.json", "model.safetensors"]
    assert (base / "model.safetensors").read_bytes() == b"the base weights"
    assert export_adapter(run, base / "exports").out_dir == base / "exports"  # inside it: nothing is replaced
