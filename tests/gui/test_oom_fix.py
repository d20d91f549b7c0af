"""A run that runs out of memory: the error dialog proposes a fix, and "Apply fix and restart" writes it into the
run's config.yaml and continues the same run from its last checkpoint to the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from finetune_studio.core.config import load_config
from finetune_studio.gui import dialogs
from finetune_studio.gui.run_header import RunState
from tests.helpers import read_events, small_config
from tests.robustness.faults import cuda_oom, faulty_forward

LONG = 120_000  # ms; the first run in a session also imports the training stack


@pytest.fixture
def window(qtbot: Any, demo_cache: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A warm main window whose plain error dialogs are recorded (window.errors) instead of shown."""
    from finetune_studio.gui import background
    from finetune_studio.gui.main_window import MainWindow

    errors: list[tuple] = []
    monkeypatch.setattr(dialogs, "show_error", lambda *args: errors.append(args[1:]))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *args: dialogs.SaveChoice.DISCARD)
    monkeypatch.setattr(dialogs, "confirm_stop_and_close", lambda *args: True)
    made = MainWindow()
    made.errors = errors
    qtbot.addWidget(made)
    made.show()
    qtbot.waitExposed(made)
    made.begin_warmup()
    qtbot.waitUntil(lambda: made.warm is not None, timeout=LONG)
    yield made
    if made.runner.running:
        made.runner.stop()
        assert made.runner.wait(60_000), "the training thread did not end"
    qtbot.waitUntil(lambda: not made.runner.running, timeout=LONG)
    made.validator.wait()
    background.wait_idle()
    made.close()


def test_fix_box_shows_the_proposal_and_the_button(qtbot: Any) -> None:
    box, apply = dialogs.fix_box(None, "Training failed", "CUDA ran out of memory at step 4 with batch size 8",
                                 "use batch size 4 with gradient accumulation 2", "Traceback …")
    qtbot.addWidget(box)
    assert apply.text() == "Apply fix and restart" and box.defaultButton() is apply
    assert sorted(b.text() for b in box.buttons()) == ["Apply fix and restart", "Close", "Show Details..."]
    assert box.text() == "CUDA ran out of memory at step 4 with batch size 8"
    assert box.informativeText().startswith("Proposed fix: use batch size 4 with gradient accumulation 2. “Apply fix "
                                            "and restart” writes it into the run's config.yaml")
    assert box.detailedText() == "Traceback …"


def test_apply_fix_and_restart_continues_the_run_with_the_fix(qtbot: Any, window: Any, small_dataset: Path,
                                                               runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = faulty_forward(monkeypatch, cuda_oom, after=3, rows_over=4)  # 3 batches of 8 fit, the 4th does not
    config = small_config(small_dataset, runs_dir, max_steps=6, save_steps=2, eval_strategy="no",
                          load_best_model_at_end=False)
    config.name = "gui-oom"
    run_dir = runs_dir / "gui-oom"
    shown: list[dict] = []

    def click_apply_when_shown() -> None:  # the real dialog, clicked the way a user would
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and not shown:
            shown.append({"text": box.text(), "informative": box.informativeText(),
                          "buttons": sorted(b.text() for b in box.buttons()),
                          "config": (run_dir / "config.yaml").read_bytes(), "state": window.state})
            next(b for b in box.buttons() if b.text() == dialogs.APPLY_FIX).click()

    clicker = QTimer()
    clicker.timeout.connect(click_apply_when_shown)
    clicker.start(20)
    try:
        window.set_config(config)
        qtbot.waitUntil(window.start_action.isEnabled, timeout=LONG)
        window.start_action.trigger()
        qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=LONG)
    finally:
        clicker.stop()

    assert window.errors == []  # the failure came as the fix dialog, nothing else went wrong
    assert len(shown) == 1
    dialog = shown[0]
    assert dialog["state"] is RunState.FAILED
    assert dialog["text"] == ("CUDA ran out of memory at step 4 with batch size 8 and max_length 64 — use batch size "
                              "4 with gradient accumulation 2 instead of 8 with 1 (the effective batch stays 8). "
                              "Apply the fix to restart from checkpoint-2.")
    assert dialog["informative"].startswith("Proposed fix: use batch size 4 with gradient accumulation 2 instead of 8 "
                                            "with 1 (the effective batch stays 8).")
    assert dialog["buttons"] == ["Apply fix and restart", "Close", "Show Details..."]

    assert (run_dir / "config.before-fix.yaml").read_bytes() == dialog["config"]
    fixed = load_config(run_dir / "config.yaml")[0].training
    assert (fixed["per_device_train_batch_size"], fixed["gradient_accumulation_steps"]) == (4, 2)
    assert counts["raised"] == 1
    assert [b["start_step"] for b in read_events(run_dir, "train_begin")] == [0, 2]
    assert [e["step"] for e in read_events(run_dir, "step")] == [1, 2, 3, 3, 4, 5, 6]
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == 6
    assert window.progress.values["step"].text() == "6 / 6"
