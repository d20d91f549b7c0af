"""Datasets from the Hub or local files, checked so that a bad file fails with its name, line and column.

The `datasets` library reports a malformed line or a wrong encoding as a pyarrow traceback; users get a sentence
from here instead. Heavy imports stay inside functions.
"""

from __future__ import annotations

import codecs
import copy
import csv
import errno
import functools
import io
import json
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from finetune_studio.core.config import CHAT_DATASET_ID, SAMPLE_DATASET_ID, DatasetConfig
from finetune_studio.core.errors import WARNING, DataError, Problem
from finetune_studio.core.sources import is_local, is_url

FORMATS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet", ".txt": "text"}
# The field separators a CSV may use, in the words the app says them.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
TEXT_COLUMN_NAMES = ("text", "content", "horoscope", "document", "body", "sentence", "prompt", "completion")
PREVIEW_ROWS = 20
# Line-by-line checks read through a 4 MiB buffer. With the default 8 KiB one the checking thread releases and
# retakes the GIL for a read() every few lines; CPython then never forces a switch to a waiting thread (the GIL
# "changed hands" each interval), and the GUI thread starved for 100-150 ms at a time while a 100k-row file was
# checked. One read per 4 MiB leaves a plain CPU loop that yields every switch interval.
READ_BUFFER = 4 << 20
SAMPLE_BY = ("document", "paragraph", "line")
# What validate() reads of a local source (all files together): enough to find an empty or header-only file, a
# wrong encoding, a malformed first line and the text column's type in a few milliseconds. The whole file is
# checked when a run reads it.
CHECK_BYTES = 64 << 10
DETECT_BYTES = 64 << 10  # what charset-normalizer looks at: a few milliseconds
# What preview() checks of its first file before reading its rows (a run checks every file whole).
PREVIEW_CHECK_BYTES = 1 << 20


class EncodingProblem(DataError):
    """A file that is not text in the encoding it is read with. `detected` is what charset-normalizer makes of it
    (None when it cannot tell), so the window can offer it without reading the message."""

    def __init__(self, message: str, path: Path, detected: str | None):
        super().__init__(message)
        self.path = path
        self.detected = detected


def url_message(source: str) -> str:
    """A web address is neither a file here nor a Hub id; say which id it names, if it is a Hub page."""
    text = source.strip()
    parts = text.split("://", 1)[1].split("/")
    if len(parts) >= 4 and parts[1] == "datasets" and ("huggingface.co" in parts[0] or parts[0] == ""):
        return (f"'{text}' is a web address. For a Hugging Face Hub dataset enter its id: {parts[2]}/{parts[3]}.")
    if text.lower().startswith("hf://") and len(parts) >= 3 and parts[0] == "datasets":
        return f"'{text}' is a web address. For a Hugging Face Hub dataset enter its id: {parts[1]}/{parts[2]}."
    return (f"'{text}' is a web address; datasets are read from a local file or folder, or by Hub id "
            "(owner/name). Download the file and open it with Open file….")


def resolve_source(source: str) -> str:
    if source == SAMPLE_DATASET_ID:
        from finetune_studio.core.demo import SAMPLE_DATASET

        return str(SAMPLE_DATASET)
    if source == CHAT_DATASET_ID:
        from finetune_studio.core.demo import SAMPLE_CHATS

        return str(SAMPLE_CHATS)
    return os.path.expanduser(source)


# Files users bring that the app does not read, with what to do instead (_file_advice).
COMPRESSED = {".gz": ("gzip", "gunzip -k {name}"), ".bz2": ("bzip2", "bunzip2 -k {name}"),
              ".xz": ("xz", "unxz -k {name}"), ".zst": ("zstd", "unzstd {name}"), ".zip": ("zip", "unzip {name}")}
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")
ARCHIVES = (".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")  # those read: READ_ARCHIVES
# Compressed data files read as they are (datasets' compression filesystems open them by suffix; the checks here
# read them through the same codec): suffix -> (datasets' protocol, the module that reads it, how `-t` tests one).
READ_COMPRESSED = {".gz": ("gzip", "gzip", "gzip -t"), ".bz2": ("bz2", "bz2", "bzip2 -t"),
                   ".xz": ("xz", "lzma", "xz -t"), ".zst": ("zstd", "zstandard", "zstd -t")}


@functools.cache
def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def compression(path: Path) -> str | None:
    """The compression a data file is read through ("gzip", "bz2", "xz", "zstd"), or None: one data file (.jsonl,
    .csv, .txt, …, not Parquet, which compresses inside) compressed whole, whose codec is installed (zstd needs the
    zstandard module)."""
    suffix = path.suffix.lower()
    if suffix not in READ_COMPRESSED:
        return None
    inner = Path(path.name[:-len(suffix)]).suffix.lower()
    protocol, module, _ = READ_COMPRESSED[suffix]
    if inner not in FORMATS or FORMATS[inner] == "parquet" or not _has_module(module):
        return None
    return protocol


def data_suffix(path: Path) -> str:
    """The suffix that says a file's format: its own, or the one under a compression read as it is (a.jsonl.gz:
    .jsonl). Of an archive, its own (.zip): what it holds is known once it is opened (_inner_suffix); this one reads
    nothing, as the Dataset tab asks it on every keystroke."""
    if compression(path) is not None:
        return Path(path.name[:-len(path.suffix)]).suffix.lower()
    return path.suffix.lower()


# Archives read as they are when they hold one data file (the file a user picked, not one inside a folder):
# name ending -> (kind, the compression of a tar). The checks and the preview read the file inside through zipfile
# and tarfile; a run reads a copy of it (extract_member).
READ_ARCHIVES = {".zip": ("zip", None), ".tar": ("tar", None), ".tgz": ("tar", "gz"), ".tar.gz": ("tar", "gz"),
                 ".tar.bz2": ("tar", "bz2"), ".tar.xz": ("tar", "xz")}
# Of a compressed tar (read from its start only), how far a check reads looking for a second data file once it has
# found one: a 5 GB archive holding one file is not decompressed whole to show 20 rows. The run reads it all.
ARCHIVE_SCAN_BYTES = 64 << 20
# What the preview reads of the file inside an archive (whole lines), handed to datasets' reader as a file of its own.
ARCHIVE_PREVIEW_BYTES = 4 << 20


def archive_kind(path: Path) -> tuple[str, str | None] | None:
    """("zip", None) or ("tar", compression or None) for an archive read as it is, by its name; None otherwise."""
    name = path.name.lower()
    for ending, kind in READ_ARCHIVES.items():
        if name.endswith(ending) and len(name) > len(ending):
            return kind
    return None


@dataclass(frozen=True)
class Listing:
    """The files an archive holds (regular files, in its order; folders and the notes of macOS and of hidden files
    left out) and whether that is all of them: a check reads a compressed tar only so far (ARCHIVE_SCAN_BYTES)."""

    files: tuple[str, ...]
    complete: bool

    @property
    def data(self) -> list[str]:
        return [name for name in self.files if PurePosixPath(name).suffix.lower() in FORMATS]


_LISTINGS: dict[tuple, Listing] = {}  # (*file_stamp, whole) -> Listing


def _hidden_member(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts)


def archive_listing(path: Path, whole: bool = False) -> Listing:
    """What an archive holds (cached per file version). A zip's directory and a plain tar's headers are read
    without its data; a compressed tar is read from its start, through its first data file and up to
    ARCHIVE_SCAN_BYTES, unless `whole` (a run, which reads it all anyway)."""
    kind, packed = archive_kind(path) or ("zip", None)
    stamp = file_stamp(path)
    for key in ((*stamp, True), (*stamp, whole)):
        if key in _LISTINGS:
            return _LISTINGS[key]
    names: list[str] = []
    complete = True
    with _Reading(path):
        if kind == "zip":
            import zipfile

            with zipfile.ZipFile(path) as archive:
                names = [info.filename for info in archive.infolist() if not info.is_dir()]
        else:
            import tarfile

            with tarfile.open(path, f"r|{packed}" if packed else "r:") as archive:
                member = archive.next()
                while member is not None:
                    if member.isfile():
                        names.append(member.name)
                        if _first_data(names, member.name):  # its start, taken on the way (_member_head)
                            _keep_size(stamp, member.name, member.size)  # and its size (member_size)
                            with archive.extractfile(member) as handle:  # type: ignore[union-attr]
                                _keep_head(stamp, member.name, handle.read(ARCHIVE_PREVIEW_BYTES + 1))
                    if (packed and not whole and member.offset_data + member.size > ARCHIVE_SCAN_BYTES
                            and Listing(tuple(n for n in names if not _hidden_member(n)), False).data):
                        complete = False
                        break
                    member = archive.next()
    return _keep_listing(stamp, names, whole or complete)


def _keep_listing(stamp: tuple, names: list[str], whole: bool) -> Listing:
    found = Listing(tuple(n for n in names if not _hidden_member(n)), whole)
    if len(_LISTINGS) >= 64:
        _LISTINGS.pop(next(iter(_LISTINGS)))
    _LISTINGS[(*stamp, whole)] = found
    return found


def _first_data(names: list[str], name: str) -> bool:
    """Whether `name`, the last of the archive's files listed so far, is its first data file (other than Parquet)."""
    suffix = PurePosixPath(name).suffix.lower()
    if _hidden_member(name) or FORMATS.get(suffix) in (None, "parquet"):
        return False
    return Listing(tuple(n for n in names if not _hidden_member(n)), False).data == [name]


# The start of the data file inside an archive, per archive version (file_stamp): (its name, its first
# ARCHIVE_PREVIEW_BYTES + 1 bytes). The checks, the separator and the preview read their few kilobytes to megabytes
# from here (_open_data), so a compressed tar is decompressed once for all of them: by the listing, which takes the
# start of its first data file on its way, where each read decompressed it from the archive's start again.
_MEMBER_HEADS: dict[tuple, tuple[str, bytes]] = {}


def _keep_head(stamp: tuple, member: str, head: bytes) -> bytes:
    if len(_MEMBER_HEADS) >= 8:  # up to 8 x 4 MiB
        _MEMBER_HEADS.pop(next(iter(_MEMBER_HEADS)))
    _MEMBER_HEADS[stamp] = (member, head)
    return head


def _reader_file(path: Path) -> str:
    """The file datasets' reader is given for a source file: itself, or the copy of the file inside an archive."""
    return str(extract_member(path)) if archive_kind(path) is not None else str(path)


def _member_head(path: Path) -> tuple[bytes, bool]:
    """The start of the data file an archive holds (up to ARCHIVE_PREVIEW_BYTES + 1 bytes) and whether that is all
    of it: read once per archive version."""
    stamp = file_stamp(path)
    member = archive_member(path)  # a tar's listing keeps the start of its first data file
    found = _MEMBER_HEADS.get(stamp)
    if found is not None and found[0] == member and len(found[1]) <= ARCHIVE_PREVIEW_BYTES + 1:
        head = found[1]
    else:
        with _Reading(path), _open_member(path) as handle:
            head = _keep_head(stamp, member, handle.read(ARCHIVE_PREVIEW_BYTES + 1))
    return head, len(head) <= ARCHIVE_PREVIEW_BYTES


# A run reads all of the file inside an archive, several times over (the checks, then datasets' reader), and
# decompressed a compressed tar from its start for each read. It is copied out once instead, in the same pass that
# lists the whole archive, to a folder of the app's cache (core.demo.cache_dir) named by the archive's path and
# version; the reads that follow read that copy. One copy per archive (its latest version); the copies of at most
# ARCHIVE_COPIES archives are kept, or of all those a run reads if its folder holds more (_prune_copies).
ARCHIVE_COPIES = 4


def _copy_folder(path: Path) -> Path:
    import hashlib

    from finetune_studio.core.demo import cache_dir

    where = hashlib.blake2b(str(path.absolute()).encode(), digest_size=8).hexdigest()
    version = hashlib.blake2b(repr(file_stamp(path)).encode(), digest_size=8).hexdigest()
    return cache_dir() / "archives" / f"{where}-{version}"


def _extracted(path: Path) -> Path | None:
    """The copy of the file inside this version of the archive, if a run made one."""
    try:
        found = list(_copy_folder(path).iterdir())
    except OSError:
        return None
    return found[0] if len(found) == 1 else None


# Free space kept on the cache's disk beyond an archive's copy (core.export keeps as much beside an export): a
# copy that would leave the disk all but full is refused before it starts (copy_room_message).
ARCHIVE_SPARE_BYTES = 50 << 20
_MEMBER_SIZES: dict[tuple, int] = {}  # (*file_stamp, the data file's name inside) -> its size once extracted


def _keep_size(stamp: tuple, member: str, size: int) -> None:
    if len(_MEMBER_SIZES) >= 64:
        _MEMBER_SIZES.pop(next(iter(_MEMBER_SIZES)))
    _MEMBER_SIZES[(*stamp, member)] = size


def member_size(path: Path) -> int:
    """How many bytes the data file inside an archive takes once extracted: a zip's directory says it (file_size), a
    tar's header before the file (size), which the listing keeps on its way (a compressed tar is not decompressed
    again for it)."""
    member = archive_member(path)
    stamp = file_stamp(path)
    found = _MEMBER_SIZES.get((*stamp, member))
    if found is not None:
        return found
    kind, packed = archive_kind(path)  # type: ignore[misc]
    size = 0
    with _Reading(path):
        if kind == "zip":
            import zipfile

            with zipfile.ZipFile(path) as archive:
                size = archive.getinfo(member).file_size
        else:
            import tarfile

            with tarfile.open(path, f"r|{packed}" if packed else "r:") as archive:
                for info in archive:
                    if info.name == member and info.isfile():
                        size = info.size
                        break
    _keep_size(stamp, member, size)
    return size


