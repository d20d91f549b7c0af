"""A push refused because the run is training now (core.export.training_text), or because a run trains in this
app while a merged push would merge (core.export.merge_refusal), was a HubError with no kind: the window could tell
neither from a damaged model nor from a failed upload but by reading the sentence (helper-84, F5). They now have
kinds of their own, RUN_TRAINING and TRAINING_HERE; a damaged model keeps none. Runs are made without training;
nothing reaches the Hub (each is refused before it is asked)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import hub as core_hub
from finetune_studio.core import shared_state
from finetune_studio.core.runs import RunFolder, RunLock
from tests.core.test_cli_push_export_input import _adapter_run

TOKEN = "hf_" + "x" * 34


def _push(run: Path, **kwargs: object) -> core_hub.HubError:
    with pytest.raises(core_hub.HubError) as refused:
        core_hub.push_run(run, repo_id="alice/lora-run", token=TOKEN, **kwargs)  # type: ignore[arg-type]
    return refused.value


@pytest.mark.parametrize("first", [True, False])
def test_a_push_of_a_run_training_now_has_its_own_kind(first: bool, tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    if first:
        shutil.rmtree(run / "model")  # training for the first time: no model yet
    RunFolder(run).write_status("running", "Training", step=2, max_steps=9)
    with RunLock.acquire(run, new_run=first):
        refused = _push(run)
        merged = _push(run, form=core_hub.PUSH_MERGED)
    doing = f"(process {os.getpid()}, at step 2 of 9)"
    said = (f"The run lora-run is training {doing}; it has no finished model yet." if first else
            f"The run lora-run is training again {doing}: its model folder still holds the previous result, which "
            "would be pushed as if it were this run's.")
    for error in (refused, merged):
        assert str(error) == f"{said} Nothing was pushed. To fix: wait until it ends (or stop it), then try again."
        assert error.kind == "run_training", error.kind
        assert error.kind == core_hub.RUN_TRAINING and not error.bad_input and not error.needs_login


def test_a_merged_push_while_a_run_trains_in_the_app_has_the_kind_an_export_has(tmp_path: Path) -> None:
    from finetune_studio.core import export

    run = _adapter_run(tmp_path / "runs")
    with shared_state.training_owns_process_state():
        refused = _push(run, form=core_hub.PUSH_MERGED)
    assert str(refused).startswith("Cannot merge the adapter of the run lora-run into its base model now: a run is "
                                   "training in this app")
    assert refused.kind == export.TRAINING_HERE, refused.kind
    assert refused.kind == core_hub.TRAINING_HERE and not refused.bad_input


def test_a_damaged_model_keeps_no_training_kind(tmp_path: Path) -> None:
    run = _adapter_run(tmp_path / "runs")
    weights = run / "model" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])  # cut short, as a full disk leaves it
    refused = _push(run)
    assert str(refused).startswith("The saved model of the run lora-run is damaged: ")
    assert refused.kind == ""
