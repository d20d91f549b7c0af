"""While the estimate of changed settings is worked out (seconds for a large model: a 70B-wide config took 20 s
here, its fixes estimated too), the bar showed the estimate of the settings before the change as current: the old
verdict in its colour, and Apply buttons whose fixes were worked out for the old settings. Now the old figures are
marked as outdated (faded, the verdict line says a new estimate is coming, Apply disabled) until the new one comes;
a request for the same settings (the free memory moved) changes nothing shown."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from finetune_studio.core import estimate as core_estimate
from finetune_studio.core.config import default_config
from finetune_studio.core.estimate import FITS, GIB, WONT_FIT, Budget, Estimate, EstimateFix, Preflight
from finetune_studio.core.gpus import CpuInfo, GpuTable
from finetune_studio.gui.estimate_bar import EstimateBar

TABLE = GpuTable(cpu=CpuInfo(cores=2, ram_total_bytes=16 * GIB, ram_available_bytes=13 * GIB))
BUDGET = Budget(free_bytes=13 * GIB, what="RAM")


def result_for(batch: int) -> Preflight:
    """Batch 2 fits in 4 GiB; batch 64 will not fit (20 GiB) and has a fix."""
    if batch <= 2:
        return Preflight(budget=BUDGET, estimate=Estimate(GIB, GIB, 2 * GIB, 0, batch=batch, max_length=512),
                         verdict=FITS)
    big = Estimate(GIB, GIB, 2 * GIB, 16 * GIB, batch=batch, max_length=512)
    fix = EstimateFix("Turn on activation checkpointing", {"training.activation_checkpointing": True},
                      Estimate(GIB, GIB, 2 * GIB, GIB, batch=batch, max_length=512), FITS)
    return Preflight(budget=BUDGET, estimate=big, verdict=WONT_FIT, fixes=(fix,))


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """preflight answers by the config's batch once `gate` is set (the estimate of a large model, slowed down)."""
    gate = threading.Event()

    def slow(config: Any, table: Any, problems: Any = None) -> Preflight:
        gate.wait(30)
        return result_for(int(config.training["per_device_train_batch_size"]))

    monkeypatch.setattr(core_estimate, "preflight", slow)
    yield gate
    gate.set()  # a test that failed half-way leaves no job waiting behind a destroyed bar


@pytest.fixture
def bar(qtbot: Any, gated: threading.Event) -> Any:
    widget = EstimateBar()
    qtbot.addWidget(widget)
    yield widget
    gated.set()  # a test that failed half-way leaves no job running behind a destroyed bar
    widget.wait()


def config_with(batch: int) -> Any:
    config = default_config()
    config.training["per_device_train_batch_size"] = batch
    return config


def test_the_estimate_of_the_settings_before_a_change_is_never_shown_as_current(qtbot: Any, bar: Any,
                                                                                 gated: threading.Event) -> None:
    gated.set()
    with qtbot.waitSignal(bar.shown, timeout=10_000):
        bar.request(config_with(64), TABLE)
    assert bar.verdict_label.text() == "Will not fit: about 20 GiB of 13 GiB free RAM."
    assert len(bar.fix_buttons) == 1 and bar.fix_buttons[0].isEnabled()

    gated.clear()  # the next estimate takes a while
    bar.request(config_with(2), TABLE)
    assert bar.verdict_label.text() == ("Estimating the changed settings… The figures below are of the settings "
                                        "before the change.")
    assert not bar.fix_buttons[0].isEnabled()
    assert bar.outdated and bar.bar.outdated
    assert bar.fix_buttons[0].toolTip() == ("This fix was worked out for the settings before the change; wait for "
                                            "the new estimate and its fixes.")
    bar.show_free(TABLE)  # a new reading of the machine meanwhile does not bring the old verdict back
    assert bar.verdict_label.text().startswith("Estimating the changed settings…")

    with qtbot.waitSignal(bar.shown, timeout=10_000):
        gated.set()
    assert bar.verdict_label.text() == "Fits: about 4.0 GiB of 13 GiB free RAM."
    assert not bar.outdated and bar.fix_buttons == [] and bar.fixes_title.isHidden()


def test_asking_again_about_the_same_settings_keeps_the_shown_estimate(qtbot: Any, bar: Any,
                                                                     gated: threading.Event) -> None:
    gated.set()
    with qtbot.waitSignal(bar.shown, timeout=10_000):
        bar.request(config_with(64), TABLE)
    gated.clear()
    bar.rejudge(TABLE)  # the free memory moved: the same config is estimated again
    assert not bar.outdated and bar.fix_buttons[0].isEnabled()
    assert bar.verdict_label.text() == "Will not fit: about 20 GiB of 13 GiB free RAM."
    with qtbot.waitSignal(bar.shown, timeout=10_000):
        gated.set()


def test_an_edit_marks_the_estimate_outdated_before_it_is_asked_for(qtbot: Any, bar: Any,
                                                                     gated: threading.Event) -> None:
    """The window validates 300 ms after the last edit and only then asks for the estimate: note_change (to call
    from the window's form-changed handler) marks the shown one at the edit; an edit back to the shown settings
    brings it back when they are asked about."""
    gated.set()
    with qtbot.waitSignal(bar.shown, timeout=10_000):
        bar.request(config_with(64), TABLE)
    bar.note_change(config_with(64))  # no change to what is shown
    assert bar.verdict_label.text() == "Will not fit: about 20 GiB of 13 GiB free RAM." and not bar.outdated
    bar.note_change(config_with(8))
    assert bar.verdict_label.text().startswith("Estimating the changed settings…") and bar.outdated
    assert not bar.fix_buttons[0].isEnabled()
    gated.clear()
    bar.request(config_with(64), TABLE)  # edited back before validation ran
    assert bar.verdict_label.text() == "Will not fit: about 20 GiB of 13 GiB free RAM." and not bar.outdated
    assert bar.fix_buttons[0].isEnabled()
