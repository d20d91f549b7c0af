"""A folder source reads the archives it holds (helper-186): an archive holding one data file is one of the
folder's files, read as that file beside the plain ones (before, it was left out beside data files, and a folder of
archives only was refused with advice to open each archive itself). An archive holding no data file is left out, as
other files are; one holding several is refused naming it; mixed formats (an archive's being that of the file it
holds) are refused with what is in each and "To fix:"; a file beside its own archived copy is refused as read twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import data
from tests.core.test_data_archives_h174 import pack
from tests.helpers import data_refusal, dataset_config


def rows(name: str, count: int) -> bytes:
    return "".join(json.dumps({"text": f"{name} row {i}"}) + "\n" for i in range(count)).encode()


@pytest.fixture(autouse=True)
def own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Archive copies go to the test's own cache folder (imported, autouse, by the h192 data tests too)."""
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path / "cache"))


def test_a_folder_reads_its_archives_beside_its_data_files(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(rows("a", 5))
    pack(folder / "b.jsonl.zip", {"b.jsonl": rows("b", 10)})
    pack(folder / "c.tar.gz", {"rows/c.jsonl": rows("c", 10), "README.md": b"notes"})
    pack(folder / "pics.zip", {"cat.png": b"\x89PNG"})  # no data file: left out
    (folder / "notes.md").write_text("about the data")
    assert data.local_files(str(folder)) == ("json", [folder / "a.jsonl", folder / "b.jsonl.zip", folder / "c.tar.gz"])
    shown = data.preview(dataset_config(folder))
    expected = [f"a row {i}" for i in range(5)] + [f"b row {i}" for i in range(10)] + [f"c row {i}" for i in range(10)]
    assert [row["text"] for row in shown.rows] == expected[:20]
    assert shown.files == [str(folder / "a.jsonl"), f"{folder / 'b.jsonl.zip'} › b.jsonl",
                           f"{folder / 'c.tar.gz'} › rows/c.jsonl"]
    assert data.check_source(dataset_config(folder)) == []
    assert data.load_split(dataset_config(folder))["text"] == expected
    assert sorted(p.name for p in folder.iterdir()) == ["a.jsonl", "b.jsonl.zip", "c.tar.gz", "notes.md", "pics.zip"]
    assert data.files_signature(str(folder)) is not None


def test_a_folder_of_archives_only_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    pack(folder / "part1.zip", {"train.jsonl": rows("one", 3)})
    pack(folder / "part2.tgz", {"train.jsonl": rows("two", 3)})
    assert data.load_split(dataset_config(folder))["text"] == [f"one row {i}" for i in range(3)] + [
        f"two row {i}" for i in range(3)]


def test_mixed_formats_say_what_is_in_each_and_what_to_do(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(rows("a", 3))
    (folder / "b.jsonl").write_bytes(rows("b", 3))
    pack(folder / "table.zip", {"table.csv": b"text\nhello\n"})
    assert data_refusal(data.local_files, str(folder)) == (
        f"The folder {folder} mixes formats (csv, json): csv: table.zip › table.csv; json: a.jsonl and 1 more. Every "
        "file of a folder is read as one table, in one format. To fix: keep one format per folder (move the others "
        "out), or pick a single file.")


def test_an_archive_beside_its_own_file_or_of_several_files_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(rows("a", 3))
    pack(folder / "train.jsonl.zip", {"train.jsonl": rows("a", 3)})
    assert data_refusal(data.local_files, str(folder)) == (
        f"The folder {folder} holds the same data file twice: train.jsonl and train.jsonl.zip differ only by a "
        "compression or archive suffix, and every file of a folder is read, so each of their rows would be trained "
        "twice. To fix: remove one of them (or move it out of the folder).")
    (folder / "train.jsonl.zip").unlink()
    two = pack(folder / "two.zip", {"x.jsonl": rows("x", 1), "y.jsonl": rows("y", 1)})
    assert data_refusal(data.local_files, str(folder)) == (
        f"{two} is a zip archive holding 2 data files (x.jsonl, y.jsonl), and an archive is read only when it holds "
        "one (which of them to train on is not guessed). To fix: extract it (unzip two.zip) and open the folder they "
        "are in, or the one data file to train on.")


def test_a_folder_whose_archives_hold_no_data_says_what_they_hold(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    pics = pack(folder / "pics.zip", {"cat.png": b"\x89PNG"})
    assert data_refusal(data.local_files, str(folder)) == (
        f"The folder {folder} holds no data files (.csv, .json, .jsonl, .parquet, .tsv, .txt). {pics} is a zip "
        "archive holding no data file (.csv, .json, .jsonl, .parquet, .tsv, .txt): it holds cat.png. To fix: open the "
        "archive that holds the data, or extract this one (unzip pics.zip) and save its data as CSV, JSON Lines or "
        "plain text.")


def test_an_archive_whose_columns_differ_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(rows("a", 3))
    pack(folder / "b.tgz", {"b.jsonl": b"".join(json.dumps({"body": f"b {i}"}).encode() + b"\n" for i in range(3))})
    expected = (f"{folder}: b.tgz › b.jsonl has no column 'text' (its columns: body). A run reads the files of a "
                "folder as one table, so each needs the same columns. To fix: give b.tgz › b.jsonl the columns of the "
                "others, or move it out of the folder.")
    assert data_refusal(data.load_split, dataset_config(folder)) == expected


def test_a_folder_of_more_archives_than_the_copies_kept_is_read_whole(tmp_path: Path) -> None:
    """Each archive of a folder is copied out before datasets reads the copies: making the sixth copy removed the
    first (4 kept), and the run failed on a file that was gone. The copies of the run's archives stay; the next run
    of another source leaves 4 in all."""
    from finetune_studio.core.demo import cache_dir

    folder = tmp_path / "data"
    folder.mkdir()
    for index in range(6):
        pack(folder / f"part{index}.zip", {"train.jsonl": rows(f"p{index}", 2)})
    assert data.load_split(dataset_config(folder))["text"] == [f"p{i} row {r}" for i in range(6) for r in range(2)]
    assert len(list((cache_dir() / "archives").glob("*/train.jsonl"))) == 6
    other = pack(tmp_path / "other.tgz", {"other.jsonl": rows("o", 2)})
    assert data.load_split(dataset_config(other))["text"] == ["o row 0", "o row 1"]
    kept = sorted(p.name for p in (cache_dir() / "archives").glob("*/*"))
    assert len(kept) == data.ARCHIVE_COPIES == 4 and "other.jsonl" in kept
