"""One reader per fact: a run's metrics.jsonl read by core.metrics, and every view of the run agrees with it.

The metrics under test are fabricated (the lines core.training writes), with a resume: a run killed after step 16
(an eval at step 15 already logged) and resumed from checkpoint-10 logs steps 12 and 14 again, then stops. What
was logged past step 10 by the attempt that was cut short must be gone from every view: the curves, the Runs
tab's summary, the model card's curve, and `finetune-studio runs`. (The chart's side is in tests/gui/test_chart.py.)
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_studio.core import events, metrics
from finetune_studio.core.cli import main
from finetune_studio.core.model_card import loss_points as card_loss_points
from finetune_studio.core.runs import list_runs, summarize
from tests.core.test_runs_history import make_run, segment

MAX_STEPS = 20


def resumed_run_events() -> list[dict]:
    """Attempt 1 logs steps 2..16 (loss 3/step), evals at 5 and 15, a checkpoint at 10, then is killed; attempt 2
    resumes from checkpoint-10 and logs 12 and 14 again (loss 1/step, so an old point is told from a new one)."""
    first: list[dict] = [{"event": "run_start", "resume_from": None},
                         {"event": "train_begin", "step": 0, "start_step": 0, "max_steps": MAX_STEPS}]
    for step in range(2, 17, 2):
        first.append({"event": "step", "step": step, "max_steps": MAX_STEPS, "epoch": step / MAX_STEPS})
        first.append({"event": "log", "step": step, "loss": 3.0 / step, "learning_rate": 1e-3, "grad_norm": 1.0})
        if step == 10:
            first.append({"event": "checkpoint", "step": 10, "path": "checkpoint-10"})
        if step in (4, 14):
            first.append({"event": "eval", "step": step + 1, "eval_loss": 5.0 / (step + 1)})
    second: list[dict] = [{"event": "run_start", "resume_from": "checkpoint-10"},
                          {"event": "train_begin", "step": 10, "start_step": 10, "max_steps": MAX_STEPS}]
    for step in (12, 14):
        second.append({"event": "step", "step": step, "max_steps": MAX_STEPS, "epoch": step / MAX_STEPS})
        second.append({"event": "log", "step": step, "loss": 1.0 / step, "learning_rate": 1e-3, "grad_norm": 1.0})
    second.append({"event": "end", "state": "stopped", "message": "Stopped at step 14 of 20, resumable.",
                   "step": 14, "max_steps": MAX_STEPS})
    return first + second


# Attempt 1 up to the checkpoint, then attempt 2.
EXPECTED_TRAIN = [(2.0, 3 / 2), (4.0, 3 / 4), (6.0, 3 / 6), (8.0, 3 / 8), (10.0, 3 / 10),
                  (12.0, 1 / 12), (14.0, 1 / 14)]
EXPECTED_EVAL = [(5.0, 5 / 5)]  # the eval at 15 was logged past checkpoint-10 by the attempt that was cut short


def cli_row(out: str, name: str) -> list[str]:
    line = next(line for line in out.splitlines() if line.startswith(name + " "))
    return re.split(r"\s{2,}", line.strip())


def test_every_consumer_of_a_resumed_run_agrees(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = make_run(tmp_path, "resumed", resumed_run_events(),
                    {"state": "stopped", "message": "Stopped at step 14 of 20, resumable.", "step": 14,
                     "max_steps": MAX_STEPS})
    curves = metrics.read_curves(path / "metrics.jsonl")
    assert curves.train.pairs() == EXPECTED_TRAIN
    assert curves.evals.pairs() == EXPECTED_EVAL
    assert [x for x, _ in curves.lr.pairs()] == [x for x, _ in EXPECTED_TRAIN]

    recorded = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    train, evals = card_loss_points(recorded)  # the model card's loss curve (render_loss_svg draws these)
    assert train == EXPECTED_TRAIN and evals == EXPECTED_EVAL

    run = summarize(path)  # a row of the Runs tab
    assert (run.state, run.step, run.max_steps) == ("stopped", 14, MAX_STEPS)
    assert run.train_loss == pytest.approx(EXPECTED_TRAIN[-1][1])
    assert run.eval_loss == pytest.approx(EXPECTED_EVAL[-1][1])

    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    name, state, steps, train_text, eval_text, *message = cli_row(capsys.readouterr().out, "resumed")
    assert (name, state, steps) == ("resumed", "stopped", "14/20")
    assert (train_text, eval_text) == (f"{EXPECTED_TRAIN[-1][1]:.4f}", f"{EXPECTED_EVAL[-1][1]:.4f}")


def test_the_summary_read_in_parts_agrees_with_one_read(tmp_path: Path) -> None:
    """The Runs tab re-reads a growing log from where it stopped: cut anywhere, the result is the same."""
    lines = [json.dumps(e) for e in resumed_run_events()]
    path = make_run(tmp_path, "growing", [], {"state": "running", "pid": os.getpid()})
    previous = None
    for line in lines:
        with open(path / "metrics.jsonl", "a") as handle:
            handle.write(line + "\n")
        previous = summarize(path, previous)
        assert previous.train_loss == metrics.read_curves(path / "metrics.jsonl").last_loss()
    assert previous is not None and previous.eval_loss == pytest.approx(EXPECTED_EVAL[-1][1])
    assert previous.tally.curves.train.pairs() == EXPECTED_TRAIN


def test_a_diverged_loss_shows_in_the_summary_but_is_not_drawn_until_a_resume_drops_it(tmp_path: Path) -> None:
    diverged = [{"event": "train_begin", "step": 0, "start_step": 0, "max_steps": 10},
                {"event": "log", "step": 2, "loss": 1.5}, {"event": "log", "step": 4, "loss": "nan"}]
    path = make_run(tmp_path, "nan", diverged, {"state": "failed", "message": "diverged"})
    assert metrics.read_curves(path / "metrics.jsonl").train.pairs() == [(2.0, 1.5)]
    assert math.isnan(summarize(path).train_loss)
    with open(path / "metrics.jsonl", "a") as handle:  # resumed from checkpoint-2: the NaN belongs to the past
        handle.write(json.dumps({"event": "train_begin", "step": 2, "start_step": 2, "max_steps": 10}) + "\n")
    assert summarize(path).train_loss == 1.5


# ---- `finetune-studio runs` is the Runs tab's listing ------------------------------------------------------------


def test_runs_lists_live_interrupted_and_broken_runs_as_the_runs_tab_does(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture) -> None:
    # Training in another process: status.json was written at the start (step 0); the metrics are at step 12.
    make_run(tmp_path, "live", segment(2, 12, end=None), {"state": "running", "pid": os.getpid(), "step": 0})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    make_run(tmp_path, "crashed", segment(2, 6, end=None), {"state": "running", "pid": dead.pid, "step": 0})
    make_run(tmp_path, "hurt", segment(2, 8, end="stopped"), None)  # no status.json
    no_config = make_run(tmp_path, "orphan", segment(2, 4, end="stopped"), {"state": "stopped", "message": "ok"},
                         config=False)
    assert no_config.is_dir()

    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    listed = {summary.name: summary for summary in list_runs(tmp_path)}
    assert sorted(listed) == ["crashed", "hurt", "live", "orphan"]
    for name, summary in listed.items():  # one line per run of the Runs tab, with the same figures
        row = cli_row(out, name)
        assert row[1] == summary.state
        assert row[2] == (f"{summary.step}/{summary.max_steps}" if summary.max_steps else str(summary.step))

    assert cli_row(out, "live")[1:3] == ["running", "12/20"]
    assert cli_row(out, "crashed")[1] == "interrupted" and "so it cannot resume" in cli_row(out, "crashed")[-1]
    hurt = cli_row(out, "hurt")
    assert hurt[1:3] == ["broken", "8/20"] and hurt[-1].startswith("status.json is missing.")
    assert "config.yaml is missing" in cli_row(out, "orphan")[-1]
    assert out.splitlines()[0].split() == ["run", "state", "steps", "train", "loss", "eval", "loss", "message"]


# ---- the events are declared once, and the GUI contract says what core/events.py says ------------------------------


def test_the_gui_contract_names_every_event_kind_field_and_phase() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "gui-contract.md").read_text(encoding="utf-8")
    assert "core/events.py" in doc
    for kind in events.EVENT_TYPES:
        lines = doc.splitlines()
        first = next((i for i, line in enumerate(lines) if line.lstrip().startswith(f"- `{kind}`")), None)
        assert first is not None, f"docs/gui-contract.md has no bullet for the `{kind}` event"
        block = [lines[first]]
        for line in lines[first + 1:]:  # the bullet's continuation lines
            if not line.strip() or line.lstrip().startswith("- "):
                break
            block.append(line)
        block = " ".join(block)
        missing = [name for name in events.fields_of(kind) if name not in ("time",) and
                   not re.search(rf"\b{name}\b", block)]
        assert missing == [], f"docs/gui-contract.md: the `{kind}` event lacks {missing}"
    for phase in events.PHASES:
        assert f'"{phase}"' in doc
    for state in events.END_STATES:
        assert f'"{state}"' in doc


def test_run_states_are_one_enum_whose_values_stay_plain_strings() -> None:
    from finetune_studio.core.runs import BROKEN, STATES

    assert json.dumps({"state": events.RunState.STOPPED}) == '{"state": "stopped"}'
    assert f"{events.RunState.INTERRUPTED:<12}|" == "interrupted |"
    assert set(STATES) == {"running", "finished", "stopped", "failed", "interrupted"} and BROKEN == "broken"
    assert events.RunState("broken") is events.RunState.BROKEN
