"""The Runs tab: every run of the runs folder listed and kept current, opened, compared, continued and deleted.

Where training is not the point, run folders are fabricated from the files a run writes (tests/core/
test_runs_history.py has the builders); runs that must be real train the demo model for a few steps, in this
process or, for "a run started headless appears and is followed live", in a `finetune-studio train` subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from finetune_studio.core.config import save_config
from finetune_studio.gui import history
from finetune_studio.gui.history import COLUMN, HistoryPanel
from finetune_studio.gui.run_header import RunState
from tests.core import test_runs_history as fab
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window, start_run, window
from tests.helpers import ROOT, read_events, small_config

CORE_CLI = (sys.executable, "-m", "finetune_studio.core.cli")  # what `finetune-studio COMMAND` runs


def rows(panel: HistoryPanel) -> dict[str, dict[str, Any]]:
    """The table as the user sees it (sorted proxy order), by run name: every column's text, and tooltips."""
    out = {}
    proxy = panel.proxy
    for row in range(proxy.rowCount()):
        cells = {key: proxy.index(row, col).data() for key, col in COLUMN.items()}
        cells["tip"] = proxy.index(row, COLUMN["state"]).data(history.Qt.ItemDataRole.ToolTipRole)
        cells["row"] = row
        out[cells["name"]] = cells
    return out


def wait_rows(qtbot: Any, panel: HistoryPanel, condition: Any, timeout: int = 10_000) -> dict[str, dict]:
    qtbot.waitUntil(lambda: condition(rows(panel)), timeout=timeout)
    return rows(panel)


def train_to_the_runs_tab(qtbot: Any, window: Any, config: Any, steps: str) -> tuple[Path, HistoryPanel]:
    """Start `config` in the window, wait for it to finish, and for its row in the Runs tab to say `steps` ("23 /
    23"), selected: what a test of the tab's Train N more … control starts from."""
    start_run(qtbot, window, config)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    run_dir, panel = window.run_dir, window.history
    table = wait_rows(qtbot, panel, lambda r: r.get(run_dir.name, {}).get("state") == "finished")
    assert table[run_dir.name]["steps"] == steps
    panel.select([run_dir])
    return run_dir, panel


