"""Export's and push's fix for a damaged model of a run that has not finished said "resume the run to save its
model again" whenever the run had a complete checkpoint, one whose weights were deleted too: that resume refuses
("none of its checkpoints can be loaded"). It is said only where Resume can load one (core.runs' resume_point)."""

from __future__ import annotations

from pathlib import Path

from finetune_studio.core.export import model_fix
from finetune_studio.core.runs import RunFolder
from tests.core.test_unloadable_checkpoint_offer import weightless_run
from tests.helpers import checkpoint


def test_resume_is_the_fix_only_when_a_checkpoint_loads(tmp_path: Path) -> None:
    run = weightless_run(tmp_path)  # stopped at step 12; its only checkpoint lost its model.safetensors
    said = model_fix(RunFolder(run))
    assert "resume the run" not in said and "finetune-studio resume" not in said
    assert said.startswith(f"put the model folder {run / 'model'} back from a copy of the run, or train the run again")

    checkpoint(run, 12)  # its weights back: resuming saves the model again
    assert model_fix(RunFolder(run)) == (f"resume the run to save its model again (finetune-studio resume {run}), or "
                                         "train it again.")
