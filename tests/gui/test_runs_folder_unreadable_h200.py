"""The Runs tab over a runs folder that exists but cannot be listed (no permission, a file put in its place): it
says so in words, with what to do, in place of 'No runs yet. Press Start…', and keeps the runs it listed before
(they are not deleted; a folder it cannot read is not one without runs). Once the folder reads again, the words go.

Fabricated runs (tests/core/test_runs_history.py's builders); the tests run as root here, where chmod 000 does not
stop a read, so 'permission denied' is what os.listdir and os.scandir raise for the runs folder alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.runs import RunIndex
from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import rows, wait_rows

pytestmark = pytest.mark.usefixtures("drain_background")

FINISHED = {"state": "finished", "message": "Finished 20 steps.", "step": 20, "max_steps": 20,
            "model": "builtin:demo", "dataset": "builtin:sample"}


def deny(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Listing `folder` fails as chmod 000 makes it fail for a user who is not root."""
    for name in ("listdir", "scandir"):
        real = getattr(os, name)

        def denied(path: Any = ".", real: Any = real) -> Any:
            if Path(path) == folder:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(os, name, denied)


def test_the_index_raises_for_a_runs_folder_it_cannot_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core.runs import RunsDirUnreadable

    runs = tmp_path / "runs"
    fab.make_run(runs, "a", fab.segment(2, 20), FINISHED)
    index = RunIndex(runs)
    assert [run.name for run in index.refresh()[0]] == ["a"]
    with monkeypatch.context() as patch:
        deny(patch, runs)
        with pytest.raises(RunsDirUnreadable) as raised:
            index.refresh()
    assert str(raised.value) == (
        f"The runs folder {runs} cannot be read (permission denied), so its runs cannot be listed. To fix: make it "
        f"readable by your user (for example chmod u+rwx {runs}), or choose another runs folder.")
    assert list(index.runs) == [runs / "a"]  # kept: nothing is said gone
    assert RunIndex(tmp_path / "not-yet").refresh() == ([], [])  # no runs folder yet: nothing to list, no error


def test_the_runs_tab_says_the_folder_cannot_be_read_and_keeps_its_runs(qtbot: Any, make_window: Any,
                                                                         runs_dir: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b"):
        fab.make_run(runs_dir, name, fab.segment(2, 20), FINISHED)
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    wait_rows(qtbot, panel, lambda r: sorted(r) == ["a", "b"])
    label = panel.unreadable_label
    with monkeypatch.context() as patch:
        deny(patch, runs_dir)
        qtbot.waitUntil(label.isVisible, timeout=10_000)
        assert label.text() == (
            f"The runs folder {runs_dir} cannot be read (permission denied), so its runs cannot be listed. The 2 "
            "runs below are as last read, and not updated until it can be read again. To fix: make it readable by "
            f"your user (for example chmod u+rwx {runs_dir}), or choose another runs folder in the Training tab.")
        qtbot.wait(1500)  # polls go on failing: the runs stay, no 'No runs yet'
        assert sorted(rows(panel)) == ["a", "b"] and not panel.empty_label.isVisible()
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=10_000)  # readable again: the words go
    assert label.text() == "" and sorted(rows(panel)) == ["a", "b"]


def test_a_file_in_place_of_the_runs_folder_is_said_not_no_runs_yet(qtbot: Any, make_window: Any,
                                                                    runs_dir: Path) -> None:
    fab.make_run(runs_dir, "a", fab.segment(2, 20), FINISHED)
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    wait_rows(qtbot, panel, lambda r: sorted(r) == ["a"])
    shutil.rmtree(runs_dir)
    wait_rows(qtbot, panel, lambda r: not r)  # deleted: its runs are gone, and the tab says there are none
    assert panel.empty_label.isVisible() and panel.empty_label.text().startswith("No runs yet.")
    runs_dir.write_text("not a folder\n")
    label = panel.unreadable_label
    qtbot.waitUntil(label.isVisible, timeout=10_000)
    assert label.text() == (
        f"The runs folder {runs_dir} is a file, not a folder, so no run can be listed or saved there. To fix: move "
        "that file away, or choose another runs folder in the Training tab.")
    assert not panel.empty_label.isVisible()
