"""A garbled negative step or run length in metrics.jsonl or status.json is no count: the Runs tab and `finetune-studio
runs` listed '-3 / 10' and '3 / -5'."""

from __future__ import annotations

import json
from pathlib import Path

from finetune_studio.core.runs import summarize
from tests.core.test_runs_history import make_run

FINISHED = {"state": "finished", "message": "Finished."}


def test_negative_steps_and_lengths_are_not_listed(tmp_path: Path) -> None:
    run = summarize(make_run(tmp_path, "a", [{"event": "step", "step": 4, "max_steps": 10},
                                             {"event": "step", "step": -3, "max_steps": -5}], FINISHED))
    assert (run.step, run.max_steps) == (4, 10)  # the last counts that are counts
    path = make_run(tmp_path, "b", [], {**FINISHED, "step": -7, "max_steps": -1})
    assert (summarize(path).step, summarize(path).max_steps) == (0, 0)
    (path / "status.json").write_text(json.dumps({**FINISHED, "step": 6, "max_steps": 12}))
    assert (summarize(path).step, summarize(path).max_steps) == (6, 12)
