"""The Runs tab follows a run another process writes by reading its metrics.jsonl on from the offset it reached.
When the file is replaced by another (a run started again from scratch under the name, a copy put over it), that
offset belongs to the old file: past the end of a shorter one the follower read nothing for good, and inside another
one it read from the middle of a line. The follower now sees it (shorter, another inode, or no line ending at its
offset) and shows the run again from the start of the new file, then follows that."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.core import test_runs_history as fab
from tests.helpers import window_on_runs


def lines(events: list[dict]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


def loss(step: int) -> float:
    return round(1 / step, 4)


def fresh_start(steps: int) -> list[dict]:
    """The log of a run started again: losses 1/step at steps 1, 2, …"""
    begin = {"event": "train_begin", "step": 0, "start_step": 0, "max_steps": 30}
    return [{"event": "run_start", "time": 1.0}, begin] + [event for step in range(1, steps + 1) for event in (
            {"event": "step", "step": step, "max_steps": 30},
            {"event": "log", "step": step, "loss": loss(step)})]


@pytest.mark.parametrize("how", ["shorter, in place", "another file, longer", "rewritten in place, longer"])
def test_a_followed_log_replaced_by_another_is_shown_again_from_its_start(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    path = fab.make_run(runs, "elsewhere", fab.segment(2, 10, end=None, max_steps=30),
                        {"state": "running", "pid": os.getpid(), "message": "Training"})
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.install_chart()
    panel = window.history
    panel.open_run(path)
    assert panel.following == path
    chart = window.chart
    np.testing.assert_array_equal(chart.train.view()[0], [2, 4, 6, 8, 10])
    log = path / "metrics.jsonl"
    old_size = log.stat().st_size
    if how == "shorter, in place":
        log.write_text(lines(fresh_start(2)))
        assert log.stat().st_size < old_size
        expected = [1, 2]
    elif how == "another file, longer":
        new = path / "metrics.jsonl.new"
        new.write_text(lines(fresh_start(14)))
        assert new.stat().st_size > old_size
        os.replace(new, log)
        expected = list(range(1, 15))
    else:  # as `cp other/metrics.jsonl` does: same inode, longer, and no line ends where the follower stopped
        text = lines(fresh_start(14))
        assert len(text) > old_size and text[old_size - 1] != "\n"
        with open(log, "r+") as handle:
            handle.write(text)
        expected = list(range(1, 15))
    qtbot.waitUntil(lambda: list(chart.train.view()[0]) == expected, timeout=5_000)
    assert list(chart.train.view()[1]) == [loss(s) for s in expected]
    assert panel.following == path and window.progress.step == expected[-1]
    with open(log, "a") as handle:  # followed on from the new file's end
        handle.write(lines([{"event": "log", "step": 20, "loss": 0.05}]))
    qtbot.waitUntil(lambda: chart.train.view()[0][-1] == 20, timeout=5_000)
    assert list(chart.train.view()[0]) == [*expected, 20] and chart.train.view()[1][-1] == 0.05


def test_log_restarted_says_which_files_are_not_the_one_read(tmp_path: Path) -> None:
    from finetune_studio.gui.history import log_restarted

    log = tmp_path / "metrics.jsonl"
    log.write_text('{"event": "a"}\n{"event": "b"}\n')
    identity = (log.stat().st_dev, log.stat().st_ino)
    assert not log_restarted(log, 15, identity)  # just past the first line
    assert not log_restarted(log, log.stat().st_size, identity)
    assert log_restarted(log, log.stat().st_size + 1, identity)  # shorter than what was read
    assert log_restarted(log, 10, identity)  # no line ends there
    assert log_restarted(log, 15, (identity[0], identity[1] + 1))  # another file
    assert not log_restarted(tmp_path / "gone.jsonl", 15, identity)  # nothing to read now: tried again later
