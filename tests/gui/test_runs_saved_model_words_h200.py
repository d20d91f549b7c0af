"""The Saved model row of a run's summary in the Runs tab says why a run that did not finish has no model in plain
English: '(this one failed)', '(this one was interrupted)', not '(this one is failed)'."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.runs import RunSummary
from finetune_studio.gui.history import saved_model_text


@pytest.mark.parametrize(("state", "said"), [
    ("failed", "this one failed"), ("interrupted", "this one was interrupted"), ("stopped", "this one is stopped"),
    ("broken", "this one is broken"), ("unknown", "this one's state is unknown")])
def test_the_saved_model_row_of_a_run_without_a_model(tmp_path: Path, state: str, said: str) -> None:
    run = RunSummary(path=tmp_path / "a-run", state=state)
    assert saved_model_text(run) == (f"none: a run saves its model when it finishes ({said})", "")
