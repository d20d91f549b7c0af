"""Compressed data files are read as they are (helper-155): a .jsonl.gz, .csv.bz2, .txt.xz or .json.gz previews,
checks and loads the rows its plain file gives, reading only the start of the decompressed data for the preview; a
damaged one is named with what to do; an archive keeps its refusal with a To fix."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import tarfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest

from finetune_studio.core import data
from tests.helpers import data_refusal, dataset_config

ROWS = [{"text": f"Row {i}, with a comma and some text.", "label": i} for i in range(60)]
PLAIN = {
    "rows.jsonl": "".join(json.dumps(r) + "\n" for r in ROWS),
    "rows.csv": "text,label\n" + "".join(f'"{r["text"]}",{r["label"]}\n' for r in ROWS),
    "rows.txt": "".join(r["text"] + "\n" for r in ROWS),
    "rows.json": json.dumps(ROWS),
}
CODECS: dict[str, Callable[[bytes], bytes]] = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


@pytest.mark.parametrize("suffix", list(CODECS))
@pytest.mark.parametrize("name", list(PLAIN))
def test_a_compressed_file_gives_the_rows_of_its_plain_file(tmp_path: Path, name: str, suffix: str) -> None:
    plain = tmp_path / name
    plain.write_text(PLAIN[name], encoding="utf-8")
    packed = tmp_path / "packed" / (name + suffix)
    packed.parent.mkdir()
    packed.write_bytes(CODECS[suffix](PLAIN[name].encode()))
    assert data.local_files(str(packed)) == (data.local_files(str(plain))[0], [packed])
    shown, expected = data.preview(dataset_config(packed)), data.preview(dataset_config(plain))
    assert (shown.columns, shown.rows, shown.text_column, shown.format) == \
        (expected.columns, expected.rows, expected.text_column, expected.format)
    assert len(shown.rows) == 20 and shown.columns == (["text"] if name == "rows.txt" else ["text", "label"])
    assert data.check_source(dataset_config(packed)) == data.check_source(dataset_config(plain)) == []
    loaded = data.load_split(dataset_config(packed))
    assert len(loaded) == len(data.load_split(dataset_config(plain))) == 60
    assert loaded[59]["text"] == "Row 59, with a comma and some text."


def test_a_folder_of_gzipped_shards_reads_as_one_table(tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    folder.mkdir()
    for part in range(3):
        text = "".join(json.dumps(r) + "\n" for r in ROWS[part * 20:(part + 1) * 20])
        (folder / f"part-{part}.jsonl.gz").write_bytes(gzip.compress(text.encode()))
    assert data.local_files(str(folder))[0] == "json"
    assert [row["label"] for row in data.preview(dataset_config(folder)).rows] == list(range(20))
    assert data.check_source(dataset_config(folder)) == []
    assert len(data.load_split(dataset_config(folder))) == 60


class Counted:
    """A decompressed stream that counts the bytes read from it."""

    read_bytes = 0

    def __init__(self, inner: Any):
        self.inner = inner

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        Counted.read_bytes += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        line = self.inner.readline(size)
        Counted.read_bytes += len(line)
        return line

    def __iter__(self):
        for line in self.inner:
            Counted.read_bytes += len(line)
            yield line

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> Counted:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.inner.close()


def test_the_preview_and_the_check_read_only_the_start_of_a_large_gzipped_file(tmp_path: Path,
                                                                                monkeypatch: Any) -> None:
    path = tmp_path / "big.jsonl.gz"
    line = (json.dumps({"text": "A line of text that repeats. " * 8, "label": 1}) + "\n").encode()
    chunk = line * ((1 << 20) // len(line))
    with gzip.open(path, "wb", compresslevel=1) as handle:
        for _ in range(48):  # 48 MiB of rows
            handle.write(chunk)
    opened = data._open_data
    monkeypatch.setattr(data, "_open_data", lambda p, *a: Counted(opened(p, *a)))
    shown = data.preview(dataset_config(path))
    assert len(shown.rows) == 20 and shown.columns == ["text", "label"]
    assert Counted.read_bytes < data.PREVIEW_CHECK_BYTES + (256 << 10), Counted.read_bytes  # not 48 MiB
    Counted.read_bytes = 0
    assert data.check_source(dataset_config(path)) == []
    assert Counted.read_bytes <= data.CHECK_BYTES + 1 + 8192


def test_a_truncated_gzip_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    whole = gzip.compress(PLAIN["rows.jsonl"].encode())
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(whole[:len(whole) // 2])
    expected = (f"{path} is a damaged or incomplete gzip file, so its rows cannot be read (Compressed file ended "
                "before the end-of-stream marker was reached). It was probably cut short by a copy or download that "
                "stopped. To fix: copy or download rows.jsonl.gz again (gzip -t rows.jsonl.gz tests it), or open the "
                "uncompressed file.")
    assert [p.message for p in data.check_source(dataset_config(path))] == [expected]
    for read in (data.preview, data.load_split):
        assert data_refusal(read, dataset_config(path)) == expected


def test_damage_past_the_check_is_found_by_the_run(tmp_path: Path) -> None:
    text = "".join(json.dumps({"text": f"Row {i} " + "x" * 200}) + "\n" for i in range(20_000))  # ~4 MB
    whole = gzip.compress(text.encode())
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(whole[:-200])  # the end is missing
    assert data.check_source(dataset_config(path)) == []  # validate's bounded check: the start reads well
    assert data_refusal(data.load_split, dataset_config(path)).startswith(
        f"{path} is a damaged or incomplete gzip file")


def test_a_file_that_is_not_gzip_at_all_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv.gz"
    path.write_text("text\nnot compressed\n", encoding="utf-8")
    assert data_refusal(data.preview, dataset_config(path)) == (
        f"{path} is a damaged or incomplete gzip file, so its rows cannot be read (Not a gzipped file (b'te')). It "
        "was probably cut short by a copy or download that stopped. To fix: copy or download rows.csv.gz again "
        "(gzip -t rows.csv.gz tests it), or open the uncompressed file.")


def test_an_empty_gzip_file_says_it_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress(b""))
    expected = f"{path} is empty once decompressed. Pick a file with data in it."
    assert [p.message for p in data.check_source(dataset_config(path))] == [expected]
    assert data_refusal(data.preview, dataset_config(path)) == expected


def test_a_gzipped_csv_in_cp1252_offers_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv.gz"
    path.write_bytes(gzip.compress("text\n".encode() + "Café crème brûlée déjà vu à la carte\n".encode("cp1252")
                                   * 40))
    found = data.check_source(dataset_config(path))
    assert [p.field for p in found] == ["dataset.encoding"]
    assert found[0].message.startswith(f"{path}, line 2, column 4: byte 0xe9 is not UTF-8 text. It looks like cp125")
    with pytest.raises(data.EncodingProblem) as refused:
        data.preview(dataset_config(path))
    assert (refused.value.path, (refused.value.detected or "")[:5]) == (path, "cp125")  # read decompressed
    config = dataset_config(path)
    config.encoding = "cp1252"
    assert data.check_source(config) == [] and data.load_split(config)[0]["text"].startswith("Café")


def test_a_separator_is_found_in_a_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv.gz"
    path.write_bytes(gzip.compress("text;label\n".encode() + "".join(f"row {i};{i}\n" for i in range(9)).encode()))
    shown = data.preview(dataset_config(path))
    assert shown.delimiter == ";" and shown.columns == ["text", "label"]
    assert len(data.load_split(dataset_config(path))) == 9


def archive(path: Path) -> None:
    files = {"a.jsonl": PLAIN["rows.jsonl"], "b.csv": PLAIN["rows.csv"]}
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as handle:
            for name, text in files.items():
                handle.writestr(name, text)
        return
    with tarfile.open(path, "w:gz") as handle:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            handle.addfile(info, io.BytesIO(text.encode()))


@pytest.mark.parametrize("name, words", [
    ("data.zip", "is a zip archive holding 2 data files (a.jsonl, b.csv), and an archive is read only when it holds "
                 "one (which of them to train on is not guessed). To fix: extract it (unzip data.zip) and open the "
                 "folder they are in, or the one data file to train on."),
    ("data.tar.gz", "is a tar archive holding 2 data files (a.jsonl, b.csv), and an archive is read only when it "
                    "holds one (which of them to train on is not guessed). To fix: extract it (tar -xf data.tar.gz) "
                    "and open the folder they are in, or the one data file to train on.")])
def test_an_archive_of_several_files_is_refused_with_a_fix(tmp_path: Path, name: str, words: str) -> None:
    """An archive holding one data file is read as that file since 99186cf (tests/core/test_data_archives_h174.py);
    one holding several is refused by the check, the preview and the run alike, naming what it holds."""
    path = tmp_path / name
    archive(path)
    said = [p.message for p in data.check_source(dataset_config(path))]
    for read in (data.preview, data.load_split):
        said.append(data_refusal(read, dataset_config(path)))
    assert said == [f"{path} {words}"] * 3


def test_compressed_parquet_is_refused_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet.gz"
    path.write_bytes(gzip.compress(b"PAR1"))
    assert data_refusal(data.local_files, str(path)).endswith(
        "rows.parquet.gz is rows.parquet compressed (gzip); Parquet files are read uncompressed only (they are "
        "compressed inside). To fix: decompress it (gunzip -k rows.parquet.gz) and open rows.parquet.")
