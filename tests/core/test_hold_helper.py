"""tests.helpers.hold_like_another_process over a run.lock that holds a longer, earlier record: the record it writes
must read back (core.runs.read_lock), as RunLock's own does, or a test "held by another process" sees nobody."""

from __future__ import annotations

import json
import os
from pathlib import Path

from finetune_studio.core.runs import read_lock
from tests.helpers import hold_like_another_process


def test_hold_over_a_longer_record(tmp_path: Path) -> None:
    (tmp_path / "status.json").write_text(json.dumps({"state": "stopped"}))
    (tmp_path / "run.lock").write_text(json.dumps({"state": "held", "pid": 1, "pad": "x" * 400}))
    fd = hold_like_another_process(tmp_path)
    try:
        assert read_lock(tmp_path)["pid"] == os.getpid()
    finally:
        os.close(fd)
