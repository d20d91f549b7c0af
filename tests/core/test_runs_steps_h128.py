"""`finetune-studio runs`: one run with a step of 1e18 (a broken or hand-edited run's files) no longer widens the
steps column, and so the table, for every row: counts have separators, and from 1e9 on are said in short."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.runs import RunSummary
from tests.core.test_cli_bad_folders import fabricated_run


def test_step_count_separators_and_a_bound() -> None:
    assert [cli.step_count(v) for v in (0, 6, 1234, 999_999_999, 10**9, 1_234_567_890_123, 10**18, 10**400,
                                        1e18, 2.5, None)] == [
        "0", "6", "1,234", "999,999,999", "1e9", "1.23e12", "1e18", "1e400", "1e18", "2.5", "None"]


def test_runs_table_steps_column_stays_narrow() -> None:
    runs = [RunSummary(Path("huge"), "stopped", "Stopped.", step=10**18, max_steps=10**18),
            RunSummary(Path("plain"), "finished", "Finished 1,500 steps.", step=1500, max_steps=1500, train_loss=1.25)]
    lines = cli.runs_table(runs).splitlines()
    assert lines == [
        "run    state           steps  train loss  eval loss  message",
        "huge   stopped     1e18/1e18           -          -  Stopped.",
        "plain  finished  1,500/1,500      1.2500          -  Finished 1,500 steps.",
    ]


def test_finetune_studio_runs_with_a_step_of_1e18(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fabricated_run(tmp_path, "plain", "stopped", "Stopped at step 2.")
    odd = fabricated_run(tmp_path, "odd", "stopped", "Stopped.")
    with (odd / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps({"time": 2e9, "event": "step", "step": 10**18, "max_steps": 10**18}) + "\n")
    assert cli.main(["runs", "--runs-dir", str(tmp_path)]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("* ")]  # notes below it
    # (whether the odd run's loss is marked * as not its last step's is core.runs' business, not the column's)
    assert table[0] == "run    state        steps  train loss  eval loss  message"  # steps: 9 columns wide
    assert sorted(re.split(r"\s{2,}", line)[:3] for line in table[1:]) == [
        ["odd", "stopped", "1e18/1e18"], ["plain", "stopped", "2/4"]]
