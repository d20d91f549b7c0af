"""A finished run whose saved model is damaged (or lost its adapter weights): export and push said "To fix: resume
the run to save its model again (finetune-studio resume …)", and resume answered "already finished … nothing to
resume". The fix given now works: copy the weights from the checkpoint the model was saved from, where there is
one; else put the model back from a copy or train again. A run that has not finished still resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_studio.core.config import default_config, save_config
from finetune_studio.core.export import ExportError, export_run, shipping_problem


def _safetensors(path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.zeros((4, 4), dtype=np.float32)}, str(path))


def _adapter(folder: Path, damaged: bool = False) -> None:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "builtin:demo"}))
    _safetensors(folder / "adapter_model.safetensors")
    if damaged:
        with (folder / "adapter_model.safetensors").open("r+b") as handle:
            handle.truncate(60)


def fabricated(tmp_path: Path, state: str = "finished", checkpoints: dict[int, dict] | None = None) -> Path:
    run = tmp_path / "lo2"
    run.mkdir()
    config = default_config()
    config.adapter.method = "lora"
    save_config(config, run / "config.yaml")
    (run / "status.json").write_text(json.dumps({"state": state, "step": 20, "max_steps": 20}))
    _adapter(run / "model", damaged=True)
    for step, trainer_state in (checkpoints or {}).items():
        _adapter(run / f"checkpoint-{step}")
        (run / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"global_step": step,
                                                                                  **trainer_state}))
    return run


def test_the_checkpoint_at_the_final_step_is_named(tmp_path: Path) -> None:
    run = fabricated(tmp_path, checkpoints={10: {}, 20: {}})
    assert shipping_problem(run, "exported") == (
        "The saved model of the run lo2 is damaged: its adapter_model.safetensors is cut short or not a "
        f"safetensors file. Nothing was exported. To fix: copy adapter_model.safetensors from {run / 'checkpoint-20'}, "
        f"which holds the weights the model was saved from, into {run / 'model'} (e.g. cp "
        f"{run / 'checkpoint-20' / 'adapter_model.safetensors'} {run / 'model'}/), then try again; or train the run "
        "again.")


def test_the_best_checkpoint_is_named_when_the_model_is_the_best(tmp_path: Path) -> None:
    run = fabricated(tmp_path, checkpoints={10: {}, 20: {"best_global_step": 10}})
    assert f"copy adapter_model.safetensors from {run / 'checkpoint-10'}, which" in shipping_problem(run, "pushed")


@pytest.mark.parametrize("checkpoints", [None, {10: {}}, {20: {"best_global_step": 10}}])
def test_without_the_checkpoint_it_was_saved_from_restore_or_train_again(tmp_path: Path,
                                                                          checkpoints: dict | None) -> None:
    """No checkpoint, one short of the final step, or a best one that is gone."""
    run = fabricated(tmp_path, checkpoints=checkpoints)
    problem = shipping_problem(run, "exported")
    assert problem.endswith(f"Nothing was exported. To fix: put the model folder {run / 'model'} back from a copy of "
                            "the run, or train the run again under a new name (a finished run does not resume).")
    assert "resume the run" not in problem


def test_missing_adapter_weights_get_the_same_fix(tmp_path: Path) -> None:
    run = fabricated(tmp_path, checkpoints={20: {}})
    (run / "model" / "adapter_model.safetensors").unlink()
    with pytest.raises(ExportError) as refused:
        export_run(run, "adapter")
    assert str(refused.value).endswith(f"the adapter's weights are missing. To fix: copy adapter_model.safetensors "
                                       f"from {run / 'checkpoint-20'}, which holds the weights the model was saved "
                                       f"from, into {run / 'model'} (e.g. cp "
                                       f"{run / 'checkpoint-20' / 'adapter_model.safetensors'} {run / 'model'}/), "
                                       "then try again; or train the run again.")


def test_a_run_that_has_not_finished_still_resumes(tmp_path: Path) -> None:
    run = fabricated(tmp_path, state="stopped", checkpoints={10: {}})
    assert shipping_problem(run, "exported").endswith(
        f"To fix: resume the run to save its model again (finetune-studio resume {run}), or train it again.")


@pytest.mark.slow
def test_the_fix_given_for_a_damaged_finished_run_works(demo_cache: Path, small_dataset: Path,
                                                        runs_dir: Path) -> None:
    import shutil

    from finetune_studio.core.training import resume, run
    from tests.helpers import small_config

    config = small_config(small_dataset, runs_dir, max_steps=4, save_steps=4, eval_strategy="no",
                          load_best_model_at_end=False)
    config.name = "lo2"
    config.adapter.method = "lora"
    config.adapter.r = 4
    result = run(config)
    assert result.state == "finished", result.message
    run_dir = Path(result.run_dir)
    weights = run_dir / "model" / "adapter_model.safetensors"
    with weights.open("r+b") as handle:
        handle.truncate(1000)
    with pytest.raises(ExportError) as refused:
        export_run(run_dir, "adapter")
    source = run_dir / "checkpoint-4" / "adapter_model.safetensors"
    assert f"To fix: copy adapter_model.safetensors from {run_dir / 'checkpoint-4'}, which" in str(refused.value)
    assert "nothing to resume" in resume(run_dir).message  # why "resume the run" was no fix
    shutil.copy(source, weights)
    exported = export_run(run_dir, "adapter")
    assert exported.out_dir == run_dir / "export-adapter"
    assert (exported.out_dir / "adapter_model.safetensors").read_bytes() == source.read_bytes()
