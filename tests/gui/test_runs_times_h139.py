"""A run whose metrics.jsonl holds a garbled time (1e300, "nan", "inf", a negative one: a damaged line, a clock
gone wrong) lists with the times its other events give: the Started column raised at every paint of the Runs tab
(OverflowError: timestamp out of range for platform time_t; ValueError: Invalid value NaN), and Time read 0:00 or
a hundred-digit figure. core.metrics.timestamp is the one reading of an event's time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from finetune_studio.core.metrics import timestamp
from finetune_studio.core.runs import summarize
from finetune_studio.gui.history import COLUMNS, RunTableModel
from tests.core.test_runs_history import T0, make_run, segment

FINISHED = {"state": "finished", "message": "Finished.", "model": "builtin:demo", "dataset": "builtin:sample"}


@pytest.mark.parametrize("garbled", [1e300, "nan", "inf", -1e20, "1e400"])
def test_a_garbled_event_time_is_not_the_run_s_start_and_the_table_shows_it(qtbot: Any, tmp_path: Path,
                                                                           garbled: Any) -> None:
    events = segment(2, 10)
    events[0] = {**events[0], "time": garbled}  # the run_start line; the others are T0 + 10 s apart
    run = summarize(make_run(tmp_path, "odd", events, FINISHED))
    assert run.started == T0 + 10 and run.duration_s == pytest.approx(10.0 * (len(events) - 2))
    model = RunTableModel()
    model.upsert([run])
    shown = {key: model.index(0, column).data() for column, (key, _, _) in enumerate(COLUMNS)}
    assert shown["started"] == datetime.fromtimestamp(T0 + 10).strftime("%Y-%m-%d")
    assert shown["duration"] == "2:00"
    tip = model.index(0, [key for key, _, _ in COLUMNS].index("started")).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == datetime.fromtimestamp(T0 + 10).strftime("%Y-%m-%d %H:%M")


def test_timestamp_reads_only_times_a_clock_gives() -> None:
    assert timestamp(T0) == T0 and timestamp("1700000000.5") == 1_700_000_000.5 and timestamp(0) == 0.0
    assert [timestamp(v) for v in (None, True, "x", float("nan"), float("inf"), -1.0, 1e300)] == [None] * 7
