"""The Runs tab's buttons pressed on a run whose folder was deleted or moved outside the app (a file manager, `rm`,
another window) after the table listed it and before its next poll noticed: the run leaves the table at once, the
status bar says why, and nothing is done to a folder that is not there (no error box about a config file not found,
no chart of a run with no files, no 'was not deleted').

The real window on a runs folder of fabricated runs (tests/core/test_runs_history.py's builders); the table's poll is
stopped once the runs are listed, so each button is pressed before it could notice."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import dialogs, history
from tests.core import test_runs_history as fab
from tests.helpers import window_on_runs

FINISHED = {"state": "finished", "message": "Finished 20 steps.", "model": "builtin:demo", "dataset": "builtin:sample"}


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _parent, title, message, _details=None:
                        shown.append((title, message)))
    return shown


def runs_tab(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path]:
    """The window on the Runs tab, listing 'kept' and 'gone', its poll stopped."""
    runs = tmp_path / "runs"
    for name in ("kept", "gone"):
        fab.make_run(runs, name, fab.segment(2, 20), FINISHED)
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2 and not panel._task.busy, timeout=10_000)
    panel._poll.stop()  # the user is faster than the next listing
    return window, runs


def listed(panel: Any) -> list[str]:
    return sorted(panel.proxy.index(row, 0).data() for row in range(panel.proxy.rowCount()))


def gone_said(runs: Path) -> str:
    return f"gone is no longer in {runs} (deleted or moved outside the app), so it was taken off the list."


def test_open_and_use_settings_of_a_run_deleted_outside_the_app(qtbot: Any, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                errors: list[tuple[str, str]]) -> None:
    """Before: Open showed the missing run on the chart as an empty run, and Use its settings, with that run shown,
    said 'Cannot use these settings: … Config file not found: …/gone/config.yaml: the folder … does not exist. To
    fix: check the path, or write a new config with finetune-studio init NEW.yaml', keeping the row and the run."""
    window, runs = runs_tab(qtbot, tmp_path, monkeypatch)
    panel = window.history
    panel.select([runs / "gone"])
    panel.open_button.click()
    assert window.session.run_dir == runs / "gone"  # shown on the chart
    shutil.rmtree(runs / "gone")

    panel.use_button.click()
    assert errors == []
    assert listed(panel) == ["kept"]
    assert window.statusBar().currentMessage() == gone_said(runs)
    assert window.session.run_dir is None  # the window let it go, as after Delete
    assert panel.selected_paths() == []
    assert not panel.open_button.isEnabled() and not panel.use_button.isEnabled()
    assert not panel.delete_button.isEnabled()

    qtbot.waitUntil(lambda: not panel._task.busy, timeout=10_000)  # the listing has seen it go
    fab.make_run(runs, "gone", fab.segment(2, 20), FINISHED)  # listed again by the next poll, Open: nothing stale
    panel.refresh()
    qtbot.waitUntil(lambda: listed(panel) == ["gone", "kept"], timeout=10_000)
    panel.select([runs / "gone"])
    shutil.rmtree(runs / "gone")
    panel.open_button.click()
    assert window.session.run_dir is None and errors == []
    assert listed(panel) == ["kept"]
    assert window.statusBar().currentMessage() == gone_said(runs)


def test_delete_of_a_run_deleted_outside_the_app_is_no_error(qtbot: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             errors: list[tuple[str, str]]) -> None:
    """Before: Delete asked to delete the missing folder, then said 'Some runs were not deleted: …/gone does not
    exist (was it deleted already?).' in an error box, with nothing to do about it. With a run that is still there
    selected too, only that one is asked about, and deleted."""
    window, runs = runs_tab(qtbot, tmp_path, monkeypatch)
    panel = window.history
    asked: list[list[str]] = []
    monkeypatch.setattr(history, "confirm_delete", lambda _parent, names: asked.append(names) or True)
    panel.select([runs / "gone"])
    shutil.rmtree(runs / "gone")
    panel.delete_button.click()
    assert errors == [] and asked == []
    assert listed(panel) == ["kept"]
    assert window.statusBar().currentMessage() == gone_said(runs)

    qtbot.waitUntil(lambda: not panel._task.busy, timeout=10_000)  # the listing has seen it go
    fab.make_run(runs, "gone", fab.segment(2, 20), FINISHED)
    panel.refresh()
    qtbot.waitUntil(lambda: listed(panel) == ["gone", "kept"], timeout=10_000)
    panel.select([runs / "gone", runs / "kept"])
    shutil.rmtree(runs / "gone")
    panel.delete_button.click()
    assert errors == [] and asked == [["kept"]]
    assert listed(panel) == [] and not (runs / "kept").exists()
    assert window.statusBar().currentMessage() == "Deleted kept."


