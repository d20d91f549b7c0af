"""A push checks the run's saved model for damage once (core.export.shipping_problem -> core.generate.damage, which
reads every weight file's header: costly for a big model). It ran three times a push (push_run, then _plan twice)
and twice for a merged push or one made by the run's own process; a damaged model is still refused, before
anything reaches the Hub. Against the local test Hub, in this process (hub_fixtures.patch_client)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core import generate
from finetune_studio.core import hub as core_hub
from tests import helpers
from tests.hub_fixtures import WRITE, hub, instant_retries, patch_client, run_dir  # hub, run_dir: fixtures
from tests.hub_server import HubServer


@pytest.fixture
def damage_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every folder core.generate.damage is asked about, in order (it still answers)."""
    calls: list[Path] = []
    real = generate.damage

    def counted(folder: Path) -> str | None:
        calls.append(Path(folder))
        return real(folder)

    monkeypatch.setattr(generate, "damage", counted)
    return calls


@pytest.fixture
def logged_in(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    instant_retries(monkeypatch)
    core_hub.login(WRITE)
    return hub


def test_a_push_checks_the_model_once(logged_in: HubServer, run_dir: Path, damage_calls: list[Path]) -> None:
    result = core_hub.push_run(run_dir, repo_id="alice/once")
    assert damage_calls == [run_dir / "model"]
    assert logged_in.repos["alice/once"].files["model.safetensors"] and len(result.files) == 10


def test_a_push_by_the_runs_own_process_checks_the_model_once(logged_in: HubServer, run_dir: Path,
                                                               damage_calls: list[Path]) -> None:
    events: list[dict[str, Any]] = []
    assert core_hub.push_when_done(run_dir, "alice/when-done", True, events.append) is not None
    assert damage_calls == [run_dir / "model"]
    assert events[-1]["push"] == "done"


def test_a_damaged_model_is_refused_after_one_check_and_nothing_is_sent(logged_in: HubServer, run_dir: Path,
                                                                         damage_calls: list[Path]) -> None:
    weights = run_dir / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # cut short, as by a full disk
    sent_before = len(logged_in.requests)
    with pytest.raises(core_hub.HubError) as refused:
        core_hub.push_run(run_dir, repo_id="alice/damaged")
    assert str(refused.value).startswith(f"The saved model of the run {run_dir.name} is damaged: ")
    assert str(refused.value).endswith(  # a finished run does not resume: core.export.model_fix says what does
        f"Nothing was pushed. To fix: put the model folder {run_dir / 'model'} back from a copy of the run, or train "
        "the run again under a new name (a finished run does not resume).")
    assert damage_calls == [run_dir / "model"]
    assert logged_in.requests[sent_before:] == [] and "alice/damaged" not in logged_in.repos


def test_the_dialogs_list_still_says_a_damaged_model(run_dir: Path, damage_calls: list[Path]) -> None:
    weights = run_dir / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(core_hub.HubError, match="is damaged: "):
        core_hub.plan_push(run_dir)
    assert damage_calls == [run_dir / "model"]


@pytest.mark.slow
def test_a_merged_push_checks_the_model_once(logged_in: HubServer, tmp_path: Path, demo_cache: Path,
                                              damage_calls: list[Path]) -> None:
    (tmp_path / "lora").mkdir()
    lora = helpers.lora_run(tmp_path / "lora", "lora-run", rows=40, max_steps=2)
    damage_calls.clear()  # training checks its own checkpoints
    listed = core_hub.plan_push(lora, form=core_hub.PUSH_MERGED)  # the dialog's list, before a push
    assert damage_calls == [lora / "model"]
    damage_calls.clear()
    result = core_hub.push_run(lora, repo_id="alice/merged", form=core_hub.PUSH_MERGED)
    assert damage_calls == [lora / "model"]
    assert sorted(result.files) == sorted(name for name, _ in listed)
    assert "model.safetensors" in logged_in.repos["alice/merged"].files
