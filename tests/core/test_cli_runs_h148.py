"""`finetune-studio runs` says losses in the Runs tab's words (core.metrics.loss_text: a diverging run's 3.4e38 as
3.403e+38, not 44 characters of digits) and names the run folders it cannot look into, as the tab does
(core.runs.scan_runs_dir / unreadable_text), instead of leaving them out as if deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.runs import scan_runs_dir, unreadable_text
from tests.core.test_runs_history import make_run, segment
from tests.gui.test_runs_unreadable_h139 import FINISHED, lock


def test_a_diverging_loss_reads_as_in_the_runs_tab(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    events = segment(2, 4, end="failed")
    for event in events:
        if event["event"] == "log":
            event["loss"] = 3.4028e38
    make_run(runs, "big", events, {"state": "failed", "message": "Diverged.", "step": 4, "max_steps": 20})
    assert main(["runs", "--runs-dir", str(runs)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:5] == ["big", "failed", "4/20", "3.403e+38", "-"]
    assert max(len(line) for line in out) < 80


def test_unreadable_run_folders_are_named_with_a_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "open", segment(2, 20), {**FINISHED, "step": 20, "max_steps": 20})
    make_run(runs, "closed", segment(2, 20), {**FINISHED, "step": 20, "max_steps": 20})
    lock(monkeypatch, "closed")
    expected = unreadable_text(scan_runs_dir(runs)[1], runs)
    assert expected.startswith(f"Not listed: 1 folder in {runs} cannot be read (permission denied): closed.")
    assert "To fix: make it readable" in expected
    assert main(["runs", "--runs-dir", str(runs)]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"warning: {expected}\n"
    assert [line.split()[0] for line in captured.out.splitlines()] == ["run", "open"]


def test_only_unreadable_folders_still_say_no_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "closed", segment(2, 20), {**FINISHED, "step": 20, "max_steps": 20})
    lock(monkeypatch, "closed")
    assert main(["runs", "--runs-dir", str(runs)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"No runs in {runs}.\n"
    assert captured.err.startswith(f"warning: Not listed: 1 folder in {runs} cannot be read")
