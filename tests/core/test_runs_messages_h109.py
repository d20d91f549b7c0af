"""The run-folder messages of the Runs tab and `finetune-studio runs` (core.runs.summarize) for a damaged run:
each says what is wrong with the file as it is written and what to do next, in one "To fix:" (helper-109).

A torn status.json said Python's JSON error ("status.json is unreadable (Unterminated string starting at: line 1
column 11 (char 10))") and no fix; the fix it now gives is done here, on a real run, and the run lists as it should
afterwards.
"""

from __future__ import annotations

import shlex
import threading
from pathlib import Path
from typing import Any

import pytest

from finetune_studio.core.runs import summarize
from tests.core.test_runs_history import make_run, segment
from tests.helpers import SAMPLE, small_config


def _stopping_at(step: int) -> tuple[Any, threading.Event]:
    """A sink that presses Stop as step `step` ends, and the stop event it sets."""
    stop = threading.Event()

    def sink(event: Any) -> None:
        said = event if isinstance(event, dict) else vars(event)
        if said.get("event") == "step" and said.get("step") == step:
            stop.set()

    return sink, stop


def _stopped_run(root: Path, name: str, at: int = 2, max_steps: int = 4) -> Path:
    """A real LoRA run (loss logged every 2 steps) stopped as step `at` ends (Stop saves checkpoint-<at>), in
    root/runs, as the Runs tab lists it."""
    from finetune_studio.core.training import run

    data = root / "small.jsonl"
    data.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:32]) + "\n", encoding="utf-8")
    config = small_config(data, root / "runs", max_steps=max_steps, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = name
    config.adapter.method = "lora"
    config.adapter.r = 4
    result = run(config, *_stopping_at(at))
    assert (result.state, result.step) == ("stopped", at), result.message
    assert (Path(result.run_dir) / f"checkpoint-{at}").is_dir()
    return Path(result.run_dir)


@pytest.mark.slow
def test_a_torn_status_says_what_it_reads_and_the_resume_it_offers_rewrites_it(tmp_path: Path) -> None:
    from finetune_studio.core import cli

    path = _stopped_run(tmp_path, "torn")
    (path / "status.json").write_text('{"state": "runn', encoding="utf-8")  # a write cut short
    run = summarize(path)
    assert run.state == "broken"
    assert run.message == (
        "status.json is cut off or not JSON (it reads '{\"state\": \"runn'; a write cut short leaves it so). Its "
        "metrics log says it stopped at step 2. Its config and checkpoint-2 are intact. To fix: resume it (open it, "
        f"then Resume; or finetune-studio resume {shlex.quote(str(path))}): it continues from checkpoint-2 and "
        "writes a new status.json.")
    assert "Expecting" not in run.message and "char" not in run.message

    assert cli.main(["resume", str(path)]) == 0  # the fix, as the message says it
    done = summarize(path)
    assert (done.state, done.step, done.problems) == ("finished", 4, ())
    assert "status.json" not in done.message


@pytest.mark.parametrize("written, said", [
    (b'{"state": "runn', "status.json is cut off or not JSON (it reads '{\"state\": \"runn'; a write cut short "
                         "leaves it so)"),
    (b"", "status.json is empty (a write cut short leaves it so)"),
    (b"\xff\xfe\x00garbage", "status.json is not UTF-8 text (byte 0xff at position 0)"),
    (b"[1, 2, 3]", "status.json has no valid state (it reads '[1, 2, 3]')"),
])
def test_a_damaged_status_says_what_is_wrong_with_it_as_written(tmp_path: Path, written: bytes, said: str) -> None:
    path = make_run(tmp_path, "hurt", segment(2, 6, end="stopped"))
    (path / "status.json").write_bytes(written)
    run = summarize(path)
    assert run.state == "broken" and run.problems == (said,)
    assert run.message == (
        f"{said}. Its metrics log says it stopped at step 6. It has no checkpoint to resume from, so nothing writes a "
        "new status.json for it. To fix: start it again with its settings (in the app: Runs tab, Use its settings, "
        "then Start), or delete it.")
    assert "codec" not in run.message and "Expecting" not in run.message


def test_a_state_this_version_does_not_know_is_quoted_and_not_offered_for_resume_or_delete(tmp_path: Path) -> None:
    """A newer version's state (0d5bee1, helper-139): named by its value, with the fix that keeps its status.json."""
    path = make_run(tmp_path, "newer", segment(2, 6, end="stopped"))
    (path / "status.json").write_bytes(b'{"state": "paused", "message": "' + b"x" * 80 + b'"}')
    run = summarize(path)
    said = ("status.json says its state is 'paused', which this version of Finetune Studio does not know (a newer "
            "version wrote it, or it was edited by hand)")
    assert run.state == "broken" and run.problems == (said,)
    assert run.message == (
        f"{said}. Its metrics log says it stopped at step 6. To fix: open it with the Finetune Studio that wrote it "
        "(pip install -U finetune-studio updates this one), or set its state in status.json to one of running, "
        "finished, stopped, failed, interrupted.")


NO_CONFIG = ("config.yaml is missing, so the run cannot be resumed. To fix: put its config.yaml back (from a copy of "
             "the run), or train it again")


def test_a_missing_config_says_how_to_get_the_run_back_and_putting_it_back_does(tmp_path: Path) -> None:
    """'config.yaml is missing, so the run cannot be resumed' had no fix; it now has the one the command line's
    run-folder check (run_folder_problem) gives, from one place (NO_CONFIG_FIX), and doing it makes the run resumable
    again."""
    from finetune_studio.core.runs import run_folder_problem
    from finetune_studio.core.session import can_resume
    from tests.helpers import checkpoint

    stopped = {"state": "stopped", "message": "Stopped at step 6."}
    path = make_run(tmp_path, "lost", segment(2, 6, end="stopped"), stopped)
    checkpoint(path, 6)
    kept = (path / "config.yaml").read_bytes()
    (path / "config.yaml").unlink()
    run = summarize(path)
    assert run.problems == (NO_CONFIG,)
    assert run.message == ("Stopped at step 6. (config.yaml is missing, so the run cannot be resumed.) To fix: put "
                           "its config.yaml back (from a copy of the run), or train it again.")
    from finetune_studio.core.runs import NO_CONFIG_FIX

    assert f"To fix: {NO_CONFIG_FIX}." in str(run_folder_problem(path))  # the command line's words, the same fix
    assert not can_resume(run.state, path)

    (path / "config.yaml").write_bytes(kept)  # the fix
    again = summarize(path)
    assert (again.state, again.message, again.problems) == ("stopped", "Stopped at step 6.", ())
    assert can_resume(again.state, path) and run_folder_problem(path) is None


OOM = "CUDA ran out of memory. To fix: lower the batch size, then resume."


def _combination(root: Path, name: str) -> Path:
    """A run folder damaged in two ways at once, each with a fix of its own (what the Runs tab showed as
    "To fix: … To fix: …"): its name says how (status, config, checkpoint)."""
    import subprocess
    import sys

    from tests.helpers import checkpoint

    status_kind, config_kind, checkpoint_kind = name.split("-")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    status = {"failed": {"state": "failed", "message": OOM}, "dead": {"state": "running", "pid": dead.pid},
              "stopped": {"state": "stopped", "message": "Stopped at step 6."}}.get(status_kind)
    path = make_run(root, name, segment(2, 6, end="stopped"), status, config=config_kind != "noconfig")
    if status_kind == "torn":
        (path / "status.json").write_text('{"state": "runn', encoding="utf-8")
    if config_kind == "badyaml":
        (path / "config.yaml").write_text("model: {name_or_path: x\n", encoding="utf-8")
    if checkpoint_kind != "none":
        checkpoint(path, 6, weights=checkpoint_kind == "loads")
    return path


COMBINATIONS = ("failed-badyaml-none", "failed-noconfig-loads", "failed-goodconfig-noweights", "dead-badyaml-noweights",
                "dead-noconfig-loads", "torn-badyaml-loads", "torn-noconfig-loads", "torn-badyaml-noweights",
                "stopped-badyaml-noweights", "stopped-goodconfig-noweights")


@pytest.mark.parametrize("name", COMBINATIONS)
def test_a_run_damaged_twice_says_one_to_fix_the_config_first(tmp_path: Path, name: str) -> None:
    from finetune_studio.core.runs import UNLOADABLE_FIX

    path = _combination(tmp_path, name)
    run = summarize(path)
    assert run.message.count("To fix:") == 1, run.message
    fixes = run.message.split("To fix: ", 1)[1]
    if "goodconfig" not in name:  # nothing resumes or starts again before config.yaml reads: its fix leads
        assert fixes.startswith(("correct config.yaml", "put its config.yaml back")), fixes
    else:
        assert fixes.startswith(UNLOADABLE_FIX), fixes
    if name.startswith("failed"):  # the run's own fix is kept, after
        assert fixes.endswith("; then lower the batch size, then resume."), fixes
    if name.startswith("dead"):  # "Resume continues from checkpoint-6" stood beside "cannot be resumed"
        assert "Resume continues" not in run.message and "It cannot resume" not in run.message


def test_the_fixes_said_in_order_lead_to_a_run_that_resumes(tmp_path: Path) -> None:
    """A torn status.json and a config.yaml that does not parse: the config's fix, then the resume; done in that
    order, Resume is offered."""
    from finetune_studio.core.session import can_resume

    path = _combination(tmp_path, "torn-badyaml-loads")
    run = summarize(path)
    assert run.message == (
        "status.json is cut off or not JSON (it reads '{\"state\": \"runn'; a write cut short leaves it so); "
        "config.yaml is not valid YAML at line 2, column 1, so the run cannot be resumed. Its metrics log says it "
        f"stopped at step 6. To fix: correct config.yaml (finetune-studio validate {path / 'config.yaml'} says how), "
        f"or put it back from a copy of the run; then resume it (open it, then Resume; or finetune-studio resume "
        f"{path}): it continues from checkpoint-6 and writes a new status.json.")
    assert not can_resume(run.state, path)
    (path / "config.yaml").write_text("name: torn-badyaml-loads\nmodel:\n  name_or_path: builtin:demo\n",
                                      encoding="utf-8")
    assert can_resume(summarize(path).state, path)


def stopped_between_logs(root: Path) -> tuple[Path, Path]:
    """Two real runs stopped between logging steps (loss logged at 2, 4, …): `plain` stopped at step 3 and never
    resumed; `resumed` stopped at 3 too, then resumed from checkpoint-3 and stopped again at step 5."""
    from finetune_studio.core.training import resume

    plain = _stopped_run(root, "plain", at=3, max_steps=6)
    again = _stopped_run(root, "resumed", at=3, max_steps=6)
    result = resume(again, *_stopping_at(5))
    assert (result.state, result.step) == ("stopped", 5), result.message
    return plain, again


@pytest.mark.slow
def test_the_loss_note_marks_a_resumed_run_and_not_one_that_never_was(tmp_path: Path) -> None:
    """A run stopped at step 3 whose loss was logged at step 2 and that was never resumed was marked "the last loss
    logged, at step 2; none was logged in the 1 step after it", as a resumed one is: it trails by less than a
    logging window, as every stopped run and a live one does (which is not marked). Only a resumed run (its latest
    train_begin past step 0: core.metrics' MetricsTally.begin_step) is marked now."""
    from tests.helpers import read_events

    plain, again = stopped_between_logs(tmp_path)
    assert [e["step"] for e in read_events(plain, "log") if "loss" in e] == [2]
    run = summarize(plain)
    assert (run.state, run.step, run.tally.begin_step) == ("stopped", 3, 0)
    assert run.train_loss == read_events(plain, "log")[-1]["loss"] and run.train_loss_note == ""

    assert len(read_events(again, "train_begin")) == 2
    resumed = summarize(again)
    assert (resumed.state, resumed.step, resumed.tally.begin_step) == ("stopped", 5, 3)
    assert resumed.train_loss_note == "the last loss logged, at step 4; none was logged in the 1 step after it"
