"""A run reads the data file inside an archive from a copy in the app's cache folder (extract_member): a 5 GB file
needs 5 GB free there. When the disk was too small, the copy failed partway with "No space left on device" deep in
a run. Now the data file's size (a zip's file_size, a tar's header) is compared with the cache disk's free space
before a run (validate, the window, Start) and before the first copy is written, and a disk that fills up anyway
leaves no part of the copy behind (helper-195)."""

from __future__ import annotations

import errno
import json
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.demo import cache_dir
from finetune_studio.core.errors import ConfigError, Problem
from tests.core.test_data_archives_h174 import pack
from tests.core.test_data_archives_h186_folder import own_cache  # noqa: F401 - autouse: its own cache
from tests.helpers import data_refusal, dataset_config, small_config

MIB = 1 << 20
Usage = namedtuple("Usage", "total used free")
FREE = [40 * MIB]  # the free space the `free` fixture reports


def rows(name: str, count: int) -> bytes:
    return "".join(json.dumps({"text": f"{name} row {i:07d} " + "x" * 70}) + "\n" for i in range(count)).encode()


TRAIN = rows("a", 25_000)  # 2,425,000 bytes: "2.4 MB" as the Hub says it
FIX_ONE = ("To fix: free space on that disk, or move the app's cache to a disk with room: start the app with the "
           "environment variable FINETUNE_STUDIO_CACHE set to a folder there (FINETUNE_STUDIO_CACHE=/path/to/folder "
           "finetune-studio), or extract it yourself on a disk with room ({tool}) and choose train.jsonl as the "
           "dataset (Open file).")


