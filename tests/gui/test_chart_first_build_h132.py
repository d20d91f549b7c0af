"""The chart's one-time cost when a recorded run is opened soon after launch (helper-132's measurement).

The chart's first build (plot items, axes, first paint: ~60-100 ms in total, in steps) is done by the warm-up, so
opening a run afterwards builds nothing more. What kept a run opened during the warm-up from showing its curves was
the wait for pyqtgraph, imported after the whole training stack (3-4 s when opened while torch was importing):
`Warmup.want_chart()` has it imported at the warm-up's next step instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.gui import chart_texts
from finetune_studio.gui.warmup import CHART_MODULES, STACK_MODULES, Warmup, warm
from tests.core.test_session_missing import stopped_run
from tests.gui.test_app import LONG, DialogLog, dialog_log, make_window


def test_a_wanted_chart_is_imported_at_the_next_step_of_the_stack() -> None:
    reported: list[str] = []
    # Wanted once torch is in (a run opened while torch was importing): pyqtgraph comes next, not last.
    warm(imported=reported.append, chart_wanted=lambda: "torch" in reported)
    assert reported[:3] == ["torch", *CHART_MODULES, "transformers"]
    assert reported.count(CHART_MODULES[0]) == 1
    assert [name for name in reported if name not in CHART_MODULES] == list(STACK_MODULES)


def test_without_a_wanted_chart_the_stack_reports_no_chart_module() -> None:
    reported: list[str] = []
    warm(imported=reported.append)
    assert reported == list(STACK_MODULES)  # pyqtgraph stays for warm_chart, after a starting run's first step


def test_the_warm_up_reports_a_wanted_chart_before_it_is_ready_and_only_once(qtbot: Any) -> None:
    warmup = Warmup()
    order: list[str] = []
    warmup.imported.connect(lambda name: order.append(name) if name in CHART_MODULES else None)
    warmup.ready.connect(lambda stack: order.append("ready"))
    warmup.failed.connect(lambda message, details: order.append(message))
    warmup.want_chart()
    warmup.start()
    qtbot.waitUntil(lambda: not warmup.running, timeout=LONG)
    qtbot.wait(50)  # the queued signals
    assert order == [*CHART_MODULES, "ready"]
    assert warmup.chart_imported


def test_a_chart_not_yet_shown_anything_says_the_empty_hint() -> None:
    from finetune_studio.gui.chart import LossChart

    chart = LossChart(staged=True)
    assert chart._loading == ""  # set before any build step can read it (_empty_hint)
    chart.ensure_built()
    assert chart.empty_text.toPlainText() == chart_texts.EMPTY
    chart.show_loading("Reading r1's metrics.jsonl (2 MB)…")
    assert chart.empty_text.toPlainText() == "Reading r1's metrics.jsonl (2 MB)…"
    chart.clear()
    assert chart.empty_text.toPlainText() == chart_texts.EMPTY


@pytest.mark.slow
def test_after_the_warm_up_opening_a_run_builds_no_chart(qtbot: Any, make_window: Any, runs_dir: Path,
                                                         dialog_log: DialogLog) -> None:
    """The one-time build is the warm-up's: show_run only hands the curves over."""
    window = make_window()
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.built, timeout=LONG)
    stages: list[None] = []  # each part of the build that runs (LossChart._build_stages)

    def counted() -> Any:
        stages.append(None)
        yield

    window.chart._stages = counted()
    window.show_run(stopped_run(runs_dir, "after"))
    assert window.chart.point_count > 0 and stages == []
    assert window.chart_area.currentWidget() is window.chart
