"""An export refused because some process trains the run now had no ExportError.kind (helper-93): code could tell
it from a damaged model (the other refusal of shipping_problem, whose fix is not to wait) only by the sentence. It
has core.export.RUN_TRAINING now, the string of core.hub's RUN_TRAINING for a push's same refusal, and like that
one it is no bad input: `finetune-studio export` exits 1 for it, as `push` does. Runs are made without training."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import cli, export
from finetune_studio.core import hub as core_hub
from finetune_studio.core.export import ExportError
from tests.core.test_cli_push_export_input import _adapter_run


@pytest.mark.parametrize("first", [True, False], ids=["first-training", "training-again"])
def test_an_export_of_a_run_training_now_has_its_own_kind(first: bool, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from finetune_studio.core.runs import RunFolder, RunLock

    run = _adapter_run(tmp_path / "runs")
    if first:
        shutil.rmtree(run / "model")  # training for the first time: the model is saved at the end
    RunFolder(run).write_status("running", "Training", step=2, max_steps=9)
    doing = (f"The run lora-run is training (process {os.getpid()}, at step 2 of 9); it has no finished model yet."
             if first else
             f"The run lora-run is training again (process {os.getpid()}, at step 2 of 9): its model folder still "
             "holds the previous result, which would be exported as if it were this run's.")
    said = f"{doing} Nothing was exported. To fix: wait until it ends (or stop it), then try again."
    with RunLock.acquire(run, new_run=first):
        for kind in export.KINDS:
            with pytest.raises(ExportError) as refused:
                export.export_run(run, kind, tmp_path / "out")
            assert (str(refused.value), refused.value.kind) == (said, "run_training"), kind
            assert refused.value.kind == export.RUN_TRAINING == core_hub.RUN_TRAINING
            assert not refused.value.bad_input and refused.value.kind not in export.WRITE_KINDS
        assert cli.main(["export", "--merged", str(run)]) == cli.EXIT_FAILED  # as a push of it exits
        assert capsys.readouterr().err.strip().splitlines() == [f"error: {said}"]
    assert not (tmp_path / "out").exists()


def test_a_damaged_model_keeps_no_kind_and_a_check_made_already_is_not_made_again(tmp_path: Path) -> None:
    """The damage refusal is not the training one: it keeps no kind (its fix is to put the weights back). A caller
    that ran shipping_problem itself (a push: `checked`) gets neither refusal a second time."""
    from finetune_studio.core.runs import RunFolder, RunLock

    run = _adapter_run(tmp_path / "runs")
    weights = run / "model" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # cut short, as by a full disk
    with pytest.raises(ExportError) as refused:
        export.export_adapter(run, tmp_path / "out")
    assert str(refused.value).startswith("The saved model of the run lora-run is damaged: ")
    assert refused.value.kind == ""
    RunFolder(run).write_status("running", "Training", step=2, max_steps=9)
    with RunLock.acquire(run):  # training again over the damaged model: said as training (wait), with its kind
        with pytest.raises(ExportError) as refused:
            export.export_adapter(run, tmp_path / "out")
        assert refused.value.kind == export.RUN_TRAINING
        assert export._adapter_model_dir(run, checked=True)[1] == run / "model"
