"""The Runs tab's rows for a run damaged in two ways at once (a failed run's own fix beside an unreadable
config.yaml, a torn status.json beside a missing config.yaml, an interrupted run with unloadable checkpoints and a
config.yaml that does not parse …): each row's tooltip and the selected run's title carry one "To fix:", the
config's first (helper-109). They showed "To fix: … To fix: …"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.core.test_runs_messages_h109 import COMBINATIONS, _combination
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import rows, wait_rows


def test_each_row_and_title_of_a_twice_damaged_run_says_one_fix(qtbot: Any, make_window: Any,
                                                                runs_dir: Path) -> None:
    runs_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: _combination(runs_dir, name) for name in COMBINATIONS}
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    table = wait_rows(qtbot, panel, lambda r: set(COMBINATIONS) <= set(r))
    tips = {name: table[name]["tip"] for name in COMBINATIONS}
    assert {name: tip.count("To fix:") for name, tip in tips.items()} == dict.fromkeys(COMBINATIONS, 1), tips
    for name in COMBINATIONS:
        if "goodconfig" not in name:
            assert tips[name].split("To fix: ", 1)[1].startswith(("correct config.yaml", "put its config.yaml back"))
        panel.select([paths[name]])
        assert panel.details_title.text().count("To fix:") == 1, panel.details_title.text()
    assert rows(panel)["failed-badyaml-none"]["state"] == "failed"


@pytest.mark.slow
def test_the_runs_tab_marks_the_loss_of_a_resumed_run_only(qtbot: Any, make_window: Any, runs_dir: Path) -> None:
    """Two real runs stopped between logging steps: the one never resumed shows its last logged loss plainly (it was
    marked * with "the last loss logged, at step 2; …"); the resumed one keeps its mark and tooltip."""
    from finetune_studio.gui import history
    from finetune_studio.gui.history import COLUMN
    from tests.core.test_runs_messages_h109 import stopped_between_logs
    from tests.helpers import read_events

    plain, again = stopped_between_logs(runs_dir.parent)
    assert plain.parent == runs_dir
    plain_loss = [e["loss"] for e in read_events(plain, "log") if "loss" in e][-1]
    resumed_loss = [e["loss"] for e in read_events(again, "log") if "loss" in e][-1]
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    table = wait_rows(qtbot, panel, lambda r: {"plain", "resumed"} <= set(r))
    assert (table["plain"]["train_loss"], table["resumed"]["train_loss"]) == (f"{plain_loss:.4f}",
                                                                                f"{resumed_loss:.4f}*")
    tips = {table[name]["row"]: name for name in ("plain", "resumed")}
    said = {name: panel.proxy.index(row, COLUMN["train_loss"]).data(history.Qt.ItemDataRole.ToolTipRole)
            for row, name in tips.items()}
    assert said == {"plain": f"{plain_loss:.4f}",  # only its text, as every cell's tooltip (654fe72): no mark
                    "resumed": f"Train loss {resumed_loss:.4f}: the last loss logged, at step 4; none was logged in "
                               "the 1 step after it."}
