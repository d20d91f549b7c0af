"""A run that is training right now (its lock alive) has no saved model yet: export and push told it "resume it
to the end first", a resume its own lock refuses. core.runs.no_model_text says it is still training and to wait."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finetune_studio.core import hub
from finetune_studio.core.config import default_config, save_config
from finetune_studio.core.runs import RunFolder, RunLock, no_model_text

LIVE = ("The run r is still training, so it has no saved model to {} yet: a run saves its model when it finishes. "
        "To fix: wait for it to finish (the Runs tab, or `finetune-studio runs`, shows how far it is), then {} it.")


def live_run(root: Path, state: str) -> RunFolder:
    folder = RunFolder(root / "r")
    folder.path.mkdir()
    save_config(default_config(), folder.config_path)
    folder.write_status(state, "")
    return folder


@pytest.mark.parametrize("state", ["running", "stopped"])  # stopped: a resume that has not written its status yet
def test_a_run_training_now_is_told_to_wait_not_to_resume(tmp_path: Path, state: str) -> None:
    folder = live_run(tmp_path, state)
    with RunLock.acquire(folder.path):
        assert no_model_text(folder, "export") == LIVE.format("export", "export")
        with pytest.raises(hub.HubError) as pushed:
            hub.plan_push(folder.path)
        assert str(pushed.value) == (f"The run r is training (process {os.getpid()}); it has no finished model yet. "
                                     "Nothing was pushed. To fix: wait until it ends (or stop it), then try again.")
    assert "still training" not in no_model_text(folder, "push")  # its lock released: not training


@pytest.mark.parametrize("loads", [True, False])
def test_an_unfinished_run_is_told_to_resume_only_from_a_checkpoint_that_loads(tmp_path: Path, loads: bool) -> None:
    from tests.helpers import checkpoint

    folder = live_run(tmp_path, "stopped")
    checkpoint(folder.path, 4, weights=loads)
    said = ("The run r has no saved model to push (its state is stopped): a run saves its model when it finishes."
            + (" To fix: resume it to the end first." if loads else
               " It cannot resume: its only checkpoint, checkpoint-4, cannot be loaded: it holds no weights "
               "(model*.safetensors). To fix: put the missing or damaged files back from a copy of the run, or "
               "start it again with its settings (in the app: Runs tab, Use its settings, then Start)."))
    assert no_model_text(folder, "push") == said


def test_the_checkpoint_is_looked_for_where_the_config_puts_it(tmp_path: Path) -> None:
    from tests.helpers import checkpoint

    folder = live_run(tmp_path, "stopped")
    config = default_config()
    config.training["output_dir"] = str(tmp_path / "out")
    save_config(config, folder.config_path)
    checkpoint(tmp_path / "out", 4)
    assert no_model_text(folder, "push").endswith(" To fix: resume it to the end first.")