@pytest.fixture
def free(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The cache disk's free space as shutil.disk_usage reports it: set by the test (bytes), the paths asked
    recorded."""
    asked: list[tuple[str, int]] = []
    real = shutil.disk_usage

    def usage(path: object) -> Usage:
        found = real(path)  # type: ignore[arg-type]
        asked.append((str(path), found.free))
        return Usage(found.total, found.used, FREE[0])

    FREE[:] = [40 * MIB]  # reset for each test
    monkeypatch.setattr(shutil, "disk_usage", usage)
    return asked


def listing() -> list[str]:
    """Everything in the cache folder (hidden '.part-' work folders too), relative to it."""
    return sorted(str(p.relative_to(cache_dir())) for p in cache_dir().rglob("*")) if cache_dir().exists() else []


@pytest.mark.parametrize("name,tool", [("data.tar.gz", "tar -xf data.tar.gz"), ("data.zip", "unzip data.zip")])
def test_a_copy_that_does_not_fit_is_refused_before_a_run(tmp_path: Path, free: list, name: str, tool: str) -> None:
    (tmp_path / "src").mkdir()
    path = pack(tmp_path / "src" / name, {"notes/README.md": b"about", "rows/train.jsonl": TRAIN})
    FREE[0] = 40 * MIB  # the copy needs 2.4 MB + 50 MiB kept free = 52.3 MiB
    expected = (f"{path} holds rows/train.jsonl (2.4 MB once extracted), and a run reads it from a copy in the app's "
                f"cache folder ({tmp_path}/cache/archives), but that folder's disk has 40 MiB free, and the copy needs "
                f"52 MiB (with 50 MiB left free). Nothing was copied. {FIX_ONE.format(tool=tool)}")
    config = dataset_config(path)
    # The window and validate: check_source (a bounded read of the source, its rows fine) adds it at dataset.source.
    assert data.check_source(config) == [Problem("dataset.source", expected)]
    assert free and free[-1][0] == str(tmp_path)  # the cache folder's nearest existing parent: the disk it will be on
    # Start (core.launch.claim, as core.training.run): refused before a run folder is made.
    from finetune_studio.core.launch import claim

    run = small_config(path, tmp_path / "runs")
    with pytest.raises(ConfigError) as refused:
        claim(run)
    assert [(p.field, p.message) for p in refused.value.problems if p.field == "dataset.source"] == [
        ("dataset.source", expected)]
    assert not (tmp_path / "runs").exists()
    # The run's read and the copy itself refuse before writing a byte.
    assert data_refusal(data.load_split, config) == expected
    assert data_refusal(data.extract_member, path) == expected
    assert listing() == []
    # The preview needs no copy: it still shows the rows.
    assert [row["text"] for row in data.preview(config).rows] == [json.loads(line)["text"]
                                                                  for line in TRAIN.splitlines()[:20]]
    # Room enough (the copy and 50 MiB besides): the run reads the copy.
    FREE[0] = len(TRAIN) + 50 * MIB
    assert data.check_source(config) == []
    assert len(data.load_split(config)) == 25_000
    assert [p.name for p in (cache_dir() / "archives").glob("*/*")] == ["train.jsonl"]
    FREE[0] = 0  # once copied, nothing more is needed: the copy is read again
    assert data.check_source(config) == []
    assert len(data.load_split(config)) == 25_000


def test_a_folder_of_archives_is_refused_for_all_of_its_copies_together(tmp_path: Path, free: list) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(rows("a", 10))
    pack(folder / "b.jsonl.zip", {"b.jsonl": rows("b", 30_000)})  # 2,910,000 bytes
    pack(folder / "c.tar.gz", {"rows/c.jsonl": rows("c", 21_000)})  # 2,037,000 bytes
    FREE[0] = 53 * MIB  # each copy alone fits (52.8 and 51.9 MiB needed); both do not (54.7 MiB)
    expected = (f"The folder {folder} holds 2 archives whose data files a run reads from copies in the app's cache "
                f"folder ({tmp_path}/cache/archives): b.jsonl.zip › b.jsonl (2.9 MB), c.tar.gz › rows/c.jsonl "
                "(2.0 MB), 4.9 MB in all once extracted, but that folder's disk has 53 MiB free, and the copies need "
                "55 MiB (with 50 MiB left free). Nothing was copied. "
                + FIX_ONE.split(", or extract it yourself")[0]
                + ", or extract them yourself on a disk with room (unzip b.jsonl.zip, tar -xf c.tar.gz) and keep the "
                "extracted files in the folder in place of the archives.")
    config = dataset_config(folder)
    assert data.check_source(config) == [Problem("dataset.source", expected)]
    assert data_refusal(data.load_split, config) == expected  # before the first copy: not b's copy, then c's refusal
    assert listing() == []


@pytest.mark.parametrize("name,tool", [("data.tar.gz", "tar -xf data.tar.gz"), ("data.zip", "unzip data.zip")])
def test_a_disk_that_fills_up_during_the_copy_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    free: list, name: str, tool: str) -> None:
    path = pack(tmp_path / name, {"rows/train.jsonl": TRAIN})
    FREE[0] = 1 << 40  # room enough when checked; another program fills the disk meanwhile
    written: list[str] = []

    def filling(source: object, target: object, length: int = 0) -> None:
        target.write(source.read(MIB))  # type: ignore[attr-defined]
        target.flush()  # type: ignore[attr-defined]
        written.append(target.name)  # type: ignore[attr-defined]
        assert Path(target.name).stat().st_size == MIB  # type: ignore[attr-defined]
        FREE[0] = 7 * MIB
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", filling)
    config = dataset_config(path)
    message = data_refusal(data.load_split, config)
    assert message == (
        f"{path} holds rows/train.jsonl (2.4 MB once extracted), and a run reads it from a copy in the app's cache "
        f"folder ({tmp_path}/cache/archives), whose disk filled up while it was being copied (No space left on "
        f"device; 7.0 MiB free now). The part copied was removed. {FIX_ONE.format(tool=tool)}")
    assert [Path(w).parent.parent for w in written] == [cache_dir() / "archives"]  # a 1 MiB part was written there
    assert Path(written[0]).parent.name.startswith(".part-")
    assert listing() == ["archives"]  # and removed: no file, no work folder
    FREE[0] = 1 << 40
    assert data_refusal(data.extract_member, path).startswith(f"{path} holds rows/train.jsonl (2.4 MB once extracted)")
    assert listing() == ["archives"]


def test_another_failed_write_keeps_its_own_words_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     free: list) -> None:
    path = pack(tmp_path / "data.tar.gz", {"rows/train.jsonl": TRAIN})
    FREE[0] = 1 << 40

    def failing(source: object, target: object, length: int = 0) -> None:
        target.write(source.read(MIB))  # type: ignore[attr-defined]
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(shutil, "copyfileobj", failing)
    assert data_refusal(data.load_split, dataset_config(path)) == (
        f"{path} holds rows/train.jsonl, and a run reads it from a copy in the app's cache folder "
        f"({tmp_path}/cache/archives), which could not be written: Input/output error. To fix: free space there, or "
        "set FINETUNE_STUDIO_CACHE to a folder with room for it, or extract it (tar -xf data.tar.gz) and open "
        "train.jsonl.")
    assert listing() == ["archives"]
