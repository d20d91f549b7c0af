"""A run reads the data file inside an archive from a copy in the app's cache, written into a hidden '.part-' work
folder and renamed into place once whole. A process killed partway (SIGKILL, the OOM killer, a power cut) left that
folder for good: as large as the data file, unseen, and counted against the next copy's room. The folder's name now
says who writes it (pid, its start time, the computer), and one whose writer is gone is removed before free space is
measured and when copies are pruned; one still being written stays. A name that cannot tell (an earlier version's,
another computer's) is removed once nothing in it changed for a day (helper-197)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path
from typing import Iterator

import pytest

from finetune_studio.core import data
from finetune_studio.core.demo import cache_dir
from finetune_studio.core.errors import Problem
from finetune_studio.core.export import this_host
from finetune_studio.core.runs import process_start_time
from tests.core.test_data_archive_room_h195 import TRAIN
from tests.core.test_data_archives_h174 import pack
from tests.core.test_data_archives_h186_folder import own_cache  # noqa: F401 - autouse: its own cache
from tests.helpers import dataset_config

MIB, GIB = 1 << 20, 1 << 30
DAY = 24 * 3600
Usage = namedtuple("Usage", "total used free")
CAPACITY = [0]  # the fake disk's size: its free space is this less every byte under the cache folder


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk of CAPACITY bytes holding only the cache: removing a file there frees its bytes, as on a real disk."""

    def usage(path: object) -> Usage:
        used = sum(os.lstat(os.path.join(root, name)).st_size
                   for root, _dirs, names in os.walk(cache_dir()) for name in names)
        return Usage(CAPACITY[0], used, max(0, CAPACITY[0] - used))

    monkeypatch.setattr(shutil, "disk_usage", usage)


