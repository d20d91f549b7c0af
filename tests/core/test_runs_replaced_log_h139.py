"""core.runs.summarize continues a run's metrics.jsonl from where its previous summary stopped; a log replaced
since (a run started again from scratch under the name, a copy put over it) is read again from its start. Only a
shorter file was noticed: another, longer file was read on from the old offset, from the middle of a line, and the
Runs tab (whose compared curves are these summaries' since h139) showed the old run's steps and losses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from finetune_studio.core.runs import RunIndex, summarize
from tests.core import test_runs_history as fab

FINISHED = {"state": "finished", "message": "Finished.", "model": "builtin:demo", "dataset": "builtin:sample"}


def fresh(steps: int, loss: float) -> str:
    events = [{"event": "run_start", "time": 1.0}, {"event": "train_begin", "step": 0, "start_step": 0,
                                                    "max_steps": 40, "time": 1.0}]
    for step in range(1, steps + 1):
        events += [{"event": "step", "step": step, "max_steps": 40, "time": 1.0 + step},
                   {"event": "log", "step": step, "loss": loss, "time": 1.0 + step}]
    return "".join(json.dumps(event) + "\n" for event in events)


@pytest.mark.parametrize("how", ["another file", "rewritten in place"])
def test_a_replaced_longer_log_is_read_again_from_its_start(tmp_path: Path, how: str) -> None:
    path = fab.make_run(tmp_path, "again", fab.segment(2, 10, max_steps=20), FINISHED)
    index = RunIndex(tmp_path)
    index.refresh()
    assert index.runs[path].step == 10
    log = path / "metrics.jsonl"
    text = fresh(30, 0.25)
    assert len(text) > log.stat().st_size
    if how == "another file":
        (path / "new.jsonl").write_text(text)
        os.replace(path / "new.jsonl", log)
    else:
        with open(log, "r+") as handle:
            handle.write(text)
    changed, _ = index.refresh()
    run = index.runs[path]
    assert [summary.path for summary in changed] == [path]
    assert (run.step, run.max_steps, run.train_loss) == (30, 40, 0.25)
    assert run.tally.curves.train.pairs() == [(float(step), 0.25) for step in range(1, 31)]
    assert run.duration_s == pytest.approx(30.0)
    assert run == summarize(path)  # what a first reading of the folder says
