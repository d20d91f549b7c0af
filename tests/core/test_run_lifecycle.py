"""Issue 12, items 6-10, in the core and the CLI: a diverged run ends with advice, resuming a finished run trains
nothing, a run still training cannot be resumed twice, Stop saves once without evaluating, and the progress
figures (epochs, ETA, elapsed) mean one thing across start, stop, resume and continue."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from finetune_studio.core import cli
from finetune_studio.core.config import save_config
from finetune_studio.core.runs import RunFolder, read_metrics, summarize
from finetune_studio.core.training import resume, run
from tests.helpers import ROOT, SAMPLE, read_events, small_config

CORE_CLI = (sys.executable, "-m", "finetune_studio.core.cli")  # what `finetune-studio COMMAND` runs


def _lines(run_dir: Path) -> list[str]:
    return (run_dir / "metrics.jsonl").read_text().splitlines()


def _weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return {name: tensor.clone() for name, tensor in load_file(str(model_dir / "model.safetensors")).items()}


def _same_weights(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _dead_pid() -> int:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


def _start_time(pid: int) -> float:
    """Process start time, computed here independently of core.runs (from /proc)."""
    ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime "))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- 6. divergence


def test_the_cli_printer_shows_nan_losses_as_text() -> None:
    """core.training logs a non-finite loss as the text "nan"/"inf" (JSON has no NaN): the printer shows it."""
    printer = cli.ProgressPrinter(quiet=False)
    printer({"event": "train_begin", "step": 0, "max_steps": 4})
    printer({"event": "step", "step": 2, "max_steps": 4})
    printer({"event": "log", "step": 2, "loss": "nan", "grad_norm": "nan", "tokens_per_s": 10.0})
    assert printer.bar.postfix == "loss=nan, tok/s=10"
    printer({"event": "eval", "step": 2, "epoch": 0.5, "eval_loss": "inf"})
    printer({"event": "end", "state": "failed", "step": 2, "max_steps": 4})
    quiet = cli.ProgressPrinter(quiet=True)
    quiet({"event": "eval", "step": 2, "epoch": 0.5, "eval_loss": "nan"})  # nothing shown, nothing raised


@pytest.mark.parametrize("quiet, overrides", [
    # An evaluation (and a save) is due at the step where it diverges, with and without the progress bar.
    (True, {"eval_steps": 2, "save_steps": 2}),
    (False, {"eval_steps": 2, "save_steps": 2, "logging_nan_inf_filter": False}),
])
def test_a_diverged_run_ends_with_the_advice_in_the_cli(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                                        tmp_path: Path, capsys: pytest.CaptureFixture,
                                                        quiet: bool, overrides: dict,
                                                        diverging_learning_rate: None) -> None:
    config = small_config(small_dataset, runs_dir, learning_rate=1e9, max_steps=12, logging_steps=2, **overrides)
    config.name = "diverges"
    path = tmp_path / "diverges.yaml"
    save_config(config, path)
    code = cli.main(["train", str(path)] + (["--quiet"] if quiet else []))
    err = capsys.readouterr().err
    assert "Unknown format code" not in err
    assert code == cli.EXIT_FAILED
    assert "training diverged" in err and "Lower the learning rate (now 1e+09)" in err
    run_dir = runs_dir / "diverges"
    end = read_events(run_dir, "end")[-1]
    assert end["state"] == "failed" and "training diverged" in end["message"]
    bad_step = end["step"]
    # Nothing is evaluated or saved from the NaN weights: a checkpoint of them would resume into the same failure.
    assert [e for e in read_events(run_dir, "eval") if e["step"] >= bad_step] == []
    assert not (run_dir / f"checkpoint-{bad_step}").exists()


# ---------------------------------------------------------------------------------------------- 7. finished runs


def test_resuming_a_finished_run_trains_nothing_and_says_so(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=3, eval_steps=3, save_steps=3)
    config.name = "three"
    first = run(config)
    assert first.state == "finished" and first.step == 3
    before_lines, before = _lines(first.run_dir), _weights(first.model_dir)
    config_text = (first.run_dir / "config.yaml").read_text()

    again = resume(first.run_dir)
    assert again.state == "finished" and (again.step, again.max_steps) == (3, 3)
    assert "already trained all 3 of its 3 steps: nothing to resume" in again.message and "--epochs" in again.message
    assert _lines(first.run_dir) == before_lines  # no step, no event: nothing ran
    assert _same_weights(_weights(first.model_dir), before)

    assert cli.main(["resume", str(first.run_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("nothing trained: The run three already trained all 3 of its 3 steps: nothing to resume")
    # More epochs cannot help a run capped by max_steps: said (exit 2: change max_steps), its config left alone.
    assert cli.main(["resume", str(first.run_dir), "--epochs", "1"]) == cli.EXIT_CONFIG
    assert "max_steps = 3 in its config.yaml caps it" in capsys.readouterr().out
    assert (first.run_dir / "config.yaml").read_text() == config_text
    assert _lines(first.run_dir) == before_lines
    assert RunFolder(first.run_dir).read_status()["step"] == 3


def test_a_kill_during_the_final_save_is_resumed_by_finishing_the_save(demo_cache: Path, small_dataset: Path,
                                                                       runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=6, eval_steps=3, save_steps=3)
    config.name = "cut"
    whole = run(config)
    expected = _weights(whole.model_dir)
    # As a kill in the middle of saving the final model leaves it: a half-written model folder, the status still
    # "running" (of a process that is gone), the metrics ending in the save phase.
    folder = RunFolder(whole.run_dir)
    (folder.model_dir / "model.safetensors").write_bytes(b"\0" * 100)
    status = json.loads(folder.status_path.read_text())
    folder.status_path.write_text(json.dumps({**status, "state": "running", "message": "Training",
                                              "pid": _dead_pid()}))
    lines = _lines(folder.path)
    cut = max(i for i, line in enumerate(lines) if json.loads(line)["event"] == "phase")
    folder.metrics_path.write_text("\n".join(lines[:cut + 1]) + "\n")
    assert folder.read_status()["state"] == "interrupted"

    result = resume(folder.path)
    assert result.state == "finished" and (result.step, result.max_steps) == (6, 6)
    steps = [e["step"] for e in read_events(folder.path, "step")]
    assert steps == [1, 2, 3, 4, 5, 6]  # not a 7th
    assert read_events(folder.path, "end")[-1]["step"] == 6
    assert _same_weights(_weights(folder.model_dir), expected)
    assert folder.read_status()["state"] == "finished"


# ---------------------------------------------------------------------------------------------- 8. the run lock


@pytest.mark.slow
def test_a_run_still_training_in_another_process_is_not_resumed(demo_cache: Path, small_dataset: Path,
                                                                runs_dir: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=400, eval_strategy="no", save_steps=2,
                          load_best_model_at_end=False)
    config.name = "busy"
    path = tmp_path / "busy.yaml"
    save_config(config, path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    other = subprocess.Popen([*CORE_CLI, "train", str(path), "--quiet"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_dir = runs_dir / "busy"
    try:
        deadline = time.monotonic() + 240
        while not (run_dir / "checkpoint-2" / "trainer_state.json").is_file():
            assert other.poll() is None and time.monotonic() < deadline, "the other run did not start training"
            time.sleep(0.2)
        config_text = (run_dir / "config.yaml").read_text()
        code = cli.main(["resume", str(run_dir), "--epochs", "1"])
        err = capsys.readouterr().err
        assert code == cli.EXIT_CONFIG
        assert f"The run busy is still training (process {other.pid}" in err and "Stop it first" in err
        assert (run_dir / "config.yaml").read_text() == config_text  # nothing touched
        assert [e["event"] for e in read_metrics(run_dir / "metrics.jsonl")[0]].count("run_start") == 1
        assert summarize(run_dir).state == "running"
    finally:
        other.send_signal(signal.SIGINT)  # stops at the next step with a checkpoint
        other.wait(120)
    assert other.returncode == cli.EXIT_STOPPED
    assert summarize(run_dir).state == "stopped"  # and, no longer training, it can be resumed
    from finetune_studio.core.runs import run_busy

    assert run_busy(run_dir) is None


def test_a_reused_pid_does_not_make_a_dead_run_look_live(tmp_path: Path) -> None:
    """The run's process died and the system gave its pid to another program (here: this test's own process):
    the lock record's start time tells them apart, so the run lists as interrupted and can be resumed."""
    run_dir = tmp_path / "ghost"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("name: ghost\n")
    (run_dir / "metrics.jsonl").write_text('{"event": "run_start", "time": 1700000000.0}\n')
    (run_dir / "status.json").write_text(json.dumps({"state": "running", "message": "Training",
                                                     "pid": os.getpid()}))
    mine = _start_time(os.getpid())
    record = {"state": "held", "pid": os.getpid(), "process_started": mine - 3600, "host": socket.gethostname(),
              "heartbeat": time.time() - 7200, "since": time.time() - 7200}
    (run_dir / "run.lock").write_text(json.dumps(record))
    assert RunFolder(run_dir).read_status()["state"] == "interrupted"
    assert summarize(run_dir).state == "interrupted" and not summarize(run_dir).live
    from finetune_studio.core.runs import RunLock, run_busy

    assert run_busy(run_dir) is None
    RunLock.acquire(run_dir).release()  # a dead holder's lock is taken over

    # The same record with this process's real start time is a live run.
    (run_dir / "run.lock").write_text(json.dumps({**record, "process_started": mine, "heartbeat": time.time()}))
    assert summarize(run_dir).state == "running"
    assert "still training (process" in (run_busy(run_dir) or "")


