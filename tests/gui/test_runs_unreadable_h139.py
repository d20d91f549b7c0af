"""A run folder the user cannot look into (chmod 000, another user's) was left out of the Runs tab without a word, as
if deleted; the tab now names it above the table, says why and what to do, and lists every other run. The tests run
as any user (root reads a chmod 000 folder), so the folder's refusal is Python 3.11's own: is_file raising
PermissionError for a file inside it."""

from __future__ import annotations

import pathlib
import shlex
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.runs import scan_runs_dir, unreadable_text
from tests.core.test_runs_history import make_run, segment
from tests.helpers import window_on_runs

FINISHED = {"state": "finished", "message": "Finished.", "model": "builtin:demo", "dataset": "builtin:sample"}


def lock(monkeypatch: pytest.MonkeyPatch, *names: str) -> set[str]:
    """The folders `names` refuse to be looked into while their name is in the set returned."""
    real = pathlib.Path.is_file
    locked = set(names)

    def is_file(self: Path) -> bool:
        if self.parent.name in locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "is_file", is_file)
    return locked


def said(runs: Path, *names: str) -> str:
    return unreadable_text([(runs / name, "Permission denied") for name in names], runs)


def test_the_folders_that_cannot_be_read_are_named_with_a_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "locked", "shut"):
        make_run(tmp_path, name, segment(2, 4), FINISHED)
    (tmp_path / "a-file").write_text("x")
    lock(monkeypatch, "locked", "shut")
    runs, closed = scan_runs_dir(tmp_path)
    assert runs == [tmp_path / "a"]
    assert closed == [(tmp_path / "locked", "Permission denied"), (tmp_path / "shut", "Permission denied")]
    assert said(tmp_path, "locked") == (
        f"Not listed: 1 folder in {tmp_path} cannot be read (permission denied): locked. If it is a run, it is not "
        "shown, resumed or deleted here. To fix: make it readable by your user (for example chmod u+rwx "
        f"{shlex.quote(str(tmp_path / 'locked'))}), or move it out of the runs folder.")
    assert said(tmp_path, "locked", "shut") == (
        f"Not listed: 2 folders in {tmp_path} cannot be read (permission denied): locked, shut. If they are runs, "
        "they are not shown, resumed or deleted here. To fix: make them readable by your user (for example chmod "
        f"u+rwx {shlex.quote(str(tmp_path / 'locked'))}), or move them out of the runs folder.")
    assert unreadable_text([], tmp_path) == ""


def test_the_runs_tab_names_an_unreadable_run_and_lists_the_others(qtbot: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    for name in ("a", "b", "locked"):
        make_run(runs, name, segment(2, 4), FINISHED)
    locked = lock(monkeypatch, "locked")
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2 and not panel._task.busy, timeout=10_000)
    assert sorted(panel.proxy.index(r, 0).data() for r in range(2)) == ["a", "b"]
    label = panel.unreadable_label
    assert label.isVisible() and label.text() == said(runs, "locked")
    assert label.text().startswith(f"Not listed: 1 folder in {runs} cannot be read (permission denied): locked.")
    assert "To fix: make it readable by your user" in label.text()
    assert (runs / "locked" / "config.yaml").exists()  # nothing done to it
    locked.clear()  # readable again: listed, and the note goes
    panel.refresh()
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 3, timeout=10_000)
    assert not label.isVisible() and label.text() == ""
