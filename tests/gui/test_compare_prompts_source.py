"""Which prompts Compare checkpoints answers: those of the config open in the app (its prompts:), not the run's
config.yaml; `generate RUN --answers` said "it answers the run's 2 saved prompts" while the Try tab's table listed
the open config's. The run's own prompts reach the Try tab when its settings are loaded (Use its settings), the way
`generate --answers` now says (tests/core/test_generate_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from finetune_studio.core import generate_cli
from finetune_studio.core.config import save_config
from tests.gui.test_app import dialog_log, make_window
from tests.gui.test_history import wait_rows
from tests.helpers import small_config


def test_compare_answers_the_open_configs_prompts_and_use_its_settings_brings_the_runs(
        qtbot: Any, make_window: Any, runs_dir: Path, small_dataset: Path) -> None:
    window = make_window(warm=False)
    path = runs_dir / "prompted-run"
    path.mkdir(parents=True)
    config = small_config(small_dataset, runs_dir)
    config.name, config.prompts = "prompted-run", ["Aries", "Leo"]
    save_config(config, path / "config.yaml")
    (path / "status.json").write_text(json.dumps({"state": "finished", "pid": 1}))
    assert window.try_tab.compare.prompts == []  # the open config has none: the run's are not what it answers
    advice = generate_cli.no_answers_message(path)
    assert "load the run's 2 saved prompts (Runs tab: select prompted-run, Use its settings)" in advice
    assert "answers the prompts of the config open in the app" in advice
    panel = window.history
    window.tabs.setCurrentWidget(panel)
    wait_rows(qtbot, panel, lambda rows: "prompted-run" in rows)
    panel.select([path])
    panel.use_button.click()  # what the advice says to do
    assert window.try_tab.compare.prompts == ["Aries", "Leo"]