@pytest.fixture
def child() -> Iterator[subprocess.Popen]:
    """A live process other than this one (a second window, say); ended by the test or at its end."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    yield proc
    if proc.poll() is None:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(10)


def end(proc: subprocess.Popen) -> None:
    proc.stdin.close()  # type: ignore[union-attr]
    assert proc.wait(10) == 0


def started(pid: int) -> str:
    found = process_start_time(pid)
    assert found is not None
    return f"{found:.2f}"


def part(name: str, size: int, age_s: float = 0.0, file_age_s: float | None = None) -> Path:
    """A work folder in the cache holding a `size`-byte data file (sparse: GBs cost nothing), its folder last changed
    `age_s` ago and its file `file_age_s` ago (the folder's age when not given)."""
    folder = cache_dir() / "archives" / name
    folder.mkdir(parents=True)
    with open(folder / "train.jsonl", "wb") as handle:
        handle.truncate(size)
    for path, age in ((folder / "train.jsonl", age_s if file_age_s is None else file_age_s), (folder, age_s)):
        if age:
            then = time.time() - age
            os.utime(path, (then, then))
    return folder


def hidden() -> list[str]:
    return sorted(p.name for p in (cache_dir() / "archives").iterdir() if p.name.startswith("."))


def room_problem(tmp_path: Path, path: Path, free: str) -> Problem:
    return Problem("dataset.source", (
        f"{path} holds rows/train.jsonl (2.4 MB once extracted), and a run reads it from a copy in the app's cache "
        f"folder ({tmp_path}/cache/archives), but that folder's disk has {free} free, and the copy needs 52 MiB (with "
        "50 MiB left free). Nothing was copied. To fix: free space on that disk, or move the app's cache to a disk "
        "with room: start the app with the environment variable FINETUNE_STUDIO_CACHE set to a folder there "
        "(FINETUNE_STUDIO_CACHE=/path/to/folder finetune-studio), or extract it yourself on a disk with room (tar -xf "
        "data.tar.gz) and choose train.jsonl as the dataset (Open file)."))


def test_the_work_folder_is_named_by_its_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = pack(tmp_path / "data.tar.gz", {"rows/train.jsonl": TRAIN})
    real = shutil.copyfileobj
    seen: list[str] = []

    def copy(source: object, target: object, length: int = 0) -> None:
        seen.append(Path(target.name).parent.name)  # type: ignore[attr-defined]
        real(source, target, length)  # type: ignore[arg-type]

    monkeypatch.setattr(shutil, "copyfileobj", copy)
    copied = data.extract_member(path)
    assert copied.read_bytes() == TRAIN
    pattern = rf"\.part-{os.getpid()}-{re.escape(started(os.getpid()))}-[a-z0-9_]{{8}}-{re.escape(this_host())}"
    assert len(seen) == 1 and re.fullmatch(pattern, seen[0]), seen
    assert hidden() == []  # renamed into place


def test_a_killed_copy_s_folder_is_removed_and_its_space_counts(tmp_path: Path, disk: None,
                                                                child: subprocess.Popen) -> None:
    path = pack(tmp_path / "data.tar.gz", {"rows/train.jsonl": TRAIN})
    killed = f".part-{child.pid}-{started(child.pid)}-k1ll3d_9-{this_host()}"
    end(child)  # the writer is gone (as after a SIGKILL: no clean-up ran), its 5 GiB part left behind
    part(killed, 5 * GIB)
    CAPACITY[0] = 5 * GIB + 40 * MIB  # with the part: 40 MiB free, short of the 52 MiB the copy needs
    assert shutil.disk_usage(cache_dir()).free == 40 * MIB
    config = dataset_config(path)
    assert data.check_source(config) == []  # the part was removed before free space was measured
    assert hidden() == []
    assert shutil.disk_usage(cache_dir()).free == 5 * GIB + 40 * MIB
    assert len(data.load_split(config)) == 25_000
    assert [p.name for p in (cache_dir() / "archives").glob("*/*")] == ["train.jsonl"]


def test_folders_being_written_stay_and_count_until_their_writer_is_gone(tmp_path: Path, disk: None,
                                                                          child: subprocess.Popen) -> None:
    path = pack(tmp_path / "data.tar.gz", {"rows/train.jsonl": TRAIN})
    mine = part(f".part-{os.getpid()}-{started(os.getpid())}-m1n3abcd-{this_host()}", 2 * GIB)  # this process's
    theirs = part(f".part-{child.pid}-{started(child.pid)}-th31rs_x-{this_host()}", 3 * GIB)  # another window's
    no_time = part(f".part-{child.pid}-x-n0t1me_x-{this_host()}", 0)  # start time unreadable: the pid decides
    # A pid the system has handed to another program since the copy began (this one): another start time, so gone.
    reused = part(f".part-{os.getpid()}-{float(started(os.getpid())) - 3600:.2f}-r3us3d_x-{this_host()}", GIB)
    CAPACITY[0] = 5 * GIB + 40 * MIB  # the reused pid's 1 GiB does not fit: 0 free while it stays
    config = dataset_config(path)
    assert data.check_source(config) == [room_problem(tmp_path, path, "40 MiB")]  # the reused pid's 1 GiB went
    assert hidden() == sorted([mine.name, no_time.name, theirs.name])
    assert (theirs / "train.jsonl").stat().st_size == 3 * GIB and (mine / "train.jsonl").stat().st_size == 2 * GIB
    assert not reused.exists()
    end(child)  # the other window was killed partway through its copy
    assert data.check_source(config) == []  # its 3 GiB freed: room now
    assert hidden() == [mine.name]  # this process's own copy in progress stays
    assert len(data.load_split(config)) == 25_000
    assert hidden() == [mine.name]


def test_names_that_cannot_tell_go_only_after_a_day_unchanged(tmp_path: Path, child: subprocess.Popen) -> None:
    path = pack(tmp_path / "data.tar.gz", {"rows/train.jsonl": TRAIN})
    config = dataset_config(path)
    assert len(data.load_split(config)) == 25_000  # copied: the next reads only prune (_prune_copies)
    dead = f"{child.pid}-{started(child.pid)}"
    end(child)
    old_style = part(".part-k3j_x9a2", MIB)  # an earlier version's name: no writer in it
    elsewhere = part(f".part-{dead}-0a1b2c3d-another-box", MIB)  # another computer's: its pid means nothing here
    slow = part(".part-s10w_abc", MIB, age_s=2 * DAY, file_age_s=60)  # its folder old, its file written a minute ago
    stale = part(".part-st4le_ab", MIB, age_s=DAY + 60)
    stale_elsewhere = part(f".part-{dead}-5t4l3_ab-another-box", MIB, age_s=DAY + 60)
    other = cache_dir() / "archives" / ".not-a-part"  # not the copies' work folder: never touched
    other.mkdir()
    assert len(data.load_split(config)) == 25_000
    assert hidden() == sorted([".not-a-part", elsewhere.name, old_style.name, slow.name])
    assert not stale.exists() and not stale_elsewhere.exists()
    then = time.time() - DAY - 60
    for folder in (old_style, elsewhere, slow):
        for item in (folder / "train.jsonl", folder):
            os.utime(item, (then, then))
    assert len(data.load_split(config)) == 25_000
    assert hidden() == [".not-a-part"]