def _free_space(folder: Path) -> int:
    """The free space of the disk that holds `folder` (or would: its nearest existing parent), as df says it."""
    import shutil

    probe = folder.absolute()
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def _copy_fix(archives: list[tuple[Path, str]]) -> str:
    """The 'To fix:' of a copy of (archive, data file inside) that does not fit in the cache: the three ways out."""
    tools = ", ".join(_archive_tool(path) for path, _member in archives[:3]) + (", …" if len(archives) > 3 else "")
    if len(archives) == 1:
        extract = (f"extract it yourself on a disk with room ({tools}) and choose {PurePosixPath(archives[0][1]).name} "
                   "as the dataset (Open file)")
    else:
        extract = (f"extract them yourself on a disk with room ({tools}) and keep the extracted files in the folder "
                   "in place of the archives")
    return ("To fix: free space on that disk, or move the app's cache to a disk with room: start the app with the "
            "environment variable FINETUNE_STUDIO_CACHE set to a folder there (FINETUNE_STUDIO_CACHE=/path/to/folder "
            f"finetune-studio), or {extract}.")


def copy_room_message(source: Path, files: list[Path]) -> str | None:
    """What to say when the data files inside the archives among `files` (a run's files of `source`) that have no
    copy in the cache yet do not fit in the free space of the cache's disk, ARCHIVE_SPARE_BYTES kept free: said
    before a run (check_source: validate, the window, Start) and before the first copy is written (load_split,
    extract_member), not as a full disk partway through a copy. None when they fit or nothing is to be copied. The
    work folders of copies whose writer is gone are removed first (_remove_abandoned_parts): their space is free."""
    from finetune_studio.core.estimate import gib
    from finetune_studio.core.hub import size_text

    needed = [(path, archive_member(path), member_size(path)) for path in files
              if archive_kind(path) is not None and _extracted(path) is None]
    if not needed:
        return None
    cache = _copy_folder(needed[0][0]).parent
    _remove_abandoned_parts(cache)  # a killed copy's work folder: the space it held counts as free
    free = _free_space(cache)
    total = sum(size for _path, _member, size in needed)
    if free >= total + ARCHIVE_SPARE_BYTES:
        return None
    copies = "copy needs" if len(needed) == 1 else "copies need"
    room = (f"but that folder's disk has {gib(free)} free, and the {copies} {gib(total + ARCHIVE_SPARE_BYTES)} "
            f"(with {gib(ARCHIVE_SPARE_BYTES)} left free). Nothing was copied.")
    fix = _copy_fix([(path, member) for path, member, _size in needed])
    if len(needed) == 1:
        path, member, size = needed[0]
        return (f"{path} holds {member} ({size_text(size)} once extracted), and a run reads it from a copy in the "
                f"app's cache folder ({cache}), {room} {fix}")
    named = [f"{_folder_name(path, source)} ({size_text(size)})" for path, _member, size in needed]
    held = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
    return (f"The folder {source} holds {len(needed)} archives whose data files a run reads from copies in the app's "
            f"cache folder ({cache}): {held}, {size_text(total)} in all once extracted, {room} {fix}")


def _room_problems(config: DatasetConfig, files: list[Path]) -> list[Problem]:
    """copy_room_message of a local source's files as validate's problem at dataset.source; none where an archive
    cannot be read (the other checks say why)."""
    if not any(archive_kind(path) is not None for path in files):
        return []
    try:
        message = copy_room_message(Path(resolve_source(config.source)), files)
    except (DataError, OSError):
        return []
    return [Problem("dataset.source", message)] if message else []


def extract_member(path: Path) -> Path:
    """The data file inside an archive, copied out to the cache (once per archive version), in one pass that also
    lists all of the archive: a second data file is refused (archive_member) after that one pass. A copy that does
    not fit in the cache's free space is refused before it starts (copy_room_message); one that cannot be written
    anyway (a full disk, a cache folder that cannot be made) leaves nothing behind and is a DataError that says
    where and what to do."""
    found = _extracted(path)
    if found is not None:
        return found
    message = copy_room_message(path, [path])
    if message is not None:
        raise DataError(message)
    try:
        return _extract_member(path)
    except OSError as exc:
        if damaged_message(path, exc) is not None:
            raise
        member = archive_member(path)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            from finetune_studio.core.estimate import gib
            from finetune_studio.core.hub import size_text

            cache = _copy_folder(path).parent
            try:
                now = f"; {gib(_free_space(cache))} free now"
            except OSError:
                now = ""
            raise DataError(f"{path} holds {member} ({size_text(member_size(path))} once extracted), and a run reads "
                            f"it from a copy in the app's cache folder ({cache}), whose disk filled up while it was "
                            f"being copied ({exc.strerror}{now}). The part copied was removed. "
                            f"{_copy_fix([(path, member)])}") from None
        raise DataError(f"{path} holds {member}, and a run reads it from a copy in the app's cache folder "
                        f"({_copy_folder(path).parent}), which could not be written: {exc.strerror or exc}. To fix: "
                        "free space there, or set FINETUNE_STUDIO_CACHE to a folder with room for it, or extract it "
                        f"({_archive_tool(path)}) and open {PurePosixPath(member).name}.") from None


def _extract_member(path: Path) -> Path:
    import shutil
    import tempfile

    folder = _copy_folder(path)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=_part_prefix(), suffix=_part_suffix(), dir=folder.parent))
    kind, packed = archive_kind(path)  # type: ignore[misc]
    try:
        with _Reading(path):
            if kind == "zip":
                import zipfile

                member = archive_member(path, whole=True)  # its directory: nothing decompressed
                with zipfile.ZipFile(path) as archive, archive.open(member) as source, \
                        open(work / PurePosixPath(member).name, "wb") as target:
                    shutil.copyfileobj(source, target, READ_BUFFER)
            else:
                import tarfile

                stamp, names = file_stamp(path), []
                with tarfile.open(path, f"r|{packed}" if packed else "r:") as archive:
                    for info in archive:
                        if not info.isfile():
                            continue
                        names.append(info.name)
                        if _first_data(names, info.name):
                            _keep_size(stamp, info.name, info.size)
                            with archive.extractfile(info) as source, \
                                    open(work / PurePosixPath(info.name).name, "wb") as target:  # type: ignore[union-attr]
                                shutil.copyfileobj(source, target, READ_BUFFER)
                _keep_listing(stamp, names, True)
                member = archive_member(path, whole=True)  # the listing just made: refuses a second data file
        for old in folder.parent.glob(f"{folder.name.split('-')[0]}-*"):  # this archive's older versions
            if old != folder:  # this version's copy, made by another process meanwhile, may be being read
                shutil.rmtree(old, ignore_errors=True)
        for other in work.iterdir():
            if other.name != PurePosixPath(member).name:
                other.unlink()
        try:
            os.replace(work, folder)
        except OSError:  # another process copied it first
            if _extracted(path) is None:
                raise
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder / PurePosixPath(member).name


# A copy is written into a hidden work folder beside the copies and renamed into place once whole. A process killed
# partway (SIGKILL, the OOM killer, a power cut) runs no clean-up: its work folder stayed for good, as large as the
# data file, unseen in the cache, and counted against the next copy's room (copy_room_message). The folder's name
# says who writes it, .part-PID-START-XXXXXXXX-HOST (the process number, that process's start time as
# core.runs.process_start_time reads it, or "x" where it cannot be read, mkdtemp's random part, the computer as
# core.export.this_host names it), so one whose writer is gone is known and removed (_remove_abandoned_parts) before
# free space is measured and when copies are pruned: the run lock's test of a live process (a pid the system has
# since handed to another program has another start time). A folder named by another computer sharing the cache
# (whose processes cannot be seen from here), or by an earlier version (.part-XXXXXXXX, no writer in its name), is
# removed once nothing in it has changed for PART_IDLE_S: a copy being written changes its file every READ_BUFFER
# bytes, so a day without a change is a writer that is gone, not a slow one.
PART_PREFIX = ".part-"
PART_IDLE_S = 24 * 3600


def _part_prefix() -> str:
    from finetune_studio.core.runs import process_start_time

    started = process_start_time(os.getpid())
    return f"{PART_PREFIX}{os.getpid()}-{'x' if started is None else f'{started:.2f}'}-"


def _part_suffix() -> str:
    from finetune_studio.core.export import this_host

    return f"-{this_host()}"


def _part_writer_gone(name: str) -> bool | None:
    """Whether the process named in a work folder's name (.part-PID-START-XXXXXXXX-HOST) is gone: True or False for
    one of this computer, None where the name cannot tell (another computer's, or an earlier version's name)."""
    from finetune_studio.core.export import this_host
    from finetune_studio.core.runs import _pid_alive, process_start_time

    fields = name[len(PART_PREFIX):].split("-", 3)
    if len(fields) != 4 or not fields[0].isdigit() or len(fields[2]) != 8 or fields[3] != this_host():
        return None
    if fields[1] != "x" and not fields[1].replace(".", "", 1).isdigit():
        return None
    pid = int(fields[0])
    now_started = process_start_time(pid)
    if now_started is not None and fields[1] != "x":
        return abs(now_started - float(fields[1])) >= 1.0  # as core.runs.lock_alive: another start is another process
    try:
        return not _pid_alive(pid)  # its start time was not written, or cannot be read now: the pid decides
    except OSError:
        return False  # cannot tell: kept


def _last_change(folder: Path) -> float:
    """The latest modification time of a work folder and the files in it (a file being written changes its own)."""
    times = [folder.lstat().st_mtime]
    for entry in folder.iterdir():
        times.append(entry.lstat().st_mtime)
    return max(times)


def _remove_abandoned_parts(archives: Path) -> None:
    """Remove the work folders in `archives` (cache_dir()/archives) whose copy will never be finished: their writer is
    gone (_part_writer_gone), or, where the name cannot tell, nothing in them changed for PART_IDLE_S. A folder being
    written stays."""
    import shutil
    import time

    try:
        entries = [entry for entry in archives.iterdir() if entry.name.startswith(PART_PREFIX)]
    except OSError:
        return
    now = time.time()
    for entry in entries:
        try:
            if entry.is_symlink() or not entry.is_dir():
                continue
            gone = _part_writer_gone(entry.name)
            if gone is None:
                gone = now - _last_change(entry) > PART_IDLE_S
        except OSError:
            continue  # removed meanwhile (its copy finished, or another process pruned it)
        if gone:
            shutil.rmtree(entry, ignore_errors=True)


def _prune_copies(using: list[Path]) -> None:
    """Remove the oldest copies of other archives past ARCHIVE_COPIES in all; those of `using` (the files a run is
    about to read: a folder may hold more archives than that) stay. Work folders whose writer is gone go too
    (_remove_abandoned_parts); those being written stay."""
    import shutil

    keep = {_copy_folder(p) for p in using if archive_kind(p) is not None}
    if not keep:
        return
    _remove_abandoned_parts(next(iter(keep)).parent)
    try:
        others = sorted((p for p in next(iter(keep)).parent.iterdir() if not p.name.startswith(".") and p not in keep),
                        key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in others[:max(0, len(others) + len(keep) - ARCHIVE_COPIES)]:
        shutil.rmtree(old, ignore_errors=True)


class _HeadThenRest(io.RawIOBase):
    """A file's start held in memory, then (only if read past it) the rest from `opener`'s stream, read forward to
    where the start ends."""

    def __init__(self, head: bytes, opener: Callable[[], Any] | None):
        super().__init__()
        self._head, self._opener, self._rest, self._position = head, opener, None, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def _forward(self, size: int) -> bytes:
        if self._position < len(self._head):
            data = self._head[self._position:self._position + size]
        elif self._opener is None:
            data = b""
        else:
            if self._rest is None:
                self._rest = self._opener()
                self._rest.read(len(self._head))  # the data streams (a tar's member): read forward past the start
            data = self._rest.read(min(size, 64 << 10))  # a bounded read ahead: a check stops at its limit
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self._forward(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        target = {0: offset, 1: self._position + offset}.get(whence)
        if target is None or (target < self._position and self._rest is not None):
            raise io.UnsupportedOperation("the data inside an archive is read forward only")
        if target <= len(self._head) and self._rest is None:
            self._position = target
        while self._position < target and self._forward(min(target - self._position, READ_BUFFER)):
            pass
        return self._position

    def close(self) -> None:
        if self._rest is not None:
            self._rest.close()
        super().close()


def _archive_tool(path: Path) -> str:
    return f"unzip {path.name}" if archive_kind(path) == ("zip", None) else f"tar -xf {path.name}"


def archive_member(path: Path, whole: bool = False) -> str:
    """The one data file an archive holds (its name inside), or a DataError that says what it holds instead."""
    listing = archive_listing(path, whole)
    kind = archive_kind(path)[0]  # type: ignore[index]
    found = listing.data
    tool = _archive_tool(path)
    if len(found) == 1:
        member = found[0]
        if FORMATS[PurePosixPath(member).suffix.lower()] == "parquet":
            raise DataError(f"{path} is a {kind} archive holding {member}, a Parquet file, and Parquet files are "
                            "read from disk only, not from inside an archive (they are compressed inside). To fix: "
                            f"extract it ({tool}) and open {PurePosixPath(member).name}.")
        return member
    held = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    if found:
        raise DataError(f"{path} is a {kind} archive holding {len(found)} data files ({held}), and an archive is "
                        "read only when it holds one (which of them to train on is not guessed). To fix: extract it "
                        f"({tool}) and open the folder they are in, or the one data file to train on.")
    others = ", ".join(listing.files[:5]) + (f" and {len(listing.files) - 5} more" if len(listing.files) > 5 else "")
    holds = f"it holds {others}" if listing.files else "it holds no files"
    raise DataError(f"{path} is a {kind} archive holding no data file ({', '.join(sorted(FORMATS))}): {holds}. "
                    "To fix: open the archive that holds the data, or extract this one "
                    f"({tool}) and save its data as CSV, JSON Lines or plain text.")


def shown_file(path: Path) -> str:
    """A source file as the app names the file it read: its path, or of an archive the path and the file inside
    ("/data/rows.zip › train.jsonl"), which is what its rows come from."""
    if archive_kind(path) is None:
        return str(path)
    return f"{path} › {archive_member(path)}"


def _inner_suffix(path: Path) -> str:
    """The suffix that says a file's format, an archive's being that of the file it holds."""
    if archive_kind(path) is not None:
        return PurePosixPath(archive_member(path)).suffix.lower()
    return data_suffix(path)


def _packed(path: Path) -> bool:
    """Whether the file's data is not its bytes on disk (compressed, or inside an archive): its size is known once
    read."""
    return compression(path) is not None or archive_kind(path) is not None


class _Member(io.BufferedIOBase):
    """The file inside an archive as a binary stream; closing it closes the archive too."""

    def __init__(self, stream: Any, archive: Any):
        super().__init__()
        self._stream, self._archive = stream, archive

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._stream.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self._stream.read1(size)

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        return self._stream.readline(-1 if size is None else size)

    def seekable(self) -> bool:
        return self._stream.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        if not self.closed:
            try:
                self._stream.close()
            finally:
                self._archive.close()
        super().close()


def _open_member(path: Path) -> Any:
    """The data file inside an archive, read as it is decompressed (a compressed tar: from its start, through the
    files before it); nothing is extracted to disk."""
    member = archive_member(path)
    kind, packed = archive_kind(path)  # type: ignore[misc]
    if kind == "zip":
        import zipfile

        archive = zipfile.ZipFile(path)
        try:
            return _Member(archive.open(member), archive)
        except BaseException:
            archive.close()
            raise
    import tarfile

    archive = tarfile.open(path, f"r|{packed}" if packed else "r:")
    try:
        for info in archive:
            if info.name == member and info.isfile():
                return _Member(archive.extractfile(info), archive)
        raise DataError(f"{path.name} no longer holds {member}. To fix: open the archive again.")
    except BaseException:
        archive.close()
        raise


def _open_data(path: Path, buffering: int = -1) -> Any:
    """The file's bytes as a binary stream: decompressed as they are read for a compressed data file or the file
    inside an archive (nothing is decompressed ahead of the reads), else the file itself."""
    if archive_kind(path) is not None:  # the copy a run made, or the start held in memory, then the archive
        copy = _extracted(path)
        if copy is not None:
            return open(copy, "rb", buffering=buffering)
        head, whole = _member_head(path)
        raw = _HeadThenRest(head, None if whole else functools.partial(_open_member, path))
        return io.BufferedReader(raw, buffering if buffering > 0 else io.DEFAULT_BUFFER_SIZE)
    kind = compression(path)
    if kind is None:
        return open(path, "rb", buffering=buffering)
    if kind == "gzip":
        import gzip

        return gzip.open(path, "rb")
    if kind == "bz2":
        import bz2

        return bz2.open(path, "rb")
    if kind == "xz":
        import lzma

        return lzma.open(path, "rb")
    import zstandard

    return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True))


