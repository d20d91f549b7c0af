"""An export is written beside its folder and renamed into place (helper-201). Two folders that cannot take that
were said wrongly: a disk's top folder (a mount point: an empty USB stick, /dev/shm) was written to the disk above
it, merge and all, then failed with 'OSError: [Errno 16] Device or resource busy' and 'choose another folder';
a folder the user can write in, inside one they cannot (/srv/models/alice in a shared /srv/models), was refused as
'Cannot write to /srv/models/alice: permission denied', which they could. Both are refused before anything is
loaded or written, saying why and the way that works: a new folder inside it."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.export import CANNOT_WRITE, OUT_UNUSABLE, ExportError, export_run
from tests.core.test_export_other_run_h201 import _adapter_run


def test_a_disks_top_folder_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    run = _adapter_run(tmp_path / "runs", "lora-run", b"mine")
    stick = tmp_path / "media" / "USB STICK"
    stick.mkdir(parents=True)
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == stick or real(path))
    assert cli.main(["export", "--adapter", str(run), "--out", str(stick)]) == cli.EXIT_CONFIG
    said = (f"{stick} is the top folder of a disk (a mount point), and an export is written beside its folder and "
            "then put in its place, which a disk's top folder cannot be. Nothing was written. To fix: export into a "
            f"new folder on it, e.g. {stick / 'my-model'} (--out DIR).")
    assert capsys.readouterr().err.strip() == f"error: {said}"
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == ["USB STICK"]  # nothing written beside it
    assert list(stick.iterdir()) == []
    with pytest.raises(ExportError) as raised:
        export_run(run, "merged", stick)  # before the base model loads
    assert (raised.value.kind, str(raised.value)) == (OUT_UNUSABLE, said)
    result = export_run(run, "adapter", stick / "my-model")  # the fix works
    assert sorted(result.files) == ["adapter_config.json", "adapter_model.safetensors", "tokenizer_config.json"]


def test_a_real_mount_point_is_refused(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not (os.path.ismount(shm) and shm.is_dir() and not any(shm.iterdir())):
        pytest.skip("no empty mount point here")
    run = _adapter_run(tmp_path / "runs", "lora-run", b"mine")
    with pytest.raises(ExportError, match=r"^/dev/shm is the top folder of a disk \(a mount point\)"):
        export_run(run, "adapter", shm)


def test_a_folder_of_its_own_in_a_folder_it_cannot_write_says_so_and_how(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    run = _adapter_run(tmp_path / "runs", "lora-run", b"mine")
    shared = tmp_path / "srv" / "models"
    alice = shared / "alice"
    alice.mkdir(parents=True)
    real = tempfile.mkdtemp

    def mkdtemp(*args: object, dir: str | None = None, **kwargs: object) -> str:  # noqa: A002 - tempfile's name
        if dir is not None and Path(dir) == shared:  # as for a user who cannot write in /srv/models
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(ExportError) as raised:
        export_run(run, "adapter", alice)
    assert raised.value.kind == CANNOT_WRITE and raised.value.bad_input
    assert str(raised.value) == (
        f"Cannot write to {shared}: permission denied. An export is written beside its folder and then put in its "
        f"place, so it needs to write in {shared}, not only in {alice}. Nothing was written. To fix: export into a "
        f"new folder inside {alice}, e.g. {alice / 'my-model'}, or choose a folder you can write to (--out DIR).")
    assert list(alice.iterdir()) == [] and sorted(p.name for p in shared.iterdir()) == ["alice"]
    assert export_run(run, "adapter", alice / "my-model").out_dir == alice / "my-model"  # the fix works
    with pytest.raises(ExportError, match=r"^Cannot write to .*/srv/models/new: permission denied\. Nothing was "):
        export_run(run, "adapter", shared / "new")  # a new folder there: said as before
