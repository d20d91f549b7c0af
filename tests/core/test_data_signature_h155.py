"""The files a run began on are stamped with a bounded content digest as well as size and modification time
(helper-155): a file rewritten at the same size within one tick of the clock (or copied over with its old time kept)
read as unchanged on resume, and the resumed steps trained on other rows without a word."""

from __future__ import annotations

import os
from pathlib import Path

from finetune_studio.core import data


def rewrite_keeping_time(path: Path, content: bytes) -> None:
    before = path.stat()
    assert len(content) == before.st_size
    path.write_bytes(content)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same tick, or cp -p / touch -r
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_a_same_size_rewrite_in_the_same_tick_changes_the_signature(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"text": "one"}\n{"text": "two"}\n')
    then = data.files_signature(str(path))
    rewrite_keeping_time(path, b'{"text": "uno"}\n{"text": "dos"}\n')
    now = data.files_signature(str(path))
    assert [entry[:3] for entry in then] == [entry[:3] for entry in now]  # size and time alone: the same
    assert then != now and data.files_differ(then, now)
    assert len(now[0]) == 4 and len(now[0][3]) == 32


def test_a_change_at_the_end_of_a_large_file_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "rows.txt"
    body = b"a line of text\n" * 70_000  # ~1 MB: the digest reads its first and last 64 KiB
    path.write_bytes(body)
    then = data.files_signature(str(path))
    rewrite_keeping_time(path, body[:-15] + b"another line!\n\n")
    assert data.files_differ(then, data.files_signature(str(path)))


def test_an_unchanged_file_and_a_signature_recorded_before_the_digest_compare_the_same(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("text\nrow\n", encoding="utf-8")
    now = data.files_signature(str(path))
    assert data.files_signature(str(path)) == now and not data.files_differ(now, data.files_signature(str(path)))
    older = [entry[:3] for entry in now]  # [path, size, mtime_ns]: what runs recorded before
    assert not data.files_differ(older, now)
    path.write_text("text\nrow, longer\n", encoding="utf-8")
    assert data.files_differ(older, data.files_signature(str(path)))


def test_the_digest_is_read_once_per_file_version(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"text": "one"}\n')
    first = data.content_digest(path)
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    assert data.content_digest(path) == first and opened == []


def test_a_folder_of_many_files_digests_only_the_first_ones(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "shards"
    folder.mkdir()
    for index in range(3):
        (folder / f"part-{index}.jsonl").write_bytes(b'{"text": "row"}\n')
    monkeypatch.setattr(data, "DIGEST_FILES", 2)
    found = data.files_signature(str(folder))
    assert [len(entry[3] or "") for entry in found] == [32, 32, 0]  # the third: size and time only
