"""A dataset folder that holds the same data twice, a file and its compressed copy (train.jsonl beside
train.jsonl.gz, or one file compressed two ways), read every row twice without a word (helper-170). It is now refused
where the folder's other problems are said: core.data.local_files, so the preview, validate's check (the CLI's
`validate`) and the run say the same words with what to do."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import DataError

TEXT = "".join(json.dumps({"text": f"Row {i} of the data."}) + "\n" for i in range(12))


def config(path: Path):
    dataset = default_config().dataset
    dataset.source, dataset.text_column = str(path), "text"
    return dataset


def said(folder: Path, first: str, second: str, more: str = "") -> str:
    return (f"The folder {folder} holds the same data file twice: {first} and {second} differ only by a compression "
            f"suffix{more}, and every file of a folder is read, so each of their rows would be trained twice. To fix: "
            "remove one of them (or move it out of the folder).")


def test_a_file_beside_its_gzipped_copy_is_refused_everywhere(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text(TEXT)
    (folder / "train.jsonl.gz").write_bytes(gzip.compress(TEXT.encode()))
    expected = said(folder, "train.jsonl", "train.jsonl.gz")
    with pytest.raises(DataError) as caught:
        data.local_files(str(folder))
    assert str(caught.value) == expected
    with pytest.raises(DataError, match="holds the same data file twice"):
        data.preview(config(folder))
    assert [(p.field, p.message) for p in data.check_source(config(folder))] == [("dataset.source", expected)]
    with pytest.raises(DataError, match="holds the same data file twice"):
        data.load_split(config(folder))
    (folder / "train.jsonl").unlink()  # one of them removed: the folder reads, each row once
    assert data.check_source(config(folder)) == []
    assert len(data.load_split(config(folder))) == 12


def test_two_compressions_of_one_file_and_the_count_of_pairs(tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jsonl.bz2").write_bytes(bz2.compress(TEXT.encode()))
    (folder / "a.jsonl.gz").write_bytes(gzip.compress(TEXT.encode()))
    (folder / "sub" / "b.jsonl").write_text(TEXT)
    (folder / "sub" / "b.jsonl.gz").write_bytes(gzip.compress(TEXT.encode()))
    with pytest.raises(DataError) as caught:
        data.local_files(str(folder))
    assert str(caught.value) == said(folder, "a.jsonl.bz2", "a.jsonl.gz", " (2 such pairs in the folder)")


def test_same_names_in_other_folders_or_formats_are_not_twins(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    (folder / "b").mkdir(parents=True)
    (folder / "train.jsonl").write_text(TEXT)
    (folder / "b" / "train.jsonl.gz").write_bytes(gzip.compress(TEXT.encode()))  # another folder: another shard
    (folder / "train.json").write_text(TEXT)  # another name (.json, not a compression of .jsonl)
    fmt, files = data.local_files(str(folder))
    assert fmt == "json" and [p.relative_to(folder).as_posix() for p in files] == [
        "b/train.jsonl.gz", "train.json", "train.jsonl"]


def test_validate_says_it(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text(TEXT)
    (folder / "train.jsonl.gz").write_bytes(gzip.compress(TEXT.encode()))
    path = tmp_path / "run.yaml"
    assert main(["init", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(path), "--set", f"dataset.source={folder}", "--set", "dataset.text_column=text"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert f"problem: dataset.source: {said(folder, 'train.jsonl', 'train.jsonl.gz')}" in out
