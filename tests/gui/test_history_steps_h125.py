"""The Runs tab's Steps column writes counts as `finetune-studio runs` does (core.metrics.count_text): a broken run's
step of 1e18 was '1,000,000,000,000,000,000 / 1,000,000,000,000,000,000', which made the column that wide for every
row."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core.runs import summarize
from finetune_studio.gui.history import RunTableModel
from tests.core.test_runs_history import make_run


def test_the_steps_column_says_a_step_of_1e18_in_short(tmp_path: Path) -> None:
    begin = {"event": "train_begin", "step": 0, "start_step": 0}
    normal = make_run(tmp_path, "normal", [{**begin, "max_steps": 1500}, {"event": "step", "step": 1200}],
                      {"state": "stopped", "step": 1200, "max_steps": 1500})
    broken = make_run(tmp_path, "broken", [{**begin, "max_steps": 10**18}, {"event": "step", "step": 10**18}],
                      {"state": "stopped", "step": 10**18, "max_steps": 10**18})
    unplanned = make_run(tmp_path, "unplanned", [{"event": "step", "step": 3 * 10**12}], {"state": "stopped"})
    shown = {path.name: RunTableModel._display(summarize(path), "steps") for path in (normal, broken, unplanned)}
    assert shown == {"normal": "1,200 / 1,500", "broken": "1e18 / 1e18", "unplanned": "3e12"}
