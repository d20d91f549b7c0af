"""A diverging float32 run logs losses up to 3.4e38 before inf; the Runs tab wrote them with four decimals, 44
characters ('340282346638528859811704183484516925440.0000'), and fitted the Loss column to that text, taking the
room of the run names. From 1e5 on a loss is written in short (core.metrics.loss_text, four figures)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFontMetricsF

from finetune_studio.gui import history
from tests.core.test_runs_history import make_run
from tests.helpers import window_on_runs

FINISHED = {"state": "finished", "message": "Finished.", "model": "builtin:demo", "dataset": "builtin:sample"}


def test_a_huge_loss_is_written_in_short_and_its_column_stays_narrow(qtbot: Any, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "diverged", [{"event": "log", "step": 2, "loss": 3.4028234663852886e38},
                                {"event": "eval", "step": 2, "eval_loss": 123456.7}], FINISHED)
    make_run(runs, "fine", [{"event": "log", "step": 2, "loss": 0.25}, {"event": "log", "step": 4, "loss": "nan"}],
             FINISHED)
    window = window_on_runs(qtbot, runs, monkeypatch)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2 and not panel._task.busy, timeout=10_000)
    rows = {panel.proxy.index(r, 0).data(): r for r in range(2)}
    text = {name: (panel.proxy.index(r, history.COLUMN["train_loss"]).data(),
                   panel.proxy.index(r, history.COLUMN["eval_loss"]).data()) for name, r in rows.items()}
    assert text == {"diverged": ("3.403e+38", "1.235e+05"), "fine": ("nan", "—")}
    metrics = QFontMetricsF(panel.table.font())
    widest = max(metrics.horizontalAdvance("3.403e+38"), metrics.horizontalAdvance("Loss"))
    assert panel.table.columnWidth(history.COLUMN["train_loss"]) <= math.ceil(widest) + history.SORT_PAD + 12
    panel.select([runs / "diverged", runs / "fine"])  # the comparison under the table says them alike
    lines = panel.details.toPlainText().splitlines()
    assert "3.403e+38" in next(line for line in lines if "diverged" in line)
    assert "1.235e+05" in next(line for line in lines if "diverged" in line)
