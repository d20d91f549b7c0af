"""validate's bounded read is cached per file version (helper-141): a file rewritten with the same size and its old
modification time kept (cp -p, rsync -t, touch -r, a coarse FAT clock) is read again, not judged on the old content."""

from __future__ import annotations

import os
from pathlib import Path

from finetune_studio.core import data
from finetune_studio.core.config import default_config


def dataset(path: Path):
    config = default_config().dataset
    config.source, config.text_column = str(path), "text"
    return config


def rewrite_keeping_time(path: Path, text: str) -> None:
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # what cp -p / touch -r leave
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_a_fixed_file_with_its_old_size_and_time_is_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "one"}\n{"text": 22222}\n', encoding="utf-8")
    assert [p.message for p in data.check_source(dataset(path))] == [
        f"{path}: row 2 holds a whole number (22222) in column 'text', not text. Fix or remove that row."]
    rewrite_keeping_time(path, '{"text": "one"}\n{"text": "two"}\n')
    assert data.check_source(dataset(path)) == []  # was: the same refusal, from the cache


def test_a_broken_file_with_the_old_size_and_time_is_refused_again(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("text,label\nfine,1\nabc,2\n", encoding="utf-8")
    assert data.check_source(dataset(path)) == []
    rewrite_keeping_time(path, "text,label\nfine,1\na,c,2\n")
    assert [p.message for p in data.check_source(dataset(path))] == [
        f"{path}, line 3: 3 fields where the header has 2 (text, label), reading fields separated by commas (,). "
        "Quote values that contain the separator, or set the one the file uses (Separator in the Dataset tab, or "
        "dataset.delimiter in the config)."]


def test_the_separator_found_is_found_again(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("text;label\nfine;1\n", encoding="utf-8")
    assert data.file_delimiter(path) == ";"
    rewrite_keeping_time(path, "text\tlabel\nfine\t1\n")
    assert data.file_delimiter(path) == "\t"
