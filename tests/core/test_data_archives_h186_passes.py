"""A compressed tar is decompressed as few times as a read needs (helper-186): the preview and the checks read the
start of its data file once (the listing takes it on its way) instead of once per read (7 passes over the archive
for a preview before), and a run copies the data file out in the one pass that lists all of the archive, then reads
the copy (10 passes before, and datasets' reader decompressed it again through fsspec). The copy is kept in the
app's cache per archive version: a second run of the same archive decompresses nothing, a changed archive is copied
anew and its old copy removed."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.demo import cache_dir
from finetune_studio.core.errors import DataError
from tests.core.test_data_archives_h174 import pack
from tests.helpers import data_refusal, dataset_config

TEXTS = [f"Row {i}: {os.urandom(24).hex()}" for i in range(3000)]
JSONL = "".join(json.dumps({"text": text}) + "\n" for text in TEXTS).encode()
NOTES = os.urandom(1 << 20).hex().encode()  # 2 MB before the data file, decompressed by each pass that reaches it


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The names of the archives a tarfile.TarFile was opened on to read (each one a pass from the archive's start),
    with a cache folder of this test's own."""
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path / "cache"))
    opened: list[str] = []
    original = tarfile.TarFile.__init__

    def counted(self: tarfile.TarFile, name: object = None, mode: str = "r", *args: object, **kwargs: object) -> None:
        if mode.startswith("r"):  # not pack() writing one
            opened.append(Path(str(name or getattr(kwargs.get("fileobj"), "name", ""))).name)
        original(self, name, mode, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tarfile.TarFile, "__init__", counted)
    return opened


def copies() -> list[Path]:
    return sorted(p for p in (cache_dir() / "archives").glob("*/*"))


def test_a_preview_check_and_run_decompress_a_tar_once_each(tmp_path: Path, passes: list[str]) -> None:
    (tmp_path / "src").mkdir()
    path = pack(tmp_path / "src" / "data.tar.gz", {"notes/README.md": NOTES, "rows/train.jsonl": JSONL})
    shown = data.preview(dataset_config(path))
    assert [row["text"] for row in shown.rows] == TEXTS[:20] and shown.files == [f"{path} › rows/train.jsonl"]
    assert passes == ["data.tar.gz"]  # the listing, which kept the start of train.jsonl
    assert data.check_source(dataset_config(path)) == []
    assert passes == ["data.tar.gz"]  # read from the start kept
    assert data.load_split(dataset_config(path))["text"] == TEXTS
    # The whole listing and the copy, in one pass (datasets' reader then probes the copy, train.jsonl, for a tar
    # header: a few bytes of a plain file, not a pass over the archive).
    assert passes.count("data.tar.gz") == 2
    assert [p.name for p in copies()] == ["train.jsonl"] and copies()[0].read_bytes() == JSONL
    assert data.load_split(dataset_config(path))["text"] == TEXTS
    assert passes.count("data.tar.gz") == 2  # the copy of this version is read again
    assert [p.name for p in path.parent.iterdir()] == ["data.tar.gz"]  # nothing extracted beside the archive


def test_a_changed_archive_is_copied_anew_and_its_old_copy_removed(tmp_path: Path, passes: list[str]) -> None:
    path = pack(tmp_path / "data.tgz", {"train.jsonl": JSONL})
    assert data.load_split(dataset_config(path))["text"] == TEXTS
    before = path.stat()
    pack(path, {"train.jsonl": JSONL.replace(b"Row", b"Now")})  # the same size, its time kept
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert data.load_split(dataset_config(path))["text"] == [t.replace("Row", "Now") for t in TEXTS]
    assert len(copies()) == 1 and copies()[0].read_bytes() == JSONL.replace(b"Row", b"Now")


def test_a_damaged_archive_leaves_no_copy_and_a_second_data_file_is_refused(tmp_path: Path, passes: list[str],
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "ARCHIVE_SCAN_BYTES", 64 << 10)  # the listing stops after train.jsonl: the copy fails
    whole = pack(tmp_path / "whole.tar.gz", {"train.jsonl": JSONL * 20, "notes.md": NOTES})
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[:len(whole.read_bytes()) // 2])
    assert data_refusal(data.load_split, dataset_config(cut)).startswith(
        f"{cut} is an archive (tar) that is damaged or incomplete, so its rows cannot be read")
    two = pack(tmp_path / "two.tar.gz", {"a.jsonl": JSONL, "b.jsonl": JSONL})
    with pytest.raises(DataError, match=r"two.tar.gz is a tar archive holding 2 data files \(a.jsonl, b.jsonl\)"):
        data.load_split(dataset_config(two))
    assert copies() == [] and list((cache_dir() / "archives").iterdir()) == []  # no part left either
    assert passes.count("two.tar.gz") == 2  # the listing up to its first data file, then the whole one


def test_reads_past_the_start_kept_go_on_in_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       passes: list[str]) -> None:
    monkeypatch.setattr(data, "ARCHIVE_PREVIEW_BYTES", 1000)
    for name in ("big.tar.bz2", "big.zip"):
        path = pack(tmp_path / name, {"notes.md": NOTES[:5000], "train.jsonl": JSONL})
        assert data._read_head(path, 10) == JSONL[:10]
        assert data._read_head(path, 50_000) == JSONL[:50_000]  # the start kept, then the archive read on to there
        assert data._read_all(path) == JSONL
        with data._open_data(path) as handle:
            handle.seek(30_000)
            assert handle.read(20) == JSONL[30_000:30_020]
        assert data.detect_encoding(path, 40_000) is None  # it seeks past the start kept: plain ASCII
        assert data.check_source(dataset_config(path)) == []  # its 64 KiB read on past the 1000 bytes kept


def test_a_copy_that_cannot_be_written_says_where_and_what_to_do(tmp_path: Path, passes: list[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(blocked))
    path = pack(tmp_path / "data.tar.gz", {"rows/train.jsonl": JSONL})
    assert data_refusal(data.load_split, dataset_config(path)) == (
        f"{path} holds rows/train.jsonl, and a run reads it from a copy in the app's cache folder "
        f"({blocked}/archives), which could not be written: Not a directory. To fix: free space there, or set "
        "FINETUNE_STUDIO_CACHE to a folder with room for it, or extract it (tar -xf data.tar.gz) and open train.jsonl.")
    assert [row["text"] for row in data.preview(dataset_config(path)).rows] == TEXTS[:20]  # no copy needed
