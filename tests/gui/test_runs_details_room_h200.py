"""The details under the Runs tab's table of a run with a long message (a CUDA failure repeated in its message):
the title keeps the message's fix ('… To fix: restart.'), cut to TITLE_MESSAGE_CHARS with the whole in its tooltip,
and the title and the run's summary get the height their wrapped lines need, the table giving way. Before, in a
1280x800 window, the title took the details' room and it and the summary were drawn cut off mid-line: the fix and
the summary's last rows (Time, Saved model) unread. Fabricated runs (tests/core/test_runs_history.py's builders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import wait_rows

pytestmark = pytest.mark.usefixtures("drain_background")

CUDA = ("CUDA error: an illegal memory access was encountered. CUDA kernel errors might be asynchronously reported "
        "at some other API call, so the stacktrace below might be incorrect. ")
MESSAGE = CUDA * 8 + "To fix: restart."


def drawn_whole(label: Any) -> bool:
    return label.height() >= label.heightForWidth(label.width())


def test_a_long_message_leaves_its_fix_and_the_summary_readable(qtbot: Any, make_window: Any, runs_dir: Path) -> None:
    path = fab.make_run(runs_dir, "failed-long", fab.segment(2, 8, end="failed"),
                        {"state": "failed", "message": MESSAGE, "step": 8, "model": "builtin:demo",
                         "dataset": "builtin:sample"})
    short = fab.make_run(runs_dir, "short", fab.segment(2, 20),
                         {"state": "finished", "message": "Finished 20 steps.", "step": 20, "model": "builtin:demo",
                          "dataset": "builtin:sample"})
    window = make_window(warm=False)
    window.resize(1280, 800)
    window.tabs.setCurrentWidget(window.history)
    panel = window.history
    wait_rows(qtbot, panel, lambda r: len(r) == 2)
    panel.select([path])
    qtbot.wait(200)  # laid out
    title, summary = panel.details_title, panel.details_summary
    assert summary.isVisible() and "Saved model:" in summary.text()
    assert drawn_whole(summary), (summary.height(), summary.heightForWidth(summary.width()))
    assert drawn_whole(title), (title.height(), title.heightForWidth(title.width()))
    shown = (CUDA * 3)[:400 - len("To fix: restart.") - 2].rstrip()
    assert title.text() == f"<b>failed-long</b> — failed: {shown}… To fix: restart."
    assert title.toolTip() == f"failed-long — failed: {MESSAGE}"
    assert panel.details.height() >= 4 * panel.details.fontMetrics().lineSpacing()  # a few lines of the config
    assert panel.table.height() > 200  # the table gave way, and still shows rows

    panel.select([short])  # a short one: as before, whole, no tooltip
    qtbot.wait(200)
    assert title.text() == "<b>short</b> — finished: Finished 20 steps." and title.toolTip() == ""
    assert drawn_whole(title) and drawn_whole(summary)
