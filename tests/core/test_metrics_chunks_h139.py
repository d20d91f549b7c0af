"""core.metrics.read_metrics_chunks over a log with a long stretch that has no line end (a crash's zero-filled
tail, garbage): the same events and offsets as read_metrics, and the stretch kept once, not copied onto every piece
read after it (32 MB of NUL bytes took 32 s to read in pieces, 0.03 s now, for the Runs tab's listing, with twice the
stretch in memory at once)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from finetune_studio.core import metrics

EVENTS = [{"event": "log", "step": step, "loss": 1.0 / step} for step in range(1, 40)]


def write(path: Path, tail: bytes, after: bytes = b"") -> bytes:
    data = "".join(json.dumps(event) + "\n" for event in EVENTS).encode() + tail + after
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("size", [7, 64, 1000, 1 << 14])
@pytest.mark.parametrize("after", [b"", b'\n{"event": "log", "step": 50, "loss": 0.5}\n'])
def test_pieces_read_what_one_read_reads(tmp_path: Path, size: int, after: bytes) -> None:
    path = tmp_path / "metrics.jsonl"
    data = write(path, b"\x00" * 5000, after)
    whole, offset = metrics.read_metrics(path)
    pieces = list(metrics.read_metrics_chunks(path, size=size))
    assert [event for events, _ in pieces for event in events] == whole
    assert pieces[-1][1] == offset == (len(data) if after else len(data) - 5000)
    assert all(data[end - 1:end] == b"\n" for _, end in pieces)  # each piece ends at a line's end
    middle = len(data) // 3
    bounded = list(metrics.read_metrics_chunks(path, end=middle, size=size))
    assert bounded[-1][1] <= middle and [e for events, _ in bounded for e in events] == \
        metrics.read_metrics(path)[0][:len([e for events, _ in bounded for e in events])]


def test_a_long_stretch_without_a_line_end_is_held_once(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    tail = 8 << 20
    write(path, b"\x00" * tail)
    tracemalloc.start()
    try:
        read = list(metrics.read_metrics_chunks(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [event for events, _ in read for event in events] == EVENTS
    assert peak < 1.25 * tail  # the stretch, in its pieces, and one piece more; the old carry + block held two
