"""The real window on a run whose only checkpoint lost its weights: Resume (the toolbar's action) and the Runs
tab's Continue are not offered, and the header, Continue's tooltip and the run's row say why (core.runs'
resume_point, the rule the resume itself follows). Before, both were offered and the resume then refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.core.test_unloadable_checkpoint_offer import FIX, WHY, weightless_run
from tests.gui.test_app import LONG, dialog_log, make_window, window
from tests.gui.test_history import rows, wait_rows
from tests.helpers import checkpoint


def test_resume_and_continue_are_not_offered_and_the_window_says_why(qtbot: Any, window: Any, runs_dir: Path) -> None:
    run = weightless_run(runs_dir)
    qtbot.waitUntil(lambda: window.session.busy_reason() is None, timeout=LONG)  # the stack is not what stops it
    window.show_run(run)
    assert not window.resume_action.isEnabled() and window.session.resumable is None
    text = window.header.state_label.text()
    assert "Resume continues" not in text and f"Resume is not offered: {WHY}. {FIX}" in text

    panel = window.history
    window.tabs.setCurrentWidget(panel)
    wait_rows(qtbot, panel, lambda r: "weightless" in r)
    panel.select([run])
    assert not panel.continue_button.isEnabled() and not panel.continue_epochs.isEnabled()
    assert panel.continue_button.toolTip().startswith(f"weightless cannot be continued: {WHY}. {FIX}")
    assert rows(panel)["weightless"]["tip"] == f"Stopped at step 12 of 40. (it cannot resume: {WHY}.) {FIX}, or " \
        "start it again with its settings (in the app: Runs tab, Use its settings, then Start)."

    checkpoint(run, 12)  # its weights put back: offered again
    window.show_run(run)
    assert window.resume_action.isEnabled()
    panel.select([])
    panel.select([run])
    assert panel.continue_button.isEnabled()
