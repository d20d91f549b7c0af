"""`finetune-studio export` into a folder that holds an earlier export (the default export-adapter/ after the run
trained on, or an --out used before) was refused with "delete it first", and the command line had no way to
replace it, which the window's Export dialog has (core.export's overwrite: the earlier export is moved aside and
deleted only once the new one is in place). --replace does it; the refusal names it, with the command to rerun; a
folder that holds anything but an export is still refused with --replace."""

from __future__ import annotations

import os
import shlex
from datetime import datetime
from pathlib import Path

import pytest

from finetune_studio.core import cli
from tests.core.test_cli_push_export_input import _adapter_run
from tests.hub_fixtures import safetensors_bytes


@pytest.fixture
def adapter_run(tmp_path: Path) -> Path:
    """A finished LoRA run as far as `export --adapter` reads it (no training), in a folder with a space."""
    return _adapter_run(tmp_path / "runs dir")


def test_a_second_export_names_replace_and_replace_does_it(adapter_run: Path, capsys) -> None:
    out = adapter_run / "export-adapter"
    assert cli.main(["export", "--adapter", str(adapter_run)]) == 0
    first = (out / "adapter_model.safetensors").read_bytes()
    capsys.readouterr()
    (adapter_run / "model" / "adapter_model.safetensors").write_bytes(safetensors_bytes(b"more" * 64))  # trained on
    written = datetime(2026, 12, 5, 14, 2, 30)
    os.utime(out, (written.timestamp(), written.timestamp()))

    assert cli.main(["export", "--adapter", str(adapter_run)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    # which earlier export it holds (core.export.earlier_export_text): the run has trained on since, so none of its
    # models has the export's weights, and an adapter export records no source of its own
    assert captured.err == (f"error: {out} exists already and is not empty: it holds an earlier export (written "
                            f"{written:%Y-%m-%d %H:%M}): an adapter on org/base, which does not record which run or "
                            f"checkpoint it was exported from, and no model of the run {adapter_run.name} has its "
                            f"weights now. To fix: replace it with finetune-studio export --adapter '{adapter_run}' "
                            "--replace, or choose another folder (--out DIR).\n")
    assert (out / "adapter_model.safetensors").read_bytes() == first  # left as it was
    command = shlex.split(captured.err.split("replace it with ")[1].split(", or")[0])
    assert command == ["finetune-studio", "export", "--adapter", str(adapter_run), "--replace"]

    assert cli.main(command[1:]) == 0
    assert capsys.readouterr().out.startswith("Exported the adapter (")
    assert (out / "adapter_model.safetensors").read_bytes() == safetensors_bytes(b"more" * 64)
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []  # nothing hidden left


def test_replace_into_an_out_folder_given(adapter_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "my exports"
    assert cli.main(["export", "--adapter", str(adapter_run), "--out", str(out)]) == 0
    assert cli.main(["export", "--adapter", str(adapter_run), "--out", str(out)]) == 2
    assert capsys.readouterr().err.endswith(f"finetune-studio export --adapter '{adapter_run}' --out '{out}' "
                                            "--replace, or choose another folder (--out DIR).\n")
    assert cli.main(["export", "--adapter", str(adapter_run), "--out", str(out), "--replace"]) == 0


def test_replace_still_refuses_a_folder_that_holds_other_files(adapter_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "papers"
    out.mkdir()
    (out / "thesis.txt").write_text("mine", encoding="utf-8")
    assert cli.main(["export", "--adapter", str(adapter_run), "--out", str(out), "--replace"]) == 2
    assert "holds thesis.txt and no earlier export" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]
