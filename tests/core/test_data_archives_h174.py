"""An archive (.zip, .tar, .tar.gz, .tgz, .tar.bz2, .tar.xz) that holds one data file is read as that file
(helper-174): previewed and checked without extracting it (the preview reads only the start of a compressed tar),
and named as the file inside ("data.zip › rows/train.jsonl", helper-186); a run reads a copy of that file in the
app's cache folder, nothing beside the archive. An archive holding several data files, or none, is refused with
what it holds and "To fix:"; a changed archive is seen on resume (files_signature), and the run reads its new rows,
not those datasets cached. An archive inside a folder: test_data_archives_h186_folder."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.cli import main
from finetune_studio.core.errors import DataError
from tests.helpers import data_refusal, dataset_config

TEXTS = [f"Row {i} of the archived data." for i in range(30)]
JSONL = "".join(json.dumps({"text": text, "n": i}) + "\n" for i, text in enumerate(TEXTS)).encode()


def pack(path: Path, files: dict[str, bytes], stored: bool = False) -> Path:
    """An archive of `files` at `path`, its kind from its name (zip; tar, compressed as the name says)."""
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as handle:
            for name, body in files.items():
                handle.writestr(name, body)
        return path
    mode = {".tar": "w", ".tgz": "w:gz", ".gz": "w:gz", ".bz2": "w:bz2", ".xz": "w:xz"}[path.suffix]
    with tarfile.open(path, mode) as handle:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            handle.addfile(info, io.BytesIO(body))
    return path


@pytest.mark.parametrize("name", ["data.zip", "data.tar", "data.tgz", "data.tar.gz", "data.tar.bz2", "DATA.TAR.XZ"])
def test_an_archive_of_one_data_file_is_read_as_that_file(tmp_path: Path, name: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(cache))
    path = pack(tmp_path / name, {"rows/train.jsonl": JSONL, "README.md": b"notes", "__MACOSX/._train.jsonl": b"x"}) \
        if not name.endswith("XZ") else pack(tmp_path / "data.tar.xz", {"train.jsonl": JSONL})
    if name.endswith("XZ"):
        path = path.rename(tmp_path / name)
    fmt, files = data.local_files(str(path))
    assert (fmt, files) == ("json", [path])
    shown = data.preview(dataset_config(path))
    assert [row["text"] for row in shown.rows] == TEXTS[:20] and shown.columns == ["text", "n"]
    member = "train.jsonl" if name.endswith("XZ") else "rows/train.jsonl"
    assert shown.text_column == "text" and shown.files == [f"{path} › {member}"] and shown.format == "json"
    assert data.shown_file(path) == f"{path} › {member}"
    assert data.check_source(dataset_config(path)) == []
    assert not list(tmp_path.glob("**/train.jsonl"))  # the preview and the check read it in the archive
    ds = data.load_split(dataset_config(path))
    assert ds["text"] == TEXTS and ds["n"] == list(range(30))
    copies = list(tmp_path.glob("**/train.jsonl"))  # the run read a copy in the cache, nothing beside the archive
    assert len(copies) == 1 and copies[0].parent.parent == cache / "archives" and copies[0].read_bytes() == JSONL


def test_a_csv_in_a_zip_has_its_separator_found(tmp_path: Path) -> None:
    body = ("text;label\n" + "".join(f"{text};{i}\n" for i, text in enumerate(TEXTS))).encode()
    path = pack(tmp_path / "table.zip", {"table.csv": body})
    shown = data.preview(dataset_config(path))
    assert shown.delimiter == ";" and shown.columns == ["text", "label"] and shown.rows[0]["text"] == TEXTS[0]
    assert data.load_split(dataset_config(path))["text"] == TEXTS


def test_a_json_document_and_a_text_file_in_archives(tmp_path: Path) -> None:
    document = json.dumps([{"text": text} for text in TEXTS]).encode()
    path = pack(tmp_path / "doc.tgz", {"doc.json": document})
    assert [row["text"] for row in data.preview(dataset_config(path)).rows] == TEXTS[:20]
    assert data.load_split(dataset_config(path))["text"] == TEXTS
    lines = pack(tmp_path / "lines.zip", {"lines.txt": "".join(t + "\n" for t in TEXTS).encode()})
    assert data.local_files(str(lines))[0] == "text" and data.load_split(dataset_config(lines))["text"] == TEXTS


@pytest.mark.parametrize("name, tool", [("data.zip", "unzip data.zip"), ("data.tar.gz", "tar -xf data.tar.gz")])
def test_an_archive_of_several_data_files_is_refused_naming_them(tmp_path: Path, name: str, tool: str) -> None:
    path = pack(tmp_path / name, {"train.jsonl": JSONL, "test.jsonl": JSONL, "notes.md": b"x"})
    kind = "zip" if name.endswith(".zip") else "tar"
    expected = (f"{path} is a {kind} archive holding 2 data files (train.jsonl, test.jsonl), and an archive is read "
                "only when it holds one (which of them to train on is not guessed). To fix: extract it "
                f"({tool}) and open the folder they are in, or the one data file to train on.")
    assert [(p.field, p.message) for p in data.check_source(dataset_config(path))] == [("dataset.source", expected)]
    for read in (data.preview, data.load_split):
        assert data_refusal(read, dataset_config(path)) == expected
    assert data.files_signature(str(path)) is None


def test_an_archive_of_no_data_file_says_what_it_holds(tmp_path: Path) -> None:
    path = pack(tmp_path / "pics.zip", {"a.png": b"\x89PNG", "train.jsonl.gz": b"x"})
    assert data_refusal(data.preview, dataset_config(path)) == (
        f"{path} is a zip archive holding no data file (.csv, .json, .jsonl, .parquet, .tsv, .txt): it holds a.png, "
        "train.jsonl.gz. To fix: open the archive that holds the data, or extract this one (unzip pics.zip) and save "
        "its data as CSV, JSON Lines or plain text.")
    empty = pack(tmp_path / "empty.tar", {})
    assert data.check_source(dataset_config(empty))[0].message.startswith(
        f"{empty} is a tar archive holding no data file (.csv, .json, .jsonl, .parquet, .tsv, .txt): it holds no "
        "files. To fix:")
    parquet = pack(tmp_path / "p.zip", {"p.parquet": b"PAR1"})
    assert data.check_source(dataset_config(parquet))[0].message == (
        f"{parquet} is a zip archive holding p.parquet, a Parquet file, and Parquet files are read from disk only, not "
        "from inside an archive (they are compressed inside). To fix: extract it (unzip p.zip) and open p.parquet.")


def test_validate_says_an_archive_of_several_files(tmp_path: Path, runs_dir: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    path = pack(tmp_path / "two.zip", {"a.jsonl": JSONL, "b.jsonl": JSONL})
    run = tmp_path / "run.yaml"
    assert main(["init", str(run)]) == 0
    capsys.readouterr()
    assert main(["validate", str(run), "--set", f"dataset.source={path}", "--set", "dataset.text_column=text"]) == 2
    assert any(line.startswith(f"problem: dataset.source: {path} is a zip archive holding 2 data files (a.jsonl, "
                               "b.jsonl)") for line in capsys.readouterr().out.splitlines())


def test_a_damaged_archive_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "data.zip"
    path.write_bytes(b"PK\x03\x04 cut short")
    assert data_refusal(data.preview, dataset_config(path)) == (
        f"{path} is an archive (zip) that is damaged or incomplete, so its rows cannot be read (File is not a zip "
        "file). It was probably cut short by a copy or download that stopped. To fix: copy or download data.zip again "
        "(unzip -t data.zip tests it), or open the file it holds.")


def test_a_changed_archive_is_seen_on_resume_and_read_anew(tmp_path: Path) -> None:
    path = pack(tmp_path / "data.zip", {"train.jsonl": JSONL}, stored=True)
    then = data.files_signature(str(path))
    assert then is not None and then[0][0] == str(path) and len(then[0][3]) == 32
    assert data.load_split(dataset_config(path))["text"] == TEXTS
    before = path.stat()
    changed = JSONL.replace(b"archived", b"replaced")  # the same size: a same-size rewrite, its time kept
    pack(path, {"train.jsonl": changed}, stored=True)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    now = data.files_signature(str(path))
    assert data.files_differ(then, now) and [e[:3] for e in then] == [e[:3] for e in now]
    assert data.load_split(dataset_config(path))["text"] == [t.replace("archived", "replaced") for t in TEXTS]


def test_the_preview_of_a_large_compressed_tar_reads_only_its_start(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A tar.gz whose first file is large and which is cut short far past its start: the preview, the check and
    the resume signature read only the start (so they work), the run reads it all (so it says it is damaged). And
    a second data file past the part a check reads is refused by the run."""
    monkeypatch.setattr(data, "ARCHIVE_SCAN_BYTES", 256 << 10)
    monkeypatch.setattr(data, "ARCHIVE_PREVIEW_BYTES", 64 << 10)
    rows = "".join(json.dumps({"text": f"Row {i}: {os.urandom(48).hex()}"}) + "\n" for i in range(40_000)).encode()
    assert len(rows) > 4 << 20  # past PREVIEW_CHECK_BYTES (1 MiB), which the preview's check reads
    whole = pack(tmp_path / "whole.tar.gz", {"big.jsonl": rows, "other.jsonl": JSONL})
    listing = data.archive_listing(whole)
    assert listing.files == ("big.jsonl",) and not listing.complete  # stopped after the first data file
    assert [row["text"] for row in data.preview(dataset_config(whole)).rows] == [json.loads(line)["text"]
                                                                         for line in rows.splitlines()[:20]]
    assert data.check_source(dataset_config(whole)) == []
    with pytest.raises(DataError, match=r"holding 2 data files \(big.jsonl, other.jsonl\)"):
        data.load_split(dataset_config(whole))  # the run lists it whole
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[:len(whole.read_bytes()) // 2])
    assert len(data.preview(dataset_config(cut)).rows) == 20 and data.check_source(dataset_config(cut)) == []
    assert data.files_signature(str(cut)) is not None
    assert data_refusal(data.load_split, dataset_config(cut)).startswith(
        f"{cut} is an archive (tar) that is damaged or incomplete, so its rows")


def test_an_archive_name_is_a_path_not_a_hub_id() -> None:
    from finetune_studio.core.sources import SourceKind, source_kind

    assert [source_kind(name) for name in ("data.zip", "Data.TAR.GZ", "rows.tgz", "owner/name")] == [
        SourceKind.LOCAL, SourceKind.LOCAL, SourceKind.LOCAL, SourceKind.HUB]


def test_a_tar_compressed_another_way_says_which_archives_are_read(tmp_path: Path) -> None:
    path = tmp_path / "data.tar.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd not really")
    assert data_refusal(data.local_files, str(path)).endswith(
        "data.tar.zst is an archive (tar) compressed in a way that is not read (archives are read as .zip, .tar, .tgz, "
        ".tar.gz, .tar.bz2, .tar.xz, when they hold one data file). To fix: extract it (tar -xf data.tar.zst) and open "
        "the data file it holds, or the folder of them.")
