"""`core.estimate.run_cli` exits as README's table says: a Hub that cannot be reached is "it failed" (1), not bad
input (2); a model folder that cannot be read stays 2. core.cli asks the model's layout first for `estimate`
(ec4234e), but run_cli is the estimate's own entry and said 2 for the same refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_studio.core import hub_access
from finetune_studio.core.config import default_config
from finetune_studio.core.estimate import run_cli


def test_an_unreachable_hub_exits_1_with_the_hubs_refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: the connection is refused at once
    monkeypatch.setattr(hub_access, "_CACHE", {})
    config = default_config()
    config.model.name_or_path = "nobody/no-such-model-h162"  # in no cache
    assert run_cli(config, []) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot reach the Hugging Face Hub (http://127.0.0.1:9) to load the config of "
                          "'nobody/no-such-model-h162'"), err
    assert "To fix:" in err


def test_a_model_folder_without_a_config_stays_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "model").mkdir()
    config = default_config()
    config.model.name_or_path = str(tmp_path / "model")
    assert run_cli(config, []) == 2
    assert capsys.readouterr().err.startswith("error: ")
