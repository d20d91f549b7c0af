"""A run whose status.json or metrics.jsonl got damaged (a disk error, a bad edit, a sync tool) but whose config and
checkpoints are intact is still resumable, and says so (helper-44's hostile window test): Resume failed with
'UnicodeDecodeError' from the status write, left the failed start's log handlers attached (the next run in the same
process never got past its start), and the Runs tab advised deleting the run."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from finetune_studio.core.metrics import read_metrics
from finetune_studio.core.runs import RunFolder, summarize
from finetune_studio.core.session import Session, can_resume
from finetune_studio.core.training import _LOGGERS, _WarningsToEvents, resume, run
from tests.helpers import read_events, small_config


@pytest.fixture
def stopped_run(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> Path:
    stop = threading.Event()

    def stop_at_three(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 3:
            stop.set()

    config = small_config(small_dataset, runs_dir, max_steps=6)
    config.name = "damaged"
    result = run(config, stop_at_three, stop)
    assert (result.state, result.step) == ("stopped", 3)
    return Path(result.run_dir)


@pytest.mark.parametrize("damage", [b"\xff\xfe not utf-8", b"[1, 2]", b"{not json"])
def test_a_run_with_a_damaged_status_resumes_and_gets_a_new_one(stopped_run: Path, damage: bytes) -> None:
    (stopped_run / "status.json").write_bytes(damage)
    summary = summarize(stopped_run)
    assert summary.state == "broken"
    assert summary.message.endswith("Its metrics log says it stopped at step 3. Its config and checkpoint-3 are "
                                    "intact. To fix: resume it (open it, then Resume; or finetune-studio resume "
                                    f"{stopped_run}): it continues from checkpoint-3 and writes a new status.json.")
    assert can_resume(summary.state, stopped_run)
    session = Session()
    session.show_recorded(stopped_run)
    assert session.resumable == stopped_run  # the window offers Resume for it
    result = resume(stopped_run)
    assert (result.state, result.step) == ("finished", 6)
    status = json.loads((stopped_run / "status.json").read_text())
    assert (status["state"], status["step"]) == ("finished", 6)
    assert [e["step"] for e in read_events(stopped_run, "step")] == [1, 2, 3, 4, 5, 6]


def test_a_broken_run_without_a_checkpoint_is_not_offered_resume(tmp_path: Path) -> None:
    folder = tmp_path / "no-checkpoint"
    folder.mkdir()
    (folder / "config.yaml").write_text("name: no-checkpoint\n")
    (folder / "status.json").write_bytes(b"\xff")
    summary = summarize(folder)
    assert summary.state == "broken" and summary.message.endswith(
        "It has no checkpoint to resume from, so nothing writes a new status.json for it. To fix: start it again with "
        "its settings (in the app: Runs tab, Use its settings, then Start), or delete it.")
    assert not can_resume(summary.state, folder)


def test_lines_of_the_metrics_log_that_are_no_events_are_skipped(stopped_run: Path) -> None:
    log = stopped_run / "metrics.jsonl"
    good = read_metrics(log)[0]
    with open(log, "ab") as handle:
        handle.write(b"[1, 2]\n42\n\xff\xfe\n\"text\"\n")
    assert read_metrics(log)[0] == good
    result = resume(stopped_run)  # _data_changed read the first data event with .get: a list line broke it
    assert (result.state, result.step) == ("finished", 6)


def test_a_start_whose_first_status_write_fails_undoes_its_log_handlers(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The failed start's warning handlers stayed on the libraries' loggers (and warnings stayed captured into its
    closed log), so the next run in the process (the window's) never got past its start."""
    real = RunFolder.write_status

    def failing(self: RunFolder, state: str, *args, **kwargs):
        if state == "running":
            raise OSError(5, "Input/output error", str(self.status_path))
        return real(self, state, *args, **kwargs)

    monkeypatch.setattr(RunFolder, "write_status", failing)
    with pytest.raises(OSError, match="Input/output error"):
        run(small_config(small_dataset, runs_dir, max_steps=2))
    left = [h for name in _LOGGERS for h in logging.getLogger(name).handlers if isinstance(h, _WarningsToEvents)]
    assert left == []
    assert logging._warnings_showwarning is None  # captureWarnings(False) again
    monkeypatch.undo()
    again = run(small_config(small_dataset, runs_dir, max_steps=2))
    assert (again.state, again.step) == ("finished", 2)


