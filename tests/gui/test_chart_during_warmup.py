"""A recorded run opened while the warm-up still imports the training stack: its chart waits for the chart the
warm-up builds in steps, instead of importing pyqtgraph and building the chart on the GUI thread at once, which froze
the window 0.5-1.2 s (helper-87's measurement). The run's header and progress show at once; the curve once the
chart is in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import chart_texts
from finetune_studio.gui.background import IMPORT_LOCK
from tests.core.test_session_missing import stopped_run
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window


@pytest.mark.slow
def test_a_run_opened_during_the_warm_up_waits_for_its_chart(qtbot: Any, make_window: Any, runs_dir: Path,
                                                             dialog_log: DialogLog) -> None:
    window = make_window(warm=False)
    run = stopped_run(runs_dir, "early")
    with IMPORT_LOCK:  # the warm-up is busy importing the stack: it waits for this lock
        window.begin_warmup()
        assert window.warmup.running
        window.show_run(run)
        assert window.chart is None  # not built on the GUI thread
        assert window.chart_placeholder.text() == chart_texts.WAITING
        assert window.warmup._chart_wanted.is_set()  # pyqtgraph is imported next, not after the whole stack
        assert window.progress.values["step"].text() == "12 / 40"  # the rest of the run shows at once
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.built, timeout=LONG)
    qtbot.waitUntil(lambda: window.chart.point_count > 0, timeout=LONG)
    assert window.chart_area.currentWidget() is window.chart
