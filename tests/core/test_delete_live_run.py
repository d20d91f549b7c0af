"""A run whose status.json is damaged while its trainer still holds the run lock is training: the Runs tab's Delete
(core.runs.delete_run) removed it under the trainer, which then died ("The run folder … was renamed, moved or
deleted while the run trained"), and `runs` listed it as broken, "delete it" (helper-50's hostile test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.runs import RunLock, delete_run, list_runs
from tests.core import test_runs_history as fab


@pytest.mark.parametrize("damage", ["cut", "missing"])
def test_a_training_run_with_a_damaged_status_is_not_deleted(tmp_path: Path, damage: str) -> None:
    runs = tmp_path / "runs"
    path = fab.make_run(runs, "live", fab.segment(1, 7, end=None, max_steps=400),
                        {"state": "running", "message": "Training"})
    with RunLock.acquire(path):  # the trainer (this process stands in for it: its pid is alive)
        if damage == "cut":
            (path / "status.json").write_text('{"state": "runn')
        else:
            (path / "status.json").unlink()
        [summary] = list_runs(runs)
        assert (summary.name, summary.state, summary.live) == ("live", "running", True)
        with pytest.raises(FinetuneError, match="The run live is still training"):
            delete_run(path, runs)
        assert (path / "config.yaml").is_file() and (path / "metrics.jsonl").is_file()
    [summary] = list_runs(runs)  # the trainer is gone: a broken run, which may be deleted
    assert summary.state == "broken" and not summary.live
    delete_run(path, runs)
    assert not path.exists()