def test_the_lock_is_held_while_training_and_released_after(demo_cache: Path, small_dataset: Path,
                                                           runs_dir: Path) -> None:
    from finetune_studio.core.runs import RunBusy, read_lock

    seen: list[bool] = []
    config = small_config(small_dataset, runs_dir, max_steps=4, eval_steps=2, save_steps=2)
    config.name = "locked"

    def sink(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 2:
            with pytest.raises(RunBusy, match="The run locked is still training"):
                resume(runs_dir / "locked")
            seen.append(True)

    result = run(config, sink)
    assert seen == [True] and result.state == "finished" and result.step == 4
    assert read_lock(result.run_dir)["state"] == "released"
    assert RunFolder(result.run_dir).read_status()["state"] == "finished"


# ---------------------------------------------------------------------------------------------- 9. stop


def test_stop_saves_one_checkpoint_and_does_not_evaluate(demo_cache: Path, small_dataset: Path,
                                                         runs_dir: Path) -> None:
    """The tutorial's per-epoch eval and save: a Stop mid-epoch saves once, at the step, and skips the epoch's
    evaluation (which the Trainer would otherwise run on the way out, and save again after)."""
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 3:
            stop.set()

    config = small_config(small_dataset, runs_dir, max_steps=-1, num_train_epochs=1, eval_strategy="epoch",
                          save_strategy="epoch", load_best_model_at_end=True)
    config.name = "stopped"
    result = run(config, sink, stop)
    assert result.state == "stopped" and result.step == 3
    run_dir = result.run_dir
    assert [e["step"] for e in read_events(run_dir, "checkpoint")] == [3]
    assert read_events(run_dir, "eval") == []
    assert RunFolder(run_dir).latest_checkpoint().name == "checkpoint-3"
    second = resume(run_dir)
    assert second.state == "finished" and second.step == 23
    assert [e["step"] for e in read_events(run_dir, "step")] == list(range(1, 24))
    assert [e["step"] for e in read_events(run_dir, "eval")] == [23]


# ---------------------------------------------------------------------------------------------- 10. figures


@pytest.fixture
def sixty_rows(tmp_path: Path) -> Path:
    """60 rows: 54 to train on, 7 batches of 8, so 4 optimizer steps per epoch with accumulation 2 (the last
    takes one batch): the epoch is not a multiple of the step, as with the demo's defaults."""
    path = tmp_path / "sixty.jsonl"
    path.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:60]) + "\n", encoding="utf-8")
    return path


