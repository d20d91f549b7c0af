"""Resume is offered, and the user told to resume, only where a checkpoint can be loaded: core.runs'
RunFolder.resume_point, the rule the resume itself follows (training._resumable_checkpoint). A run whose only
checkpoint lost its weights was offered Resume everywhere (the window's Resume, the Runs tab's Continue, the
header, `runs`, the CLI's hints, the failure advice), and the resume then refused ("none of its checkpoints can
be loaded"). Where the offer is withdrawn, the words say why and what to do.

Run folders are fabricated (tests/core/test_runs_history.py's builders, tests/helpers.checkpoint): what is under
test is reading them, not training."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core import runs as core_runs
from finetune_studio.core.config import PRESETS, save_config
from finetune_studio.core.events import RunState
from finetune_studio.core.runs import RunFolder, summarize
from finetune_studio.core.session import Session, can_resume, continue_blocker, continue_problem
from finetune_studio.core.training import RunResult, resume_advice
from tests.core.test_runs_history import make_run, segment
from tests.helpers import checkpoint

WHY = "its only checkpoint, checkpoint-12, cannot be loaded: it holds no weights (model*.safetensors)"
FIX = "To fix: put the missing or damaged files back from a copy of the run"


def weightless_run(runs: Path, name: str = "weightless", state: str = "stopped", demo_config: bool = False) -> Path:
    """A run stopped at step 12 whose only checkpoint's model.safetensors was deleted (to save space, say)."""
    run = make_run(runs, name, segment(2, 12, end=state, max_steps=40),
                   {"state": state, "message": "Stopped at step 12 of 40."})
    if demo_config:  # one `resume` can load and validate (the built-in demo model and data)
        config = PRESETS["demo"]()
        config.name = name
        save_config(config, run / "config.yaml")
    checkpoint(run, 12, weights=False)
    return run


def test_the_rule_finds_the_latest_checkpoint_that_loads_and_says_why_none_does(tmp_path: Path) -> None:
    run = weightless_run(tmp_path)
    folder = RunFolder(run)
    assert folder.latest_checkpoint() == run / "checkpoint-12"  # the latest complete save, as before
    point = folder.resume_point()
    assert (point.checkpoint, point.latest, folder.resumable_checkpoint()) == (None, run / "checkpoint-12", None)
    assert point.why_not() == WHY

    checkpoint(run, 6)  # an earlier one that loads: Resume continues from it, passing checkpoint-12 over
    point = folder.resume_point()
    assert point.checkpoint == run / "checkpoint-6" and point.why_not() is None
    assert point.unloadable == ((run / "checkpoint-12", "it holds no weights (model*.safetensors)"),)

    (run / "checkpoint-6" / "model.safetensors").unlink()
    assert folder.resume_point().why_not() == (
        "none of its 2 checkpoints can be loaded (checkpoint-12: it holds no weights (model*.safetensors); "
        "checkpoint-6: it holds no weights (model*.safetensors))")
    (run / "checkpoint-20").mkdir()  # cut off while being written (no trainer_state.json): no save, not listed
    assert "none of its 2 checkpoints" in folder.resume_point().why_not()
    assert RunFolder(tmp_path / "nothing").resume_point().why_not() is None  # none saved: the callers' own words


def test_the_window_does_not_offer_resume_or_continue_and_says_why(tmp_path: Path) -> None:
    run = weightless_run(tmp_path)
    assert not can_resume("stopped", run) and not can_resume("unknown", run)
    assert continue_blocker("stopped", run) == (f"weightless cannot be continued: {WHY}. {FIX}, or start it again "
                                                "with its settings (Use its settings, then Start).")
    assert continue_problem(run, "finished") == continue_blocker("finished", run)

    session = Session()
    session.set_stack_ready()
    session.show_recorded(run)
    assert session.resumable is None and not session.can_resume_now
    assert session.state is RunState.IDLE
    assert session.state_text == (f"weightless: Stopped at step 12 of 40. — Resume is not offered: {WHY}. {FIX}, "
                                  "or start it again with its settings (Use its settings, then Start).")
    enabled, tip = session.continue_offer("stopped", run)
    assert not enabled and tip == continue_blocker("stopped", run)

    session.run_stopped(run, 12, 40)  # this window's run stopped, and its checkpoint cannot be loaded
    assert session.resumable is None
    assert session.state_text.startswith(f"Stopped at step 12 of 40 — Resume is not offered: {WHY}. {FIX}")
    assert "Resume continues" not in session.state_text

    checkpoint(run, 12)  # the weights put back: offered again, in the words as before
    session.show_recorded(run)
    assert session.resumable == run
    assert session.state_text == "weightless: Stopped at step 12 of 40. — Resume continues from the latest checkpoint"


