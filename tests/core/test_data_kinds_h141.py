"""Files users really have that the app does not read (helper-141): compressed data files, spreadsheet workbooks and
folders written by datasets' save_to_disk are refused before training, by validate, the preview and the run, with
what the file is and what to do next, instead of "unknown file type" alone or a misleading JSON complaint."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import DataError

ROWS = [{"text": f"Row {i} of the data.", "label": i} for i in range(6)]


def dataset(path: Path):
    config = default_config().dataset
    config.source, config.text_column = str(path), "text"
    return config


def refusals(path: Path) -> list[str]:
    """What validate's check, the preview and the run say about the source, each."""
    said = [p.message for p in data.check_source(dataset(path))]
    for read in (data.preview, data.load_split):
        with pytest.raises(DataError) as info:
            read(dataset(path))
        said.append(str(info.value))
    return said


def test_a_gzipped_jsonl_file_says_to_decompress_it(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in ROWS).encode()))
    # read as it is now (helper-155): tests/core/test_data_compressed_h155.py
    assert data.check_source(dataset(path)) == [] and len(data.load_split(dataset(path))) == len(ROWS)


@pytest.mark.parametrize("name, words", [("data.csv.bz2", "data.csv.bz2 is a damaged or incomplete bzip2 file"),
                                         ("data.jsonl.zst", "data.jsonl compressed (zstd)"),
                                         ("data.zip", "is an archive (zip)")])
def test_other_compressed_files(tmp_path: Path, name: str, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00\x01 not really")
    said = refusals(path)
    assert words in said[0] and "To fix: " in said[0] and said == [said[0]] * 3


def test_a_spreadsheet_says_to_save_it_as_csv(tmp_path: Path) -> None:
    path = tmp_path / "sheet.ods"
    path.write_bytes(b"PK\x03\x04")
    assert refusals(path)[0] == (
        "sheet.ods: unknown file type '.ods'. Use one of .csv, .json, .jsonl, .parquet, .tsv, .txt. sheet.ods is a "
        "spreadsheet workbook, which is not read. To fix: save its sheet as CSV (Excel: File > Save As > CSV UTF-8; "
        "LibreOffice Calc: File > Save As > Text CSV) and open the .csv file.")


def test_a_folder_of_gzipped_files_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    folder.mkdir()
    for i in range(2):
        (folder / f"part-{i}.jsonl.gz").write_bytes(gzip.compress(json.dumps(ROWS[i]).encode() + b"\n"))
    assert data.check_source(dataset(folder)) == [] and len(data.load_split(dataset(folder))) == 2  # helper-155


def test_an_unknown_type_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# notes\n")
    assert refusals(path)[0].endswith("To fix: save the data as one of those (CSV, JSON Lines, Parquet or plain "
                                      "text) and open that file.")


def test_a_save_to_disk_folder_says_how_to_write_parquet(tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "saved"
    datasets.Dataset.from_list(ROWS).save_to_disk(str(folder))
    expected = (f"{folder} is a dataset saved by the datasets library (save_to_disk: Arrow files with state.json); "
                "such a folder is not read as data files. To fix: write it as Parquet and open that file, e.g. in "
                f"Python: datasets.load_from_disk('{folder}').to_parquet('{tmp_path / 'saved.parquet'}')")
    assert refusals(folder) == [expected] * 3  # was: "state.json: the rows appear to be nested under '_data_files'"
    datasets.load_from_disk(str(folder)).to_parquet(str(tmp_path / "saved.parquet"))  # the fix works as written
    assert data.load_split(dataset(tmp_path / "saved.parquet"))["text"] == [r["text"] for r in ROWS]


def test_a_saved_dataset_dict_names_its_splits(tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "dict"
    ds = datasets.Dataset.from_list(ROWS)
    datasets.DatasetDict({"train": ds, "validation": ds.select(range(2))}).save_to_disk(str(folder))
    expected = (f"{folder} is a DatasetDict saved by the datasets library (save_to_disk), with the splits train, "
                "validation; such a folder is not read as data files. To fix: write the split to train on as Parquet "
                f"and open that file, e.g. in Python: datasets.load_from_disk('{folder}')['train']"
                f".to_parquet('{tmp_path / 'dict-train.parquet'}')")
    assert refusals(folder) == [expected] * 3