def test_progress_figures_across_start_stop_resume_and_continue(demo_cache: Path, sixty_rows: Path,
                                                                runs_dir: Path) -> None:
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 5:
            stop.set()

    config = small_config(sixty_rows, runs_dir, max_steps=-1, num_train_epochs=3, gradient_accumulation_steps=2,
                          eval_strategy="no", save_strategy="epoch", load_best_model_at_end=False)
    config.name = "figures"
    first = run(config, sink, stop)
    run_dir = first.run_dir
    assert first.state == "stopped" and first.step == 5

    def segments() -> list[list[dict]]:
        out: list[list[dict]] = []
        for event in RunFolder(run_dir).read_metrics():
            if event["event"] == "run_start":
                out.append([])
            out[-1].append(event)
        return out

    # Start: the run ends at epoch 3 exactly (12 steps), which every figure says from the first step on.
    start = segments()[0]
    begin = next(e for e in start if e["event"] == "train_begin")
    assert (begin["max_steps"], begin["epochs_total"], begin["epoch"], begin["elapsed_s"] >= 0) == (12, 3.0, 0.0,
                                                                                                    True)
    steps = [e for e in start if e["event"] == "step"]
    assert steps[0]["eta_s"] is None  # the first step includes warm-up: no estimate from it
    assert all(e["eta_s"] is not None for e in steps[1:])
    assert steps[3]["epoch"] == pytest.approx(1.0)
    stopped_at = next(e for e in start if e["event"] == "end")
    assert stopped_at["state"] == "stopped" and stopped_at["elapsed_s"] >= steps[-1]["elapsed_s"]

    # Resume: elapsed goes on from where the stopped run got to; the ETA starts afresh.
    second = resume(run_dir)
    assert second.state == "finished" and second.step == 12
    resumed = segments()[1]
    begin = next(e for e in resumed if e["event"] == "train_begin")
    assert (begin["step"], begin["max_steps"], begin["epochs_total"]) == (5, 12, 3.0)  # from Stop's checkpoint
    assert begin["epoch"] == pytest.approx(1 + 2 / 7) and begin["eta_s"] is None
    assert begin["elapsed_s"] >= stopped_at["elapsed_s"]
    steps = [e for e in resumed if e["event"] == "step"]
    assert steps[0]["step"] == 6 and steps[0]["eta_s"] is None
    # From the second step on: the average time per step since this resume's first step, times the steps left.
    for event in steps[1:-1]:
        per_step = (event["time"] - steps[0]["time"]) / (event["step"] - steps[0]["step"])
        assert event["eta_s"] == pytest.approx(per_step * (12 - event["step"]), rel=0.25, abs=0.3)
    assert steps[-1]["eta_s"] == 0
    end = [e for e in resumed if e["event"] == "end"][-1]
    # Elapsed at the end is the run history's Duration: both count every segment, not the wait between them.
    assert end["elapsed_s"] == pytest.approx(summarize(run_dir).duration_s, abs=0.05)

    # Train 1 more epoch (the Runs tab): the totals follow the new length at once.
    third = resume(run_dir, extra_epochs=1)
    assert third.state == "finished" and third.step == 16
    begin = next(e for e in segments()[2] if e["event"] == "train_begin")
    assert (begin["step"], begin["max_steps"], begin["epochs_total"]) == (12, 16, 4.0)
    assert begin["elapsed_s"] >= end["elapsed_s"]
    last = [e for e in segments()[2] if e["event"] == "step"][-1]
    assert (last["step"], last["epoch"]) == (16, pytest.approx(4.0))
    assert [e["event"] for e in segments()[2]].count("train_begin") == 1


