"""A run resumed from the command line with a relative folder path ("finetune-studio resume runs/NAME", typed in the
folder above the runs) is followed live by an open window, as one started with `train` is: the Runs tab lists it as
running, Open follows its metrics.jsonl, and the chart ends with every logged loss of both sessions."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.config import save_config
from finetune_studio.gui.run_header import RunState
from tests.gui import test_history
from tests.gui.test_app import LONG, dialog_log, make_window, window  # fixtures
from tests.gui.test_history import CORE_CLI, follow_to_the_end, wait_rows
from tests.helpers import ROOT, read_events, small_config

cold_window = test_history.cold_window  # the fixture, under its own name


def _cli(args: list[str], cwd: Path) -> tuple[subprocess.Popen, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([*CORE_CLI, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    return process, output


@pytest.mark.slow
def test_a_cli_resume_given_a_relative_path_is_followed_live(qtbot: Any, cold_window: Any, small_dataset: Path,
                                                             runs_dir: Path, tmp_path: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=150, eval_steps=150, save_steps=6, logging_steps=2,
                          load_best_model_at_end=False)
    config.name = "relative"
    save_config(config, tmp_path / "cli.yaml")
    path = runs_dir / "relative"
    first, output = _cli(["train", str(tmp_path / "cli.yaml"), "--quiet"], ROOT)
    second = None
    try:
        qtbot.waitUntil(lambda: (path / "checkpoint-6" / "trainer_state.json").is_file() or first.poll() is not None,
                        timeout=LONG)
        assert first.poll() is None, "".join(output)
        first.send_signal(signal.SIGINT)  # Ctrl+C: the run stops at the next step, resumable
        assert first.wait(timeout=60) == 3, "".join(output)  # 3: stopped, resumable
        stopped_at = read_events(path, "end")[-1]["step"]
        assert stopped_at < 150

        relative = Path(runs_dir.name) / "relative"
        second, output = _cli(["resume", str(relative), "--quiet"], runs_dir.parent)
        panel = cold_window.history
        wait_rows(qtbot, panel, lambda r: r.get("relative", {}).get("state") == "running", timeout=LONG)
        qtbot.waitUntil(lambda: len(read_events(path, "train_begin")) == 2, timeout=LONG)
        chart = follow_to_the_end(qtbot, cold_window, path)  # the resume's lines reach the chart live
        assert second.wait(timeout=60) == 0, "".join(output)
        assert cold_window.state is RunState.FINISHED
        logged = {e["step"]: e["loss"] for e in read_events(path, "log")}  # the resume logs again from its step
        x, y = chart.train.view()
        assert dict(zip(x, y)) == logged and x[-1] == 150
        table = wait_rows(qtbot, panel, lambda r: r["relative"]["state"] == "finished")
        assert table["relative"]["steps"] == "150 / 150"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