def _damaged_errors() -> tuple[type[BaseException], ...]:
    import lzma
    import tarfile
    import zipfile
    import zlib

    found: list[type[BaseException]] = [EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError]
    if _has_module("zstandard"):
        import zstandard

        found.append(zstandard.ZstdError)
    return tuple(found)


def damaged_message(path: Path, exc: BaseException) -> str | None:
    """What to say of a compressed data file its codec cannot read to the end (cut short by a copy or download that
    stopped, or not written by that codec); None for another file or another error."""
    suffix = path.suffix.lower()
    if not _packed(path):
        return None
    if not isinstance(exc, _damaged_errors()) and not (isinstance(exc, OSError) and exc.errno is None):
        return None  # a real OSError (permission, missing file) is said as one
    kind = archive_kind(path)
    if kind is not None:
        test = "unzip -t" if kind[0] == "zip" else "tar -tf"
        return (f"{path} is an archive ({kind[0]}) that is damaged or incomplete, so its rows cannot be read "
                f"({_first_line(exc)}). It was probably cut short by a copy or download that stopped. To fix: copy "
                f"or download {path.name} again ({test} {path.name} tests it), or open the file it holds.")
    kind, test = COMPRESSED[suffix][0], READ_COMPRESSED[suffix][2]
    return (f"{path} is a damaged or incomplete {kind} file, so its rows cannot be read ({_first_line(exc)}). It was "
            f"probably cut short by a copy or download that stopped. To fix: copy or download {path.name} again "
            f"({test} {path.name} tests it), or open the uncompressed file.")


class _Reading:
    """`with _Reading(path):` turns a compressed file's codec failure into a DataError that names the file."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, trace: Any) -> bool:
        if exc is None or isinstance(exc, DataError):
            return False
        message = damaged_message(self.path, exc)
        if message is None:
            return False
        raise DataError(message) from None


def _read_head(path: Path, size: int) -> bytes:
    """Up to `size` bytes of the file's data (decompressed: only as much as that takes)."""
    with _Reading(path), _open_data(path) as handle:
        return handle.read(size)


def _read_all(path: Path) -> bytes:
    if not _packed(path):
        return path.read_bytes()
    with _Reading(path), _open_data(path) as handle:
        return handle.read()


def _longer_than(path: Path, limit: int) -> bool:
    """Whether the file's data (decompressed) is longer than `limit` bytes; a compressed file's is read that far."""
    if not _packed(path):
        return path.stat().st_size > limit
    return len(_read_head(path, limit + 1)) > limit


def _file_advice(path: Path) -> str | None:
    """What to do with a compressed data file the app cannot read, an archive, or a spreadsheet workbook (the kinds
    users try first), else None (a compressed data file read as it is, too)."""
    suffix = path.suffix.lower()
    name = path.name.lower()
    kind = archive_kind(path)
    if kind is not None:  # met in a folder: left out, holding no data file (_folder_file)
        try:
            archive_member(path)
        except DataError as exc:
            return str(exc)
        return None
    if name.endswith(ARCHIVES) or suffix == ".zip":  # a tar compressed another way (.tar.zst)
        return (f"{path.name} is an archive ({'zip' if suffix == '.zip' else 'tar'}) compressed in a way that is not "
                f"read (archives are read as {', '.join(READ_ARCHIVES)}, when they hold one data file). To fix: "
                f"extract it ({'unzip' if suffix == '.zip' else 'tar -xf'} {path.name}) and open the data file it "
                "holds, or the folder of them.")
    if suffix in COMPRESSED:
        if compression(path) is not None:
            return None
        kind, command = COMPRESSED[suffix]
        inner = path.name[:-len(suffix)]
        module = READ_COMPRESSED[suffix][1]
        inner_format = FORMATS.get(Path(inner).suffix.lower())
        if inner_format is None:
            return (f"{path.name} is compressed ({kind}); rows are read from data files "
                    f"({', '.join(sorted(FORMATS))}, or those compressed). To fix: decompress it "
                    f"({command.format(name=path.name)}) and open the data file it holds.")
        if inner_format != "parquet":  # zstd without the zstandard module
            return (f"{path.name} is {inner} compressed ({kind}), and reading {kind} needs the {module} module, "
                    f"which is not installed. To fix: pip install {module}, or decompress it "
                    f"({command.format(name=path.name)}) and open {inner}.")
        return (f"{path.name} is {inner} compressed ({kind}); Parquet files are read uncompressed only (they are "
                f"compressed inside). To fix: decompress it ({command.format(name=path.name)}) and open {inner}.")
    if suffix in SPREADSHEETS:
        return (f"{path.name} is a spreadsheet workbook, which is not read. To fix: save its sheet as CSV (Excel: "
                "File > Save As > CSV UTF-8; LibreOffice Calc: File > Save As > Text CSV) and open the .csv file.")
    return None


def _saved_dataset(path: Path) -> DataError | None:
    """The refusal of a folder written by datasets' save_to_disk (Arrow files with state.json and dataset_info.json;
    a DatasetDict adds dataset_dict.json and a folder per split): its JSON files are the library's notes about the
    data, not rows, and were read as rows ("the rows appear to be nested under '_data_files'")."""
    if (path / "dataset_dict.json").is_file():
        try:
            splits = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8")).get("splits") or []
        except (OSError, ValueError, AttributeError):
            splits = []
        splits = [s for s in splits if isinstance(s, str)] or sorted(p.name for p in path.iterdir() if p.is_dir())
        split = "train" if "train" in splits else (splits[0] if splits else "train")
        return DataError(
            f"{path} is a DatasetDict saved by the datasets library (save_to_disk), with the splits "
            f"{', '.join(splits) or '(none found)'}; such a folder is not read as data files. To fix: write the split "
            f"to train on as Parquet and open that file, e.g. in Python: datasets.load_from_disk({str(path)!r})"
            f"[{split!r}].to_parquet({str(path.with_name(path.name + '-' + split + '.parquet'))!r})")
    if (path / "state.json").is_file() and (path / "dataset_info.json").is_file() \
            and any(p.suffix == ".arrow" for p in path.iterdir()):
        target = path.with_name(path.name + ".parquet")
        return DataError(f"{path} is a dataset saved by the datasets library (save_to_disk: Arrow files with "
                         "state.json); such a folder is not read as data files. To fix: write it as Parquet and "
                         f"open that file, e.g. in Python: datasets.load_from_disk({str(path)!r})"
                         f".to_parquet({str(target)!r})")
    return None


