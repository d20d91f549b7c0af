"""The Runs tab marks a resumed run's train loss that is not the loss at its last step (*), and its tooltip says what
the figure is in the model card's words; a run whose last step logged its loss shows it plainly. A real
stop-and-resume run of the demo LoRA recipe (logging_strategy no: the figure is the Trainer's mean over step 6
alone), listed by a real window's Runs tab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import history
from finetune_studio.gui.history import COLUMN
from tests.core.test_model_card_resumed_loss import _events, _loss_line, _stopped_and_resumed
from tests.gui.test_app import dialog_log, make_window  # fixtures
from tests.gui.test_history import wait_rows

pytestmark = pytest.mark.slow


def test_a_resumed_runs_mean_over_its_last_steps_is_marked_and_said(qtbot: Any, demo_cache: Path, runs_dir: Path,
                                                                     make_window: Any) -> None:
    run_dir = _stopped_and_resumed(runs_dir.parent, "unlogged", logging_strategy="no")
    assert run_dir.parent == runs_dir
    plain = _stopped_and_resumed(runs_dir.parent, "logged", logging_steps=3)  # logs at 3 and 6
    after = _events(run_dir, "summary")[-1]["train_loss"]
    last = json.loads((plain / "status.json").read_text(encoding="utf-8"))["train_loss"]

    window = make_window(warm=False)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    table = wait_rows(qtbot, panel, lambda r: {"unlogged", "logged"} <= set(r))
    assert table["unlogged"]["train_loss"] == f"{after:.4f}*"
    assert table["logged"]["train_loss"] == f"{last:.4f}"

    tips = {}
    for row in range(panel.proxy.rowCount()):
        name = panel.proxy.index(row, COLUMN["name"]).data()
        tips[name] = panel.proxy.index(row, COLUMN["train_loss"]).data(history.Qt.ItemDataRole.ToolTipRole)
    note = ("the mean over step 6 alone: the run was resumed from step 5, and it logged no loss step by step, so the "
            "steps before are not in it")
    assert tips == {"unlogged": f"Train loss {after:.4f}: {note}.", "logged": f"{last:.4f}"}  # its text (654fe72)
    assert _loss_line(run_dir) == f"- Final train loss: {after:.4f} ({note})"  # the card's words

    header = panel.model.headerData(COLUMN["train_loss"], history.Qt.Orientation.Horizontal,
                                    history.Qt.ItemDataRole.ToolTipRole)
    assert header == ("The last logged training loss; * where it is not the loss at the run's last step (a resumed "
                      "run, or steps after it that trained no token; hover it to see what it is)")

    # Compared side by side: the mark, and the note under the table
    runs = sorted(panel.model.rows, key=lambda r: r.name)
    text = history._comparison_text(runs)
    assert f"{after:.4f}*" in text.splitlines()[2]
    assert text.splitlines()[-1] == f"* unlogged: Train loss {after:.4f}: {note}."
