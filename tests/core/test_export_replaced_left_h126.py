"""What an export stopped while replacing its folder left beside it (helper-126): the earlier export, moved aside to
a hidden .NAME.replaced-… folder, stayed there when the export was killed between its two renames, so the user's
earlier export seemed gone. The next export into that place puts it back when NAME is missing, and names it (as a
copy that can be deleted) when NAME holds an export; a copy of a replace that finished (.NAME.deleting-…) is
deleted. The states are made by hand, as a kill leaves them."""

from __future__ import annotations

import os
import shutil
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import cli, export
from finetune_studio.core.export import ExportError, export_adapter
from tests.core.test_cli_push_export_input import _adapter_run, _one_line

DEAD = 999999999  # no process has this number
WRITTEN = datetime(2026, 12, 5, 14, 2, 30).timestamp()  # the earlier export's folder time, said in the refusal
WEIGHTS = "adapter_model.safetensors"


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _killed_mid_replace(run: Path, out: Path, token: str = "0a1b2c3d", host: str = "-here") -> Path:
    """An earlier export in `out`, then what a replace killed between its renames leaves: out moved aside, the new
    export half-written in its .partial folder. The moved-aside copy."""
    export_adapter(run, out)
    (out / WEIGHTS).write_bytes(b"the earlier export's weights " + token.encode())
    aside = out.parent / f".{out.name}.replaced-{DEAD}-{token}{host}"
    os.rename(out, aside)
    partial = out.parent / f".{out.name}.partial-{DEAD}-{token}{host}"
    partial.mkdir()
    (partial / WEIGHTS).write_bytes(b"half")
    os.utime(aside, (WRITTEN, WRITTEN))  # a rename back keeps it
    return aside


def _earlier(run: Path) -> str:
    """What the refusal says the put-back folder holds (core.export.earlier_export_text, helper-217): its weights are
    no model's of the run now, and an adapter export records no source of its own."""
    written = datetime.fromtimestamp(WRITTEN).strftime("%Y-%m-%d %H:%M")
    return (f"an earlier export (written {written}): an adapter on org/base, which does not record which run or "
            f"checkpoint it was exported from, and no model of the run {run.name} has its weights now")


def _put_back(out: Path, aside: Path) -> str:
    return (f"An earlier export into {out} was stopped after it had moved the export that was there aside to "
            f"{aside.name}, before it put its own in place, so that export seemed gone: it is back in {out}.")


@pytest.fixture(autouse=True)
def _here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "here")


