"""Small file helpers whose point is crash safety: a reader never sees half a file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _written_beside(path: Path, text: str) -> str:
    """`text` in a new temporary file in path's folder, on disk (fsync), for a rename or link into place: its path.
    What a failed write left is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            _write_synced(handle, text)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _write_synced(handle: Any, text: str) -> None:
    handle.write(text)
    handle.flush()
    os.fsync(handle.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    tmp = _written_beside(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_new_text(path: Path, text: str) -> bool:
    """`text` as a new file at `path`, never over what is there: False, with nothing written, when a file, folder or
    link is there by the time it is written (a caller that looked first can be overtaken by another process, and a
    write-then-rename replaced what it made). The text goes to a temporary file beside it and is hard-linked into
    place, which, as open mode 'x', fails where anything is, and never leaves a half-written file at `path`; on a disk
    without hard links (FAT, exFAT) the file is created with mode 'x' instead, and what a failed write left of it is
    removed."""
    tmp = _written_beside(path, text)
    try:
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError:  # this disk has no hard links
            pass
        try:
            handle = path.open("x", encoding="utf-8")
        except FileExistsError:
            return False
        try:
            with handle:
                _write_synced(handle, text)
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
