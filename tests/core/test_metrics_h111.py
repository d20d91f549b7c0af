"""The one metrics reader (core.metrics) on damaged and odd metrics.jsonl files (helper-111's findings).

Each file is written byte for byte as a damaged log would hold it; the assertions are on what the reader returns,
what the curves hold and what the Runs tab's summary says, for the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

from finetune_studio.core import metrics
from finetune_studio.core.runs import summarize
from tests.core.test_runs_history import make_run, segment


def log(step: int, loss: float) -> bytes:
    return json.dumps({"event": "log", "step": step, "loss": loss, "learning_rate": 1e-3}).encode() + b"\n"


def test_a_line_with_a_bare_carriage_return_is_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    # A damaged line holding a lone CR (0x0D) used to end the read: splitlines() cut the line there, the piece
    # before the CR had no newline and was taken for a torn last line, so steps 2 and 3 were never read and the
    # offset stayed on that line for good (a follower polling the file read nothing more, ever).
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(log(1, 1.0) + b'garbage\r{"event": "log"\n' + log(2, 0.9) + log(3, 0.8))
    events, offset = metrics.read_metrics(path)
    assert [event["step"] for event in events] == [1, 2, 3]
    assert offset == path.stat().st_size
    assert metrics.read_curves(path).train.pairs() == [(1.0, 1.0), (2.0, 0.9), (3.0, 0.8)]


def test_a_torn_last_line_waits_and_is_read_once_it_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    whole = log(1, 1.0) + log(2, 0.9)
    path.write_bytes(whole + b'{"event": "log", "step": 3, "lo')
    events, offset = metrics.read_metrics(path)
    assert ([event["step"] for event in events], offset) == ([1, 2], len(whole))
    path.write_bytes(whole + log(3, 0.8))  # the writer finished the line
    events, offset = metrics.read_metrics(path, offset)
    assert ([event["step"] for event in events], offset) == ([3], path.stat().st_size)


def test_lines_that_are_not_one_event_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + log(1, 1.0) + b"\n   \n" + b"not json\n" + b"[1, 2]\n" + b"42\n"
                     + b'{"event": "log", "step": 9, "loss": 9}, {"event": "log", "step": 9, "loss": 9}\n'
                     + b"\xff\xfe broken bytes\n" + b"[" * 100_000 + b"\n" + log(2, 0.9) + b"\r\n" + log(3, 0.8))
    events, offset = metrics.read_metrics(path)
    # The first line keeps its byte order mark's event (json.loads read it so); a line nested past the parser's
    # depth is skipped like any other bad line (json.loads raised RecursionError, out of every reader).
    assert [event["step"] for event in events] == [1, 2, 3]
    assert offset == path.stat().st_size


def test_an_event_kind_that_is_a_list_or_an_object_is_no_event(tmp_path: Path) -> None:
    # {"event": ["log"]} in a hand-edited or damaged line raised TypeError: unhashable type: 'list' in the curves'
    # and the summary's set lookups, so the chart, the Runs tab and `finetune-studio runs` failed on the run.
    odd = [{"event": ["log"], "step": 3, "loss": 5.0}, {"event": {"kind": "eval"}, "step": 4, "eval_loss": 5.0}]
    events = segment(2, 6, end=None) + odd + [{"event": "log", "step": 8, "loss": 0.25}]
    path = make_run(tmp_path, "odd-kinds", events, {"state": "stopped", "message": "Stopped."})
    curves = metrics.read_curves(path / "metrics.jsonl")
    assert curves.train.pairs() == [(2.0, 1.5), (4.0, 0.75), (6.0, 0.5), (8.0, 0.25)]
    assert curves.evals.pairs() == []
    tally = metrics.MetricsTally()
    for event in metrics.read_metrics(path / "metrics.jsonl")[0]:
        tally.add(event)
    assert (tally.train_loss, tally.step, tally.events) == (0.25, 8, len(events))
    run = summarize(path)
    assert (run.train_loss, run.step) == (0.25, 8)


def test_losses_not_drawn_follow_the_same_rules_as_the_curve(tmp_path: Path) -> None:
    curves = metrics.RunCurves()
    curves.add_events([{"event": "train_begin", "step": 0, "start_step": 0}] +
                      [{"event": "log", "step": step, "loss": 1.0 / step} for step in range(1, 11)])
    # Killed and logged again from step 6 without a train_begin: a NaN at 6 replaces 6..10, as a finite loss would
    # (the curve kept 6..10 while the summary said nan).
    assert curves.add_event({"event": "log", "step": 6, "loss": "nan"})
    assert [x for x, _ in curves.train.pairs()] == [1, 2, 3, 4, 5]
    assert curves.skipped["train"].x.tolist() == [6.0] and str(curves.last_loss()) == "nan"
    curves.add_event({"event": "log", "step": 6, "loss": 0.5})  # and a finite one replaces the NaN
    assert (len(curves.skipped["train"]), curves.last_loss()) == (0, 0.5)
    curves.add_event({"event": "eval", "step": 7, "eval_loss": "inf"})
    curves.add_event({"event": "log", "step": 8, "loss": "-inf"})
    copy = curves.copy()
    curves.add_event({"event": "train_begin", "step": 6, "start_step": 6})  # the resume rule drops them
    assert (len(curves.skipped["train"]), len(curves.skipped["evals"]), curves.last_loss()) == (0, 0, 0.5)
    assert copy.skipped["evals"].pairs() == [(7.0, float("inf"))] and copy.last_loss() == float("-inf")
