"""A run owns the process-wide state its Trainer lives on (accelerate's shared state, torch switches, the
libraries' loggers): nothing else in the process may reset it while the run trains, and nothing else ends up in
the run's log. See core/shared_state.py."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from finetune_studio.core import shared_state
from finetune_studio.core.training import run
from finetune_studio.core.validation import training_arguments_error, validate
from tests.helpers import read_events, small_config


def test_the_gate_is_closed_exactly_while_a_run_holds_it() -> None:
    with shared_state.unless_training() as free:
        assert free
    with shared_state.training_owns_process_state():
        assert shared_state.training_in_process()
        with shared_state.unless_training() as free:
            assert not free
    assert not shared_state.training_in_process()


def test_validation_during_a_run_leaves_accelerate_alone(demo_cache: Path, small_dataset: Path,
                                                        runs_dir: Path) -> None:
    from accelerate.state import PartialState

    config = small_config(small_dataset, runs_dir, max_steps=3)
    assert validate(config) == []
    # With no run, the TrainingArguments check runs and resets accelerate's state (a marker in it is gone) ...
    PartialState._shared_state["marker"] = "a run's state"
    assert training_arguments_error(config) is None
    assert "marker" not in PartialState._shared_state
    # ... and while a run holds the state, nothing that validation does touches it.
    with shared_state.training_owns_process_state():
        PartialState._shared_state["marker"] = "a run's state"
        assert training_arguments_error(config) is None
        assert validate(config) == []
        assert PartialState._shared_state.get("marker") == "a run's state"
    PartialState._shared_state.pop("marker", None)


@pytest.mark.slow
def test_a_run_survives_validation_in_another_thread(demo_cache: Path, small_dataset: Path,
                                                     runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=24, logging_steps=1)
    validate(config)  # the stack is imported once before two threads use it
    outcome: dict = {}

    def train() -> None:
        try:
            outcome["result"] = run(config)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = exc

    thread = threading.Thread(target=train)
    thread.start()
    checks = 0
    while thread.is_alive():
        edited = config.copy()
        edited.training["learning_rate"] = 1e-4 + checks * 1e-6
        assert validate(edited) == []
        checks += 1
    thread.join()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].state == "finished" and outcome["result"].step == 24
    assert checks > 20


def test_warnings_from_other_threads_stay_out_of_the_run_log(demo_cache: Path, small_dataset: Path,
                                                            runs_dir: Path) -> None:
    config = small_config(small_dataset, runs_dir, max_steps=2, eval_strategy="no", save_strategy="no",
                          load_best_model_at_end=False)
    config.name = "quiet"
    logger = logging.getLogger("transformers.fake")

    def sink(event: dict) -> None:
        if event["event"] == "train_begin":
            logger.warning("said by the run's thread")
            other = threading.Thread(target=logger.warning, args=("said by the window's thread",))
            other.start()
            other.join()

    run(config, sink)
    messages = [e["message"] for e in read_events(runs_dir / "quiet", "warning")]
    assert "said by the run's thread" in messages
    assert "said by the window's thread" not in messages


@pytest.mark.slow
def test_a_lora_runs_losses_are_the_same_while_the_window_estimates_a_bfloat16_config(
        demo_cache: Path, small_dataset: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the window does on every edit, done again and again while a LoRA run trains in another thread: the
    adapter figures and the memory estimate of a config whose weights are bfloat16, with every cache emptied each
    time (as for a user trying one model and dtype after another). Building those figures used to set torch's
    default dtype for the whole process, and the run's losses drifted from step 6 (or its forward failed on mixed
    dtypes)."""
    import torch

    from finetune_studio.core import adapter_layout, estimate

    def config_named(name: str):
        config = small_config(small_dataset, runs_dir, max_steps=16, logging_steps=1, eval_steps=8, save_steps=8)
        config.name, config.adapter.method = name, "lora"
        return config

    monkeypatch.setattr(estimate, "_kept_passes", lambda: {})  # every estimate traces its pass again
    monkeypatch.setattr(estimate, "_keep_pass", lambda key, figures: None)
    edited = config_named("edited")
    edited.model.dtype = "bfloat16"

    def build_figures(builds: int) -> None:
        adapter_layout._cached_layout.cache_clear()
        adapter_layout.module_layout(edited.model)  # validation's (a fast build: it runs most often)
        if builds % 10 == 0:
            for cached in (adapter_layout._cached_figures, estimate._pass_figures, estimate._tied_embedding_params):
                cached.cache_clear()
            adapter_layout.adapter_figures(edited.model, edited.adapter)  # the Model tab's
            estimate.estimate(edited)  # the estimate bar's

    validate(edited)  # the stack and the data checks once, before two threads use them
    untouched = run(config_named("untouched"))
    touched: dict = {}
    thread = threading.Thread(target=lambda: touched.update(result=run(config_named("touched"))))
    thread.start()
    builds = 0
    while thread.is_alive():
        build_figures(builds)
        builds += 1
    thread.join()
    assert touched["result"].state == "finished" and builds >= 2, builds  # ~50 on an idle machine
    losses = [[(e["step"], e["loss"]) for e in read_events(result.run_dir, "log")]
              for result in (untouched, touched["result"])]
    assert len(losses[0]) == 16 and losses[1] == losses[0]
    assert torch.get_default_dtype() == torch.float32
