"""Adapter runs in the window: the Runs tab's method column, and (slow) LoRA picked, trained, stopped, resumed,
exported both ways and pushed, all from the real window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.core import test_runs_history as fab
from tests.gui.test_app import dialog_log, make_window  # noqa: F401 - fixtures
from tests.gui.test_history import rows, wait_rows


@pytest.fixture
def cold_window(make_window: Any) -> Any:  # noqa: F811 - the fixture above
    made = make_window(warm=False)
    made.tabs.setCurrentWidget(made.history)
    return made


def test_the_runs_tab_shows_each_runs_method(qtbot: Any, cold_window: Any, runs_dir: Path) -> None:
    runs_dir.mkdir(parents=True)
    finished = {"state": "finished", "message": "Finished 20 steps.", "model": "builtin:demo",
                "dataset": "builtin:sample"}
    fab.make_run(runs_dir, "lora-run", fab.segment(2, 20), {**finished, "method": "lora"})
    dora = fab.make_run(runs_dir, "dora-run", fab.segment(2, 20), {"state": "finished"})  # status without it:
    (dora / "config.yaml").write_text("name: dora-run\nmodel:\n  name_or_path: builtin:demo\n"
                                      "adapter:\n  method: dora\n")  # config.yaml says
    fab.make_run(runs_dir, "old-run", fab.segment(2, 20), finished)  # from before adapters: full fine-tuning
    table = wait_rows(qtbot, cold_window.history, lambda r: len(r) == 3)
    assert {name: cells["method"] for name, cells in table.items()} == {"lora-run": "LoRA", "dora-run": "DoRA",
                                                                         "old-run": "full"}
    from finetune_studio.gui.history import COLUMN

    proxy = cold_window.history.proxy
    row = rows(cold_window.history)["lora-run"]["row"]
    assert proxy.index(row, COLUMN["method"]).data(3) == "LoRA"  # ToolTipRole: the method's full name