def test_the_runs_listing_says_it_cannot_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = weightless_run(tmp_path)
    from finetune_studio.core.runs import UNLOADABLE_FIX

    said = f"Stopped at step 12 of 40. (it cannot resume: {WHY}.) To fix: {UNLOADABLE_FIX}."  # its fix too
    assert summarize(run).message == said
    assert cli.main(["runs", "--runs-dir", str(tmp_path)]) == 0
    assert said in capsys.readouterr().out

    (run / "status.json").unlink()  # broken: what it said was "Its config and checkpoint-12 are intact: Resume …"
    message = summarize(run).message
    assert "Resume continues" not in message
    assert message.endswith(f"Its config is intact, but it cannot resume: {WHY}. {FIX}, or start it again with its "
                            "settings (in the app: Runs tab, Use its settings, then Start), or delete it.")


def test_the_cli_hints_do_not_say_resume_with(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = weightless_run(tmp_path)

    def stopped(printer: cli.ProgressPrinter, stop: threading.Event) -> RunResult:
        return RunResult("stopped", "Stopped at step 12 of 40.", run, 12, 40)

    assert cli._train(stopped, quiet=True) == cli.EXIT_STOPPED
    out = capsys.readouterr().out.splitlines()
    assert out == ["stopped: Stopped at step 12 of 40.",
                   f"It cannot resume: {WHY}. {FIX}, or start it again with its settings (in the app: Runs tab, "
                   "Use its settings, then Start)."]

    def aborted(printer: cli.ProgressPrinter, stop: threading.Event) -> RunResult:
        printer({"event": "run_start", "run_dir": str(run)})
        raise KeyboardInterrupt  # the second Ctrl-C

    assert cli._train(aborted, quiet=True) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "Resume with" not in err and f"It cannot resume: {WHY}." in err


def test_the_failure_advice_does_not_say_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = weightless_run(tmp_path, state="failed", demo_config=True)
    config = PRESETS["demo"]()
    said = resume_advice(RunFolder(run), config)
    assert said == (f" It cannot resume: {WHY}. {FIX}, or start it again with its settings (in the app: Runs tab, "
                    "Use its settings, then Start).")

    assert cli.main(["resume", str(run), "--apply-fix"]) == cli.EXIT_CONFIG  # no fix recorded: what to do instead
    err = capsys.readouterr().err
    assert "resume it from" not in err.lower()
    assert f"It cannot resume: {WHY}. To fix: put the missing or damaged files back from a copy of the run and " \
           "resume, or start it again under another name: 'finetune-studio train " in err

    from finetune_studio.core.advice import runtime_failure

    error = runtime_failure(OSError(28, "No space left on device"), config, run, {"step": 12, "phase": "save"})
    assert error is not None and "Resume continues" not in str(error)
    assert f"it cannot resume ({WHY}), so start the run again" in str(error)


def test_resume_reads_each_checkpoint_once_and_keeps_its_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run = weightless_run(tmp_path, demo_config=True)
    checkpoint(run, 6, weights=False)
    read: list[str] = []
    damage = core_runs.damage
    monkeypatch.setattr(core_runs, "damage", lambda folder: read.append(Path(folder).name) or damage(folder))
    assert cli.main(["resume", str(run)]) == cli.EXIT_FAILED
    assert sorted(read) == ["checkpoint-12", "checkpoint-6"]  # not twice each (the choice, then the message)
    assert capsys.readouterr().err.startswith(
        "error: The run weightless cannot resume: none of its checkpoints can be loaded (checkpoint-12: it holds no "
        "weights (model*.safetensors); checkpoint-6: it holds no weights (model*.safetensors)). To fix: put the "
        "missing or damaged files back from a copy of the run, or start it again with its settings (in the app: "
        "Runs tab, Use its settings, then Start).")


def test_the_failure_advice_names_the_checkpoint_resume_takes_and_with_what(tmp_path: Path) -> None:
    """resume_advice says runs.resume_offer's words (one rule), with the launcher's 'with the same N processes'."""
    run = weightless_run(tmp_path, state="failed", demo_config=True)
    checkpoint(run, 6)  # one that loads, before the weightless checkpoint-12
    config = PRESETS["demo"]()
    assert resume_advice(RunFolder(run), config, " with the same 2 processes") == (
        " Resume continues from checkpoint-6 with the same 2 processes.")
    assert resume_advice(RunFolder(run), config) == " Resume continues from checkpoint-6."
