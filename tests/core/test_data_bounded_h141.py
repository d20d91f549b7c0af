"""Real files users bring (helper-141): a preview that reads only the start of a large file, and a CSV cell longer
than the csv module's 128 KiB field limit, which pandas (a run's reader) reads as data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from finetune_studio.core import data
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import DataError


def dataset(path: Path, column: str = "text"):
    config = default_config().dataset
    config.source, config.text_column = str(path), column
    return config


def test_the_preview_checks_only_the_start_of_a_large_file_and_the_run_still_checks_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = json.dumps({"text": "A line of text to train on. " * 8}) + "\n"
    rows = (21 << 20) // len(line)  # 21 MiB: past what the preview checks (1 MiB) and what datasets reads for 20 rows
    path.write_text(line * rows + "{not json\n", encoding="utf-8")
    shown = data.preview(dataset(path))  # the whole-file check refused here before: line N is malformed
    assert shown.columns == ["text"] and len(shown.rows) == 20
    assert shown.rows[0]["text"] == "A line of text to train on. " * 8
    with pytest.raises(DataError, match=rf"big.jsonl, line {rows + 1}, column 2: malformed JSON line"):
        data.load_split(dataset(path))  # the run reads every line before training


def test_a_bad_line_the_preview_reads_is_named_by_line_as_before(tmp_path: Path) -> None:
    path = tmp_path / "mid.jsonl"
    line = json.dumps({"text": "Words."}) + "\n"
    path.write_text(line * 100_000 + "{not json\n" + line, encoding="utf-8")  # 1.9 MiB: within datasets' block
    with pytest.raises(DataError, match=r"mid.jsonl, line 100001, column 2: malformed JSON line"):
        data.preview(dataset(path))


def test_the_preview_check_reads_a_bounded_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.csv"
    path.write_text("text,label\n" + "Some words here,1\n" * 400_000, encoding="utf-8")  # 7 MiB
    seen: list[int] = []
    real = data._lines

    def counted(*args, **kwargs):
        for item in real(*args, **kwargs):
            seen.append(item[0])
            yield item

    monkeypatch.setattr(data, "_lines", counted)
    started = time.perf_counter()
    data.check_file(path, "csv", None, ",", data.PREVIEW_CHECK_BYTES)
    assert max(seen) < 70_000  # about 1 MiB of lines, not the 400,001 of the file
    assert time.perf_counter() - started < 2.0


def test_a_utf16_preview_decodes_only_its_start(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes("".join(f"line {i} of a wide file\n" for i in range(200_000)).encode("utf-16"))  # 9 MiB
    config = dataset(path)
    config.encoding = "utf-16"
    shown = data.preview(config)
    assert [row["text"] for row in shown.rows[:2]] == ["line 0 of a wide file", "line 1 of a wide file"]
    lines = list(data._lines(path, "utf-16", data.PREVIEW_CHECK_BYTES))
    assert 0 < len(lines) < 30_000 and lines[-2] == (len(lines) - 1, f"line {len(lines) - 2} of a wide file")


def test_a_csv_cell_longer_than_128_kib_is_data_not_malformed(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    book = "It was a dark and stormy night. " * 10_000  # 320,000 characters in one cell
    path.write_text(f"title,text\nA book,\"{book}\"\nA note,short\n", encoding="utf-8")
    config = dataset(path)
    assert data.check_source(config) == []
    data.check_file(path, "csv")  # was: "line 2: malformed CSV (field larger than field limit (131072))"
    ds = data.load_split(config)
    assert ds["text"] == [book, "short"]
    assert [row["text"] for row in data.preview(config).rows] == [book, "short"]

