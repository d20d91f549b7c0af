"""A resume reads the run's metrics.jsonl once (core.metrics' reader, into the tally of its elapsed time), and
compares its data with the first data event from that same read: it used to read the whole log a second time
for that one event. It still says when the data changed (tests/core/test_run_paths.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from finetune_studio.core import metrics, runs, training
from finetune_studio.core.metrics import MetricsTally, read_metrics
from finetune_studio.core.training import resume, run
from tests.helpers import read_events, small_config


def test_the_tally_keeps_the_runs_first_data_event(tmp_path: Path) -> None:
    tally = MetricsTally()
    for event in ({"event": "run_start", "time": 1.0}, {"event": "data", "train_rows": 180, "eval_rows": 20},
                  {"event": "step", "step": 1, "max_steps": 4},
                  {"event": "data", "train_rows": 45, "eval_rows": 5}):  # a later resume's: not the first
        tally.add(event)
    assert tally.first_data == {"event": "data", "train_rows": 180, "eval_rows": 20}
    assert MetricsTally().first_data is None


@pytest.mark.slow
def test_a_resume_reads_the_metrics_log_once(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                             monkeypatch) -> None:
    stop = threading.Event()

    def stop_at_two(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 2:
            stop.set()

    first = run(small_config(small_dataset, runs_dir, max_steps=4, save_steps=2, eval_steps=2), stop_at_two, stop)
    assert (first.state, first.step) == ("stopped", 2)
    log = first.run_dir / "metrics.jsonl"
    reads: list[Path] = []

    def counted(path: Path, start: int = 0):
        if Path(path) == log:
            reads.append(Path(path))
        return read_metrics(path, start)

    for module in (training, runs, metrics):
        monkeypatch.setattr(module, "read_metrics", counted)
    again = resume(first.run_dir)
    assert (again.state, again.step) == ("finished", 4)
    assert len(reads) == 1
    assert [e["train_rows"] for e in read_events(first.run_dir, "data")] == [180, 180]
    assert not [e for e in read_events(first.run_dir, "notice") if e["message"].startswith("The dataset changed")]