def test_epoch_total_when_max_steps_ends_the_run_within_an_epoch(demo_cache: Path, sixty_rows: Path,
                                                                 runs_dir: Path) -> None:
    config = small_config(sixty_rows, runs_dir, max_steps=6, gradient_accumulation_steps=2, eval_strategy="no",
                          save_strategy="no", load_best_model_at_end=False)
    result = run(config)
    begin = read_events(result.run_dir, "train_begin")[0]
    last = read_events(result.run_dir, "step")[-1]
    # 4 steps make epoch 1; steps 5 and 6 take 2 batches each of the next 7: the run ends at 1 + 4/7.
    assert begin["epochs_total"] == pytest.approx(1 + 4 / 7, abs=1e-4) == last["epoch"]


def test_elapsed_counts_from_the_run_start_event_as_the_runs_duration_does(demo_cache: Path, small_dataset: Path,
                                                                           runs_dir: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's Elapsed and the Runs tab's Duration are one figure. Elapsed counted from before the libraries'
    set-up, which the run_start event (where Duration counts from) follows: in a fresh process that set-up imports
    the stack, and the two differed by 0.75-2.7 s. The set-up is made 1 s slow here."""
    from finetune_studio.core import training

    real_init = training._QuietLibraries.__init__

    def slow_init(self: object) -> None:
        time.sleep(1.0)
        real_init(self)

    monkeypatch.setattr(training._QuietLibraries, "__init__", slow_init)
    result = run(small_config(small_dataset, runs_dir, max_steps=2, eval_steps=2, save_steps=2))
    end = read_events(result.run_dir, "end")[-1]
    first = read_events(result.run_dir, "train_begin")[0]
    assert end["elapsed_s"] == pytest.approx(summarize(result.run_dir).duration_s, abs=0.05)
    started = read_events(result.run_dir, "run_start")[0]["time"]
    assert first["elapsed_s"] <= first["time"] - started + 0.05
