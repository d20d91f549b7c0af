"""Two processes copying the same archive at once: the one that finishes second cleared "this archive's older
versions" with a pattern that also matched the current version's folder, so it removed the copy the first had just
made (and might be reading) before putting its own in its place. It now clears older versions only (helper-192)."""

from __future__ import annotations

import os
from pathlib import Path

from finetune_studio.core import data
from tests.core.test_data_archives_h174 import pack
from tests.core.test_data_archives_h186_folder import own_cache  # noqa: F401 - autouse: its own cache


def test_a_second_copy_leaves_the_first_and_clears_older_versions(tmp_path: Path) -> None:
    archive = pack(tmp_path / "rows.tgz", {"train.jsonl": b'{"text": "Aries."}\n'})
    first = data.extract_member(archive)  # the other process's copy, finished first
    folder = first.parent
    older = folder.parent / f"{folder.name.split('-')[0]}-0123456789abcdef"  # a copy of an earlier version
    older.mkdir()
    (older / "train.jsonl").write_bytes(b'{"text": "old"}\n')
    with open(first, "rb") as reading:  # the other process reads its copy meanwhile
        second = data._extract_member(archive)  # this process had found no copy, and copied it too
        assert second == first
        assert os.stat(first).st_ino == os.fstat(reading.fileno()).st_ino  # the same file, not removed and replaced
    assert first.read_bytes() == b'{"text": "Aries."}\n'
    assert not older.exists()
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no '.part-' folder left behind
