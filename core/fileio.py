"""Small file helpers whose point is crash safety: a reader never sees half a file."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any


def _written_beside(path: Path, text: str) -> str:
    """`text` in a new temporary file in path's folder, on disk (fsync), for a rename or link into place: its path.
    What a failed write left is removed. The file gets the permissions `path` has, or for a new file those any new
    file gets (0666 less the umask): mkstemp makes it 0600, so saving a config (File > Save, a run's status.json)
    made a file other users and tools could read before one only its owner could."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            _write_synced(handle, text)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _mode_for(path: Path) -> int:
    """The permission bits a file written at `path` gets: those of the file there, else 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without setting it where Linux says it (/proc/self/status, since 4.7): os.umask
    sets it to read it, and a file another thread made in between got the wrong permissions. Elsewhere it is read
    once, here, the first time (at the first write, before a run's threads start writing)."""
    global _UMASK
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


_UMASK: int | None = None


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
