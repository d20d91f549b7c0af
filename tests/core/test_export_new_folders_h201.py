"""An export into a new folder path that fails or is cancelled leaves none of the folders it made for it
(helper-201): it said "nothing of it was written" (or "Nothing was left there") and left the chain of empty
folders above the export's folder, e.g. ~/exprots/typo/mine/ after a Cancel. Folders that were there stay."""

from __future__ import annotations

import errno
import shutil
import threading
from pathlib import Path

import pytest

from finetune_studio.core.export import CANCELLED, NO_SPACE, ExportError, export_run
from tests.core.test_export_modes_h201 import lora_run  # noqa: F401 - a fixture


def _tree(top: Path) -> list[str]:
    return sorted(p.relative_to(top).as_posix() for p in top.rglob("*"))


@pytest.mark.slow
def test_a_merge_cancelled_while_saving_leaves_no_new_folders(lora_run: Path, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()  # there before: stays
    out = tmp_path / "mine" / "new exports" / "ünï" / "merged"
    cancel = threading.Event()

    def progress(line: str) -> None:
        if line.startswith("Saving"):
            cancel.set()  # Cancel pressed while the merged model is written

    with pytest.raises(ExportError) as raised:
        export_run(lora_run, "merged", out, progress=progress, cancel=cancel)
    assert raised.value.kind == CANCELLED
    assert str(raised.value) == (f"The export of the merged model to {out} was cancelled: nothing of it was written. "
                                 "To export it, press Export again.")
    assert _tree(tmp_path) == ["mine"]


@pytest.mark.slow
def test_an_adapter_export_failing_on_a_full_disk_leaves_no_new_folders(lora_run: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copy2", full)
    out = tmp_path / "a" / "b" / "adapter"
    with pytest.raises(ExportError) as raised:
        export_run(lora_run, "adapter", out)
    assert raised.value.kind == NO_SPACE
    assert "Nothing was left there." in str(raised.value)
    assert _tree(tmp_path) == []
    monkeypatch.undo()
    assert export_run(lora_run, "adapter", out).out_dir == out  # made again when it works
    assert _tree(tmp_path)[:3] == ["a", "a/b", "a/b/adapter"]


@pytest.mark.slow
def test_a_folder_something_else_filled_meanwhile_stays(lora_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "adapter"
    cancel = threading.Event()
    import finetune_studio.core.export as export

    real = export.stop_if_cancelled

    def stop(*args: object) -> None:  # another program writes beside the export while it copies
        (tmp_path / "new" / "notes.txt").write_text("mine")
        cancel.set()
        real(*args)

    export.stop_if_cancelled, saved = stop, export.stop_if_cancelled
    try:
        with pytest.raises(ExportError):
            export_run(lora_run, "adapter", out, cancel=cancel)
    finally:
        export.stop_if_cancelled = saved
    assert _tree(tmp_path) == ["new", "new/notes.txt"]
