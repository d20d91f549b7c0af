"""Export and push of a run training for the first time said it was "training again" and that "its model folder
still holds the previous result", which it has none of (helper-65). A resume over a previous model still says
so (tests/core/test_export_refusals.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from finetune_studio.core import export
from finetune_studio.core import hub as core_hub
from finetune_studio.core.export import ExportError
from tests.core.test_cli_push_export_input import _adapter_run


def test_a_run_training_for_the_first_time_has_no_finished_model_yet(tmp_path: Path) -> None:
    from finetune_studio.core.runs import RunFolder, RunLock

    run = _adapter_run(tmp_path / "runs")
    shutil.rmtree(run / "model")  # training for the first time: the model is saved at the end
    RunFolder(run).write_status("running", "Training", step=2, max_steps=9)
    with RunLock.acquire(run, new_run=True):
        pid = os.getpid()
        assert export.shipping_problem(run, "exported") == (
            f"The run lora-run is training (process {pid}, at step 2 of 9); it has no finished model yet. Nothing "
            "was exported. To fix: wait until it ends (or stop it), then try again.")
        with pytest.raises(core_hub.HubError) as refused:
            core_hub.push_run(run, repo_id="alice/lora-run", token="hf_" + "x" * 34)  # refused before the Hub is asked
        assert str(refused.value) == (f"The run lora-run is training (process {pid}, at step 2 of 9); it has no "
                                      "finished model yet. Nothing was pushed. To fix: wait until it ends (or stop "
                                      "it), then try again.")


def test_a_run_training_again_over_its_previous_model_still_says_so(tmp_path: Path) -> None:
    from finetune_studio.core.runs import RunFolder, RunLock

    run = _adapter_run(tmp_path / "runs")  # its model folder holds the previous result
    RunFolder(run).write_status("running", "Training", step=5, max_steps=9)
    with RunLock.acquire(run):
        with pytest.raises(ExportError) as refused:
            export.export_adapter(run, tmp_path / "out")
        assert str(refused.value) == (f"The run lora-run is training again (process {os.getpid()}, at step 5 of 9): "
                                      "its model folder still holds the previous result, which would be exported as "
                                      "if it were this run's. Nothing was exported. To fix: wait until it ends (or "
                                      "stop it), then try again.")


def test_exporting_a_run_training_for_the_first_time_says_it_is_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An export (and the push dialog's list) of a run in its first training said no_model_text's "no saved model
    to export yet … wait for it to finish", while the push itself said it is training, to wait or stop it
    (helper-84, F6). All say the push's words now; the list's refusal has the push's kind (RUN_TRAINING)."""
    from finetune_studio.core import cli
    from finetune_studio.core.runs import RunFolder, RunLock

    run = _adapter_run(tmp_path / "runs")
    shutil.rmtree(run / "model")
    RunFolder(run).write_status("running", "Training", step=2, max_steps=9)
    with RunLock.acquire(run, new_run=True):
        doing = f"The run lora-run is training (process {os.getpid()}, at step 2 of 9); it has no finished model yet."
        said = f"{doing} Nothing was exported. To fix: wait until it ends (or stop it), then try again."
        for export_it in (export.export_adapter, export.export_merged):
            with pytest.raises(ExportError) as refused:
                export_it(run, tmp_path / "out")
            assert str(refused.value) == said
        assert cli.main(["export", "--adapter", str(run)]) == cli.EXIT_FAILED
        assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: {said}"
        with pytest.raises(core_hub.HubError) as listed:
            core_hub.plan_push(run)
        assert str(listed.value) == (f"{doing} Nothing was pushed. To fix: wait until it ends (or stop it), then try "
                                     "again.")
        assert listed.value.kind == core_hub.RUN_TRAINING
    assert not (tmp_path / "out").exists()
