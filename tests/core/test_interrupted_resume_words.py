"""An interrupted run (its process died while its status said running), a failed run whose fix was applied, and a
run's rank interrupted: each was told "Resume to continue" whatever its folder held, and the resume then refused
(no checkpoint, or none that loads). The words now follow core.runs' resume_point, the rule Resume itself follows.

Run folders are fabricated (tests/core/test_runs_history.py's make_run, tests/helpers.checkpoint)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core.advice import Fix, apply_fix
from finetune_studio.core.errors import FinetuneError
from finetune_studio.core.runs import RunFolder, summarize
from finetune_studio.core.training import describe_failure
from tests.core.test_runs_history import make_run, segment
from tests.helpers import checkpoint

ENDED = "The process running this run ended without finishing it."
NONE_SAVED = (" No checkpoint was saved, so it cannot resume. To fix: start it again under another name, with its "
              "settings: finetune-studio train RUN/config.yaml --name NEW_NAME (RUN being this run's folder, which "
              "keeps its name; in the window: the Runs tab, Use its settings, then Start).")
WHY = "its only checkpoint, checkpoint-12, cannot be loaded: it holds no weights (model*.safetensors)"
FIX = ("To fix: put the missing or damaged files back from a copy of the run, or start it again with its settings "
       "(in the app: Runs tab, Use its settings, then Start).")


def dead_pid() -> int:
    """The pid of a process that has ended (a status naming it reads as interrupted)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def crashed_run(runs: Path, name: str = "crashed") -> Path:
    """A run whose process died at step 12 while its status.json said running."""
    return make_run(runs, name, segment(2, 12, end=None, max_steps=40),
                    {"state": "running", "pid": dead_pid(), "step": 12})


def test_an_interrupted_run_without_a_checkpoint_is_told_to_start_again(tmp_path: Path) -> None:
    run = crashed_run(tmp_path)
    status = RunFolder(run).read_status()
    assert (status["state"], status["message"]) == ("interrupted", ENDED + NONE_SAVED)
    assert summarize(run).message == ENDED + NONE_SAVED


def test_an_interrupted_run_whose_checkpoint_cannot_load_says_why_once(tmp_path: Path) -> None:
    run = crashed_run(tmp_path)
    checkpoint(run, 12, weights=False)
    expected = f"{ENDED} It cannot resume: {WHY}. {FIX}"
    assert RunFolder(run).read_status()["message"] == expected
    assert summarize(run).message == expected  # not again as "(it cannot resume: …)"


def test_an_interrupted_run_with_a_checkpoint_that_loads_names_it(tmp_path: Path) -> None:
    run = crashed_run(tmp_path)
    checkpoint(run, 6)
    checkpoint(run, 12, weights=False)
    assert RunFolder(run).read_status()["message"] == f"{ENDED} Resume continues from checkpoint-6."


def test_apply_fix_on_an_interrupted_run_without_a_checkpoint_does_not_say_resume(tmp_path: Path) -> None:
    run = crashed_run(tmp_path)
    with pytest.raises(FinetuneError) as refused:
        apply_fix(run)
    said = str(refused.value)
    assert "resume it with" not in said.lower()
    assert said.endswith(
        " No checkpoint was saved, so it cannot resume. To fix: start it again under another name: "
        "'finetune-studio train "
        f"{run / 'config.yaml'} --runs-dir {tmp_path} --name crashed-2' (in the window: select the run in the Runs "
        "tab, press Use its settings, change them and press Start).")


@pytest.mark.parametrize("loads", [True, False])
def test_a_fix_applied_says_where_resume_continues_or_why_it_cannot(tmp_path: Path, loads: bool) -> None:
    run = make_run(tmp_path, "oom", segment(2, 12, end="failed", max_steps=40),
                   {"state": "failed", "message": "Ran out of memory.", "step": 12,
                    "fix": Fix("batch size 4", {"training.per_device_train_batch_size": 4}).to_dict()})
    checkpoint(run, 12, weights=loads)
    apply_fix(run)
    said = RunFolder(run).read_status()["message"]
    assert said == ("Fix applied: batch size 4." + (" Resume continues from checkpoint-12." if loads else
                                                    f" It cannot resume: {WHY}. {FIX}"))


def test_a_keyboard_interrupt_alone_does_not_promise_a_checkpoint() -> None:
    """describe_failure has no run folder (a rank's error, read by the launcher, which adds resume_advice)."""
    from finetune_studio.core.config import default_config

    assert describe_failure(KeyboardInterrupt(), default_config()) == "Interrupted before the run ended."


def test_apply_fix_on_a_finished_run_says_how_to_train_it_further(tmp_path: Path) -> None:
    """A plain resume of a finished run trains nothing ("nothing trained"): the advice names --epochs."""
    run = make_run(tmp_path, "done", segment(2, 20, end="finished", max_steps=20),
                   {"state": "finished", "message": "Finished 20 steps.", "step": 20, "max_steps": 20})
    with pytest.raises(FinetuneError) as refused:
        apply_fix(run)
    assert str(refused.value) == (
        "The run done has no proposed fix to apply (it is finished: Finished 20 steps). To train it further: "
        f"'finetune-studio resume {run} --epochs 1' (in the app: Runs tab, Train N more epochs).")
