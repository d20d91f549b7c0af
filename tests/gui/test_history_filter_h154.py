"""The Runs tab's filter box, for a user with many runs: it keeps the runs whose columns (shown or hidden for room)
hold every word typed, in any case; selected runs still in view stay selected; no match says so in words; and the
filter holds while the table refreshes with a new run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui.history import COLUMN, RunFilter
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import rows, wait_rows

FINISHED = {"state": "finished", "message": "Finished 20 steps."}


@pytest.fixture
def cold_window(make_window: Any) -> Any:
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def _four_runs(runs_dir: Path) -> dict[str, Path]:
    runs_dir.mkdir(parents=True)
    qwen = {"model": "Qwen/Qwen3-0.6B", "dataset": "/data/horoscopes.jsonl"}
    return {
        "alpha-adapter": fab.make_run(runs_dir, "alpha-adapter", fab.segment(2, 20),
                                      {**FINISHED, **qwen, "method": "lora"}),
        "beta-full": fab.make_run(runs_dir, "beta-full", fab.segment(2, 20), {**FINISHED, **qwen, "method": "full"}),
        "demo-sample": fab.make_run(runs_dir, "demo-sample", fab.segment(2, 20),
                                    {**FINISHED, "model": "builtin:demo", "dataset": "builtin:sample"}),
        "gamma-stopped": fab.make_run(runs_dir, "gamma-stopped", fab.segment(2, 12, end="stopped", max_steps=40),
                                      {"state": "stopped", "message": "Stopped at step 12 of 40, resumable.",
                                       "model": "builtin:demo", "dataset": "builtin:sample"}),
    }


def test_the_rule_keeps_runs_holding_every_word_in_any_case() -> None:
    rule = RunFilter("  QWEN   lora ")
    assert rule.active and rule.words == ["qwen", "lora"]
    assert rule.matches(["a-run", "finished", "Qwen/Qwen3-0.6B", "LoRA"])
    assert not rule.matches(["a-run", "finished", "Qwen/Qwen3-0.6B", "full"])
    assert RunFilter("   ").matches([]) and not RunFilter(" ").active
    assert rule.count_text(2, 340) == "2 of 340 runs" and RunFilter("").count_text(4, 4) == ""
    assert RunFilter("xyz").empty_text(4) == (
        "No run matches 'xyz': it is not in the name, status, model, method, dataset or other columns of any of the "
        "4 runs. To fix: clear the filter (Esc, or the ✕ in the box), or type part of a run's name, model or dataset.")


def test_the_filter_hides_other_runs_keeps_the_selection_and_says_no_match(qtbot: Any, cold_window: Any,
                                                                             runs_dir: Path) -> None:
    paths = _four_runs(runs_dir)
    panel, table, edit = cold_window.history, cold_window.history.table, cold_window.history.filter_edit
    wait_rows(qtbot, panel, lambda r: len(r) == 4)
    assert edit.isVisible() and edit.isClearButtonEnabled()
    assert edit.placeholderText() == "Filter runs by name, model, dataset, status…"
    assert not panel.filter_count.isVisible() and not panel.empty_label.isVisible()
    panel.choose_column("model", False)  # hidden (as for room at the default size): the filter still looks in them
    panel.choose_column("method", False)
    assert table.isColumnHidden(COLUMN["model"]) and table.isColumnHidden(COLUMN["method"])
    panel.select([paths["alpha-adapter"], paths["demo-sample"]])
    assert "2 runs" in panel.details_title.text()

    qtbot.keyClicks(edit, "QWEN")  # in no run's name: the hidden Model column's text
    assert sorted(rows(panel)) == ["alpha-adapter", "beta-full"]
    assert table.model().rowCount() == 2 and not any(table.isRowHidden(row) for row in range(2))
    assert panel.selected_paths() == [paths["alpha-adapter"]]  # still in view: still selected; demo-sample left
    assert panel.details_title.text() == "<b>alpha-adapter</b> — finished: Finished 20 steps."
    assert panel.filter_count.isVisible() and panel.filter_count.text() == "2 of 4 runs"
    assert not panel.empty_label.isVisible()

    qtbot.keyClicks(edit, " lora")  # every word, in any column: the hidden Method column's 'LoRA'
    assert sorted(rows(panel)) == ["alpha-adapter"] and panel.filter_count.text() == "1 of 4 runs"
    table.selectAll()  # Ctrl+A takes the runs in view only (Delete acts on what the user sees)
    assert panel.selected_paths() == [paths["alpha-adapter"]]

    edit.setText("stopped")  # the Status column
    assert sorted(rows(panel)) == ["gamma-stopped"] and panel.selected_paths() == []
    assert not panel.details_summary.isVisible() and panel.details_title.text() == ""

    edit.setText("xyz")
    assert rows(panel) == {} and panel.filter_count.text() == "0 of 4 runs"
    assert panel.empty_label.isVisible()
    assert panel.empty_label.text().startswith("No run matches 'xyz': it is not in the name, status, model")
    assert "To fix: clear the filter" in panel.empty_label.text()

    edit.setFocus()
    qtbot.keyClick(edit, history_key("Escape"))
    assert edit.text() == "" and len(rows(panel)) == 4
    assert not panel.empty_label.isVisible() and not panel.filter_count.isVisible()


def test_the_filter_holds_while_a_new_run_appears(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    _four_runs(runs_dir)
    panel, edit = cold_window.history, cold_window.history.filter_edit
    wait_rows(qtbot, panel, lambda r: len(r) == 4)
    qtbot.keyClicks(edit, "demo")
    assert sorted(rows(panel)) == ["demo-sample", "gamma-stopped"]
    fab.make_run(runs_dir, "new-demo-run", fab.segment(2, 6, end=None, max_steps=40),
                 {"state": "stopped", "message": "Stopped.", "model": "builtin:demo", "dataset": "builtin:sample"})
    fab.make_run(runs_dir, "new-qwen-run", fab.segment(2, 6), {**FINISHED, "model": "Qwen/Qwen3-0.6B"})
    qtbot.waitUntil(lambda: len(panel.model.rows) == 6, timeout=10_000)  # both listed by the poll
    assert edit.text() == "demo"
    assert sorted(rows(panel)) == ["demo-sample", "gamma-stopped", "new-demo-run"]
    assert panel.filter_count.text() == "3 of 6 runs"


def history_key(name: str) -> Any:
    from finetune_studio.gui.history import Qt

    return getattr(Qt.Key, f"Key_{name}")
