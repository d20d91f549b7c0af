"""Start never goes on a stale or missing memory estimate: pressed a moment after an edit, or before the training
stack is loaded, it waits for the estimate of the config it runs and asks when that one will not fit (a tester
started a "will not fit" run 0-1 s after an edit, and during the warm-up, without the question)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from finetune_studio.core.estimate import FITS
from finetune_studio.core.events import RunState
from finetune_studio.core.gpus import CpuInfo, GpuTable
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_hardware_window import LONG, window  # noqa: F401 - fixture
from tests.helpers import small_config

pytestmark = pytest.mark.slow

TWO_GIB = GpuTable(unavailable="No NVIDIA GPU found.", cpu=CpuInfo(2, 8 * 2**30, 2 * 2**30))


def too_big(config: Any) -> Any:
    """The same recipe at batch 64 x 4096 tokens: its activations alone are far beyond 2 GiB."""
    big = config.copy()
    big.training["per_device_train_batch_size"] = 64
    big.dataset.max_length = 4096
    return big


def record_questions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args[2]) or QMessageBox.StandardButton.No)
    return asked


def test_start_right_after_an_edit_waits_for_that_configs_estimate(qtbot: Any, window: Any, small_dataset: Path,
                                                                    runs_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    bar = window.hardware_panel.estimate_bar
    window.hardware_panel.set_table(TWO_GIB)
    config = small_config(small_dataset, runs_dir, max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "too-big"
    window.set_config(config)
    with qtbot.waitSignal(bar.shown, timeout=LONG, check_params_cb=lambda result: result.estimate is not None):
        window.validate_now()
    assert bar.verdict == FITS, bar.verdict_label.text()  # the shown estimate: the small recipe fits
    asked = record_questions(monkeypatch)
    window.set_config(too_big(config))
    window.start_action.trigger()  # at once: the bar still shows the small recipe's "fits"
    assert asked == [] and not window.runner.running
    assert window.state is RunState.PREPARING
    assert window.header.state_label.text() == "Starting… checking the memory estimate"
    qtbot.waitUntil(lambda: bool(asked), timeout=LONG)
    assert len(asked) == 1 and "Start anyway?" in asked[0]
    assert not window.runner.running and window.state is RunState.IDLE
    assert bar.verdict_label.text().startswith("Will not fit: about")  # the estimate of the config Start ran
    assert not (runs_dir / "too-big").exists()


def test_start_during_the_warm_up_asks_before_the_queued_run_begins(qtbot: Any, make_window: Any,
                                                                    small_dataset: Path, runs_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window(warm=False)
    window.hardware_panel.set_table(TWO_GIB)
    config = small_config(small_dataset, runs_dir, max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "queued-too-big"
    window.set_config(too_big(config))
    asked = record_questions(monkeypatch)
    window.start_action.trigger()
    assert window.start_queued and asked == []  # no estimate yet: it is asked once the stack is loaded
    window.begin_warmup()
    qtbot.waitUntil(lambda: bool(asked) or window.runner.running, timeout=LONG)
    assert len(asked) == 1 and "Start anyway?" in asked[0]
    assert not window.runner.running and window.state is RunState.IDLE
    assert not (runs_dir / "queued-too-big").exists()


def test_an_edit_marks_the_shown_estimate_outdated_at_once(qtbot: Any, window: Any, small_dataset: Path,
                                                           runs_dir: Path) -> None:
    """The estimate bar showed the last settings' verdict as current, with its Apply buttons, for the 300 ms the
    window waits for more typing plus the validation and the new estimate (20 s for a 70B-wide model)."""
    bar = window.hardware_panel.estimate_bar
    window.hardware_panel.set_table(TWO_GIB)
    config = small_config(small_dataset, runs_dir, max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    window.set_config(config)
    with qtbot.waitSignal(bar.shown, timeout=LONG, check_params_cb=lambda result: result.estimate is not None):
        window.validate_now()
    assert not bar.outdated and bar.verdict == FITS
    edit = window.training_form.batch_edit
    edit.selectAll()
    qtbot.keyClicks(edit, "64")  # typed: the form stores it at once, validation waits 300 ms
    assert bar.outdated
    assert bar.verdict_label.text() == ("Estimating the changed settings… The figures below are of the settings "
                                        "before the change.")
    with qtbot.waitSignal(bar.shown, timeout=LONG):  # the new settings' estimate comes and is current
        pass
    assert not bar.outdated and window.config.training["per_device_train_batch_size"] == 64