def test_the_earlier_export_is_put_back_and_the_refusal_says_so(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"
    aside = _killed_mid_replace(run, out)
    with pytest.raises(ExportError) as refused:  # without Replace: the folder holds the earlier export again
        export_adapter(run, out)
    assert str(refused.value) == (_put_back(out, aside) + f" {out} exists already and is not empty: it holds "
                                  f"{_earlier(run)}. To fix: choose another folder (--out DIR), or delete it first.")
    assert refused.value.notes == (_put_back(out, aside),) and refused.value.problem == export.NOT_EMPTY
    assert (out / WEIGHTS).read_bytes() == b"the earlier export's weights 0a1b2c3d"
    assert _hidden(out.parent) == []  # the dead export's half-written folder is gone too

    other = tmp_path / "cli" / "mine"  # the command line says it too, and its --replace (63efcc2) as the fix
    aside = _killed_mid_replace(run, other)
    assert cli.main(["export", "--adapter", str(run), "--out", str(other)]) == cli.EXIT_CONFIG
    assert _one_line(capsys) == (f"error: {_put_back(other, aside)} {other} exists already and is not empty: it "
                                 f"holds {_earlier(run)}. To fix: replace it with finetune-studio export --adapter "
                                 f"{run} --out {other} --replace, or choose another folder (--out DIR).")
    assert (other / WEIGHTS).read_bytes() == b"the earlier export's weights 0a1b2c3d"


def test_with_replace_the_export_goes_in_and_says_what_was_put_back(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "mine"
    aside = _killed_mid_replace(run, out)
    result = export_adapter(run, out, overwrite=True)
    assert result.message.endswith(f"from_pretrained('{out}'). {_put_back(out, aside)}")
    assert (out / WEIGHTS).read_bytes() == (run / "model" / WEIGHTS).read_bytes()
    assert _hidden(tmp_path) == []


def test_a_copy_beside_an_export_is_named_as_deletable_and_kept(tmp_path: Path) -> None:
    """NAME holds an export: the copy may be the earlier export of a replace that finished (killed before it renamed
    the copy to .deleting), or one whose replace never did (and NAME was exported into since): it is only named."""
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "mine"
    aside = _killed_mid_replace(run, out)
    export_adapter(run, tmp_path / "newer")
    os.rename(tmp_path / "newer", out)
    result = export_adapter(run, out, overwrite=True)
    assert result.message.endswith(
        f"from_pretrained('{out}'). {aside} is an earlier export of {out} that an export stopped while replacing it "
        f"left behind; {out} holds another export now. If you no longer need that copy, delete it.")
    assert _hidden(tmp_path) == [aside.name]
    assert (aside / WEIGHTS).read_bytes() == b"the earlier export's weights 0a1b2c3d"


def test_the_newest_copy_is_put_back_and_the_others_are_named(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "mine"
    older = _killed_mid_replace(run, out)
    newer = tmp_path / f".mine.replaced-{DEAD}-11111111"  # named before names carried the computer
    shutil.copytree(older, newer)
    (newer / WEIGHTS).write_bytes(b"the newer export's weights")
    now = time.time()
    os.utime(older, (now - 60, now - 60))
    os.utime(newer, (now, now))
    with pytest.raises(ExportError) as refused:
        export_adapter(run, out)
    assert (out / WEIGHTS).read_bytes() == b"the newer export's weights"
    assert str(refused.value).startswith(_put_back(out, newer) + f" {older} is an earlier export of {out} ")
    result = export_adapter(run, out, overwrite=True)
    deletable = (f"{older} is an earlier export of {out} that an export stopped while replacing it left behind; {out} "
                 "holds another export now. If you no longer need that copy, delete it.")
    assert result.message.endswith(f"from_pretrained('{out}'). {deletable}")  # said again while it is there
    assert _hidden(tmp_path) == [older.name]  # named, never deleted: it cannot be told from a replace that finished
    assert (older / WEIGHTS).read_bytes() == b"the earlier export's weights 0a1b2c3d"


def test_other_computers_and_live_copies_are_left_alone(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "mine"
    there = _killed_mid_replace(run, out, host="-there")  # another computer's export may be between its renames
    live = tmp_path / f".mine.replaced-{os.getpid()}-22222222-here"
    shutil.copytree(there, live)
    result = export_adapter(run, out)  # NAME missing: exported into, nothing put back or said
    assert result.message.endswith(f"from_pretrained('{out}').")
    assert _hidden(tmp_path) == sorted([there.name, live.name, f".mine.partial-{DEAD}-0a1b2c3d-there"])


def test_a_finished_replace_renames_the_copy_before_deleting_it_and_a_left_one_is_deleted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "mine"
    export_adapter(run, out)
    deleted: list[str] = []

    def killed_while_deleting(path: Any, *args: Any, **kwargs: Any) -> None:
        deleted.append(Path(path).name)  # nothing deleted: as a kill before rmtree got anywhere

    monkeypatch.setattr(export.shutil, "rmtree", killed_while_deleting)
    export_adapter(run, out, overwrite=True)
    assert [name.split("-")[0] for name in deleted] == [".mine.deleting"] and deleted[0].endswith("-here")
    assert _hidden(tmp_path) == deleted  # what a kill there leaves: a copy no export needs
    monkeypatch.undo()
    monkeypatch.setattr(socket, "gethostname", lambda: "elsewhere")  # whoever left it
    result = export_adapter(run, out, overwrite=True)
    assert result.message.endswith(f"from_pretrained('{out}').")  # nothing to say
    assert _hidden(tmp_path) == []


def test_a_copy_beside_a_folder_of_documents_is_named_in_the_refusal(tmp_path: Path) -> None:
    """NAME was made again, holding documents, after the replace was killed: the export refuses the folder, and
    says first where the earlier export is."""
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "mine"
    aside = _killed_mid_replace(run, out)
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ExportError) as refused:
        export_adapter(run, out, overwrite=True)
    assert str(refused.value) == (
        f"{aside} is an earlier export of {out} that an export stopped while replacing it left behind; {out} is there "
        "again, holding something else, so it was not put back. If you no longer need that copy, delete it. "
        f"{out} holds notes.txt and no earlier export (no model's config.json or adapter_config.json): an export "
        "replaces everything its folder holds, so none goes there. Nothing was changed. To fix: choose an empty "
        "folder or a new name, or move those files away first.")
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and _hidden(tmp_path) == [aside.name]
