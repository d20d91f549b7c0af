"""The Try tab's model picker (final model, checkpoint-N) shows its whole label: opened while the window was still
loading the training libraries, the tab first showed with nothing listed, the picker took that empty width for
good (QComboBox's default, AdjustToContentsOnFirstShow), and once the runs were listed it read "final mod" at
1280x800 (a screenshot of the real window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gui.test_try_tab_states import Fakes, make_run
from tests.helpers import window_on_runs


def test_the_model_picker_is_as_wide_as_its_longest_label(qtbot: Any, demo_cache: Path, tmp_path: Path,
                                                           monkeypatch: Any) -> None:
    from finetune_studio.core.demo import demo_model_path

    Fakes(monkeypatch)
    make_run(tmp_path / "runs", "first", demo_model_path(), steps=(4, 12000))
    window = window_on_runs(qtbot, tmp_path / "runs", monkeypatch)
    window.resize(1280, 800)
    tab = window.try_tab
    tab.waits_for_stack = True  # as the window's warm-up leaves it until the libraries are in
    assert not window.session.stack_ready
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: "Loading the training libraries" in tab.status_label.text())
    combo = tab.target_combo
    assert combo.count() == 0
    qtbot.wait(100)  # the window lays the tab out and paints it while the libraries load: the picker, empty
    assert combo.width() < combo.fontMetrics().horizontalAdvance("final model") + 16
    window.session.set_stack_ready()
    qtbot.waitUntil(lambda: combo.count() == 3)
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == ["final model", "checkpoint-12000", "checkpoint-4"]
    qtbot.waitUntil(lambda: combo.width() == combo.sizeHint().width())
    metrics = combo.fontMetrics()
    assert combo.width() > max(metrics.horizontalAdvance(label) for label in labels) + 16  # the text, and the arrow
    assert tab.run_combo.width() >= tab.run_combo.minimumSizeHint().width()  # the run picker still has its room
