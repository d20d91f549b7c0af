"""A merged push (`finetune-studio push --merged`, Push to Hub… merged) stops at the merge's next stage when it is
cancelled mid-merge (Ctrl-C sets the CLI's cancel event; the dialog's Cancel sets its own), as the export dialog's
Cancel stops an export: the merge ran to its end (minutes for a big base model, loading and merging it whole) and
only then did the push look at its cancel. Nothing of the merge is kept: the push's staging folder is removed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests import helpers
from tests.hub_fixtures import WRITE, hub, instant_retries, patch_client


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, demo_cache: Path) -> Path:
    return helpers.lora_run(tmp_path_factory.mktemp("merged-cancel"), "lora-run", rows=60, max_steps=2)


@pytest.fixture
def local_hub(hub: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    import tempfile

    patch_client(monkeypatch, hub.url, tmp_path / "hf_home")
    instant_retries(monkeypatch)
    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(staging))  # where the push stages, and merges
    hub.staging = staging
    return hub


def _spies(monkeypatch: pytest.MonkeyPatch, cancel: threading.Event, when: str) -> dict[str, int]:
    from finetune_studio.core import export
    from finetune_studio.core import model as models

    calls = {"load_model": 0, "merge": 0, "save": 0}
    real_load, real_untie, real_out = models.load_model, export.untie_adapted_head, export._prepare_out

    def load_model(*args: Any, **kwargs: Any) -> Any:
        calls["load_model"] += 1
        loaded = real_load(*args, **kwargs)
        if when == "while the base model loads":
            cancel.set()  # Ctrl-C while the base model loads
        return loaded

    def untie(*args: Any, **kwargs: Any) -> Any:  # the merge's first step once the adapter is on the base
        calls["merge"] += 1
        if when == "while merging":
            cancel.set()
        return real_untie(*args, **kwargs)

    def prepare_out(*args: Any, **kwargs: Any) -> Any:  # the hidden folder the merged model is written into
        calls["save"] += 1
        return real_out(*args, **kwargs)

    monkeypatch.setattr(models, "load_model", load_model)
    monkeypatch.setattr(export, "untie_adapted_head", untie)
    monkeypatch.setattr(export, "_prepare_out", prepare_out)
    return calls


NOTHING_SENT = "Nothing was sent to the Hub, and alice/lora-run was not created."
MID_MERGE = ("Push cancelled while merging the adapter into its base model: nothing of the merge was kept. "
             + NOTHING_SENT)


@pytest.mark.slow
@pytest.mark.parametrize(("when", "said", "calls"), [
    ("before the merge", "Push cancelled: n" + NOTHING_SENT[1:], {"load_model": 0, "merge": 0, "save": 0}),
    ("while the base model loads", MID_MERGE, {"load_model": 1, "merge": 0, "save": 0}),
    ("while merging", MID_MERGE, {"load_model": 1, "merge": 1, "save": 1}),  # stopped as it begins to write
])
def test_a_merged_push_cancelled_mid_merge_stops_and_keeps_nothing(when: str, said: str, calls: dict[str, int],
                                                                   lora_run: Path, local_hub: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import hub as core_hub

    cancel = threading.Event()
    made = _spies(monkeypatch, cancel, when)
    phases: list[str] = []

    def progress(event: dict[str, Any]) -> None:
        phases.append(event["phase"])
        if event["phase"] == "merge" and when == "before the merge":
            cancel.set()

    with pytest.raises(core_hub.HubCancelled) as raised:
        core_hub.push_run(lora_run, token=WRITE, progress=progress, cancel=cancel, form=core_hub.PUSH_MERGED)
    assert str(raised.value) == said
    assert phases == ["account", "repo", "merge"]
    assert made == calls
    assert list(local_hub.staging.iterdir()) == []  # the merge's folder (and any partial model in it) is gone
    assert local_hub.count("/commit/") == 0 and "alice/lora-run" not in local_hub.repos