@pytest.mark.parametrize("how", ["renamed", "deleted"])
def test_a_run_folder_renamed_or_deleted_while_it_trains_stops_and_makes_no_second_folder(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, how: str) -> None:
    """Renamed while training, the run went on writing checkpoints, the final model and its status by path: a
    second 'ren' folder without config.yaml (listed by no tab) held the model, and the renamed folder said
    'running' for good (helper-44). It now stops at the step it notices, writes nothing more under the old name,
    and the renamed folder resumes from its last checkpoint."""
    import shutil

    from finetune_studio.core.errors import TrainingError

    old, new = runs_dir / "ren", runs_dir / "ren-renamed"

    def move_at_two(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 2:
            shutil.move(old, new) if how == "renamed" else shutil.rmtree(old)

    config = small_config(small_dataset, runs_dir, max_steps=4, save_steps=1, eval_strategy="no",
                          load_best_model_at_end=False)
    config.name = "ren"
    with pytest.raises(TrainingError, match=r"was renamed, moved or deleted while the run trained, so training "
                                            r"stopped at step 2"):
        run(config, move_at_two)
    assert not old.exists()  # nothing made again under the old name
    if how == "deleted":
        return
    assert [c.name for c in RunFolder(new).checkpoints()] == ["checkpoint-1"]
    assert [(e["state"], e["step"]) for e in read_events(new, "end")] == [("failed", 2)]  # the log went with it
    assert RunFolder(new).read_status()["state"] == "interrupted"  # its process let go of it: resumable
    result = resume(new)
    assert (result.state, result.step) == ("finished", 4)
    assert (new / "model" / "model.safetensors").is_file() and not old.exists()


def test_a_run_folder_renamed_during_an_evaluation_gets_no_checkpoint_under_the_old_name(
        demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    """The Trainer logs, evaluates, then saves: a folder renamed during the evaluation was noticed only at the next
    step, after the step's checkpoint had gone into a new folder under the old name, which no run lists, and the
    renamed run resumed from an earlier checkpoint (helper-58). The evaluation's end is checked too now."""
    import shutil

    from finetune_studio.core.errors import TrainingError

    old, new = runs_dir / "ren-eval", runs_dir / "ren-eval-renamed"

    def move_at_the_evaluation(event: dict) -> None:
        if event["event"] == "eval" and event["step"] == 2:
            shutil.move(old, new)

    config = small_config(small_dataset, runs_dir, max_steps=4, save_steps=2, eval_steps=2,
                          load_best_model_at_end=False)
    config.name = "ren-eval"
    with pytest.raises(TrainingError, match=r"was renamed, moved or deleted while the run trained, so training "
                                            r"stopped at step 2"):
        run(config, move_at_the_evaluation)
    assert not old.exists()  # was: ren-eval/checkpoint-2, in a folder of its own
    assert RunFolder(new).checkpoints() == []
    assert [(e["state"], e["step"]) for e in read_events(new, "end")] == [("failed", 2)]


def test_a_resume_that_fails_before_training_keeps_the_runs_step(demo_cache: Path, small_dataset: Path,
                                                                   runs_dir: Path, monkeypatch) -> None:
    """A resume that failed before training began (its checkpoint would not load) recorded step 0: the Runs tab and
    `runs` then showed 0/N for a run stopped at step 4 (helper-58). It keeps the checkpoint's step."""
    import threading

    from finetune_studio.core import model as models

    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=6, save_steps=100, eval_strategy="no",
                          load_best_model_at_end=False)
    config.name = "kept-step"
    first = run(config, lambda e: stop.set() if e["event"] == "step" and e["step"] == 4 else None, stop)
    assert (first.state, first.step) == ("stopped", 4)

    def broken(*args, **kwargs):
        raise RuntimeError("the weights would not load")

    monkeypatch.setattr(models, "load_model", broken)
    with pytest.raises(RuntimeError, match="the weights would not load"):
        resume(runs_dir / "kept-step")
    status = RunFolder(runs_dir / "kept-step").read_status()
    assert (status["state"], status["step"], status["max_steps"]) == ("failed", 4, 6)


def test_continuing_a_run_max_steps_capped_says_what_lifting_the_cap_trains(demo_cache: Path, small_dataset: Path,
                                                                          runs_dir: Path) -> None:
    """'Set max_steps to -1 … to train further' was all it said; a user who did, then continued for 1 more epoch,
    trained from epoch 0.05 to epoch 4 (helper-58): more epochs count from the configured num_train_epochs. The
    refusal now says how long an epoch is and how much lifting the cap trains."""
    import re

    config = small_config(small_dataset, runs_dir, max_steps=3, num_train_epochs=2, eval_strategy="no",
                          save_strategy="steps", save_steps=3, load_best_model_at_end=False)
    config.name = "capped"
    assert run(config).step == 3
    result = resume(runs_dir / "capped", extra_epochs=1)
    assert result.step == 3  # nothing trained, nothing changed
    said = re.search(r"an epoch is about (\d+) steps here\), or set it to -1: the run then trains all 2 configured "
                     r"epochs plus the ones added, (\d\.\d\d) epochs more than the (\d\.\d\d) it has trained",
                     result.message)
    assert said, result.message
    per_epoch, more, done = int(said[1]), float(said[2]), float(said[3])
    rows = 180  # 200 rows less the 10 % test split, 8 a step
    assert per_epoch == -(-rows // 8) and abs(done - 3 / per_epoch) < 0.01 and abs(more - (2 - done)) < 0.01


def test_a_resume_from_a_checkpoint_without_its_optimizer_says_so(demo_cache: Path, small_dataset: Path,
                                                                   runs_dir: Path) -> None:
    """optimizer.pt and scheduler.pt deleted from a checkpoint (to save space): the Trainer resumed from the weights
    alone with a fresh optimizer and a learning-rate schedule started over, without a word (helper-58). The resume
    says so in the run's log (the window's log panel, the CLI's warnings)."""
    import threading

    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=6, save_steps=100, eval_strategy="no",
                          load_best_model_at_end=False)
    config.name = "no-optimizer"
    assert run(config, lambda e: stop.set() if e["event"] == "step" and e["step"] == 3 else None, stop).step == 3
    checkpoint = runs_dir / "no-optimizer" / "checkpoint-3"
    (checkpoint / "optimizer.pt").unlink()
    (checkpoint / "scheduler.pt").unlink()
    assert resume(runs_dir / "no-optimizer").step == 6
    said = [e["message"] for e in read_events(runs_dir / "no-optimizer", "warning")
            if e.get("source") == "finetune_studio.resume"]
    assert said == ["checkpoint-3 has no optimizer.pt and scheduler.pt (deleted since it was saved?), so training "
                    "continues from its weights with a fresh optimizer and a learning-rate schedule that starts over: "
                    "losses from here will differ from an uninterrupted run's. To fix: stop, put those files back "
                    "from a copy of the run, then resume."]


def test_a_resume_passes_over_a_checkpoint_whose_weights_are_gone(demo_cache: Path, small_dataset: Path,
                                                                  runs_dir: Path) -> None:
    """The latest checkpoint without its weights was chosen, and the resume failed after loading everything
    ("Can't find a valid checkpoint"), every time (helper-58). It continues from the latest one that can be
    loaded and says which it passed over; with none left it says so before loading anything."""
    import threading

    from finetune_studio.core.errors import FinetuneError

    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=6, save_steps=2, eval_strategy="no",
                          load_best_model_at_end=False)
    config.name = "weightless"
    run_dir = runs_dir / "weightless"
    assert run(config, lambda e: stop.set() if e["event"] == "step" and e["step"] == 4 else None, stop).step == 4
    (run_dir / "checkpoint-4" / "model.safetensors").unlink()
    before = len(read_events(run_dir, "step"))
    result = resume(run_dir)
    assert (result.state, result.step) == ("finished", 6)
    assert [e["step"] for e in read_events(run_dir, "step")][before:] == [3, 4, 5, 6]  # from checkpoint-2
    said = [e["message"] for e in read_events(run_dir, "warning") if e.get("source") == "finetune_studio.resume"]
    assert said == ["Resuming from checkpoint-2, not from the later checkpoint-4, which cannot be loaded "
                    "(checkpoint-4: it holds no weights (model*.safetensors)): up to 2 steps are trained again. To "
                    "keep them next time, put the files back before resuming."]

    config.name = "all-weightless"
    stop.clear()
    assert run(config, lambda e: stop.set() if e["event"] == "step" and e["step"] == 2 else None, stop).step == 2
    (runs_dir / "all-weightless" / "checkpoint-2" / "model.safetensors").unlink()
    with pytest.raises(FinetuneError, match=r"The run all-weightless cannot resume: none of its checkpoints can be "
                                            r"loaded \(checkpoint-2: it holds no weights \(model\*\.safetensors\)\)"
                                            r"\. To fix: put"):
        resume(runs_dir / "all-weightless")


def test_a_resume_given_a_relative_path_records_absolute_paths(demo_cache: Path, small_dataset: Path,
                                                               runs_dir: Path, monkeypatch) -> None:
    """`finetune-studio resume runs/s1` wrote runs/s1/model into status.json's model_dir and the run_start event's
    run_dir, which the window and another shell read from their own working folders (helper-58)."""
    import threading

    stop = threading.Event()
    config = small_config(small_dataset, runs_dir, max_steps=4, save_steps=100, eval_strategy="no",
                          load_best_model_at_end=False)
    config.name = "relative"
    assert run(config, lambda e: stop.set() if e["event"] == "step" and e["step"] == 2 else None, stop).step == 2
    monkeypatch.chdir(runs_dir.parent)
    result = resume(Path(runs_dir.name) / "relative")
    assert (result.state, result.step) == ("finished", 4)
    status = RunFolder(runs_dir / "relative").read_status()
    assert status["model_dir"] == str(runs_dir / "relative" / "model")
    assert [e["run_dir"] for e in read_events(runs_dir / "relative", "run_start")][-1] == str(runs_dir / "relative")