def local_files(source: str) -> tuple[str, list[Path]]:
    """The format ("csv", "json", ...) and the files of a local source; a folder must hold one format."""
    path = Path(resolve_source(source))
    if not path.exists():
        raise DataError(f"Dataset not found: {path}. Check the path, or pick a file with Open file/folder.")
    if path.is_dir():
        saved = _saved_dataset(path)
        if saved is not None:
            raise saved
        files = [p for p in sorted(path.rglob("*")) if p.is_file() and not any(
            part.startswith(".") for part in p.relative_to(path).parts) and _folder_file(p)]
        if not files:
            others = sorted(p for p in path.rglob("*") if p.is_file() and _file_advice(p) is not None
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
            advice = (f" {_file_advice(others[0])}" if others else " To fix: pick the folder that holds the data "
                      "files, or a single data file (Open file).")
            if len(others) > 1:
                advice += f" ({len(others)} such files in the folder)"
            raise DataError(f"The folder {path} holds no data files ({', '.join(sorted(FORMATS))}).{advice}")
        twice = _compressed_twins(files)
        if twice:
            first = twice[0]
            more = f" ({len(twice)} such pairs in the folder)" if len(twice) > 1 else ""
            case = " and the case of letters" if len({_plain_name(p) for p in first}) > 1 else ""
            suffix = "compression or archive" if any(archive_kind(p) is not None for p in first) else "compression"
            raise DataError(f"The folder {path} holds the same data file twice: "
                            f"{' and '.join(str(p.relative_to(path)) for p in first)} differ only by a {suffix} "
                            f"suffix{case}{more}, and every file of a folder is read, so each of their rows would be "
                            "trained twice. To fix: remove one of them (or move it out of the folder).")
        found: dict[str, list[Path]] = {}
        for file in files:  # an archive's format is that of the file it holds
            found.setdefault(FORMATS[_inner_suffix(file)], []).append(file)
        if len(found) > 1:
            said = "; ".join(f"{kind}: {_folder_name(group[0], path)}" + (f" and {len(group) - 1} more"
                                                                         if len(group) > 1 else "")
                             for kind, group in sorted(found.items()))
            raise DataError(f"The folder {path} mixes formats ({', '.join(sorted(found))}): {said}. Every file of "
                            "a folder is read as one table, in one format. To fix: keep one format per folder (move "
                            "the others out), or pick a single file.")
        return next(iter(found)), files
    if archive_kind(path) is not None:
        return FORMATS[_inner_suffix(path)], [path]
    fmt = FORMATS.get(data_suffix(path))
    if fmt is None:
        advice = _file_advice(path) or ("To fix: save the data as one of those (CSV, JSON Lines, Parquet or plain "
                                        "text) and open that file.")
        raise DataError(f"{path.name}: unknown file type '{path.suffix}'. Use one of {', '.join(sorted(FORMATS))}. "
                        f"{advice}")
    return fmt, [path]


def _folder_file(path: Path) -> bool:
    """Whether a file met in a folder source is read: a data file (compressed or not), or an archive holding one
    data file (read as that file). An archive holding no data file is left out, as other files are; one holding
    several, a Parquet file or damaged is refused, naming it (archive_member)."""
    if archive_kind(path) is None:
        return data_suffix(path) in FORMATS
    if not archive_listing(path).data:
        return False
    archive_member(path)
    return True


def _folder_name(path: Path, folder: Path) -> str:
    """A file of a folder source as the messages name it: its place in the folder, and of an archive the file
    inside (shown_file's way: "rows/data.zip › train.jsonl")."""
    name = path.relative_to(folder).as_posix()
    return f"{name} › {archive_member(path)}" if archive_kind(path) is not None else name


def _plain_name(path: Path) -> str:
    """The file's name without a compression suffix read as it is (train.jsonl.gz: train.jsonl), or without an
    archive's ending when the name under it is a data file's (train.jsonl.zip: train.jsonl)."""
    if archive_kind(path) is not None:
        name = path.name.lower()
        for ending in READ_ARCHIVES:
            inner = path.name[:-len(ending)]
            if name.endswith(ending) and Path(inner).suffix.lower() in FORMATS:
                return inner
        return path.name
    return path.name[:-len(path.suffix)] if compression(path) is not None else path.name


def _compressed_twins(files: list[Path]) -> list[list[Path]]:
    """The files of a folder whose names differ only by a compression suffix read as it is (train.jsonl and
    train.jsonl.gz, or a.csv.gz and a.csv.xz): a copy compressed and kept beside its original, so the folder holds the
    same rows twice. Names are compared without case, as a user reads them (Train.JSONL beside train.jsonl.gz: a
    copy made on Windows or macOS, whose disks ignore case, or by a tool that writes its suffix in lower case); two
    files whose names differ only by case, neither compressed, are not counted (a disk that keeps both may hold other
    rows in each). Each group in the order of `files`, the groups in the order of their first file."""
    groups: dict[tuple[Path, str], list[Path]] = {}
    for path in files:
        groups.setdefault((path.parent, _plain_name(path).casefold()), []).append(path)
    return [group for group in groups.values() if len(group) > 1 and any(_packed(p) for p in group)]


def files_signature(source: str) -> list[list[Any]] | None:
    """[path, size, mtime_ns, content] of each file of a local dataset, to tell on resume whether the data changed
    since the run began; None for a Hub dataset or one that cannot be listed. `content` (content_digest) tells a
    file rewritten at the same size within one tick of the modification time (or copied over with its old time
    kept) from the one the run began on, which size and time alone took for the same."""
    try:
        _, files = local_files(source)
        found = []
        for index, path in enumerate(files):
            stat = path.stat()
            digest = content_digest(path, stat) if index < DIGEST_FILES else None  # a folder of many shards
            found.append([str(path), stat.st_size, stat.st_mtime_ns, digest])
        return found
    except (DataError, OSError):
        return None


def files_differ(then: Any, now: Any) -> bool:
    """Whether two files_signature answers name different data. A signature recorded before the content digest
    was added ([path, size, mtime_ns]) is compared on those three only, so that resuming an older run does not
    report every file as changed."""
    if not isinstance(then, list) or not isinstance(now, list) or len(then) != len(now):
        return then != now
    for old, new in zip(then, now):
        if not isinstance(old, list) or not isinstance(new, list):
            return old != new
        width = min(len(old), len(new))
        if old[:width] != new[:width]:
            return True
    return False


DIGEST_BYTES = 64 << 10  # content_digest reads this much of a file's start and of its end
DIGEST_FILES = 256  # of a folder, the first files get a digest (at most 32 MiB read once); the rest size and time
_DIGESTS: dict[tuple, str] = {}  # file_stamp -> content_digest: a file is read once per version


def content_digest(path: Path, stat: os.stat_result | None = None) -> str:
    """A short hash of the file's size and its first and last DIGEST_BYTES bytes (as stored on disk; the whole
    file when it is no larger than twice that): bounded, so a 50 GB file costs two 64 KiB reads, once per file
    version (file_stamp: its change time moves on every write, even when size and modification time do not)."""
    import hashlib

    stat = stat or path.stat()
    key = file_stamp(path, stat)
    found = _DIGESTS.get(key)
    if found is not None:
        return found
    digest = hashlib.blake2b(str(stat.st_size).encode(), digest_size=16)
    with open(path, "rb") as handle:
        digest.update(handle.read(DIGEST_BYTES))
        if stat.st_size > DIGEST_BYTES:
            handle.seek(max(DIGEST_BYTES, stat.st_size - DIGEST_BYTES))
            digest.update(handle.read(DIGEST_BYTES))
    if len(_DIGESTS) >= 1024:
        _DIGESTS.pop(next(iter(_DIGESTS)))
    _DIGESTS[key] = found = digest.hexdigest()
    return found


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def check_file(path: Path, fmt: str, encoding: str | None = None, delimiter: str = ",",
               limit: int | None = None) -> None:
    """Fail with the file, line and column for what `datasets` would report as a pyarrow error. `limit`: check only
    about that many bytes of the file's start (the preview's check; a run checks the whole file), so a 500 MB file
    previews in milliseconds, not the seconds a whole pass takes."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror}.") from None
    if size == 0:
        raise DataError(f"{path} is empty. Pick a file with data in it.")
    if fmt == "parquet":
        try:
            import pyarrow.parquet as pq

            pq.read_metadata(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
            raise DataError(f"{path} is not a readable Parquet file: {exc}") from None
        return
    _codec(encoding)  # an unknown encoding name is said before anything is read
    head = _read_head(path, 4096)  # a compressed file: decompressed, as far as that takes
    if not head:
        raise DataError(f"{path} is empty once decompressed. Pick a file with data in it.")
    _wide_text(path, head, encoding)
    if fmt == "json" and _is_json_document(path):
        _utf8_document(path, encoding)
        if limit is not None and _longer_than(path, limit):
            return  # one document: only a whole read can check it (datasets' reader parses it whole anyway)
        data = _read_all(path)
        _json_document(path, _decode(path, data, encoding=encoding).removeprefix("\ufeff"))  # a BOM is not JSON
        return
    # Line by line, so a large file never holds the GIL for long (the GUI thread keeps drawing meanwhile).
    blank = True
    header: list[str] | None = None
    read = 0
    for number, line in _lines(path, encoding, limit):
        if limit is not None and read > limit:
            break  # the rest is checked when a run reads the file
        read += len(line) + 1
        if not line.strip():
            continue
        blank = False
        if fmt == "json":
            _json_row(path, number, line)
        elif fmt == "csv" and header is None:
            header = _csv_header(path, number, line, delimiter)
    else:
        if blank:
            raise DataError(f"{path} holds only blank space. Pick a file with data in it.")
    if fmt == "csv" and not blank:
        _check_csv_rows(path, encoding, delimiter, limit)


def _wide_text(path: Path, head: bytes, encoding: str | None) -> None:
    """Refuse UTF-16 text without a byte order mark read in an ASCII-like encoding: every other byte is 0, which
    UTF-8 decodes as NUL characters, so the checks said "malformed JSON line (Expecting property name ...)" or put
    NULs in a CSV's column names. The encoding that reads it is said, and offered to the Dataset tab (detected)."""
    codec = _codec(encoding)
    if not _ascii_compatible(codec) or len(head) < 8 or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return  # with a byte order mark its first byte is no UTF-8: the decoding error says utf-16 (detected)
    head = head[:4096 - 4096 % 2] if len(head) >= 4096 else head[:len(head) - len(head) % 2]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) < 0.4 * (len(head) // 2) or min(even, odd) > 0.05 * (len(head) // 2):
        return
    wide = "utf-16-le" if odd > even else "utf-16-be"
    raise EncodingProblem(f"{path} looks like UTF-16 text without a byte order mark (every other byte is 0), not "
                          f"{encoding or 'UTF-8'}. To fix: set the dataset's encoding to {wide} (Encoding in the "
                          "Dataset tab, or dataset.encoding in the config), or save the file as UTF-8.", path, wide)


def _utf8_document(path: Path, encoding: str | None) -> None:
    """datasets parses a JSON document (one array or object) as UTF-8 whatever the encoding: say so instead of
    its parse error."""
    if _codec(encoding) not in ("utf-8", "utf-8-sig"):
        raise DataError(f"{path} is one JSON document, and those are read as UTF-8 only (the encoding is set to "
                        f"{encoding}). Save it as UTF-8, or as JSON lines (one object per line), and clear the "
                        "encoding.")


# Python's JSON errors in words (what is wrong at the column named, and a hint for the fix), instead of its own text
# cut before ': line 1 column 10 (char 9)', which left "Unterminated string starting at" dangling.
_JSON_LINE_ERRORS: dict[str, tuple[str, str]] = {
    "Unterminated string starting at": ("a string starts there and does not end on this line",
                                        "a line break inside a value is written \\n"),
    "Invalid control character at": ("a control character, such as a tab, inside a string",
                                     "write it escaped, as \\t for a tab"),
    "Expecting value": ("no value where one was expected", "text is written in double quotes, and no comma "
                        "follows the last value"),
    "Expecting property name enclosed in double quotes": (
        "a name in double quotes was expected", "names are written in double quotes, and no comma follows the last "
        "value"),
    "Expecting ':' delimiter": ("a ':' was expected after a name", ""),
    "Expecting ',' delimiter": ("a ',' was expected between values", ""),
    "Extra data": ("more follows the end of the object", "each object goes on a line of its own"),
    "Invalid \\escape": ("a backslash that starts no escape", "a backslash in text is written \\\\"),
    "Invalid \\uXXXX escape": ("a \\u escape without 4 hex digits", ""),
}


def _json_error_words(exc: json.JSONDecodeError) -> tuple[str, str]:
    """What is wrong at the column exc names, and a hint for the fix ('' when none), in words (_JSON_LINE_ERRORS)."""
    return _JSON_LINE_ERRORS.get(exc.msg, (exc.msg.removesuffix(" at"), ""))


def _json_line_error(path: Path, number: int, line: str, exc: json.JSONDecodeError) -> DataError:
    what, hint = _json_error_words(exc)
    fix = f"correct line {number}" + (f" ({hint})" if hint else "") + " or remove it"
    if exc.pos >= len(line.rstrip()):  # '{' or '{"data": [' alone: the object goes on past the line
        what, fix = "the line ends before its object does", f"complete line {number} or remove it"
        if number == 1 and _inner_suffix(path) != ".json":
            fix += ", or, if the file is one JSON object over several lines, not one per line, name it .json"
    return DataError(f"{path}, line {number}, column {exc.colno}: malformed JSON line ({what}). Each line must be "
                     f"one JSON object. To fix: {fix}.")


def _json_row(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _json_line_error(path, number, line, exc) from None
    if not isinstance(value, dict):
        raise DataError(f"{path}, line {number}: expected a JSON object with named columns, got "
                        f"{type(value).__name__}.")
    return value


def _csv_header(path: Path, number: int, line: str, delimiter: str = ",") -> list[str]:
    header = next(csv.reader([line], delimiter=delimiter))
    if not any(name.strip() for name in header):
        raise DataError(f"{path}, line {number}: the CSV header row has no column names.")
    return header


def _field_count(path: Path, line: int, count: int, header: list[str], delimiter: str) -> DataError:
    return DataError(f"{path}, line {line}: {count} fields where the header has {len(header)} ({', '.join(header)}), "
                     f"reading fields separated by {delimiter_words(delimiter)}. Quote values that contain the "
                     "separator, or set the one the file uses (Separator in the Dataset tab, or dataset.delimiter "
                     "in the config).")


def _header_only(path: Path, header: list[str]) -> DataError:
    names = ", ".join(f"'{name}'" for name in header)
    return DataError(f"{path} has a header row ({names}) and no rows of data. Add rows below the header, or "
                     "pick another file.")


def _codec(encoding: str | None) -> str:
    """The Python codec for a configured encoding (None: UTF-8); an unknown name is a DataError."""
    if not encoding:
        return "utf-8"
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise DataError(f"Unknown encoding '{encoding}'. Use a name such as utf-8, cp1252, latin-1 or utf-16, or "
                        "leave it empty for UTF-8.") from None


def _ascii_compatible(codec: str) -> bool:
    """Lines can be split on b"\\n" before decoding (UTF-8, Latin-1, cp1252 …; not UTF-16)."""
    try:
        return "a\n{}".encode(codec) == b"a\n{}"
    except (UnicodeError, LookupError):
        return False


def _lines(path: Path, encoding: str | None, limit: int | None = None) -> Any:
    """(line number, decoded line without its end) of a text file; a UTF-8 byte order mark is dropped. `limit`:
    of a file in an encoding lines cannot be split in before decoding (UTF-16), only the whole lines of about
    its first `limit` bytes."""
    codec = _codec(encoding)
    if not _ascii_compatible(codec):
        if limit is not None and _longer_than(path, limit):
            data = _read_head(path, limit)
            try:
                text = codecs.getincrementaldecoder(codec)().decode(data, final=False)
            except UnicodeDecodeError:
                text = _decode(path, data, encoding=encoding)  # says where, in the words of a whole read
            text = text[:text.rfind("\n") + 1]  # whole lines only
        else:
            text = _decode(path, _read_all(path), encoding=encoding)
        for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
            yield number, line.rstrip("\r")
        return
    offset = 0
    with _Reading(path), _open_data(path, READ_BUFFER) as handle:
        for number, raw in enumerate(handle, 1):
            line = _decode(path, raw, number, encoding, offset).rstrip("\r\n")
            offset += len(raw)
            if number == 1:
                line = line.removeprefix("\ufeff")  # a UTF-8 byte order mark (Windows editors write one)
            yield number, line


def _decode(path: Path, data: bytes, line: int | None = None, encoding: str | None = None,
            offset: int = 0) -> str:
    codec = _codec(encoding)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        if line is None:
            line, column = _position(data, exc.start)
        else:
            column = exc.start + 1
        raise _encoding_problem(path, data[exc.start], line, column, encoding, offset + exc.start) from None


def _encoding_problem(path: Path, byte: int, line: int, column: int, encoding: str | None,
                      offset: int) -> EncodingProblem:
    name = encoding or "UTF-8"
    detected = detect_encoding(path, offset)
    if detected and detected != _codec(encoding):
        advice = (f"It looks like {detected}: set the dataset's encoding to {detected} (Encoding in the Dataset "
                  f"tab, or dataset.encoding in the config), or save the file as UTF-8.")
    else:
        advice = ("Set the dataset's encoding to the one the file was saved in (Encoding in the Dataset tab, or "
                  "dataset.encoding in the config), or save the file as UTF-8.")
    return EncodingProblem(f"{path}, line {line}, column {column}: byte 0x{byte:02x} is not {name} text. {advice}",
                           path, detected)


def detect_encoding(path: Path, offset: int | None = None) -> str | None:
    """The encoding charset-normalizer finds in the file's start (and around `offset`, a byte that did not decode);
    None for UTF-8/ASCII or when it cannot tell."""
    try:
        with _open_data(path) as handle:  # a compressed file: its data, decompressed (seek reads forward to it)
            sample = handle.read(DETECT_BYTES)
            if offset is not None and offset >= len(sample) - 64:  # the bad byte lies past the start: add its part
                handle.seek(max(len(sample), offset - DETECT_BYTES // 2))
                sample += handle.read(DETECT_BYTES)
    except (OSError, *_damaged_errors()):
        return None
    return detect_bytes_encoding(sample)


def detect_bytes_encoding(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    matches = sorted(from_bytes(sample), key=lambda m: m.chaos)
    if not matches:
        return None
    best = matches[0]
    # Several code pages decode Western European text to the same characters (charset-normalizer then names the
    # first, often cp1250); cp1252, Windows' Latin-1, is by far the most common of them, so it wins among the
    # equally plausible matches.
    for match in matches:
        if match.chaos > best.chaos:
            break
        if "cp1252" in match.could_be_from_charset:
            return "cp1252"
    if best.encoding in ("ascii", "utf_8"):
        return None
    return best.encoding.replace("_", "-")


def _no_field_limit() -> None:
    """Lift the csv module's 128 KiB limit on one field: pandas, which reads a run's CSV, has none, so a row of one
    long text (a whole book in a cell) is data, not "malformed CSV (field larger than field limit)"."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)


CSV_FIELD_LIMIT = 2**31 - 1  # the largest a C long holds everywhere (sys.maxsize overflows on Windows)


def _check_csv_rows(path: Path, encoding: str | None = None, delimiter: str = ",", limit: int | None = None) -> None:
    """Rows with more or fewer fields than the header (csv tracks quoted newlines, so it reads the file itself),
    and a header with no rows below it. `limit`: stop after about that many characters of rows (check_file's)."""
    _no_field_limit()
    codec = _codec(encoding)
    codec = "utf-8-sig" if codec == "utf-8" else codec
    import io

    with _Reading(path), io.TextIOWrapper(_open_data(path, READ_BUFFER), encoding=codec, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        rows = read = 0
        try:
            header = next(reader)
            while not any(name.strip() for name in header):  # blank lines before the header
                header = next(reader)
            for row in reader:
                if row and len(row) != len(header):
                    raise _field_count(path, reader.line_num, len(row), header, delimiter)
                rows += bool(row)
                read += sum(map(len, row)) + len(row)
                if limit is not None and read > limit:
                    break
        except csv.Error as exc:
            raise DataError(f"{path}, line {reader.line_num}: malformed CSV ({exc}).") from None
    if rows == 0:
        raise _header_only(path, header)


def delimiter_words(delimiter: str) -> str:
    """',' -> "commas (,)", '\t' -> "tabs": how messages and the Dataset tab name a separator."""
    word = DELIMITERS.get(delimiter)
    if word is None:
        return repr(delimiter)
    return "tabs" if delimiter == "\t" else f"{word}s ({delimiter})"


def detect_delimiter(header: str, rows: list[str]) -> str:
    """The field separator of a CSV from its header line: a comma, unless the header has no comma and splits at
    one of ; tab | into several columns (the first of those the following rows agree with: as many fields as
    the header in at least half of them). Header-driven on purpose: csv.Sniffer weighs how often each character
    occurs on every line, so a one-column file whose texts each hold one semicolon reads as ';'-separated there,
    and its text would be cut in two; a header without a separator cannot be."""
    def fields(line: str, delimiter: str) -> int:
        try:
            return len(next(csv.reader([line], delimiter=delimiter), []))
        except csv.Error:
            return 0

    if fields(header, ",") > 1:
        return ","
    for delimiter in (";", "\t", "|"):
        count = fields(header, delimiter)
        if count > 1 and (not rows or 2 * sum(fields(row, delimiter) == count for row in rows) >= len(rows)):
            return delimiter
    return ","


def file_stamp(path: Path, stat: os.stat_result | None = None) -> tuple[str, int, int, int, int]:
    """What tells one version of a file from another for the caches of bounded reads: its size and modification
    time, and its change time and inode, which no tool sets back. With the first two alone, a file rewritten at the
    same size within one tick of a coarse modification time (2 s on FAT), or copied over with its old time kept
    (cp -p, rsync -t, tar x, touch -r), was judged on the old content."""
    stat = stat or path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


_DELIMITERS_FOUND: dict[tuple, str] = {}  # (*file_stamp, encoding) -> file_delimiter's answer


def file_delimiter(path: Path, encoding: str | None = None) -> str:
    """detect_delimiter on the file's first non-blank line and up to 20 lines after it (cached per file version).
    A file it cannot read gets a comma: the read that follows says what is wrong, in the words a run would use."""
    try:
        stat = path.stat()
        key = (*file_stamp(path, stat), encoding)
        if key in _DELIMITERS_FOUND:
            return _DELIMITERS_FOUND[key]
        sample = _read_head(path, 64 * 1024)
    except (OSError, DataError):
        return ","
    try:
        codec = _codec(encoding)
    except DataError:
        codec = "utf-8"
    lines = [line for line in sample.decode(codec, errors="replace").removeprefix("\ufeff").splitlines()
             if line.strip()]
    if len(sample) == 64 * 1024 and len(lines) > 1:
        lines.pop()  # may be cut
    if len(_DELIMITERS_FOUND) >= 64:
        _DELIMITERS_FOUND.pop(next(iter(_DELIMITERS_FOUND)))
    _DELIMITERS_FOUND[key] = detect_delimiter(lines[0], lines[1:21]) if lines else ","
    return _DELIMITERS_FOUND[key]


def csv_delimiter(config: DatasetConfig, files: list[Path]) -> str:
    """The separator a local CSV source is read with: dataset.delimiter, or the one detected in its first file."""
    if isinstance(config.delimiter, str) and config.delimiter in DELIMITERS:
        return config.delimiter
    return file_delimiter(files[0], config.encoding if isinstance(config.encoding, str) else None)


def _is_json_document(path: Path) -> bool:
    """A .json file holding one array or object (not JSON lines)."""
    head = _read_head(path, 4096).removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"["):
        return True
    if _inner_suffix(path) != ".json" or not head.startswith(b"{"):
        return False
    with _Reading(path), _open_data(path) as handle:
        first = handle.readline().removeprefix(codecs.BOM_UTF8)
        rest = handle.read(1)
    if not rest.strip():
        return True  # one line only: a document either way
    try:
        json.loads(first)
        return False  # the first line is a whole object: JSON lines
    except ValueError:
        return True


def effective_sample_by(config: DatasetConfig) -> str:
    """How .txt files become rows: as configured, else one row per file for a folder, per line for one file."""
    if config.sample_by:
        return config.sample_by
    return "document" if os.path.isdir(resolve_source(config.source)) else "line"


def _reader_options(fmt: str, files: list[Path], config: DatasetConfig, delimiter: str = ",") -> dict[str, Any]:
    """Options for datasets' readers: the configured encoding, how text files split into rows, and a UTF-8 byte
    order mark dropped instead of becoming part of the first row (text) or tripping the parser (JSON)."""
    options: dict[str, Any] = {}
    if fmt == "text":
        options["sample_by"] = effective_sample_by(config)
    if fmt not in ("text", "json", "csv"):
        return options
    if fmt == "csv" and delimiter != ",":
        options["sep"] = delimiter  # csv_delimiter's answer, found by the caller
    codec = _codec(config.encoding)
    if codec == "utf-8" and fmt in ("text", "json"):
        for path in files:
            if _read_head(path, len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
                codec = "utf-8-sig"
                break
    if codec != "utf-8" or config.encoding:
        options["encoding"] = codec
    return options


def _hub_guard(source: str) -> None:
    if is_url(source):
        raise DataError(url_message(source))
    from finetune_studio.core.hub_access import require_hub

    require_hub(f"the dataset '{source}'", "Pick a local file, or the built-in sample dataset.")


def load_split(config: DatasetConfig, notify: Callable[[str], None] | None = None) -> Any:
    """The whole configured split as a `datasets.Dataset`. `notify` hears how it was read where the config did not
    say (a separator found in a CSV's header row), for the run log."""
    import datasets

    if is_local(config.source):
        fmt, files = local_files(config.source)
        # An archive (the source, or a file of a folder): its data file copied out in the pass that lists all of
        # it (a second data file is refused first); the checks below and datasets' reader read that copy, the
        # messages name the archive.
        room = copy_room_message(Path(resolve_source(config.source)), files)  # all copies, before the first
        if room is not None:
            raise DataError(room)
        read = [_reader_file(p) for p in files]
        _prune_copies(files)
        delimiter = csv_delimiter(config, files) if fmt == "csv" else ","
        for path in files:
            check_file(path, fmt, config.encoding, delimiter)
        if notify is not None and delimiter != "," and config.delimiter is None:
            notify(f"{files[0] if len(files) == 1 else files[0].parent}: fields separated by "
                   f"{delimiter_words(delimiter)}, as the header row shows (dataset.delimiter sets another).")
        where = files[0] if len(files) == 1 else files[0].parent
        try:
            # The copy of an archive's file is named by the archive's version (extract_member), so datasets' cache,
            # which knows a file by its path and time, never hands back the rows of an archive since replaced.
            ds = datasets.load_dataset(fmt, data_files=read, split="train",
                                       **_reader_options(fmt, files, config, delimiter))
        except Exception as exc:  # noqa: BLE001 - datasets wraps parse errors in several types
            if "corresponds to no data" in str(exc):  # datasets' words for a source without rows
                raise DataError(_no_rows(where, fmt)) from None
            raise DataError(_read_failure(files, fmt, config, delimiter, exc)) from None
        if len(ds) == 0:
            raise DataError(_no_rows(where, fmt))
        if len(files) > 1:
            _FOLDERS[ds] = functools.cache(functools.partial(_folder_parts, copy.copy(config), fmt,
                                                             files, delimiter))
    else:
        _hub_guard(config.source)
        try:
            ds = datasets.load_dataset(config.source, config.name, split=config.split)
        except Exception as exc:  # noqa: BLE001 - any Hub or loader failure becomes one sentence
            raise DataError(_hub_dataset_message(config, exc)) from None
    if len(ds) == 0:
        raise DataError(f"The dataset {config.source} has no rows. Pick a file with data in it.")
    return ds


# The folders load_split read, by the dataset it made: each file's rows, counted only when a run names a bad row
# (folder_row). Weak keys: an entry goes with its dataset.
_FOLDERS: weakref.WeakKeyDictionary[Any, Callable[[], list[tuple[int, str]]]] = weakref.WeakKeyDictionary()


def folder_row(ds: Any, index: int) -> str | None:
    """Where row `index` (0-based) of a dataset load_split read from a folder lies in its own file ("row 2 of
    b.jsonl"): a run reads the files as one table, and a row number over the folder is no line a user can find.
    The words check_source uses (in_part). None for one file, a Hub dataset, or a folder whose files cannot be
    counted again (the row number over the folder still stands)."""
    counted = _FOLDERS.get(ds)
    if counted is None:
        return None
    try:
        return in_part(counted(), index)
    except Exception:  # noqa: BLE001 - naming the file is extra; the error being reported is the one that matters
        return None


def _folder_parts(config: DatasetConfig, fmt: str, files: list[Path], delimiter: str) -> list[tuple[int, str]]:
    """(first row, name in the folder) of each file, in the order load_split read them: each file read alone as the
    run read it (Parquet: its metadata), so the counts are the run's. Only on an error path, and once."""
    import datasets

    folder = Path(resolve_source(config.source))
    parts, offset = [], 0
    for path in files:
        parts.append((offset, _folder_name(path, folder)))
        if fmt == "parquet":
            import pyarrow.parquet as pq

            offset += pq.ParquetFile(path).metadata.num_rows
        else:
            offset += len(datasets.load_dataset(fmt, data_files=[_reader_file(path)], split="train",
                                                **_reader_options(fmt, [path], config, delimiter)))
    return parts


def _read_failure(files: list[Path], fmt: str, config: DatasetConfig, delimiter: str, exc: BaseException,
                  limit: int | None = None) -> str:
    """Why datasets could not read a source, naming the file: for a folder, each file is read alone (only now, on
    this error path; its first `limit` rows when set, streaming) to find the one that fails, or the first whose
    columns differ from the first file's (a run reads a folder as one table)."""
    import datasets

    if len(files) == 1:
        return (damaged_message(files[0], exc.__cause__ or exc)
                or f"Could not read {files[0]}: {_first_line(exc.__cause__ or exc)}")
    folder = Path(resolve_source(config.source))
    seen: list[tuple[Path, list[str]]] = []
    for path in files:
        try:
            options = _reader_options(fmt, [path], config, delimiter)
            if limit is None:
                names = list(datasets.load_dataset(fmt, data_files=[_reader_file(path)], split="train",
                                                   **options).column_names)
            elif archive_kind(path) is not None:  # its start only, as the preview read it
                names = list(next(iter(_archive_preview(path, fmt, options, 1)), {}).keys())
            else:
                stream = datasets.load_dataset(fmt, data_files=[str(path)], split="train", streaming=True, **options)
                names = list(next(iter(stream.take(1)), {}).keys())
        except Exception as alone:  # noqa: BLE001 - this file's own failure, whatever its type
            return (damaged_message(path, alone.__cause__ or alone)
                    or f"Could not read {path}: {_first_line(alone.__cause__ or alone)}")
        seen.append((path, names))
        first_path, first = seen[0]
        if names and first and set(names) != set(first):
            name, other = _folder_name(path, folder), _folder_name(first_path, folder)
            lacks = [c for c in first if c not in names]
            text = config.text_column
            said = (f"{name} has no column {shown(text)} (its columns: {', '.join(names)})"
                    if isinstance(text, str) and text in lacks else
                    f"{name} has the columns {', '.join(names)} and {other} has {', '.join(first)}")
            return (f"{folder}: {said}. A run reads the files of a folder as one table, so each needs the same "
                    f"columns. To fix: give {name} the columns of the others, or move it out of the folder.")
    return f"Could not read {folder}: {_first_line(exc.__cause__ or exc)}"


def _no_rows(where: Path, fmt: str) -> str:
    if fmt == "csv":  # check_file saw rows below the header: pandas skips lines that hold only spaces
        return (f"{where} has no rows of data: every line below the header is blank (empty or only spaces). Pick a "
                "file with text in it.")
    return f"{where} has no rows. Pick a file with data in it."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _hub_dataset_message(config: DatasetConfig, exc: BaseException) -> str:
    name = type(exc).__name__
    if "Gated" in name or "gated" in str(exc):
        return (f"The dataset {config.source} is gated: accept its terms on the Hub and log in, then try again.")
    if "NotFound" in name or "doesn't exist" in str(exc):
        return f"The dataset {config.source} was not found on the Hub. Check the id (owner/name)."
    if "split" in str(exc).lower() and config.split:
        return f"The dataset {config.source} has no split '{config.split}': {_first_line(exc)}"
    return f"Could not load the dataset {config.source}: {_first_line(exc)}"


def _same_name(name: str) -> str:
    """A column name as real_column compares it: without whitespace around it, in Unicode's composed form (NFC), so
    "tëxt" typed as e + combining diaeresis (NFD, as macOS file names give it) is the column "tëxt"."""
    import unicodedata

    return unicodedata.normalize("NFC", name.strip())


def real_column(names: list[str], column: str) -> str | None:
    """The column a configured name means: itself, else the one column that differs from it only by whitespace
    around it (spreadsheets export "Horoscope Text " with the space) or by its Unicode form (NFC and NFD spell the
    same letters with different code points, and print the same)."""
    if column in names:
        return column
    if not isinstance(column, str):
        return None
    same = [name for name in names if isinstance(name, str) and _same_name(name) == _same_name(column)]
    return same[0] if len(same) == 1 else None


def column_notice(configured: str, real: str) -> str:
    if configured.strip() == real.strip():
        return (f"The text column is {shown(real)} in the data; the config says {shown(configured)}. Using the name "
                "as the data spells it.")
    return (f"The text column {shown(real)} is written in another Unicode form in the data than in the config (the "
            "same letters, different code points: NFC and NFD). Using the name as the data spells it.")


def shown(name: str) -> str:
    """A column name in quotes, with whitespace at its ends named so that 'Text ' and 'Text' read differently."""
    ends = []
    if name[:1].isspace():
        ends.append("leading")
    if name[-1:].isspace():
        ends.append("trailing")
    return f"'{name}'" + (f" (with {' and '.join(ends)} whitespace)" if ends else "")


# What to do about a text column the data lacks (core.inspector adds the same words where validate's have none).
COLUMN_FIX = "pick the column that holds the text (Text column in the Dataset tab, or dataset.text_column)."


def missing_column(source: str, column: str, names: list[str]) -> DataError:
    """A text column the data lacks, with the columns it has: the words validate, the run and the Dataset tab say."""
    from finetune_studio.core.config import nearest

    alike = [n for n in names if isinstance(n, str) and _same_name(n) == _same_name(column)] \
        if isinstance(column, str) else []
    if len(alike) > 1:  # each looks like the name given: say why none is taken
        return DataError(f"{source}: {len(alike)} columns are named {shown(column)} in different Unicode forms (the "
                         "same letters written with different code points: NFC and NFD), so the text column is not "
                         "clear. To fix: rename all but one of them in the data.")
    hint = nearest(column, names)
    tail = f" Did you mean {shown(hint)}?" if hint else ""
    return DataError(f"{source}: there is no column {shown(column)}. Columns: "
                     f"{', '.join(shown(n) if n != n.strip() else n for n in names)}.{tail} To fix: {COLUMN_FIX}")


def _not_text(source: str, column: str, kind: str, text_columns: list[str]) -> DataError:
    choose = f" Text columns: {', '.join(text_columns)}." if text_columns else " The dataset has no text column."
    return DataError(f"{source}: column {shown(column)} holds {kind}, not text.{choose}")


def row_named(row: int, where: str | None = None) -> str:
    """Row `row` (1-based, over the whole source) in words, with `where` it lies in its own file for a folder source
    ("row 5 (row 2 of b.jsonl)": in_part, folder_row), so the user can find it in the file to fix."""
    return f"row {row}" + (f" ({where})" if where else "")


def _odd_value(source: str, column: str, row: int, value: Any, where: str | None = None) -> DataError:
    """A row whose value is not text in a column whose other rows hold text: the row is the mistake, not the column
    (the pre-check and the run say it in these words). `where` as for _no_value."""
    return DataError(f"{source}: {row_named(row, where)} holds {one_kind(value)} ({brief(value)}) in column "
                     f"{shown(column)}, not text. Fix or remove that row.")


def _first_odd_json(values: Any) -> tuple[int, Any] | None:
    """(row number, value) of the first value that is not text in a column datasets read as Json (its rows hold
    values of several types: text in most, a number or a record in some), when some row holds text; None else. The
    Arrow storage holds each value as JSON text, so a text value is the one that starts with a quote."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    storage = pa.chunked_array([c.storage if isinstance(c, pa.ExtensionArray) else c for c in chunks])
    if storage.type not in (pa.string(), pa.large_string()):
        return None
    quoted = pc.starts_with(storage, '"')
    if not pc.any(quoted).as_py():
        return None
    odd = pc.and_(pc.invert(quoted), pc.not_equal(storage, "null"))
    index = pc.index(pc.fill_null(odd, False), True).as_py()
    return None if index < 0 else (index + 1, json.loads(storage[index].as_py()))


def _no_value(source: str, column: str, row: int, where: str | None = None) -> DataError:
    """`where`: the file of a folder source that holds the row, and its row there ("row 12 of part-2.parquet")."""
    return DataError(f"{source}: {row_named(row, where)} has no value in column {shown(column)}. Fill or remove it.")


def arrow_kind(kind: Any) -> str | None:
    """None for an Arrow type a run trains as text, else what a column of it holds, in words (the same words as
    _value_kind). The one rule for both sides: the pre-check reads a Parquet file's schema with it, and the run
    (_feature_kind) the loaded dataset's types. Text is string, large_string and string_view, and a dictionary of
    them (pandas' category dtype), which datasets reads as plain strings."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return None
    if pa.types.is_integer(kind):
        return "whole numbers"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "numbers"
    if pa.types.is_boolean(kind):
        return "true/false values"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return "lists"
    if pa.types.is_struct(kind):
        return "records (JSON objects)"
    return f"{kind} values"


def _feature_kind(feature: Any) -> str | None:
    """None for text, else what the column holds, in words (the same words as _value_kind)."""
    dtype = getattr(feature, "dtype", None)
    kind = getattr(feature, "pa_type", None) if type(feature).__name__ == "Value" else None
    if kind is not None:
        return arrow_kind(kind)
    if isinstance(dtype, str) and dtype.startswith(("int", "uint")):
        return "whole numbers"
    if isinstance(dtype, str) and dtype.startswith(("float", "double", "decimal")):
        return "numbers"
    if dtype == "bool":
        return "true/false values"
    if isinstance(feature, dict):
        return "records (JSON objects)"
    if type(feature).__name__ in ("List", "LargeList", "Sequence") or isinstance(feature, list):
        return "lists"
    return f"{dtype or type(feature).__name__} values"


def _value_kind(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, bool):
        return "true/false values"
    if isinstance(value, int):
        return "whole numbers"
    if isinstance(value, float):
        return "numbers"
    if isinstance(value, dict):
        return "records (JSON objects)"
    if isinstance(value, list):
        return "lists"
    return f"{type(value).__name__} values"


def check_text_column(ds: Any, column: str, source: str, notify: Any = None) -> str:
    """The real name of the text column (see real_column; `notify` hears when it differs), or a DataError."""
    names = list(ds.column_names)
    real = real_column(names, column)
    if real is None:
        raise missing_column(source, column, names)
    if real != column and notify is not None:
        notify(column_notice(column, real))
    kind = _feature_kind(ds.features[real])
    if kind is not None:
        odd = _first_odd_json(ds.data.column(real)) if type(ds.features[real]).__name__ == "Json" else None
        if odd is not None:  # mostly text, a few rows of another type (past the rows the pre-check read)
            index, value = odd
            raise _odd_value(source, real, index, value, folder_row(ds, index - 1))
        raise _not_text(source, real, kind, [n for n in names if _feature_kind(ds.features[n]) is None])
    values = ds.data.column(real)  # Arrow: counting nulls never turns 100k strings into Python objects
    if values.null_count:
        import pyarrow.compute as pc

        index = pc.index(pc.is_null(values), True).as_py()
        raise _no_value(source, real, index + 1, folder_row(ds, index))
    return real


def detect_text_column(columns: list[str], rows: list[dict[str, Any]]) -> str | None:
    """A well-known name if there is one, else the string column with the longest text in the preview."""
    text_like = [c for c in columns if rows and all(isinstance(r.get(c), str) or r.get(c) is None for r in rows)
                 and any(isinstance(r.get(c), str) for r in rows)]
    for name in TEXT_COLUMN_NAMES:
        for column in text_like:
            if column.strip().lower() == name:
                return column
    if not text_like:
        return None
    return max(text_like, key=lambda c: sum(len(r.get(c) or "") for r in rows))


@dataclass
class Preview:
    columns: list[str]
    rows: list[dict[str, Any]]
    text_column: str | None
    files: list[str] = field(default_factory=list)  # what was read (shown_file: an archive with the file inside)
    format: str | None = None  # "csv", "json", "parquet", "text"; None for a Hub dataset
    sample_by: str | None = None  # how .txt files became rows ("document", "paragraph", "line")
    text_columns: list[str] = field(default_factory=list)  # columns that hold text in the rows shown
    delimiter: str | None = None  # the separator a CSV was read with (configured or detected)


def preview(config: DatasetConfig, limit: int = PREVIEW_ROWS) -> Preview:
    """First rows and the columns, reading only what it shows (streaming), so a large source opens at once."""
    import datasets

    fmt = sample_by = delimiter = None
    if is_local(config.source):
        fmt, files = local_files(config.source)
        delimiter = csv_delimiter(config, files) if fmt == "csv" else None
        check_file(files[0], fmt, config.encoding, delimiter or ",", PREVIEW_CHECK_BYTES)
        options = _reader_options(fmt, files, config, delimiter or ",")
        sample_by = options.get("sample_by")
        try:
            if any(archive_kind(p) is not None for p in files):  # file by file, as far as the rows shown need
                rows = []
                for path in files:
                    if archive_kind(path) is not None:
                        rows += _archive_preview(path, fmt, options, limit - len(rows))
                    else:
                        rows += datasets.load_dataset(fmt, data_files=[str(path)], split="train", streaming=True,
                                                      **options).take(limit - len(rows))
                    if len(rows) >= limit:
                        break
            else:
                stream = datasets.load_dataset(fmt, data_files=[str(p) for p in files], split="train",
                                               streaming=True, **options)
                rows = list(stream.take(limit))
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - a reader's failure of any type is the file's problem
            if len(files) == 1:  # past the part checked: the whole check names the line (only on this error path)
                check_file(files[0], fmt, config.encoding, delimiter or ",")
            raise DataError(_read_failure(files, fmt, config, delimiter or ",", exc, limit)) from None
        names = [shown_file(p) for p in files]
    else:
        _hub_guard(config.source)
        try:
            stream = datasets.load_dataset(config.source, config.name, split=config.split, streaming=True)
            rows = list(stream.take(limit))
        except Exception as exc:  # noqa: BLE001 - any Hub or loader failure becomes one sentence
            raise DataError(_hub_dataset_message(config, exc)) from None
        names = []
    columns = list(rows[0].keys()) if rows else []
    text_columns = [c for c in columns if all(_value_kind(r.get(c)) is None for r in rows)]
    return Preview(columns=columns, rows=rows, text_column=detect_text_column(columns, rows), files=names,
                   format=fmt, sample_by=sample_by, text_columns=text_columns, delimiter=delimiter)


def _archive_preview(path: Path, fmt: str, options: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The first rows of the data file inside an archive: its first ARCHIVE_PREVIEW_BYTES (whole lines; a JSON
    document whole, as datasets reads one) written to a temporary file of its own name, which datasets' reader
    streams. Bounded for every archive: datasets' tar reader lists a compressed tar whole before it reads a row."""
    import tempfile

    import datasets

    member = PurePosixPath(archive_member(path))
    if fmt == "json" and _is_json_document(path):
        data = _read_all(path)
    else:
        data = _read_head(path, ARCHIVE_PREVIEW_BYTES + 1)
        if len(data) > ARCHIVE_PREVIEW_BYTES:
            data = data[:data.rfind(b"\n", 0, ARCHIVE_PREVIEW_BYTES) + 1]  # whole lines only
    with tempfile.TemporaryDirectory(prefix="finetune-studio-preview-") as folder:
        head = Path(folder) / member.name
        head.write_bytes(data)
        stream = datasets.load_dataset(fmt, data_files=[str(head)], split="train", streaming=True, **options)
        return list(stream.take(limit))


def tokenize_and_split(ds: Any, tokenizer: Any, config: DatasetConfig, seed: int, notify: Any = None) -> Any:
    """The seed's preparation: batched map with remove_columns, truncation and max_length, then a test split.

    Blank rows (is_blank: given no tokens here, in the same pass) and rows whose text gives no tokens are dropped;
    the tutorial's script keeps them as all-padding rows, so `notify` hears how many were dropped (the script's test
    split, batches and per-step losses then differ)."""
    column = real_column(list(ds.column_names), config.text_column) or config.text_column
    max_length, truncation = config.max_length, config.truncation
    limit = char_limit(tokenizer, max_length) if truncation else None

    def tokenize(batch: dict[str, list[Any]]) -> Any:
        texts = batch[column]
        if limit is not None:  # the kept tokens are the same; a megabyte row no longer takes seconds
            texts = [t[:limit] if isinstance(t, str) and len(t) > limit else t for t in texts]
        encoded = tokenizer(texts, truncation=truncation, max_length=max_length)
        blank = [is_blank(text) for text in batch[column]]  # the whole row: spaces may come before its text
        if any(blank):  # no tokens for a blank row (a BOS, or spaces' tokens): the filter below drops it
            for key in list(encoded.keys()):
                encoded[key] = [[] if empty else ids for ids, empty in zip(encoded[key], blank)]
        return encoded

    workers = tokenize_workers(len(ds))
    tokenized = ds.map(tokenize, batched=True, remove_columns=ds.column_names, desc="Tokenizing", num_proc=workers)
    rows = len(tokenized)
    tokenized = tokenized.filter(_has_tokens, batched=True, desc="Dropping empty rows", num_proc=workers)
    if len(tokenized) == 0:
        raise DataError(f"{config.source}: every row of '{column}' is empty after tokenizing.")
    if len(tokenized) < rows and notify is not None:
        notify(empty_rows_notice(rows - len(tokenized), rows, column))
    if config.test_size <= 0:
        import datasets

        return datasets.DatasetDict({"train": tokenized})
    if len(tokenized) < 2:
        raise DataError(f"{config.source}: {len(tokenized)} row is too few to hold out a test split. "
                        "Add rows or set test_size to 0 (and eval_strategy to 'no').")
    split = tokenized.train_test_split(test_size=config.test_size, seed=seed)
    if len(split["train"]) == 0 or len(split["test"]) == 0:
        side = "training" if len(split["train"]) == 0 else "evaluation"
        raise DataError(f"{config.source}: nothing is left for {side} after a {config.test_size:g} test split of "
                        f"{len(tokenized)} rows. Add rows or change test_size.")
    return split


def empty_rows_notice(dropped: int, rows: int, column: str) -> str:
    return (f"Dropped {dropped:,} of {rows:,} rows whose '{column}' is blank (empty, only spaces or no tokens); "
            f"{rows - dropped:,} rows remain. The tutorial's script keeps such rows as all-padding rows, so its test "
            "split and batches differ and its per-step losses can differ from this run's by several percent.")


def char_limit(tokenizer: Any, max_length: int) -> int:
    """Characters that surely hold more than max_length tokens: no token covers more characters than its longest
    vocabulary entry (doubled for normalizers that fold characters, plus a margin for the word cut at the end).
    Truncation keeps the first max_length tokens, so tokenizing only this much of a longer row gives the same ids
    — and a 5 MB row takes milliseconds instead of seconds."""
    try:
        longest = max((len(token) for token in tokenizer.get_vocab()), default=0)
    except Exception:  # noqa: BLE001 - a tokenizer without a readable vocabulary: assume long tokens
        longest = 0
    return (max_length + 8) * max(longest, 64) * 2 + 4096


# Below this many rows, starting worker processes costs more than it saves.
PARALLEL_TOKENIZE_ROWS = 20_000


def tokenize_workers(rows: int) -> int | None:
    if rows < PARALLEL_TOKENIZE_ROWS:
        return None
    return max(1, min(8, (os.cpu_count() or 1)))


def is_blank(text: Any) -> bool:
    """A row with no text to train on: an empty string or one of spaces, tabs and line ends only. One rule for
    validate (check_source) and the run (tokenize_and_split): the run dropped only rows that gave no tokens, a
    tokenizer's rule, so rows "", "   ", "ok" were refused by validate (1 row with text, too few for a test split)
    and trained by a run, whose "   " row gave tokens (and a tokenizer that adds a BOS token keeps even "")."""
    return isinstance(text, str) and not text.strip()


def _has_tokens(batch: dict[str, list[Any]]) -> list[bool]:
    return [len(ids) > 0 for ids in batch["input_ids"]]


@dataclass
class TokenStats:
    rows: int
    sampled: int
    max_length: int
    truncated: int  # estimated over all rows when sampled < rows
    mean: float
    median: float
    p95: float
    longest: int
    bin_edges: list[int]
    counts: list[int]


def token_statistics(ds: Any, tokenizer: Any, column: str, max_length: int, sample: int = 5000,
                     bins: int = 30) -> TokenStats:
    """Token lengths before truncation, on a sample for large sets: enough for a histogram and the cut count."""
    import numpy as np

    rows = len(ds)
    subset = ds.select(range(min(rows, sample))) if rows > sample else ds
    texts = [t or "" for t in subset[column]]
    encoded = tokenizer(texts, truncation=False, add_special_tokens=True)["input_ids"]
    lengths = np.array([len(ids) for ids in encoded], dtype=np.int64)
    counts, edges = np.histogram(lengths, bins=min(bins, max(1, int(lengths.max()) - int(lengths.min()) + 1)))
    over = int((lengths > max_length).sum())
    truncated = round(over * rows / len(lengths)) if len(lengths) else 0
    return TokenStats(rows=rows, sampled=len(lengths), max_length=max_length, truncated=truncated,
                      mean=float(lengths.mean()), median=float(np.median(lengths)),
                      p95=float(np.percentile(lengths, 95)), longest=int(lengths.max()),
                      bin_edges=[int(e) for e in edges], counts=[int(c) for c in counts])



# ---- the check validate() makes: a bounded read, cached --------------------------------------------------------

_HEADS: dict[tuple, Any] = {}  # (files, sizes, mtimes, encoding, row splitting) -> what _head read, or a Problem
_HEADS_MAX = 32
# What pandas (datasets' CSV reader) reads as a missing value.
CSV_MISSING = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                         "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})


def check_source(config: DatasetConfig, chat: Any = None) -> list[Problem]:
    """What a run would find wrong with a local source before training, in the same words: an empty or header-only
    file, text that is not in the configured encoding (with the detected one), a malformed first part, a missing
    text column or one that does not hold text. Reads at most CHECK_BYTES of all files together, once per (files,
    sizes, modification times, encoding, row splitting): choosing another text column re-reads nothing, so the
    window can run this on every edit. Hub ids and missing paths are left to the caller. With `chat` (the run's
    ChatConfig), instruction and chat rows get core.chat's checks instead of the text column's. An archive whose data
    file would not fit in the cache's free space for a run's copy is said too (copy_room_message; not cached: free
    space changes)."""
    if not isinstance(config.source, str) or is_url(config.source) or not is_local(config.source):
        return []
    if not os.path.exists(resolve_source(config.source)):
        return []
    try:
        _codec(config.encoding if isinstance(config.encoding, str) else None)
    except DataError:
        return []  # validate() names an unknown encoding itself
    try:
        listed: tuple[str, list[Path]] | None = local_files(config.source)  # one walk of a folder for both reads
    except (DataError, OSError):
        listed = None  # _bounded_read says why
    found = _bounded_read(config, listed)
    if isinstance(found, Problem) or listed is None:
        return [found] if isinstance(found, Problem) else []
    return _rows_problems(config, chat, found) + _room_problems(config, listed[1])


def _rows_problems(config: DatasetConfig, chat: Any, found: tuple[str, Any]) -> list[Problem]:
    """check_source's judgement of the rows its bounded read found."""
    fmt, (columns, rows, kinds, nulls, complete, parts) = found
    if chat is not None:  # instruction and chat rows (a core.config.ChatConfig): their checks replace the text column's
        from finetune_studio.core.chat import source_problems

        found = source_problems(chat, config, columns, rows, parts)
        if found is not None:
            found = [Problem(key, message) for key, message in found]
            return found or (_split_problems(config, len(rows)) if complete else [])
    found = _column_problems(config, fmt, columns, rows, kinds, nulls, parts)
    real = real_column(columns, config.text_column) if isinstance(config.text_column, str) else None
    if found or not complete or not rows or real is None:
        return found
    texts = [row.get(real) for row in rows]
    filled = sum(isinstance(text, str) and not is_blank(text) for text in texts)
    if filled == 0:
        return [Problem("dataset.text_column", str(_all_blank(config.source, real, len(texts), fmt)))]
    return _split_problems(config, filled, " with text")


def _bounded_read(config: DatasetConfig, listed: tuple[str, list[Path]] | None = None) -> tuple[str, Any] | Problem:
    """(format, what _head read) of a local source that exists, or the Problem reading it found: at most
    CHECK_BYTES, once per (files, sizes, modification times, encoding, row splitting, separator). `listed`: what
    local_files found, where the caller has it."""
    try:
        fmt, files = listed if listed is not None else local_files(config.source)
        stamps = tuple(file_stamp(p) for p in files)
    except DataError as exc:
        return Problem("dataset.source", str(exc))
    except OSError as exc:
        return Problem("dataset.source", f"Cannot read {exc.filename}: {exc.strerror}.")
    delimiter = csv_delimiter(config, files) if fmt == "csv" else None
    key = (fmt, stamps, config.encoding, effective_sample_by(config), delimiter)
    head = _HEADS.get(key)
    if head is None:
        try:
            head = _head(config, fmt, files, delimiter or ",")
        except EncodingProblem as exc:
            head = Problem("dataset.encoding", str(exc))
        except DataError as exc:
            head = Problem("dataset.source", str(exc))
        except OSError as exc:
            head = Problem("dataset.source", f"Cannot read {exc.filename}: {exc.strerror}.")
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.pop(next(iter(_HEADS)), None)
        _HEADS[key] = head
    return head if isinstance(head, Problem) else (fmt, head)


def head_rows(config: DatasetConfig) -> tuple[list[str], list[dict[str, Any]], bool, list[tuple[int, str]]] | None:
    """The columns and first rows of a local source, whether they are all of it, and (a folder) each file's first
    row and name (in_part names a row by them): the same bounded, cached read check_source judges the source on, so
    core.chat's rendered-rows check (validate's render_rows) reads nothing again. None for a Hub id, a URL, a
    missing path or one that cannot be read (check_source says why)."""
    if (not isinstance(config.source, str) or is_url(config.source) or not is_local(config.source)
            or not os.path.exists(resolve_source(config.source))):
        return None
    try:
        _codec(config.encoding if isinstance(config.encoding, str) else None)
    except DataError:
        return None
    found = _bounded_read(config)
    if isinstance(found, Problem):
        return None
    columns, rows, _kinds, _nulls, complete, parts = found[1]
    return columns, rows, complete, parts


def tab_table_note(rows: list[dict[str, Any]]) -> str | None:
    """What to say when the lines of a .txt source read one row per line look like a table of tab-separated columns
    (Excel's and LibreOffice's "Text (Tab delimited)" saves a sheet as .txt): every line is trained whole, the header
    row and the tabs too. A table: 3 or more lines, the first not indented, and at least 9 in 10 of them holding
    the first line's number of tabs (1 or more). None otherwise, or when unsure."""
    lines = [row.get("text") for row in rows[:50]]
    lines = [line for line in lines if isinstance(line, str) and line.strip()]
    if len(lines) < 3 or lines[0].startswith((" ", "\t")):
        return None
    tabs = lines[0].count("\t")
    if tabs == 0 or 10 * sum(line.count("\t") == tabs for line in lines) < 9 * len(lines):
        return None
    first = ", ".join(shown(name) for name in lines[0].split("\t"))
    return (f"The lines look like a table of {tabs + 1} columns separated by tabs (first line: {first}), "
            "and a .txt file is read one row per line, so each whole line is trained as text, the first one and "
            "the tabs included. To fix: if it is a table, rename it to .tsv, so that its columns are read, and pick "
            "the text column; if the tabs belong to the text, nothing needs doing.")


def text_table_warnings(config: DatasetConfig) -> list[Problem]:
    """tab_table_note as a validate() warning at dataset.source, from the bounded read check_source made (cached):
    a .txt source read one row per line whose lines look like a tab-separated table."""
    if not isinstance(config.source, str) or effective_sample_by(config) != "line":
        return []
    found = head_rows(config)
    if found is None or found[0] != ["text"]:
        return []
    try:
        fmt, _ = local_files(config.source)
    except DataError:
        return []
    note = tab_table_note(found[1]) if fmt == "text" else None
    return [Problem("dataset.source", f"{config.source}: t{note[1:]}", WARNING)] if note else []


def _all_blank(source: str, column: str, rows: int, fmt: str) -> DataError:
    where = "line" if fmt == "text" else "row"
    every = f"the {where}" if rows == 1 else f"all {rows:,} {where}s"
    return DataError(f"{source}: {every} of column {shown(column)} {'is' if rows == 1 else 'are'} blank (empty or "
                     "only spaces), so there is no text to train on. Pick a file with text in it, or another text "
                     "column.")


def _split_problems(config: DatasetConfig, rows: int, what: str = "") -> list[Problem]:
    """A whole source of `rows` rows (`what`: which rows count, in words) that cannot hold out the configured
    test split: what tokenize_and_split and core.chat.prepare_dataset refuse, said before the run."""
    import math

    test_size = config.test_size
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        return []  # 0 holds out nothing; a bad value is validate()'s own problem
    if rows < 2:
        return [Problem("dataset.test_size", f"{config.source} holds {rows} row{what}, too few to hold out a test "
                                             "split (that needs 2 or more). Add rows, or set test_size to 0 (and "
                                             "eval_strategy to 'no').")]
    if math.floor((1 - test_size) * rows) == 0 or math.ceil(test_size * rows) >= rows:
        return [Problem("dataset.test_size", f"{config.source}: nothing is left for training after a "
                                             f"{test_size:g} test split of its {rows} rows{what}. Add rows or lower "
                                             "test_size.")]
    return []


def _column_problems(config: DatasetConfig, fmt: str, columns: list[str], rows: list[dict[str, Any]],
                     kinds: dict[str, str | None], nulls: dict[str, Nulls],
                     parts: list[tuple[int, str]] | None = None) -> list[Problem]:
    column = config.text_column
    if not isinstance(column, str) or not column.strip() or not columns:
        return []
    real = real_column(columns, column)
    if real is None:
        return [Problem("dataset.text_column", str(missing_column(config.source, column, columns)))]
    kinds = {**{c: _row_kind(c, rows, fmt) for c in columns if c not in kinds}, **kinds}
    if kinds[real] is not None:
        odd = _odd_row(rows, real) if fmt in ("json", "text") else None  # Parquet and CSV: one type a column
        if odd is not None:  # some rows hold text: the others are the mistake, not the column
            index, value = odd
            return [Problem("dataset.text_column", str(_odd_value(config.source, real, index, value,
                                                                  in_part(parts or [], index - 1))))]
        text_columns = [c for c in columns if kinds.get(c) is None]
        return [Problem("dataset.text_column", str(_not_text(config.source, real, kinds[real], text_columns)))]
    parts = parts or []
    for index, row in enumerate(rows):
        if row.get(real) is None:
            return [Problem("dataset.text_column", str(_no_value(config.source, real, index + 1,
                                                                 in_part(parts, index))))]
    count, first, low, high, files = nulls.get(real, (0, None, 0, 0, 0))
    if count:  # past the rows read, from the Parquet files' statistics
        if first is not None:
            return [Problem("dataset.text_column", str(_no_value(config.source, real, first + 1,
                                                                 in_part(parts, first))))]
        rows_word = "1 row has" if count == 1 else f"{count:,} rows have"
        where = f"rows {low + 1:,} to {high:,}"
        if parts:  # a folder: the rows of the file that holds the first of them, too
            offset, name = _part(parts, low)
            where += f": rows {low - offset + 1:,} to {high - offset:,} of {name}"
            if files > 1:
                where += f"; {files:,} files hold such rows"
        return [Problem("dataset.text_column", f"{config.source}: {rows_word} no value in column {shown(real)} (the "
                                               f"first among {where}). Fill or remove them.")]
    return []


def _part(parts: list[tuple[int, str]], index: int) -> tuple[int, str]:
    """(first row, name) of the file of a folder source that holds row `index` (0-based, counted over the files in
    the order a run reads them)."""
    import bisect

    return parts[max(0, bisect.bisect_right([offset for offset, _ in parts], index) - 1)]


def in_part(parts: list[tuple[int, str]] | None, index: int) -> str | None:
    """Where row `index` of a folder source lies, in words ("row 12 of part-2.parquet"); None for one file. `parts`:
    each file's first row and name, as _head lists them (check_source) or _folder_parts counts them (a run)."""
    if not parts:
        return None
    offset, name = _part(parts, index)
    return f"row {index - offset + 1:,} of {name}"


def _odd_row(rows: list[dict[str, Any]], column: str) -> tuple[int, Any] | None:
    """(row number, value) of the first row whose value in `column` is not text, when other rows hold text."""
    values = [row.get(column) for row in rows]
    if not any(isinstance(value, str) for value in values):
        return None
    return next(((index, value) for index, value in enumerate(values, 1) if _value_kind(value) is not None), None)


_ONE_KIND = {"true/false values": "a true/false value", "whole numbers": "a whole number", "numbers": "a number",
             "records (JSON objects)": "a record (a JSON object)", "lists": "a list"}


def one_kind(value: Any) -> str:
    kind = _value_kind(value) or "text"
    return _ONE_KIND.get(kind, kind)


def brief(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _row_kind(column: str, rows: list[dict[str, Any]], fmt: str) -> str | None:
    values = [row.get(column) for row in rows]
    if fmt != "csv":
        return next((kind for kind in map(_value_kind, values) if kind is not None), None)
    present = [v for v in values if v is not None]
    if not present:
        return None
    try:
        numbers = [float(v) for v in present]
    except ValueError:
        numbers = None
    if numbers is not None:
        whole = all(v.strip().lstrip("+-").isdigit() for v in present)
        return "whole numbers" if whole and len(present) == len(values) else "numbers"
    if len(present) == len(values) and all(v in ("True", "False", "true", "false", "TRUE", "FALSE")
                                           for v in present):
        return "true/false values"
    return None


# A text column's nulls past the rows read, over all files of a source: (how many, the first one's row index or
# None, the row indexes [low, high) it lies between, how many files hold them). Row indexes count over the files in
# the order a run reads them (one dataset).
Nulls = tuple[int, int | None, int, int, int]


def _head(config: DatasetConfig, fmt: str, files: list[Path], delimiter: str = ",") -> tuple[
        list[str], list[dict[str, Any]], dict[str, str | None], dict[str, Nulls], bool, list[tuple[int, str]]]:
    """Columns, the first rows, (Parquet) the column kinds and the nulls the files' statistics count, whether the
    rows are the whole source, and (a folder) each file's first row index and name in the folder,
    from at most CHECK_BYTES of the files. The Parquet files past those bytes add their metadata (statistics)."""
    budget = CHECK_BYTES
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    kinds: dict[str, str | None] = {}
    nulls: dict[str, Nulls] = {}
    parts: list[tuple[int, str]] = []
    folder = Path(resolve_source(config.source))
    in_folder = folder.is_dir()  # a folder: a Parquet row is named by its file as well
    offset = 0  # the row index of a Parquet file's first row in the whole source
    complete = True
    codec = _codec(config.encoding)
    for path in files:
        size = path.stat().st_size
        if size == 0:
            raise DataError(f"{path} is empty. Pick a file with data in it.")
        if fmt == "parquet":
            located = set(nulls)  # an earlier file holds these columns' first null
            if budget > 0:
                found, file_kinds, read, file_nulls, whole, count = _parquet_read(path, budget, located)
                if not columns:
                    columns, kinds = found, file_kinds
                rows += read
                budget -= max(1, size if whole else budget)
                complete = complete and whole
            else:  # past the bytes read: the statistics only (metadata, no rows)
                file_nulls, count = _parquet_statistics(path, located)
                complete = False
            if in_folder:
                parts.append((offset, _folder_name(path, folder)))
            for name, (number, first, low, high) in file_nulls.items():
                if name in nulls:  # an earlier file holds the first
                    total, known, start, end, holders = nulls[name]
                    nulls[name] = (total + number, known, start, end, holders + 1)
                else:
                    nulls[name] = (number, None if first is None else offset + first, offset + low, offset + high, 1)
            offset += count
            continue
        squeezed = _packed(path)  # its data's size is known once read
        if budget <= 0 or (not squeezed and size > budget and not _ascii_compatible(codec)):
            complete = False
            continue  # checked when the run reads it
        if squeezed:
            data = _read_head(path, budget + 1)  # decompressed only as far as the budget
            whole = len(data) <= budget
            if not data:
                raise DataError(f"{path} is empty once decompressed. Pick a file with data in it.")
            if not whole and not _ascii_compatible(codec):
                complete = False
                continue  # checked when the run reads it
            data = data[:budget]
        else:
            with open(path, "rb") as handle:
                data = handle.read(min(size, budget))
            whole = len(data) == size
        if in_folder:  # a row the check names is named in its file too
            parts.append((len(rows), _folder_name(path, folder)))
        _wide_text(path, data, config.encoding)
        budget -= len(data)
        complete = complete and whole
        if not whole:
            data = data[:data.rfind(b"\n") + 1]  # whole lines only
        text = _decode(path, data, encoding=config.encoding).removeprefix("\ufeff")
        if whole and not text.strip():
            raise DataError(f"{path} holds only blank space. Pick a file with data in it.")
        if fmt == "text":
            columns = ["text"]
            sample_by = effective_sample_by(config)
            if sample_by not in SAMPLE_BY:
                complete = False  # validate() names the bad setting; the rows are counted once it is fixed
            else:
                rows += _text_rows(text, sample_by, whole)
            continue
        if fmt == "json":
            header, found_rows = [], _json_head(path, text, whole, config.encoding)
            if not found_rows and text.strip():
                complete = False  # a JSON document too large to read here: the run reads it
        else:
            header, found_rows = _csv_head(path, text, whole, delimiter)
        for names in (header, *found_rows):
            columns += [name for name in names if name not in columns]
        rows += found_rows
    return columns, rows, kinds, nulls, complete, parts


def _text_rows(text: str, sample_by: str, whole: bool) -> list[dict[str, str]]:
    """The rows datasets' text reader makes of a .txt file's text (a whole file, or its first whole lines)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # it reads with universal newlines
    if sample_by == "document":
        return [{"text": text}] if whole else []
    if sample_by == "paragraph":
        parts = text.split("\n\n")
        if not whole:
            parts = parts[:-1]  # may go on past what was read
        return [{"text": part} for part in parts if part]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the end of the last line, not a row
    return [{"text": line} for line in lines]


def _json_document(path: Path, text: str) -> Any:
    """A whole JSON file's value; malformed JSON and an empty list are refused in the words a run would use."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_document_error(path, text, exc) from None
    if value == []:
        raise DataError(f"{path} holds an empty JSON list: it has no rows. Pick a file with data in it.")
    nested = _nested_rows_key(value)
    if nested is not None:
        example = (f", e.g. jq -c '.{nested}[]' {path.name} > {path.stem}.jsonl" if nested.isidentifier() else "")
        raise DataError(f"{path}: the rows appear to be nested under {json.dumps(nested)} "
                        f"({{{json.dumps(nested)}: [{{...}}, ...]}}), but rows are read from a JSON file whose top "
                        "level is the list of rows, or from JSON Lines (one object per line). To fix: save the list "
                        f"itself as the file, or save its rows as JSON Lines (.jsonl){example}.")
    return value


def _json_document_error(path: Path, text: str, exc: json.JSONDecodeError) -> DataError:
    """A whole .json file's malformed JSON in _json_line_error's words, with what to do, where Python's own text was
    cut before its position ('malformed JSON (Unterminated string starting at).')."""
    what, hint = _json_error_words(exc)
    fix = f"correct line {exc.lineno}" + (f" ({hint})" if hint else "")
    if exc.pos >= len(text.rstrip()):  # cut short: '[{"text": "a"},' or an unclosed string at the very end
        what, fix = "the file ends before its JSON value does", "complete the file: close every string, [ and {"
    elif exc.msg == "Extra data":
        what = "more follows the end of the file's JSON value"
        fix = (f"remove what follows it from line {exc.lineno}, or, if the file holds one JSON object a line, "
               "name it .jsonl")
    elif exc.msg == "Unterminated string starting at":
        what = "a string starts there and does not end"
    return DataError(f"{path}, line {exc.lineno}, column {exc.colno}: malformed JSON ({what}). The file must be one "
                     f"JSON value, e.g. a list of objects. To fix: {fix}.")


def _nested_rows_key(value: Any) -> str | None:
    """The key of a JSON document {"data": [{...}, ...]} whose rows sit under one key, which datasets reads as
    one row with a column "data" (its `field` option would read them; the app does not set it)."""
    if not isinstance(value, dict):
        return None
    for key, inner in value.items():
        if isinstance(inner, list) and inner and all(isinstance(row, dict) for row in inner[:100]):
            return key
    return None


def _json_head(path: Path, text: str, complete: bool, encoding: str | None) -> list[dict[str, Any]]:
    if text.lstrip().startswith("[") or (_inner_suffix(path) == ".json" and _is_json_document(path)):
        _utf8_document(path, encoding)
        if not complete:
            return []
        value = _json_document(path, text)
        return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []
    rows = []
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            rows.append(_json_row(path, number, line.rstrip("\r")))
    return rows


def _csv_head(path: Path, text: str, complete: bool,
              delimiter: str = ",") -> tuple[list[str], list[dict[str, Any]]]:
    import io

    _no_field_limit()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[dict[str, Any]] = []
    records: list[tuple[int, list[str]]] = []
    try:
        for record in reader:
            if header is None:
                if record and any(field.strip() for field in record):
                    header = record
                elif record:
                    raise DataError(f"{path}, line {reader.line_num}: the CSV header row has no column names.")
                continue
            if record:
                records.append((reader.line_num, record))
    except csv.Error as exc:
        if complete:
            raise DataError(f"{path}, line {reader.line_num}: malformed CSV ({exc}).") from None
    if not complete and records:
        records.pop()  # may have been cut inside a quoted value
    if header is None:
        return [], []
    for line, record in records:
        if len(record) != len(header):
            raise _field_count(path, line, len(record), header, delimiter)
        rows.append({name: None if value in CSV_MISSING else value for name, value in zip(header, record)})
    if complete and not rows:
        raise _header_only(path, header)
    return header, rows


def _parquet_head(path: Path, budget: int = CHECK_BYTES) -> tuple[
        list[str], dict[str, str | None], list[dict[str, Any]], dict[str, tuple[int, int | None, int, int]], bool]:
    """Columns, their kinds, the first rows (about `budget` bytes of them), the nulls of each text column past them
    and whether the rows are the whole file. The nulls come from the row groups' statistics (metadata, no read):
    column -> (how many, the first one's row index or None, the rows it lies between); the first one's index is
    found by reading that one column chunk when it is small."""
    return _parquet_read(path, budget)[:5]


def _parquet_open(path: Path) -> tuple[Any, Any, Any]:
    """(ParquetFile, its metadata, its Arrow schema), or a DataError that names the file."""
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
        meta = handle.metadata
        return handle, meta, meta.schema.to_arrow_schema()
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise DataError(f"{path} is not a readable Parquet file: {exc}") from None


def _parquet_statistics(path: Path, located: Any = ()) -> tuple[dict[str, tuple[int, int | None, int, int]], int]:
    """The nulls of each text column of a file none of whose rows are read (as _parquet_head says them), and its
    row count: its metadata only, but for one small column chunk per column with nulls, to find the first one's row
    (not for the columns in `located`, whose first null an earlier file holds)."""
    handle, meta, schema = _parquet_open(path)
    names = [name for name, kind in zip(schema.names, schema.types) if arrow_kind(kind) is None]
    try:
        return _parquet_nulls(handle, names, 0, located), meta.num_rows
    except Exception as exc:  # noqa: BLE001 - a damaged page reads as one of several pyarrow errors
        raise DataError(f"{path} is not a readable Parquet file: {exc}") from None


def _parquet_read(path: Path, budget: int = CHECK_BYTES, located: Any = ()) -> tuple[
        list[str], dict[str, str | None], list[dict[str, Any]], dict[str, tuple[int, int | None, int, int]], bool,
        int]:
    """_parquet_head's answer and the file's row count; the columns in `located` (their first null is in an earlier
    file) are counted from the statistics alone."""
    handle, meta, schema = _parquet_open(path)
    if meta.num_rows == 0:
        raise DataError(f"{path} has no rows. Pick a file with data in it.")
    kinds: dict[str, str | None] = {name: arrow_kind(kind) for name, kind in zip(schema.names, schema.types)}
    rows: list[dict[str, Any]] = []
    try:
        first = meta.row_group(0) if meta.num_row_groups else None
        if first is not None and first.num_rows:
            per_row = max(1, first.total_byte_size // first.num_rows)
            take = max(1, min(meta.num_rows, budget // per_row))
            batch = next(handle.iter_batches(batch_size=take), None)
            rows = batch.to_pylist()[:take] if batch is not None else []
        nulls = _parquet_nulls(handle, [n for n in schema.names if kinds[n] is None], len(rows), located)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged page reads as one of several pyarrow errors
        raise DataError(f"{path} is not a readable Parquet file: {exc}") from None
    return list(schema.names), kinds, rows, nulls, len(rows) == meta.num_rows, meta.num_rows


# A column chunk up to this size is read to find the row of a null past the rows read (in a few milliseconds).
NULL_CHUNK_BYTES = 1 << 20


def _parquet_nulls(handle: Any, names: list[str], read: int,
                   located: Any = ()) -> dict[str, tuple[int, int | None, int, int]]:
    """column -> (nulls, the first one's row index or None, the row indexes [low, high) it lies between) for nulls
    past the first `read` rows, from the row groups' statistics; columns without statistics, or without nulls past
    those rows, are left out. The columns in `located` (an earlier file holds their first null) read no chunk."""
    import pyarrow.compute as pc

    meta = handle.metadata
    positions = {meta.schema.column(i).path: i for i in range(meta.num_columns)}
    found: dict[str, tuple[int, int | None, int, int]] = {}
    for name in names:
        column = positions.get(name)
        if column is None:
            continue
        start, count, first, low, high = 0, 0, None, 0, 0
        for index in range(meta.num_row_groups):
            group_meta = meta.row_group(index)
            chunk, rows = group_meta.column(column), group_meta.num_rows
            stats = chunk.statistics
            skip = max(0, read - start)  # rows of this group read (and checked) already
            if stats is not None and stats.has_null_count and stats.null_count and rows > skip:
                nulls = stats.null_count  # past the rows read, unless the rows read hold some (said first, then)
                if not count and name not in located and chunk.total_compressed_size <= NULL_CHUNK_BYTES:
                    # the first group with nulls: its one column chunk says the first null's row
                    tail = handle.read_row_group(index, columns=[name]).column(0).slice(skip)
                    nulls = tail.null_count
                    if nulls:
                        first = start + skip + pc.index(pc.is_null(tail), True).as_py()
                if nulls and not count:
                    low, high = start + skip, start + rows
                count += nulls
            start += rows
        if count:
            found[name] = (count, first, low, high)
    return found
