"""The same data twice in one folder is found whatever the case of the names (helper-174): Train.JSONL beside
train.jsonl.gz (a copy made on a disk that ignores case, or by a tool that writes its suffix in lower case) was read
whole, every row twice, as 4f1c582 refused only names equal letter for letter. Suffixes in capitals are read as
their lower-case forms everywhere a data file is recognised."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import DataError

TEXT = "".join(json.dumps({"text": f"Row {i} of the data."}) + "\n" for i in range(12))


def config(path: Path):
    dataset = default_config().dataset
    dataset.source, dataset.text_column = str(path), "text"
    return dataset


def said(folder: Path, first: str, second: str) -> str:
    return (f"The folder {folder} holds the same data file twice: {first} and {second} differ only by a compression "
            "suffix and the case of letters, and every file of a folder is read, so each of their rows would be "
            "trained twice. To fix: remove one of them (or move it out of the folder).")


@pytest.mark.parametrize("plain, packed", [("Train.JSONL", "train.jsonl.gz"), ("train.jsonl", "TRAIN.JSONL.GZ"),
                                           ("train.jsonl", "Train.jsonl.GZ")])
def test_a_file_beside_its_compressed_copy_named_in_other_case_is_refused(tmp_path: Path, plain: str,
                                                                          packed: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / plain).write_text(TEXT)
    (folder / packed).write_bytes(gzip.compress(TEXT.encode()))
    first, second = sorted([plain, packed])
    with pytest.raises(DataError) as caught:
        data.local_files(str(folder))
    assert str(caught.value) == said(folder, first, second)
    assert [(p.field, p.message) for p in data.check_source(config(folder))] == [
        ("dataset.source", said(folder, first, second))]
    with pytest.raises(DataError, match="holds the same data file twice"):
        data.preview(config(folder))


def test_names_equal_but_for_case_say_the_old_words(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text(TEXT)
    (folder / "train.jsonl.gz").write_bytes(gzip.compress(TEXT.encode()))
    with pytest.raises(DataError) as caught:
        data.local_files(str(folder))
    assert "train.jsonl and train.jsonl.gz differ only by a compression suffix, and every file" in str(caught.value)


def test_two_plain_files_whose_names_differ_by_case_are_both_read(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_text(TEXT)
    (folder / "A.jsonl").write_text(TEXT.replace("Row", "Line"))  # a disk that keeps both: other rows, not a copy
    fmt, files = data.local_files(str(folder))
    assert fmt == "json" and [p.name for p in files] == ["A.jsonl", "a.jsonl"]
    assert len(data.load_split(config(folder))) == 24


@pytest.mark.parametrize("name, packed", [("rows.JSONL", False), ("rows.CSV.GZ", True), ("rows.Txt.Bz2", True),
                                          ("rows.JSONL.XZ", True)])
def test_suffixes_in_capitals_are_read(tmp_path: Path, name: str, packed: bool) -> None:
    import bz2
    import lzma

    lines = [f"Row {i} of the data." for i in range(12)]
    if ".CSV" in name:
        body = "text\n" + "".join(f"{line}\n" for line in lines)
    elif ".JSONL" in name:
        body = TEXT
    else:
        body = "".join(f"{line}\n" for line in lines)
    raw = body.encode()
    if packed:
        raw = {".GZ": gzip.compress, ".Bz2": bz2.compress, ".XZ": lzma.compress}[Path(name).suffix](raw)
    path = tmp_path / name
    path.write_bytes(raw)
    assert data.local_files(str(path))[1] == [path]
    assert [row["text"] for row in data.preview(config(path)).rows] == lines
    assert data.check_source(config(path)) == []
    assert data.load_split(config(path))["text"] == lines
    folder = tmp_path / "folder"  # and in a folder, where files are picked by their suffix
    folder.mkdir()
    path.rename(folder / name)
    assert [p.name for p in data.local_files(str(folder))[1]] == [name]
