"""A max_length far past the model's context is refused (helper-106). `--set dataset.max_length=1000000` on the demo
(max_position_embeddings 512) passed validate with a warning (and with none at all before the demo model was first
built), then `estimate` worked out 87 GiB for rows of 1,000,000 tokens, and a packed run at it was killed for memory
at its first step (blocks are max_length long). Rows are cut at max_length, not at the context; training a model on
rows somewhat longer than its context is done on purpose, so up to FAR_PAST_CONTEXT (32) times the context stays a
warning, and past it validate refuses, naming the model's limit and what to set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.cli import main
from finetune_studio.core.config import default_config
from finetune_studio.core.errors import ERROR, WARNING
from finetune_studio.core.validation import validate, warnings_for

DEMO_REFUSAL = ("max_length 1,000,000 is far past this model's context: it reads at most 512 tokens "
                "(max_position_embeddings in its config.json), and 1,000,000 is 1,953 times that. Rows are cut at "
                "max_length, not at the context, so a longer row trains at positions the model never learned; the "
                "memory estimate plans for rows of 1,000,000 tokens, and packed batching makes blocks that long. To "
                "fix: set max_length to 512 or less; to train the model on longer rows on purpose, up to 16,384 (32 "
                "times its context) is accepted with a warning.")


@pytest.fixture(autouse=True)
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FINETUNE_STUDIO_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def _at_max_length(found: list) -> list[tuple[str, str]]:
    return [(p.level, p.message) for p in found if p.field == "dataset.max_length"]


def test_max_length_far_past_the_demos_context_is_refused(demo_cache: Path) -> None:
    config = default_config()
    config.dataset.max_length = 1_000_000
    assert _at_max_length(validate(config)) == [(ERROR, DEMO_REFUSAL)]
    assert _at_max_length(warnings_for(config)) == []  # said once, as the problem
    config.dataset.max_length = 512  # the fix
    assert _at_max_length(validate(config)) == [] and _at_max_length(warnings_for(config)) == []
    config.dataset.max_length = 512 * 32  # the most it accepts: a warning
    assert _at_max_length(validate(config)) == []
    assert [level for level, _ in _at_max_length(warnings_for(config))] == [WARNING]
    config.dataset.max_length = 512 * 32 + 1
    found = _at_max_length(validate(config))
    assert len(found) == 1 and "and 16,385 is more than 32 times that." in found[0][1]


def test_the_demo_is_judged_before_it_is_first_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path / "empty-cache"))
    config = default_config()
    config.dataset.max_length = 1_000_000
    assert _at_max_length(validate(config)) == [(ERROR, DEMO_REFUSAL)]
    config.dataset.max_length = 600
    warned = _at_max_length(warnings_for(config))
    assert len(warned) == 1 and warned[0][1].startswith("max_length 600 is past this model's context: it was trained "
                                                        "on at most 512 tokens (max_position_embeddings")
    assert not (tmp_path / "empty-cache").exists()  # nothing was built to tell


def test_a_local_models_own_key_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "gpt2-like"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_positions": 1024}))
    config = default_config()
    config.model.name_or_path = str(folder)
    config.dataset.max_length = 40_000
    found = [(level, message) for level, message in _at_max_length(validate(config))
             if "context" in message]
    assert len(found) == 1 and found[0][1].startswith(
        "max_length 40,000 is far past this model's context: it reads at most 1,024 tokens (n_positions in its "
        "config.json), and 40,000 is 39 times that.")
    assert found[0][1].endswith("To fix: set max_length to 1,024 or less; to train the model on longer rows on "
                                "purpose, up to 32,768 (32 times its context) is accepted with a warning.")


def test_validate_and_estimate_on_the_command_line(demo_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["validate", "--set", "dataset.max_length=1000000"]) == 2
    assert capsys.readouterr().out.splitlines() == [f"problem: dataset.max_length: {DEMO_REFUSAL}"]
    from finetune_studio.core.estimate import config_problems

    config = default_config()
    config.dataset.max_length = 1_000_000
    assert [p.message for p in config_problems(config)] == [DEMO_REFUSAL]  # estimate waits for a valid config
    assert main(["validate", "--set", "dataset.max_length=512"]) == 0
