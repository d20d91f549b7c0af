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
