"""What the preview of an archive says it read (helper-186): Preview.files names the file inside the archive
("data.zip › rows/train.jsonl"), not the archive alone, for every kind of archive read; a plain file and a folder
are named as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import data
from tests.core.test_data_archives_h174 import pack
from tests.helpers import dataset_config

TEXTS = [f"Row {i} of the archived data." for i in range(30)]
JSONL = "".join(json.dumps({"text": text}) + "\n" for text in TEXTS).encode()


@pytest.mark.parametrize("name", ["data.zip", "data.tar", "data.tgz", "data.tar.gz", "data.tar.bz2", "data.tar.xz"])
def test_the_preview_names_the_file_inside_the_archive(tmp_path: Path, name: str) -> None:
    path = pack(tmp_path / name, {"README.md": b"notes", "rows/train.jsonl": JSONL})
    shown = data.preview(dataset_config(path))
    assert shown.files == [f"{path} › rows/train.jsonl"]
    assert [row["text"] for row in shown.rows] == TEXTS[:20]
    assert data.shown_file(path) == f"{path} › rows/train.jsonl"


def test_a_plain_file_and_a_folder_are_named_as_before(tmp_path: Path) -> None:
    plain = tmp_path / "train.jsonl"
    plain.write_bytes(JSONL)
    assert data.preview(dataset_config(plain)).files == [str(plain)]
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(JSONL)
    (folder / "b.jsonl").write_bytes(JSONL)
    assert data.preview(dataset_config(folder)).files == [str(folder / "a.jsonl"), str(folder / "b.jsonl")]