def fabricate_three(runs: Path) -> dict[str, Path]:
    """A finished run, a stopped (resumable) one and an interrupted one, with known losses."""
    runs.mkdir(parents=True, exist_ok=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return {
        "finished-run": fab.make_run(runs, "finished-run", fab.segment(2, 20),
                                     {"state": "finished", "message": "Finished 20 steps.", "model": "builtin:demo",
                                      "dataset": "builtin:sample"}),
        "stopped-run": fab.make_run(runs, "stopped-run", fab.segment(2, 12, end="stopped", max_steps=40),
                                    {"state": "stopped", "message": "Stopped at step 12 of 40, resumable."}),
        "interrupted-run": fab.make_run(runs, "interrupted-run", fab.segment(2, 6, end=None),
                                        {"state": "running", "message": "Training", "pid": dead.pid}),
    }


def follow_to_the_end(qtbot: Any, window: Any, path: Path) -> Any:
    """Open the running run at `path` from the Runs tab, see its new lines reach the chart live, and wait until
    the window sees it end; the chart, for the caller's checks of what it holds."""
    panel = window.history
    panel.select([path])
    panel.open_selected()
    chart = window.chart
    assert panel.following == path, "the run ended before it could be opened; raise max_steps"
    assert window.state is RunState.RUNNING
    first = chart.point_count
    qtbot.waitUntil(lambda: chart.point_count >= first + 3, timeout=LONG)  # new lines reach the chart live
    assert panel.following == path
    # the run ended: 150 steps and 3 evaluations in a process of its own, which a loaded CI box slows
    # sevenfold (100 s of LONG's 120 s seen); pytest-timeout (600 s) still bounds it
    qtbot.waitUntil(lambda: panel.following is None, timeout=5 * LONG)
    return chart


@pytest.fixture
def cold_window(make_window: Any) -> Any:
    """A window without the training stack loaded (listing and charts do not need it), on the Runs tab."""
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def test_runs_list_with_status_losses_and_sort(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    fabricate_three(runs_dir)
    panel = cold_window.history
    assert cold_window.tabs.tabText(cold_window.tabs.indexOf(panel)) == "Runs"
    table = wait_rows(qtbot, panel, lambda r: len(r) == 3)
    assert table["finished-run"]["state"] == "finished" and table["finished-run"]["train_loss"] == "0.1500"
    assert table["finished-run"]["eval_loss"] == "0.2000" and table["finished-run"]["steps"] == "20 / 20"
    assert table["finished-run"]["model"] == "demo" and table["finished-run"]["dataset"] == "sample"
    assert table["stopped-run"]["state"] == "stopped" and table["stopped-run"]["train_loss"] == "0.2500"
    assert table["stopped-run"]["eval_loss"] == "0.4000" and table["stopped-run"]["steps"] == "12 / 40"
    assert table["interrupted-run"]["state"] == "interrupted" and "cannot resume" in table["interrupted-run"]["tip"]
    assert table["interrupted-run"]["eval_loss"] == "—"
    assert table["finished-run"]["duration"] == "4:00"  # 25 events, 10 s apart
    assert not panel.empty_label.isVisible()
    assert panel.folder_label.toolTip() == str(runs_dir)

    panel.table.sortByColumn(COLUMN["train_loss"], history.Qt.SortOrder.AscendingOrder)
    table = rows(panel)
    assert sorted(table, key=lambda n: table[n]["row"]) == ["finished-run", "stopped-run", "interrupted-run"]


def test_an_empty_folder_says_how_runs_get_there_and_the_folder_setting_is_followed(
        qtbot: Any, cold_window: Any, runs_dir: Path, tmp_path: Path) -> None:
    panel = cold_window.history
    qtbot.waitUntil(lambda: panel.index is not None and panel.index.runs_dir == runs_dir, timeout=5_000)
    qtbot.waitUntil(panel.empty_label.isVisible, timeout=5_000)
    assert "finetune-studio train" in panel.empty_label.text()

    other = tmp_path / "elsewhere"
    fab.make_run(other, "over-there", fab.segment(2, 4), {"state": "finished"})
    form = cold_window.training_form
    form.runs_dir_edit.setText(str(other))
    form.runs_dir_edit.textEdited.emit(str(other))  # as typing does
    assert cold_window.config.runs_dir == str(other)
    table = wait_rows(qtbot, panel, lambda r: list(r) == ["over-there"], timeout=5_000)
    assert table["over-there"]["state"] == "finished" and not panel.empty_label.isVisible()
    assert panel.folder_label.toolTip() == str(other)


def test_a_broken_run_folder_lists_with_its_reason_and_opens(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    path = fab.make_run(runs_dir, "broken-run", fab.segment(2, 8, end=None), raw_tail='{"event": "lo')
    (path / "status.json").write_text('{"state": "runn')
    (runs_dir / "empty-folder").mkdir()
    panel = cold_window.history
    table = wait_rows(qtbot, panel, lambda r: "broken-run" in r)
    assert list(table) == ["broken-run"]
    assert table["broken-run"]["state"] == "broken" and table["broken-run"]["train_loss"] == "0.3750"
    assert table["broken-run"]["tip"].startswith("status.json is cut off or not JSON (it reads '{\"state\": \"runn'")
    panel.select([path])
    assert "broken-run</b> — broken" in panel.details_title.text()
    assert "name: broken-run" in panel.details.toPlainText()  # its config is shown
    assert not panel.continue_button.isEnabled() and panel.delete_button.isEnabled()
    panel.open_selected()
    assert cold_window.run_dir == path and cold_window.chart.point_count == 4


def test_open_shows_chart_and_config(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    paths = fabricate_three(runs_dir)
    panel = cold_window.history
    wait_rows(qtbot, panel, lambda r: len(r) == 3)
    panel.select([paths["stopped-run"]])
    assert panel.open_button.isEnabled() and panel.folder_button.isEnabled()
    assert "stopped-run</b> — stopped: Stopped at step 12 of 40" in panel.details_title.text()
    assert panel.details.toPlainText() == (paths["stopped-run"] / "config.yaml").read_text()
    panel.open_selected()
    chart = cold_window.chart
    x, y = chart.raw_curve.getOriginalDataset()
    assert list(x) == list(range(2, 13, 2)) and list(y) == pytest.approx([3.0 / s for s in range(2, 13, 2)])
    assert list(chart.eval_points.getOriginalDataset()[0]) == [10]
    assert cold_window.run_dir == paths["stopped-run"] and panel.following is None
    assert "Stopped at step 12 of 40" in cold_window.header.state_label.text()

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    row = rows(panel)["finished-run"]["row"]
    center = panel.table.visualRect(panel.proxy.index(row, 0)).center()
    QTest.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    QTest.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=center)  # double-click opens
    assert cold_window.run_dir == paths["finished-run"] and cold_window.state is RunState.FINISHED


def _fragments(block: Any) -> list[Any]:
    """A text block's runs of one character format (QTextBlock's iterator, as a list)."""
    found, it = [], block.begin()
    while not it.atEnd():
        found.append(it.fragment())
        it += 1
    return found


def test_compare_three_runs_overlays_their_curves(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    paths = fabricate_three(runs_dir)
    panel = cold_window.history
    wait_rows(qtbot, panel, lambda r: len(r) == 3)
    panel.select(list(paths.values()))
    chart = cold_window.chart
    assert sorted(chart.overlays) == sorted(paths)
    assert [label.text for _, label in chart.legend.items] == [p.name for p in panel.selected_paths()]
    expected = {"finished-run": (2, 20), "stopped-run": (2, 12), "interrupted-run": (2, 6)}
    for name, (first, last) in expected.items():
        x, y = chart.overlays[name].raw.getOriginalDataset()
        assert list(x) == list(range(first, last + 1, 2))
        np.testing.assert_allclose(y, [3.0 / s for s in range(first, last + 1, 2)])
        evals = [s for s in range(first, last + 1, 2) if s % 10 == 0]
        ex, ey = chart.overlays[name].evals.getOriginalDataset()
        assert list(ex if ex is not None else []) == evals
    assert len({o.color for o in chart.overlays.values()}) == 3
    assert "3 runs" in panel.details_title.text() and not panel.open_button.isEnabled()
    rows = panel.details.toPlainText().splitlines()[1:]
    side_by_side = {line.split()[1]: line.split()[2:] for line in rows}
    assert side_by_side["finished-run"] == ["finished", "20", "/", "20", "0.1500", "0.2000", "demo"]
    assert side_by_side["interrupted-run"] == ["interrupted", "6", "/", "20", "0.5000", "—", "demo"]
    # Each row leads with the run's line in its colour on the chart: the key when the legend gives way.
    document = panel.details.document()
    for row, line in enumerate(rows, start=1):
        name = line.split()[1]
        assert line.startswith("━━  ")
        block = document.findBlockByNumber(row)
        colours = [(fragment.position() - block.position(), fragment.length(),
                    fragment.charFormat().foreground().color().name())
                   for fragment in _fragments(block)]
        assert colours[0] == (0, 2, chart.overlays[name].color)
        assert all(colour != chart.overlays[name].color for _, _, colour in colours[1:])

    # A compared run that grows (another process still writing it) is redrawn on the next poll.
    with open(paths["stopped-run"] / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps({"event": "log", "step": 14, "loss": 0.1}) + "\n")
    qtbot.waitUntil(lambda: len(chart.overlays["stopped-run"].x) == 7, timeout=5_000)

    panel.select([paths["finished-run"]])  # back to one: the comparison ends
    assert chart.overlays == {} and [label.text for _, label in chart.legend.items] == ["train loss", "eval loss"]


def test_delete_asks_first_and_refuses_a_live_run(qtbot: Any, cold_window: Any, runs_dir: Path,
                                                  dialog_log: DialogLog,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    paths = fabricate_three(runs_dir)
    live = fab.make_run(runs_dir, "live-run", fab.segment(2, 4, end=None),
                        {"state": "running", "pid": os.getpid()})
    panel = cold_window.history
    wait_rows(qtbot, panel, lambda r: len(r) == 4)
    asked: list[list[str]] = []
    answer = [False]
    monkeypatch.setattr(history, "confirm_delete", lambda parent, names: asked.append(names) or answer[0])

    panel.select([paths["stopped-run"]])
    panel.open_selected()
    panel.delete_selected()  # cancelled
    assert asked == [["stopped-run"]] and paths["stopped-run"].is_dir() and "stopped-run" in rows(panel)

    answer[0] = True
    panel.select([paths["stopped-run"], paths["interrupted-run"]])
    panel.delete_selected()
    assert sorted(asked[-1]) == ["interrupted-run", "stopped-run"]
    assert not paths["stopped-run"].exists() and not paths["interrupted-run"].exists()
    assert sorted(rows(panel)) == ["finished-run", "live-run"]
    assert cold_window.run_dir is None and cold_window.chart.point_count == 0  # the shown run went with it
    assert not cold_window.resume_action.isEnabled()
    assert dialog_log.errors == []

    panel.select([live])
    assert not panel.delete_button.isEnabled() and "stop it first" in panel.delete_button.toolTip()
    panel.delete_selected()
    assert live.is_dir() and len(asked) == 2
    assert dialog_log.errors[-1][0] == "Cannot delete a running run" and "Stop it first" in dialog_log.errors[-1][1]


def test_a_run_written_by_another_process_is_followed_live(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    """The other process is simulated by appending lines (the slow test below uses a real CLI run)."""
    path = fab.make_run(runs_dir, "elsewhere", fab.segment(2, 10, end=None, max_steps=30),
                        {"state": "running", "pid": os.getpid(), "message": "Training"})
    panel = cold_window.history
    wait_rows(qtbot, panel, lambda r: r.get("elsewhere", {}).get("state") == "running")
    panel.select([path])
    panel.open_selected()
    chart = cold_window.chart
    assert panel.following == path and cold_window.state is RunState.RUNNING
    assert "another process" in cold_window.header.state_label.text() and chart.point_count == 5

    def append(events: list[dict]) -> None:
        with open(path / "metrics.jsonl", "a") as handle:
            handle.write("".join(json.dumps(e) + "\n" for e in events))

    append([{"event": "log", "step": s, "loss": 1.0 / s} for s in (12, 14)] + [{"event": "step", "step": 14,
                                                                                 "max_steps": 30}])
    qtbot.waitUntil(lambda: chart.point_count == 7, timeout=3_000)
    assert cold_window.progress.step == 14
    with open(path / "metrics.jsonl", "a") as handle:  # a line being written: not drawn until it is complete
        handle.write('{"event": "log", "step": 16, "lo')
    qtbot.wait(3 * history.FOLLOW_MS)
    assert chart.point_count == 7
    with open(path / "metrics.jsonl", "a") as handle:
        handle.write('ss": 0.05}\n')
    qtbot.waitUntil(lambda: chart.point_count == 8, timeout=3_000)
    assert chart.train.view()[1][-1] == 0.05
    table = wait_rows(qtbot, panel, lambda r: r["elsewhere"]["train_loss"] == "0.0500")  # the row follows too
    assert table["elsewhere"]["steps"] == "16 / 30"

    append([{"event": "end", "state": "finished", "step": 16, "max_steps": 16}])
    (path / "status.json").write_text(json.dumps({"state": "finished", "message": "Finished 16 steps.",
                                                  "pid": os.getpid()}))
    qtbot.waitUntil(lambda: panel.following is None, timeout=3_000)
    assert cold_window.state is RunState.FINISHED and chart.point_count == 8
    wait_rows(qtbot, panel, lambda r: r["elsewhere"]["state"] == "finished")


@pytest.mark.slow
def test_continue_for_more_epochs_trains_further_in_the_same_run(qtbot: Any, window: Any,
                                                                 small_dataset: Path, runs_dir: Path) -> None:
    # One epoch of 180 rows at batch 8 is 23 steps; no max_steps, so the epochs decide.
    run_dir, panel = train_to_the_runs_tab(
        qtbot, window, small_config(small_dataset, runs_dir, max_steps=-1, save_steps=100, eval_steps=100), "23 / 23")
    panel.continue_epochs.setValue(1)
    panel.continue_button.click()
    assert window.runner.running and window.state is RunState.PREPARING
    assert "for 1 more epoch" in window.header.state_label.text()
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED and not window.runner.running, timeout=LONG)
    assert [b["start_step"] for b in read_events(run_dir, "train_begin")] == [0, 23]
    assert read_events(run_dir, "end")[-1]["step"] == 46
    assert "num_train_epochs: 2.0" in (run_dir / "config.yaml").read_text()
    # The hidden Runs tab is not polled while the app trains; it catches up within a poll once the run ends.
    table = wait_rows(qtbot, panel, lambda r: r[run_dir.name]["steps"] == "46 / 46")
    assert table[run_dir.name]["state"] == "finished"
    x = window.chart.train.view()[0]
    assert x[-1] == 46 and list(x) == sorted(set(x))


@pytest.mark.slow
def test_a_headless_cli_run_appears_and_its_chart_updates_live(qtbot: Any, cold_window: Any, small_dataset: Path,
                                                                runs_dir: Path, tmp_path: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=150, eval_steps=50, save_steps=1000, logging_steps=2)
    config.name = "from-the-cli"
    save_config(config, tmp_path / "cli.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([*CORE_CLI, "train", str(tmp_path / "cli.yaml"), "--quiet"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    try:
        panel = cold_window.history
        path = runs_dir / "from-the-cli"
        wait_rows(qtbot, panel, lambda r: r.get("from-the-cli", {}).get("state") == "running", timeout=LONG)
        qtbot.waitUntil(lambda: any(e["event"] == "log" for e in fab_events(path)), timeout=LONG)
        chart = follow_to_the_end(qtbot, cold_window, path)
        assert process.wait(timeout=60) == 0, "".join(output)
        assert cold_window.state is RunState.FINISHED
        assert chart.point_count == 75
        logged = [(e["step"], e["loss"]) for e in read_events(path, "log")]
        x, y = chart.train.view()
        assert list(zip(x, y)) == logged
        table = wait_rows(qtbot, panel, lambda r: r["from-the-cli"]["state"] == "finished")
        assert table["from-the-cli"]["train_loss"] == f"{logged[-1][1]:.4f}"
        assert table["from-the-cli"]["steps"] == "150 / 150"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def fab_events(path: Path) -> list[dict]:
    from finetune_studio.core.runs import read_metrics

    return read_metrics(path / "metrics.jsonl")[0]


def test_use_settings_loads_the_run_config_as_a_new_one(qtbot: Any, cold_window: Any, runs_dir: Path,
                                                         small_dataset: Path) -> None:
    path = runs_dir / "source-run"
    path.mkdir(parents=True)
    config = small_config(small_dataset, runs_dir, learning_rate=3e-4)
    config.name = "source-run"
    save_config(config, path / "config.yaml")
    (path / "status.json").write_text(json.dumps({"state": "finished", "pid": 1}))
    panel = cold_window.history
    wait_rows(qtbot, panel, lambda r: "source-run" in r)
    panel.select([path])
    panel.use_button.click()
    assert cold_window.config.training["learning_rate"] == 3e-4 and cold_window.config.name == ""
    assert cold_window.path is None and cold_window.isWindowModified()
    assert "source-run" in cold_window.windowTitle()


def test_run_names_and_the_dataset_column_are_readable_at_the_default_size(qtbot: Any, cold_window: Any,
                                                                           runs_dir: Path) -> None:
    """Issue 12 item 14: at the default window size the generated names are shown whole and the model and
    dataset columns are in view without scrolling; a name too long for the tab is cut in the middle (its date
    stays) and shown whole in the tooltip."""
    from PySide6.QtCore import QModelIndex

    from finetune_studio.core.runs import generate_run_name

    runs_dir.mkdir(parents=True)
    runs = [("builtin:demo", "builtin:sample"), ("Qwen/Qwen3-0.6B", "/d/x.csv"),
            ("org/" + "m" * 60, "/data/" + "d" * 60 + ".jsonl")]
    names = [generate_run_name(model, dataset) for model, dataset in runs]
    assert names[0].startswith("demo-sample-") and names[1].startswith("Qwen3-0.6B-x-")

    def add(i: int) -> None:
        fab.make_run(runs_dir, names[i], fab.segment(2, 20), {"state": "finished", "message": "Finished 20 steps.",
                                                              "model": runs[i][0], "dataset": runs[i][1]})

    def in_view(table: Any) -> None:
        header, viewport = table.horizontalHeader(), table.viewport().width()
        for column, (key, _, _) in enumerate(history.COLUMNS):  # every column (helper-124: steps, time, start)
            assert header.sectionViewportPosition(column) + header.sectionSize(column) <= viewport, key

    add(0)
    add(1)
    assert (cold_window.width(), cold_window.height()) == (1280, 800)  # the default size
    panel, table = cold_window.history, cold_window.history.table
    wait_rows(qtbot, panel, lambda r: len(r) == 2)
    qtbot.waitUntil(lambda: table.viewport().width() > 300, timeout=5_000)
    in_view(table)  # at 1280 px every column is in view, the names cut in the middle (helper-124)
    cold_window.splitter.setSizes([800, 480])  # a wider tab: the generated names, model and dataset are whole
    qtbot.waitUntil(lambda: table.viewport().width() > 700, timeout=5_000)
    qtbot.wait(50)
    in_view(table)
    text_width = table.fontMetrics().horizontalAdvance
    for name in names[:2]:
        assert table.columnWidth(COLUMN["name"]) >= text_width(name) + 8, name  # shown whole
    for key, text in (("model", "Qwen3-0.6B"), ("dataset", "x.csv")):
        assert table.columnWidth(COLUMN[key]) >= text_width(text) + 8, key

    add(2)  # far too long for the tab: cut in the middle (the date stays), whole in the tooltip
    wait_rows(qtbot, panel, lambda r: len(r) == 3)
    in_view(table)
    assert table.columnWidth(COLUMN["name"]) < text_width(names[2])
    assert table.textElideMode() == history.Qt.TextElideMode.ElideMiddle
    row = rows(panel)[names[2]]["row"]
    assert panel.proxy.index(row, COLUMN["name"], QModelIndex()).data(history.Qt.ItemDataRole.ToolTipRole) \
        .startswith(names[2] + "\n")


def test_compared_runs_keep_their_colours_when_another_is_selected(qtbot: Any, cold_window: Any,
                                                                    runs_dir: Path) -> None:
    """Issue 12 item 14: adding a run to a comparison (it may sort above the others) leaves the colours of the
    runs already on the chart as they were; the new one takes a colour of its own."""
    paths = fabricate_three(runs_dir)
    panel = cold_window.history
    wait_rows(qtbot, panel, lambda r: len(r) == 3)
    order = [panel.proxy.index(r, 0).data(history.PATH_ROLE) for r in range(3)]  # as the table lists them
    last_two = [Path(p) for p in order[1:]]  # the two lower rows first: the third then sorts above them
    panel.select(last_two)
    chart = cold_window.chart
    before = {name: overlay.color for name, overlay in chart.overlays.items()}
    assert sorted(before) == sorted(p.name for p in last_two)
    panel.select(list(paths.values()))
    after = {name: overlay.color for name, overlay in chart.overlays.items()}
    assert len(after) == 3 and {name: after[name] for name in before} == before
    assert len(set(after.values())) == 3
    assert [label.text for _, label in chart.legend.items] == [p.name for p in panel.selected_paths()]


def test_the_table_names_sources_by_the_one_local_or_hub_rule() -> None:
    from finetune_studio.gui.history import _source_text

    assert _source_text("builtin:sample") == "sample" and _source_text("builtin:demo", file_name=False) == "demo"
    assert _source_text("/data/horoscopes.csv") == "horoscopes.csv"  # a local file by its name
    assert _source_text("./notes/") == "notes"
    assert _source_text("Abirate/english_quotes") == "Abirate/english_quotes"  # a Hub id whole, owner included
    assert _source_text("/models/mine", file_name=False) == "/models/mine"
    assert _source_text(None) == _source_text("") == "—"


def test_a_run_name_with_markup_characters_shows_as_typed(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    """A run folder named '<b>bold & co' showed as 'bold & co' in bold in the details title (read as HTML),
    helper-50."""
    path = fab.make_run(runs_dir, "<b>bold & co", fab.segment(2, 4, max_steps=4),
                        {"state": "finished", "message": "Finished."})
    panel = cold_window.history
    wait_rows(qtbot, panel, lambda r: "<b>bold & co" in r)
    panel.select([path])
    assert panel.details_title.text().startswith("<b>&lt;b&gt;bold &amp; co</b> — finished")
