"""Real training on the demo model: losses fall, the saved model loads and generates, stop/resume works."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from finetune_studio.core.errors import ConfigError
from finetune_studio.core.runs import RunFolder
from finetune_studio.core.training import resume, run
from tests.helpers import read_events, small_config


def test_small_run_writes_folder_and_events(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    events: list[dict] = []
    result = run(small_config(small_dataset, runs_dir, max_steps=6, eval_steps=3, save_steps=3), events.append)
    assert result.state == "finished" and result.step == 6 == result.max_steps
    folder = RunFolder(result.run_dir)
    assert folder.path.parent == runs_dir
    assert folder.read_status()["state"] == "finished"
    assert (folder.path / "config.yaml").is_file()
    written = [json.loads(line) for line in folder.metrics_path.read_text().splitlines()]
    assert [e["event"] for e in written] == [e["event"] for e in events]  # the log is the source of truth
    steps = [e for e in written if e["event"] == "step"]
    assert [e["step"] for e in steps] == [1, 2, 3, 4, 5, 6]
    # What follows a step, for listeners that show only some steps (the GUI): evals and saves every 3, the end.
    assert [e.get("then") for e in steps] == [None, None, ["evaluate", "save"], None, None,
                                              ["evaluate", "save", "stop"]]
    last = steps[-1]
    assert last["max_steps"] == 6 and last["eta_s"] == 0 and last["tokens_per_s"] > 0 and last["memory_mb"] > 0
    logs = [e for e in written if e["event"] == "log"]
    assert [e["step"] for e in logs] == [2, 4, 6]
    assert all(e["loss"] > 0 and e["learning_rate"] > 0 and e["grad_norm"] > 0 for e in logs)
    assert [e["step"] for e in written if e["event"] == "eval"] == [3, 6]
    assert written[-1]["event"] == "end" and written[-1]["state"] == "finished"
    assert (folder.model_dir / "config.json").is_file() and (folder.model_dir / "tokenizer.json").is_file()


def test_stop_then_resume_reaches_final_step(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    stop = threading.Event()

    def sink(event: dict) -> None:
        if event["event"] == "step" and event["step"] == 4:
            stop.set()

    config = small_config(small_dataset, runs_dir)
    config.name = "stoppable"
    first = run(config, sink, stop)
    assert first.state == "stopped"
    assert first.message == "Stopped at step 4 of 12, resumable."
    folder = RunFolder(first.run_dir)
    assert folder.latest_checkpoint().name == "checkpoint-4"
    assert folder.read_status()["state"] == "stopped"

    second = resume(first.run_dir)
    assert second.state == "finished" and second.step == 12
    steps = [e["step"] for e in read_events(first.run_dir, "step")]
    assert steps == list(range(1, 13))  # nothing lost, nothing repeated
    begins = read_events(first.run_dir, "train_begin")
    assert [b["start_step"] for b in begins] == [0, 4]
    assert (folder.model_dir / "model.safetensors").is_file()


def test_invalid_config_raises_before_anything_is_written(runs_dir: Path, small_dataset: Path) -> None:
    config = small_config(small_dataset, runs_dir, learning_rate=-1)
    with pytest.raises(ConfigError) as info:
        run(config)
    assert [p.field for p in info.value.problems] == ["training.learning_rate"]
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_existing_run_name_is_refused(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    (runs_dir / "taken").mkdir(parents=True)
    (runs_dir / "taken" / "config.yaml").write_text("name: taken\n")
    config = small_config(small_dataset, runs_dir)
    config.name = "taken"
    with pytest.raises(ConfigError, match="A run named 'taken' already exists"):
        run(config)
    assert (runs_dir / "taken" / "config.yaml").read_text() == "name: taken\n"


def test_failure_is_recorded(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_studio.core import data as core_data
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tokenizer exploded")

    monkeypatch.setattr(core_data, "tokenize_and_split", explode)
    config = small_config(small_dataset, runs_dir)
    config.name = "broken"
    with pytest.raises(RuntimeError):
        run(config)
    status = RunFolder(runs_dir / "broken").read_status()
    assert status["state"] == "failed"
    assert status["message"] == "Training failed: RuntimeError: tokenizer exploded (raised in tests.core.test_training)"
    assert read_events(runs_dir / "broken", "end")[-1]["state"] == "failed"


@pytest.mark.slow
def test_full_demo_run_learns_and_saves_a_usable_model(demo_cache: Path, runs_dir: Path) -> None:
    """The default config exactly: the seed recipe on the demo model and sample data."""
    from finetune_studio.core.config import default_config

    result = run(default_config())
    assert result.state == "finished"
    logs = read_events(result.run_dir, "log")
    evals = read_events(result.run_dir, "eval")
    assert len(evals) == 3  # once per epoch
    assert logs[-1]["loss"] < logs[0]["loss"]
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]

    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(result.model_dir)
    model = AutoModelForCausalLM.from_pretrained(result.model_dir, dtype="auto")
    inputs = tokenizer("Aries, today", return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.eos_token_id)
    assert output.shape[1] > inputs["input_ids"].shape[1]
    assert tokenizer.decode(output[0][inputs["input_ids"].shape[1]:]).strip()


def test_torn_checkpoint_is_skipped(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    for step, state in ((4, '{"global_step": 4}'), (8, '{"global_st'), (12, None)):
        (tmp_path / f"checkpoint-{step}").mkdir()
        if state is not None:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    assert folder.latest_checkpoint() == tmp_path / "checkpoint-4"


def test_nan_loss_ends_run_with_advice(demo_cache: Path, small_dataset: Path, runs_dir: Path,
                                       diverging_learning_rate: None) -> None:
    from finetune_studio.core.errors import TrainingError

    config = small_config(small_dataset, runs_dir, learning_rate=1e30, max_steps=12)
    config.name = "diverges"
    with pytest.raises(TrainingError) as info:
        run(config)
    message = str(info.value)
    assert " became nan at step " in message or " became inf at step " in message
    assert "Lower the learning rate (now 1e+30)" in message
    status = RunFolder(runs_dir / "diverges").read_status()
    assert status["state"] == "failed" and status["message"] == message
    assert not (runs_dir / "diverges" / "model").exists()


def test_metrics_log_survives_a_torn_last_line(tmp_path: Path) -> None:
    from finetune_studio.core.runs import MetricsLog, read_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"event": "step", "step": 1}\n{"event": "step", "st')
    events, offset = read_metrics(path)
    assert events == [{"event": "step", "step": 1}]
    log = MetricsLog(path)  # the resumed process appends after the torn line
    log.append({"event": "run_start"})
    log.close()
    assert [e["event"] for e in read_metrics(path)[0]] == ["step", "run_start"]


def test_generated_run_names_never_collide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs started in the same second (GUI and CLI) must not share a folder and mix their metrics."""
    from finetune_studio.core import training
    from finetune_studio.core.config import default_config

    monkeypatch.setattr(training, "generate_run_name", lambda model, dataset: "demo-20261128-100000")
    config = default_config()
    config.runs_dir = str(tmp_path / "runs")
    names = [training.new_run_folder(config)[1].path.name for _ in range(3)]
    assert names == ["demo-20261128-100000", "demo-20261128-100000-2", "demo-20261128-100000-3"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(names)
    config.name = "demo-20261128-100000"
    (tmp_path / "runs" / config.name / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(ConfigError, match="already exists"):
        training.new_run_folder(config)


def test_step_events_say_what_follows_them() -> None:
    """A step that ends an epoch is followed by the per-epoch eval/save, which DefaultFlowCallback decides only
    after the step's callbacks ran; the event says so anyway, so a listener that thins out steps shows this one."""
    from transformers import TrainerControl, TrainerState

    from finetune_studio.core.training import make_progress_callback

    events: list[dict] = []
    callback = make_progress_callback(events.append, threading.Event())
    state = TrainerState(global_step=5, max_steps=20, epoch=1.0)
    callback.on_step_end(None, state, TrainerControl())
    state.global_step, state.epoch = 6, 1.2
    callback.on_step_end(None, state, TrainerControl(should_save=True))
    state.global_step, state.epoch = 7, 1.4
    stop = threading.Event()
    stop.set()
    make_progress_callback(events.append, stop).on_step_end(None, state, TrainerControl())
    assert [e.get("then") for e in events] == [["epoch_end"], ["save"], ["save", "stop"]]


def test_a_last_step_between_logging_steps_is_logged_and_is_the_final_train_loss(demo_cache: Path,
                                                                                   small_dataset: Path,
                                                                                   runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=7, logging_steps=3, eval_steps=7, save_steps=7)
    config.name = "between"
    result = run(config)
    logs = [(e["step"], e["loss"]) for e in read_events(result.run_dir, "log") if "loss" in e]
    assert [step for step, _ in logs] == [3, 6, 7]  # the Trainer alone logs 3 and 6
    status = RunFolder(result.run_dir).read_status()
    assert status["train_loss"] == result.train_loss == logs[-1][1] != logs[-2][1]


def test_a_one_step_run_says_step_not_steps(demo_cache: Path, small_dataset: Path, runs_dir: Path) -> None:
    result = run(small_config(small_dataset, runs_dir, max_steps=1, eval_steps=1, save_steps=1))
    assert result.message == f"Finished 1 step. Model saved to {result.run_dir / 'model'}."
