"""A row of a folder source that comes from an archive is named by the archive and the file inside, as shown_file
names it ("b.tgz › train.jsonl"), not by the archive alone ("b.tgz") (helper-192)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.errors import DataError
from tests.core.test_data_archives_h174 import pack
from tests.core.test_data_archives_h186_folder import own_cache  # noqa: F401 - autouse: its own cache
from tests.helpers import dataset_config


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(json.dumps({"text": f"a {i}"}) + "\n" for i in range(3)), encoding="utf-8")
    pack(folder / "b.tgz", {"train.jsonl": b'{"text": "b 0"}\n{"text": null}\n'})
    return folder


def test_the_run_names_a_row_of_an_archive_by_the_file_inside(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    config = dataset_config(folder)
    with pytest.raises(DataError) as raised:
        data.check_text_column(data.load_split(config), "text", str(folder))
    assert str(raised.value) == (f"{folder}: row 5 (row 2 of b.tgz › train.jsonl) has no value in column 'text'. "
                                 "Fill or remove it.")


def test_validate_names_a_row_of_an_archive_by_the_file_inside(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    assert [p.message for p in data.check_source(dataset_config(folder))] == [
        f"{folder}: row 5 (row 2 of b.tgz › train.jsonl) has no value in column 'text'. Fill or remove it."]
