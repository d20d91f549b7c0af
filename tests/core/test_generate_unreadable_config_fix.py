"""A run whose config.yaml cannot be read is refused with one "To fix:": core.config's message carries its own, and
run_config added a second after it ("… To fix: correct line 2 … ). To fix: restore it or open the model folder
itself."), which the Try tab showed as it stood (helper-108)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core.generate import GenerationError, run_config


@pytest.mark.parametrize("text", ["model: [\n", "- a\n- b\n"], ids=["torn", "a-list"])
def test_one_fix_leads_the_way(tmp_path: Path, text: str) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "config.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(GenerationError) as caught:
        run_config(run)
    message = str(caught.value)
    assert message.startswith("The run r has an unreadable config.yaml (") and message.count("To fix:") == 1
    assert message.endswith(", or open the model folder itself.")