def test_a_config_that_is_not_utf8_is_shown_with_what_to_do(qtbot: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the details under the table said "# config.yaml cannot be read: 'utf-8' codec can't decode byte 0xe9
    in position 37: invalid continuation byte" (Python's codec error, and no way on) in place of the file."""
    window, runs = runs_tab(qtbot, tmp_path, monkeypatch)
    panel = window.history
    (runs / "kept" / "config.yaml").write_bytes(b"name: kept\nmodel:\n  name_or_path: caf\xe9\n")
    panel.select([runs / "kept"])
    assert panel.details.toPlainText() == (
        "# config.yaml is not UTF-8 text (byte 0xe9 on line 3), so the run cannot be continued or its settings used; "
        "what cannot be read shows as \ufffd below. To fix: save it as UTF-8 (most editors offer the encoding when "
        "saving as).\nname: kept\nmodel:\n  name_or_path: caf\ufffd\n")


def test_compared_runs_with_a_very_long_name_keep_their_figures_in_view(qtbot: Any, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the text under the table padded every row to the longest run name, so with a 141-character name the
    status, steps and losses of every compared run began past column 140 of a box that does not wrap: out of view
    at any window size. Now a name longer than 40 characters is cut in the middle there (the table has it whole)."""
    runs = tmp_path / "runs"
    long_name = "spaces and ünïcødé ✓ " + "long" * 30 + "-250101-0000"
    fab.make_run(runs, long_name, fab.segment(2, 20), FINISHED)
    fab.make_run(runs, "short", fab.segment(2, 10), FINISHED)
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2, timeout=10_000)
    panel.select([runs / long_name, runs / "short"])
    lines = panel.details.toPlainText().splitlines()
    cut = "spaces and ünïcødé ✓…onglong-250101-0000"  # 40 characters: its start and its date
    assert lines[0] == f"    {'run':<40}  status               steps  train loss  eval loss  model"
    assert sorted(line[4:] for line in lines[1:]) == [  # after each row's line key on the chart (━━, ╍╍)
        f"{'short':<40}  {'finished':<11}  {'10 / 20':>13}  {'0.3000':>10}  {'0.4000':>9}  demo",
        f"{cut}  {'finished':<11}  {'20 / 20':>13}  {'0.1500':>10}  {'0.2000':>9}  demo",
    ]
    assert {panel.proxy.index(row, 0).data() for row in range(2)} == {long_name, "short"}  # the table: whole


def test_the_selected_runs_title_fits_the_tab_with_a_name_of_one_long_word(qtbot: Any, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the title above the config showed '<b>NAME</b> — finished: Finished 20 steps.' with the whole name;
    a label wraps only between words, so a 247-character name of one word needed 1,821 px in a 535 px label and the
    run's state and message after it were cut off at the tab's edge."""
    runs = tmp_path / "runs"
    long_name = "ünïcødé" + "long" * 60
    fab.make_run(runs, long_name, fab.segment(2, 20), FINISHED)
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.resize(1000, 700)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 1, timeout=10_000)
    panel.select([runs / long_name])
    cut = "ünïcødélonglonglonglongl…onglonglonglonglonglong"
    assert len(cut) == 48
    assert panel.details_title.text() == f"<b>{cut}</b> — finished: Finished 20 steps."
    assert panel.details_title.toolTip() == long_name
    assert panel.details_title.minimumSizeHint().width() <= panel.details_title.width()
    panel.select([])
    assert panel.details_title.text() == "" and panel.details_title.toolTip() == ""
