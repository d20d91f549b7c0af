"""A resume compares the data a run began on with today's (core.training._data_changed). The signature now carries
a content digest (core.data.files_signature); a run begun before it recorded [path, size, mtime_ns], and with a plain
list comparison every such run would have been told its data changed on resume."""

from __future__ import annotations

import os
from pathlib import Path

from finetune_studio.core import data
from finetune_studio.core.training import _data_changed


def _event(source: Path) -> dict:
    return {"event": "data", "train_rows": 2, "eval_rows": 0, "files": data.files_signature(str(source))}


def test_a_run_recorded_without_the_digest_resumes_on_the_same_file_without_a_word(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_bytes(b'{"text": "one"}\n{"text": "two"}\n')
    now = _event(rows)
    then = {**now, "files": [entry[:3] for entry in now["files"]]}  # as an older version wrote it
    assert _data_changed(then, now) == ""


def test_a_same_size_rewrite_with_its_time_kept_is_said_on_resume(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_bytes(b'{"text": "one"}\n{"text": "two"}\n')
    then = _event(rows)
    before = rows.stat()
    rows.write_bytes(b'{"text": "uno"}\n{"text": "dos"}\n')
    os.utime(rows, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert _data_changed(then, _event(rows)) == "its files' sizes, modification times or contents differ"
