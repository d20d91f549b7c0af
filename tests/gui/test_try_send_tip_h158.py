"""Send disabled while a job runs says why in its tooltip: during a comparison (the Chat page's Send said only 'Ask
both models this prompt (Ctrl+Enter).', with no hint that the Compare page held the models) and during an answer.
Loading, answering and comparing are test_try_tab_states' fakes, held until let go; the widgets are the real
TryTab's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gui.test_try_tab_states import WAIT, Fakes, make_run, open_try_tab


@pytest.fixture
def tab(qtbot: Any, demo_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from finetune_studio.core.demo import demo_model_path

    fakes = Fakes(monkeypatch)
    make_run(tmp_path / "runs", "only", demo_model_path(), steps=(4,))
    made = open_try_tab(qtbot, tmp_path / "runs")
    made.fakes = fakes
    yield made
    made.runner.stop()
    made.shutdown()


def test_send_says_why_it_is_disabled_during_a_comparison(qtbot: Any, tab: Any) -> None:
    tab.fakes.compare_hold_after = 1
    tab.session.config.prompts[:] = ["Leo: the stars"]
    tab._load_prompts()
    tab.compare.start()
    qtbot.waitUntil(lambda: bool(tab.compare.table_data.cells), timeout=WAIT)
    assert not tab.send_button.isEnabled()
    assert tab.send_button.toolTip() == (
        "The checkpoints are being compared (the Compare checkpoints page), and the models answer one job at a time. "
        "To fix: wait for the comparison to end, or press Stop on that page.")
    tab.compare.stop_button.click()
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=WAIT)
    assert tab.send_button.isEnabled() and tab.send_button.toolTip() == "Ask both models this prompt (Ctrl+Enter)."


def test_send_says_why_it_is_disabled_while_the_models_answer(qtbot: Any, tab: Any) -> None:
    tab.fakes.stream = True
    tab.prompt_edit.setPlainText("Aries")
    tab.send_button.click()
    qtbot.waitUntil(lambda: "more" in tab.panes["base"].text.toPlainText(), timeout=WAIT)
    assert not tab.send_button.isEnabled() and tab.stop_button.isEnabled()
    assert tab.send_button.toolTip() == ("The models are still answering the last prompt. To fix: wait for the "
                                         "answer, or press Stop answering.")
    tab.stop_button.click()
    qtbot.waitUntil(lambda: not tab.runner.running, timeout=WAIT)
    assert tab.send_button.isEnabled() and tab.send_button.toolTip() == "Ask both models this prompt (Ctrl+Enter)."
