"""core.session: the window's document and run, and the resume / continue rules, without Qt or a trained model.

Run folders are fabricated from the files a run writes (tests/core/test_runs_history.py has the builders), with a
checkpoint folder where the rule needs one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core.config import RunConfig
from finetune_studio.core.events import RunState
from finetune_studio.core.session import (
    CONTINUE_TIP,
    Change,
    Session,
    can_resume,
    continue_blocker,
    continue_problem,
)
from tests.core.test_runs_history import make_run, segment
from tests.helpers import checkpoint as make_checkpoint


def checkpoint(run: Path, step: int, complete: bool = True, folder: Path | None = None,
               weights: bool = True) -> Path:
    """A checkpoint Resume can load; without `weights`, one whose weights were deleted (it cannot)."""
    if complete:  # Trainer writes trainer_state.json last: without it the checkpoint was cut off
        return make_checkpoint(folder or run, step, weights)
    path = (folder or run) / f"checkpoint-{step}"
    path.mkdir(parents=True)
    return path


def stopped_run(runs: Path, name: str = "stopped", with_checkpoint: bool = True) -> Path:
    run = make_run(runs, name, segment(2, 12, end="stopped", max_steps=40),
                   {"state": "stopped", "message": "Stopped at step 12 of 40."})
    if with_checkpoint:
        checkpoint(run, 12)
    return run


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(("state", "expected"), [("stopped", True), ("interrupted", True), ("failed", True),
                                                 ("finished", False), ("running", False),
                                                 ("broken", True), ("unknown", True),  # status.json damaged or gone
                                                 ("nonsense", False), (None, False)])
def test_resume_needs_an_unfinished_state_and_a_checkpoint(tmp_path: Path, state: str | None,
                                                          expected: bool) -> None:
    run = stopped_run(tmp_path)
    assert can_resume(state, run) is expected
    assert can_resume(RunState(state) if expected else state, run) is expected  # the enum reads the same
    bare = stopped_run(tmp_path, "bare", with_checkpoint=False)
    assert can_resume(state, bare) is False
    assert can_resume(state, None) is False
    if state in ("broken", "unknown"):  # a damaged status resumes only with its config intact
        (run / "config.yaml").unlink()
        assert can_resume(state, run) is False


def test_a_checkpoint_cut_off_while_being_written_does_not_count(tmp_path: Path) -> None:
    run = stopped_run(tmp_path, with_checkpoint=False)
    checkpoint(run, 12, complete=False)
    assert not can_resume("stopped", run)
    assert "no checkpoint" in continue_blocker("stopped", run)
    checkpoint(run, 10)
    assert can_resume("stopped", run) and continue_blocker("stopped", run) is None


def test_continue_is_not_offered_for_a_live_broken_or_checkpointless_run(tmp_path: Path) -> None:
    run = stopped_run(tmp_path)
    assert continue_blocker("finished", run) is None
    assert continue_blocker(RunState.RUNNING, run) == ("stopped is still training; it can be continued once it "
                                                       "has ended.")
    assert "broken" in continue_blocker("broken", run)
    bare = stopped_run(tmp_path, "bare", with_checkpoint=False)
    assert continue_blocker("finished", bare) == ("bare has no checkpoint to continue from. Start it again with its "
                                                  "settings (Use its settings, then Start).")


def test_continue_problem_reads_the_config(tmp_path: Path) -> None:
    run = stopped_run(tmp_path)
    assert continue_problem(run) is None and continue_problem(run, "finished") is None
    assert continue_problem(run, "running").startswith("stopped is still training")

    config = run / "config.yaml"
    config.write_text(config.read_text() + "training:\n  max_steps: 12\n")
    problem = continue_problem(run)
    assert problem is not None and "max_steps = 12" in problem and "press Train N more steps" in problem
    assert continue_problem(run, "finished", more_steps=True) is None  # more steps is how a capped run goes on
    assert continue_problem(run, "running", more_steps=True).startswith("stopped is still training")

    config.write_text(config.read_text().replace("max_steps: 12", "max_steps: -1"))
    assert continue_problem(run) is None

    elsewhere = tmp_path / "elsewhere"  # checkpoints where the config puts them, not in the run folder
    config.write_text(config.read_text() + f"  output_dir: {elsewhere}\n")
    assert "no complete checkpoint" in continue_problem(run)
    checkpoint(run, 12, folder=elsewhere)
    assert continue_problem(run) is None

    config.write_text("model: [this is not a mapping\n")
    assert continue_problem(run).startswith("Its config.yaml cannot be used")


def test_the_run_reason_comes_before_the_window_reason_and_the_default_tip(tmp_path: Path) -> None:
    run = stopped_run(tmp_path)
    session = Session()
    assert session.continue_offer("stopped", run) == (False, "The training stack is still loading.")
    session.set_stack_ready()
    assert session.continue_offer("stopped", run) == (True, CONTINUE_TIP)
    session.set_running(True)
    assert session.continue_offer("stopped", run) == (
        False, "A run is training in this window; continue another one when it ends.")
    bare = stopped_run(tmp_path, "bare", with_checkpoint=False)
    enabled, tip = session.continue_offer("stopped", bare)  # the run's own reason first
    assert not enabled and tip.startswith("bare has no checkpoint")


def test_the_document_tells_subscribers_what_changed(tmp_path: Path) -> None:
    session = Session(untitled="Built-in demo")
    seen: list[Change] = []
    unsubscribe = session.subscribe(seen.append)
    assert session.name == "Built-in demo" and not session.modified

    config = RunConfig()
    config.name = "mine"
    session.set_document(config, None, "Settings of old-run", modified=True)
    assert seen == [Change.DOCUMENT, Change.NAME]
    assert session.config.name == "mine" and session.config is not config  # a copy: the caller's stays its own
    assert session.name == "Settings of old-run" and session.modified

    seen.clear()
    session.set_modified(True)  # no change, no news
    assert seen == []
    session.saved(tmp_path / "mine.yaml")
    assert seen == [Change.NAME] and session.name == "mine.yaml" and not session.modified

    unsubscribe()
    session.set_modified(True)
    assert seen == [Change.NAME] and session.modified


def test_a_run_through_the_session_sets_resume_and_the_header_text(tmp_path: Path) -> None:
    session = Session()
    runs: list[tuple[RunState, str]] = []
    session.subscribe(lambda change: runs.append((session.state, session.state_text)) if change is Change.RUN
                      else None)
    session.set_stack_ready()
    session.begin("Preparing…")
    assert (session.state, session.run_dir, session.resumable) == (RunState.PREPARING, None, None)

    run = stopped_run(tmp_path)
    session.set_running(True)
    session.run_event({"event": "run_start", "run_dir": str(run), "name": "stopped"})
    session.run_event({"event": "phase", "phase": "model", "message": "Loading the model"})
    assert (session.run_dir, session.state_text) == (run, "Preparing… Loading the model")
    session.run_event({"event": "train_begin", "step": 0, "max_steps": 40})
    assert (session.state, session.state_text) == (RunState.RUNNING, "Training…")
    session.run_event({"event": "phase", "phase": "save", "message": "Saving"})  # training: the header stays
    assert session.state_text == "Training…"
    session.set_running(False)
    session.run_stopped(run, 12, 40)
    assert session.state is RunState.STOPPED and session.resumable == run and session.can_resume_now
    assert session.state_text == "Stopped at step 12 of 40 — Resume continues from the checkpoint"
    session.run_stopped(run, 12, 0)  # a resume for more epochs stopped as it began: its end is not known yet
    assert session.state_text == "Stopped at step 12 — Resume continues from the checkpoint"  # not "of 0"

    session.resuming(run, "Resuming stopped…")
    assert session.resumable is None and not session.can_resume_now and session.state is RunState.PREPARING
    session.run_finished(run, run / "model")
    assert (session.state, session.model_dir) == (RunState.FINISHED, run / "model")
    assert session.state_text == f"Finished — model saved to {run / 'model'}"
    assert [state for state, _ in runs][-2:] == [RunState.PREPARING, RunState.FINISHED]


def test_a_failure_offers_resume_only_from_a_checkpoint(tmp_path: Path) -> None:
    session = Session()
    session.set_stack_ready()
    early = make_run(tmp_path, "early", segment(2, 2, end="failed"), {"state": "failed", "message": "boom"})
    session.run_started(early)
    session.run_failed("CUDA ran out of memory")
    assert session.state is RunState.FAILED and session.resumable is None and not session.can_resume_now
    assert session.state_text == "Failed — CUDA ran out of memory"
    checkpoint(early, 2)
    session.run_failed("CUDA ran out of memory")
    assert session.resumable == early and session.can_resume_now


def test_opening_recorded_runs(tmp_path: Path) -> None:
    session = Session()
    session.set_stack_ready()
    finished = make_run(tmp_path, "done", segment(2, 20), {"state": "finished", "message": "Finished 20 steps."})
    session.show_recorded(finished)
    assert (session.state, session.run_dir, session.model_dir, session.resumable) == (
        RunState.FINISHED, finished, finished / "model", None)

    stopped = stopped_run(tmp_path)
    session.show_recorded(stopped)
    assert (session.state, session.resumable, session.model_dir) == (RunState.STOPPED, stopped, None)
    assert session.state_text == "stopped: Stopped at step 12 of 40. — Resume continues from the latest checkpoint"

    interrupted = make_run(tmp_path, "cut", segment(2, 6, end=None),
                           {"state": "running", "message": "Training", "pid": dead_pid()})
    checkpoint(interrupted, 6)
    session.show_recorded(interrupted)  # its process is gone: interrupted, and resumable
    assert session.state is RunState.STOPPED and session.resumable == interrupted
    assert session.state_text.startswith("cut: The process running this run ended without finishing it.")

    no_checkpoint = stopped_run(tmp_path, "bare", with_checkpoint=False)
    session.show_recorded(no_checkpoint)
    assert (session.state, session.resumable) == (RunState.IDLE, None)
    assert session.state_text == "bare: Stopped at step 12 of 40."

    session.forget_run()
    assert (session.state, session.run_dir, session.resumable, session.state_text) == (RunState.IDLE, None, None, "")


def test_resume_differences_name_the_forms_settings_the_run_does_not_use(tmp_path: Path) -> None:
    """Resume trains with the run's own config.yaml; the window says where the form differs (helper-44: edits
    made before Resume seemed to apply)."""
    from finetune_studio.core.config import default_config, save_config
    from finetune_studio.core.session import resume_differences
    from finetune_studio.core.training import anchored

    run_config = default_config()
    run_config.name, run_config.runs_dir = "mine", str(tmp_path)
    (tmp_path / "mine").mkdir()
    save_config(anchored(run_config.copy()), tmp_path / "mine" / "config.yaml")
    form = default_config()  # relative paths, another name and runs folder, saved prompts: none of them counts
    form.name, form.runs_dir, form.prompts = "other", "elsewhere", ["Leo:"]
    assert resume_differences(form, tmp_path / "mine") == ""
    form.training["learning_rate"] = 1e-3
    form.dataset.max_length = 128
    assert resume_differences(form, tmp_path / "mine") == ("dataset.max_length (form 128, run 512), learning_rate "
                                                           "(form 0.001, run 2e-05)")
    form.training.update(seed=7, warmup_steps=8, logging_steps=9, eval_steps=10, save_steps=11, max_grad_norm=0.5)
    assert resume_differences(form, tmp_path / "mine").endswith(" and 3 more")  # 8 differ: the first 5 named
    assert resume_differences(form, tmp_path / "missing") == ""


@pytest.mark.parametrize("config_text", ["model: [\n", "- a\n- b\n", ""], ids=["torn", "a-list", "empty"])
@pytest.mark.parametrize("state", ["stopped", "broken"])
def test_resume_is_not_offered_with_a_config_that_does_not_read(tmp_path: Path, state: str,
                                                                config_text: str) -> None:
    """A resume loads config.yaml: with it torn, a list or empty, Resume was offered and failed at once with the
    file's error, while the Runs tab's note already said the run cannot be resumed."""
    run = stopped_run(tmp_path)
    assert can_resume(state, run)
    (run / "config.yaml").write_text(config_text, encoding="utf-8")
    assert can_resume(state, run) is False
    (run / "config.yaml").unlink()
    assert can_resume(state, run) is False
