"""An export to a folder that cannot be written said "Training failed: OSError", after loading the base model for
a merge; a full disk while copying the adapter named the deleted hidden .partial folder and told the user to choose
"a runs folder" (helper-65). Both are now export errors about the folder the user chose, said before loading."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import cli, export
from finetune_studio.core.export import ExportError, export_adapter
from tests.core.test_cli_push_export_input import _adapter_run, _one_line


def _deny_under(monkeypatch: pytest.MonkeyPatch, folder: Path, code: int = errno.EACCES) -> None:
    """os.mkdir refuses inside `folder`, as a folder the user may not write does (root writes anywhere, so a real
    read-only folder cannot be made in a test run as root)."""
    real = os.mkdir

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path).is_relative_to(folder):
            raise OSError(code, os.strerror(code), str(path))
        real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)


@pytest.mark.parametrize(("code", "why"), [(errno.EACCES, "permission denied"),
                                           (errno.EROFS, "the disk it is on is read-only"),
                                           (errno.EPERM, "the operation is not permitted (a locked file)")])
def test_an_unwritable_destination_is_refused_before_the_base_model_loads(
        code: int, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_studio.core import model as models

    run = _adapter_run(tmp_path / "runs")
    locked = tmp_path / "locked"
    locked.mkdir()
    loads: list[Any] = []
    monkeypatch.setattr(models, "load_model", lambda *args, **kwargs: loads.append(args))
    _deny_under(monkeypatch, locked, code)
    out = locked / "export"
    said = (f"Cannot write to {out}: {why}. Nothing was written. To fix: choose a folder you can write to "
            "(--out DIR).")
    for kind in ("adapter", "merged"):
        with pytest.raises(ExportError) as refused:
            export.export_run(run, kind, out)
        assert str(refused.value) == said and refused.value.kind == export.CANNOT_WRITE
        assert cli.main(["export", f"--{kind}", str(run), "--out", str(out)]) == cli.EXIT_CONFIG
        assert _one_line(capsys) == f"error: {said}"
    assert loads == [] and list(locked.iterdir()) == []


def test_a_probe_that_fails_otherwise_names_neither_the_probe_nor_a_hidden_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _adapter_run(tmp_path / "runs")
    locked = tmp_path / "locked"
    locked.mkdir()
    out = locked / "export"
    _deny_under(monkeypatch, locked, errno.ENOENT)  # e.g. /proc, which takes no new folders
    with pytest.raises(ExportError) as refused:
        export.export_run(run, "merged", out)
    assert str(refused.value) == (f"Cannot write to {out}: No such file or directory. Nothing was written. To fix: "
                                  "choose a folder you can write to (--out DIR).")
    _deny_under(monkeypatch, locked, errno.ENOSPC)
    with pytest.raises(ExportError) as refused:
        export.export_run(run, "merged", out)
    assert str(refused.value) == (f"Writing the export to {out} failed: the disk ran out of space (No space left on "
                                  f"device). Nothing was left there. To fix: free some space on the disk that holds "
                                  f"{locked}, or export to a folder on another disk (--out DIR), then export again.")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_real_read_only_folder_is_refused(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ExportError, match=r"^Cannot write to .*: permission denied\. Nothing was written\."):
            export_adapter(run, locked / "export")
    finally:
        locked.chmod(0o755)



def test_a_full_disk_while_copying_the_adapter_names_the_export_folder(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs")
    out = tmp_path / "exports" / "mine"

    def full(source: Any, target: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(target))  # the hidden .partial folder's file

    monkeypatch.setattr(export.shutil, "copy2", full)
    said = (f"Writing the adapter to {out} failed: the disk ran out of space (No space left on device). Nothing was "
            f"left there. To fix: free some space on the disk that holds {tmp_path / 'exports'}, or export to a "
            "folder on another disk (--out DIR), then export again.")
    with pytest.raises(ExportError) as failed:
        export_adapter(run, out)
    assert str(failed.value) == said and failed.value.kind == export.NO_SPACE
    assert cli.main(["export", "--adapter", str(run), "--out", str(out)]) == cli.EXIT_FAILED
    assert _one_line(capsys) == f"error: {said}"
    assert not (tmp_path / "exports").exists()  # no .partial left, nor the folder the export made for it (10447e6)
