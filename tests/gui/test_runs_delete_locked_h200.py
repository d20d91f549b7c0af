"""Delete in the Runs tab of a run whose status.json does not say running while another process holds its run lock:
a resume checking its checkpoint and config before it writes 'running', or a finished run still saving or
uploading its model. The lock says the folder is in use, whatever status.json says: it is not removed under that
process, and the user is told why and what to do.

The other process is real: a Python that takes core.runs.RunLock on a fabricated finished run and waits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.runs import delete_run, read_lock
from finetune_studio.gui import history
from tests.core import test_runs_history as fab
from tests.gui.test_app import DialogLog, dialog_log, make_window
from tests.gui.test_history import wait_rows

pytestmark = pytest.mark.usefixtures("drain_background")

FINISHED = {"state": "finished", "message": "Finished 20 steps.", "step": 20, "max_steps": 20,
            "model": "builtin:demo", "dataset": "builtin:sample"}
HOLD = ("import sys, time\nfrom pathlib import Path\nfrom finetune_studio.core.runs import RunLock\n"
        "with RunLock.acquire(Path(sys.argv[1])):\n    print('held', flush=True)\n    sys.stdin.read()\n")


@pytest.fixture
def held(runs_dir: Path) -> Any:
    """A finished run whose lock another process holds until the test ends."""
    path = fab.make_run(runs_dir, "pushing", fab.segment(2, 20), FINISHED)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    yield path, holder.pid
    holder.communicate("", timeout=30)


def said(name: str, pid: int) -> str:
    return (f"The run {name} is in use by process {pid} (its status.json says finished, but a resume is starting in "
            "it, or its model is still being saved or uploaded), so it was not deleted. To fix: wait until that "
            "process ends (or stop it: Stop in its window, or Ctrl-C in its terminal), then delete the run.")


def test_delete_run_refuses_a_folder_whose_lock_is_held(held: Any, runs_dir: Path) -> None:
    path, pid = held
    assert read_lock(path)["pid"] == pid
    with pytest.raises(FinetuneError) as raised:
        delete_run(path, runs_dir)
    assert str(raised.value) == said("pushing", pid)
    assert (path / "config.yaml").is_file() and (path / "metrics.jsonl").is_file()


def test_the_runs_tab_does_not_delete_a_run_another_process_holds(qtbot: Any, make_window: Any, held: Any,
                                                                  runs_dir: Path, dialog_log: DialogLog,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path, pid = held
    done = fab.make_run(runs_dir, "done", fab.segment(2, 20), FINISHED)
    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    table = wait_rows(qtbot, panel, lambda r: sorted(r) == ["done", "pushing"])
    assert table["pushing"]["state"] == "finished"  # as its status.json says: the table cannot tell
    monkeypatch.setattr(history, "confirm_delete", lambda parent, names: True)
    panel.select([path, done])
    panel.delete_selected()
    assert path.is_dir() and (path / "config.yaml").is_file() and not done.exists()
    assert dialog_log.errors == [("Some runs were not deleted", said("pushing", pid), None)]
    wait_rows(qtbot, panel, lambda r: sorted(r) == ["pushing"])
